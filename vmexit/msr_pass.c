/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The pass-through MSRs (msr_pass.h). */
#include "vmexit/msr_pass.h"

#include "core/klib.h"
#include "vmexit/icr.h"
#include "vmexit/x86.h"

static const struct msr_pass pass[] = {
    {0x174, true, true},      /* SYSENTER_CS: VMCB/VMCS state */
    {0x175, true, true},      /* SYSENTER_ESP */
    {0x176, true, true},      /* SYSENTER_EIP */
    {0x1a0, true, false},     /* MISC_ENABLE (Intel): read by Linux's first CPU checks (XD
                                 disabled?), never written: a write gets #GP */
    {0x277, true, true},      /* PAT: the guest's own under nested paging (VMCB gPAT, VMCS
                                 guest PAT), combined with the host's */
    {0x6e0, true, true},      /* TSC_DEADLINE: the guest's own core's timer */
    {0xc0000080, true, true}, /* EFER: VMCB/VMCS state (an entry with EFER.SVME clear on SVM
                                 fails, and stops only that partition) */
    {0xc0000081, true, true}, /* STAR */
    {0xc0000082, true, true}, /* LSTAR */
    {0xc0000083, true, true}, /* CSTAR */
    {0xc0000084, true, true}, /* SFMASK */
    {0xc0000100, true, true}, /* FS_BASE */
    {0xc0000101, true, true}, /* GS_BASE */
    {0xc0000102, true, true}, /* KERNEL_GS_BASE */
    {0xc0000103, true, true}, /* TSC_AUX (RDTSCP, RDPID) */
};

const struct msr_pass *msr_pass_list(unsigned *count)
{
    *count = ARRAY_SIZE(pass);
    return pass;
}

bool msr_passes(uint32_t msr, bool write)
{
    if (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST) /* timer count, EOI, TPR natively */
        return !write || !x2apic_write_exits(msr);
    for (unsigned i = 0; i < ARRAY_SIZE(pass); i++)
        if (pass[i].msr == msr)
            return write ? pass[i].write : pass[i].read;
    return false;
}
