/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The VMCB's contents. Intercepts are minimal by construction (a guest core takes no exit
 * in steady state): INTR is not intercepted and V_INTR_MASKING is clear, so physical
 * interrupts go to the guest's IDT; HLT, PAUSE, RDTSC, CR3 writes and INVLPG do not exit.
 * #DB and #AC exit only to be handed back (exit_exception.c); INVD and WBINVD exit
 * because INVD would discard dirty lines that are not the guest's (exit_cache.c). */
#include "vmexit/svm/vmcb_build.h"

#include "core/klib.h"
#include "guest-stubs/include/sidecore/abi.h"
#include "vmexit/x86.h"

#define GUEST_ASID 1            /* one vCPU per core: ASIDs only need to differ per core */
#define GUEST_CR0 0x80010033ull /* PG, WP, NE, ET, MP, PE */
#define GUEST_CR4 0x20ull       /* PAE */
#define GUEST_EFER 0x1500ull    /* SVME, LMA, LME */
#define GUEST_PAT 0x0007040600070406ull

void vmcb_build_control(struct vmcb_control *c, uint64_t iopm_pa, uint64_t msrpm_pa, uint64_t n_cr3)
{
    /* an exception whose delivery raises the same exception again loops inside the CPU,
     * with no instruction boundary for the kick NMI: intercepted, each one is an exit */
    c->intercept_exceptions = SVM_INTERCEPT_EXCEPTION(X86_DB) | SVM_INTERCEPT_EXCEPTION(X86_AC);
    c->intercept_misc1 = SVM_INTERCEPT_NMI | SVM_INTERCEPT_INIT | SVM_INTERCEPT_CPUID |
                         SVM_INTERCEPT_INVD | SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR |
                         SVM_INTERCEPT_SHUTDOWN;
    c->intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
                         SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
                         SVM_INTERCEPT_SKINIT | SVM_INTERCEPT_WBINVD;
    c->iopm_base_pa = iopm_pa;
    c->msrpm_base_pa = msrpm_pa;
    c->guest_asid = GUEST_ASID;
    c->vintr = 0; /* V_INTR_MASKING clear: the guest's IF governs physical interrupts */
    c->np_control = SVM_NP_ENABLE;
    c->n_cr3 = n_cr3;
}

static void set_seg(struct vmcb_seg *s, uint16_t sel, uint16_t attrib, uint32_t limit,
                    uint64_t base)
{
    *s = (struct vmcb_seg){sel, attrib, limit, base};
}

void vmcb_build_reset(struct vmcb *vmcb, uint64_t rip, uint64_t rsp)
{
    struct vmcb_state *st = &vmcb->state;
    memset(st, 0, sizeof(*st));
    set_seg(&st->cs, SC_GDT_CODE, SVM_ATTR_CODE64, 0xffffffff, 0);
    set_seg(&st->ds, SC_GDT_DATA, SVM_ATTR_DATA, 0xffffffff, 0);
    st->es = st->ss = st->fs = st->gs = st->ds;
    set_seg(&st->gdtr, 0, 0, SC_GDT_DATA + 8 - 1, SC_GPA_GDT);
    set_seg(&st->idtr, 0, 0, 0, 0);
    set_seg(&st->tr, 0, SVM_ATTR_TSS64, 0x67, 0);
    set_seg(&st->ldtr, 0, 0, 0, 0);
    st->cpl = 0;
    st->efer = GUEST_EFER;
    st->cr0 = GUEST_CR0;
    st->cr3 = SC_GPA_PAGE_TABLES;
    st->cr4 = GUEST_CR4;
    st->dr6 = 0xffff0ff0;
    st->dr7 = 0x400;
    st->rflags = 2; /* interrupts off until the guest has an IDT */
    st->rip = rip;
    st->rsp = rsp;
    st->g_pat = GUEST_PAT;
    /* nothing carries over from before a stop: an event a handler injected (or one the
     * exit interrupted) would otherwise be delivered at the new entry, with no IDT yet */
    vmcb->control.eventinj = 0;
    vmcb->control.exitintinfo = 0;
    vmcb->control.interrupt_shadow = 0;
}
