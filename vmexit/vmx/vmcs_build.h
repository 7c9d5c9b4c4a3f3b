/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The VMCS the backend builds, as a list of (field, value) writes: built here (portable,
 * host-tested), checked by vmcs_check.c before the first entry, written by vmx.c with one
 * checked VMWRITE each. The CPU's capabilities come in as struct vmx_caps, so the same
 * build runs on the host with any CPU's values. */
#ifndef VMEXIT_VMX_VMCS_BUILD_H
#define VMEXIT_VMX_VMCS_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/refusal.h"
#include "vmexit/vmx/vmcs.h"

#define VMCS_IMAGE_MAX 112

struct vmcs_write {
    uint32_t field; /* enum vmcs_field */
    uint64_t value;
};

struct vmcs_image {
    unsigned n;
    struct vmcs_write w[VMCS_IMAGE_MAX];
};

/* Set field (replacing an earlier value); a full image is a build bug the check reports. */
void vmcs_set(struct vmcs_image *img, enum vmcs_field field, uint64_t value);
/* The field's value, or 0 if the image does not set it; *present says which, if given. */
uint64_t vmcs_get(const struct vmcs_image *img, enum vmcs_field field, bool *present);

/* What the CPU offers (appendix A): the controls MSRs (the TRUE ones where IA32_VMX_BASIC
 * says they exist), the fixed CR0/CR4 bits, EPT and VPID capabilities, the physical
 * address width. */
struct vmx_caps {
    uint64_t basic, pin, proc, proc2, exit, entry;
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    uint64_t ept_vpid;
    unsigned phys_bits;
};

/* A controls value: the required bits and those optional bits the CPU allows, plus any
 * bit the CPU forces to 1. -E_NOSYS with why naming what and the bits it cannot set. */
int vmx_control(uint64_t cap, uint32_t required, uint32_t optional, const char *what, uint32_t *out,
                struct refusal *why);

/* The tables every vCPU shares or owns: bitmaps (4 KiB aligned), the EPT root, the VPID. */
struct vmcs_tables {
    uint64_t io_bitmap_a, io_bitmap_b, msr_bitmap;
    uint64_t ept_root;
    uint16_t vpid;
};

/* Execution, exit and entry controls, exception bitmap, CR0/CR4 ownership, bitmaps, EPT
 * and VPID. Minimal exits by construction: no external-interrupt, HLT, PAUSE, RDTSC, CR3
 * or MOV-DR exiting; NMI exiting on (the kick); #DB and #AC intercepted only to be handed
 * back; every port and every MSR outside the pass list exit. 0, or -E_NOSYS naming the
 * missing capability. */
int vmcs_build_controls(struct vmcs_image *img, const struct vmx_caps *caps,
                        const struct vmcs_tables *t, struct refusal *why);

/* The host state loaded at every VM exit (this core's, read by vmx.c). */
struct vmcs_host {
    uint64_t cr0, cr3, cr4;
    uint16_t cs, ss, ds, es, fs, gs, tr;
    uint64_t fs_base, gs_base, tr_base, gdtr_base, idtr_base;
    uint64_t efer, pat, rip;
};
void vmcs_build_host(struct vmcs_image *img, const struct vmcs_host *h);

/* The guest's initial 64-bit state at rip/rsp (abi.h), with no event pending: the same
 * state the SVM backend's reset gives, adjusted to the CPU's fixed CR0/CR4 bits. */
void vmcs_build_guest_reset(struct vmcs_image *img, const struct vmx_caps *caps, uint64_t rip,
                            uint64_t rsp);

#endif
