/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Validating a guest's x2APIC ICR write: which physical IPIs it may become (host-tested). */
#ifndef VMEXIT_ICR_H
#define VMEXIT_ICR_H

#include <stdbool.h>
#include <stdint.h>

#define ICR_MAX_TARGETS 64

struct icr_partition_view {
    const uint32_t *apic_ids; /* APIC IDs of the partition's cores, by vCPU id */
    unsigned count;
    unsigned self; /* the sender's vCPU id */
};

struct icr_decision {
    uint8_t vector;
    unsigned ntargets;
    uint32_t targets[ICR_MAX_TARGETS]; /* physical APIC IDs */
};

/* 0 and the IPIs to send; or -E_PERM (destination outside the partition, or a
 * delivery mode other than fixed: INIT, SIPI, NMI, SMI could reach other
 * partitions' cores) or -E_INVAL (vector below 32, logical destination mode). */
int icr_validate(uint64_t icr, const struct icr_partition_view *p, struct icr_decision *out);

/* True for the x2APIC MSRs whose writes must exit (ICR, SELF_IPI, the LVTs): each can make
 * the guest's own core raise an interrupt on a guest-chosen vector and delivery mode. */
bool x2apic_write_exits(uint32_t msr);
/* A write of value to the self-IPI register: 0 and the vector, or -E_INVAL (a vector the
 * guest may not use). */
int self_ipi_validate(uint64_t value, uint8_t *vector);
/* A write of value to LVT register msr: 0 and the value to write (*apply), or -E_INVAL (a bit
 * the register does not have, which the CPU would answer with #GP in the hypervisor, timer
 * mode 3, an exception vector) or -E_PERM (NMI, SMI, INIT, ExtINT delivery). Accepted as
 * written: masked, or fixed delivery with a vector SC_VECTOR_MIN..SC_VECTOR_MAX. The LINT0
 * and LINT1 pins are wired to the platform: fixed, NMI or ExtINT (what every kernel programs
 * at boot) is accepted there, and always written masked. */
int lvt_validate(uint32_t msr, uint64_t value, uint64_t *apply);

#endif
