/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* SVM world switch.
 * void svm_world_switch(struct guest_regs *regs, uint64_t vmcb_pa, uint64_t host_vmcb_pa)
 * Loads the guest's general-purpose registers (rax, rsp, rip come from the
 * VMCB), runs the guest, saves them back. VMLOAD/VMSAVE move the state VMRUN
 * leaves alone (FS/GS/TR/LDTR bases, KernelGSBase, STAR family, SYSENTER);
 * the host's copy (our %gs per-CPU base among it) is reloaded on the way out.
 * Called with GIF clear; returns with GIF clear. */

#include "asm_offsets.h"
#include "vmexit/guest_regs.inc"

.text
.globl svm_world_switch
svm_world_switch:
    PUSH_CALLEE_SAVED
    pushq %rdi                  /* regs */
    pushq %rdx                  /* host VMCB */
    movq %rsi, %rax             /* guest VMCB: VMLOAD/VMRUN/VMSAVE take it in rax */

    LOAD_GUEST_REGS_BUT_RAX_RDI
    movq GUEST_RDI(%rdi), %rdi

    vmload %rax
    vmrun %rax
    vmsave %rax

    pushq %rdi                  /* guest rdi; regs is now at 16(%rsp) */
    movq 16(%rsp), %rdi
    SAVE_GUEST_REGS_BUT_RAX_RDI
    popq %rax
    movq %rax, GUEST_RDI(%rdi)

    popq %rax                   /* host VMCB */
    vmload %rax
    popq %rdi
    POP_CALLEE_SAVED
    ret

.section .note.GNU-stack, "", @progbits
