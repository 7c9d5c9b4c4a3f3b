/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Which MSRs a guest reads and writes without an exit: the policy every backend's MSR bitmap
 * follows (host-tested). Each is either guest state the hardware switches at entry and exit
 * (the VMCB or VMCS holds the guest's copy) or the guest's own core's local APIC. */
#ifndef VMEXIT_MSR_PASS_H
#define VMEXIT_MSR_PASS_H

#include <stdbool.h>
#include <stdint.h>

struct msr_pass {
    uint32_t msr;
    bool read, write; /* passed through for that access */
};

/* The MSRs outside the x2APIC range that pass through; *count entries. */
const struct msr_pass *msr_pass_list(unsigned *count);
/* Does this access of msr pass through (x2APIC range included)? */
bool msr_passes(uint32_t msr, bool write);

#endif
