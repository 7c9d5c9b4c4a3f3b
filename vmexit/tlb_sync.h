/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Guest TLB flushes after a partition's nested tables lost mappings or rights: the protocol
 * between the core that changed the tables (a side core, or a vCPU in a trap) and the vCPUs.
 * Only a vCPU in guest mode can hold stale translations in use, so only such a vCPU is ever
 * waited for; any other flushes before it next enters. No hardware access here: the caller
 * kicks (NMI) and flushes (host-tested). */
#ifndef VMEXIT_TLB_SYNC_H
#define VMEXIT_TLB_SYNC_H

#include <stdbool.h>
#include <stdint.h>

/* Per partition. */
struct tlb_sync {
    uint32_t gen; /* flush generation, bumped by each change that needs a flush */
};

/* Per vCPU; written only by the vCPU's own core. */
struct tlb_vcpu {
    uint32_t in_guest; /* 1 from just before VMRUN (after the last check) until the exit */
    uint32_t done;     /* the generation its guest TLB is flushed for (from its coming entry on) */
};

/* The requester, after changing the tables: starts a flush and returns its generation. Then
 * it kicks out of guest mode every vCPU for which tlb_sync_in_guest is true (in this order:
 * the generation is bumped before in_guest is read), and the flush is complete once
 * tlb_sync_flushed holds for every vCPU of the partition. */
uint32_t tlb_sync_begin(struct tlb_sync *s);
bool tlb_sync_in_guest(const struct tlb_vcpu *v);
/* v acknowledged gen (or a later one), or is not in guest mode: it will read gen before it
 * next enters. */
bool tlb_sync_flushed(const struct tlb_vcpu *v, uint32_t gen);

/* The vCPU, on its own core, with interrupts (GIF) off, right before VMRUN: announces guest
 * mode, then reads the generation (in this order). Returns true if a flush was requested
 * since its last entry: the caller must then flush its guest TLB on this entry. */
bool tlb_sync_enter(struct tlb_vcpu *v, const struct tlb_sync *s);
/* Right after the exit: flushes no longer wait for this vCPU. */
void tlb_sync_exit(struct tlb_vcpu *v);

#endif
