/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* VMRUN's consistency checks, in the hypervisor's own words. */
#include "vmexit/svm/vmcb_check.h"

#include "core/klib.h"
#include "core/refusal.h"

#define CR0_PE (1ull << 0)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define SEG_ATTR_L (1u << 9)
#define SEG_ATTR_D (1u << 10)
/* CR4 bits defined up to PKS (bit 24); anything above is reserved */
#define CR4_RESERVED (~((1ull << 25) - 1) | (1ull << 15) | (1ull << 19))
/* EFER: SCE(0) LME(8) LMA(10) NXE(11) SVME(12) LMSLE(13) FFXSR(14) TCE(15) */
#define EFER_RESERVED (~0x0000fd01ull)

int vmcb_check(const struct vmcb *vmcb, unsigned maxphyaddr, struct refusal *why)
{
    const struct vmcb_state *s = &vmcb->state;
    const struct vmcb_control *c = &vmcb->control;
    /* the maps' last bytes must be addressable too; written so nothing wraps */
    uint64_t pa_limit = maxphyaddr >= 64 ? ~0ull : (1ull << maxphyaddr) - 1;
    if (pa_limit < 0x3000)
        return refuse(why, E_INVAL, "physical address width %u is implausible", maxphyaddr);

    if (!(s->efer & EFER_SVME))
        return refuse(why, E_INVAL, "guest EFER.SVME is clear (efer %llx)",
                      (unsigned long long)s->efer);
    if (s->efer & EFER_RESERVED)
        return refuse(why, E_INVAL, "guest EFER has reserved bits set (%llx)",
                      (unsigned long long)s->efer);
    if ((s->cr0 & CR0_NW) && !(s->cr0 & CR0_CD))
        return refuse(why, E_INVAL, "guest CR0.NW set without CR0.CD (cr0 %llx)",
                      (unsigned long long)s->cr0);
    if (s->cr0 >> 32)
        return refuse(why, E_INVAL, "guest CR0 bits 63:32 are not zero (%llx)",
                      (unsigned long long)s->cr0);
    if (s->cr4 & CR4_RESERVED)
        return refuse(why, E_INVAL, "guest CR4 has reserved bits set (%llx)",
                      (unsigned long long)s->cr4);
    if ((s->dr6 >> 32) || (s->dr7 >> 32))
        return refuse(why, E_INVAL, "guest DR6/DR7 bits 63:32 are not zero (dr7 %llx)",
                      (unsigned long long)s->dr7);
    if ((s->efer & EFER_LME) && (s->cr0 & CR0_PG) && !(s->cr4 & CR4_PAE))
        return refuse(why, E_INVAL, "long mode with paging but CR4.PAE clear (cr4 %llx)",
                      (unsigned long long)s->cr4);
    if ((s->efer & EFER_LME) && (s->cr0 & CR0_PG) && !(s->cr0 & CR0_PE))
        return refuse(why, E_INVAL, "long mode with paging but CR0.PE clear (cr0 %llx)",
                      (unsigned long long)s->cr0);
    if ((s->efer & EFER_LME) && (s->cr0 & CR0_PG) && (s->cs.attrib & SEG_ATTR_L) &&
        (s->cs.attrib & SEG_ATTR_D))
        return refuse(why, E_INVAL, "CS has both L and D set (attrib %llx)",
                      (unsigned long long)s->cs.attrib);
    if ((s->efer & EFER_LME) && (s->cr0 & CR0_PG) && (s->cr3 & ~pa_limit & ~0xfffull))
        return refuse(why, E_INVAL, "guest CR3 beyond the physical address width (%llx)",
                      (unsigned long long)s->cr3);
    if (!(c->intercept_misc2 & SVM_INTERCEPT_VMRUN))
        return refuse(why, E_INVAL, "the VMRUN intercept is clear (misc2 %llx)",
                      (unsigned long long)c->intercept_misc2);
    if (c->guest_asid == 0)
        return refuse(why, E_INVAL, "guest ASID is %llu (0 is the host's)",
                      (unsigned long long)c->guest_asid);
    if ((c->msrpm_base_pa & 0xfff) || c->msrpm_base_pa > pa_limit - (0x2000 - 1))
        return refuse(why, E_INVAL, "MSR permission map address %llx is unaligned or too high",
                      (unsigned long long)c->msrpm_base_pa);
    if ((c->iopm_base_pa & 0xfff) || c->iopm_base_pa > pa_limit - (0x3000 - 1))
        return refuse(why, E_INVAL, "I/O permission map address %llx is unaligned or too high",
                      (unsigned long long)c->iopm_base_pa);
    if ((c->np_control & SVM_NP_ENABLE) && ((c->n_cr3 & 0xfff) || c->n_cr3 > pa_limit))
        return refuse(why, E_INVAL, "nested CR3 %llx is unaligned or too high",
                      (unsigned long long)c->n_cr3);
    if ((s->efer & EFER_LMA) && !(s->efer & EFER_LME))
        return refuse(why, E_INVAL, "EFER.LMA without EFER.LME (efer %llx)",
                      (unsigned long long)s->efer);
    return 0;
}
