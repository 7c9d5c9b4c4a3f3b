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

.text
.globl svm_world_switch
svm_world_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    pushq %rdi                  /* regs */
    pushq %rdx                  /* host VMCB */
    movq %rsi, %rax             /* guest VMCB: VMLOAD/VMRUN/VMSAVE take it in rax */

    movq GUEST_RBX(%rdi), %rbx
    movq GUEST_RCX(%rdi), %rcx
    movq GUEST_RDX(%rdi), %rdx
    movq GUEST_RSI(%rdi), %rsi
    movq GUEST_RBP(%rdi), %rbp
    movq GUEST_R8(%rdi), %r8
    movq GUEST_R9(%rdi), %r9
    movq GUEST_R10(%rdi), %r10
    movq GUEST_R11(%rdi), %r11
    movq GUEST_R12(%rdi), %r12
    movq GUEST_R13(%rdi), %r13
    movq GUEST_R14(%rdi), %r14
    movq GUEST_R15(%rdi), %r15
    movq GUEST_RDI(%rdi), %rdi

    vmload %rax
    vmrun %rax
    vmsave %rax

    pushq %rdi                  /* guest rdi; regs is now at 16(%rsp) */
    movq 16(%rsp), %rdi
    movq %rbx, GUEST_RBX(%rdi)
    movq %rcx, GUEST_RCX(%rdi)
    movq %rdx, GUEST_RDX(%rdi)
    movq %rsi, GUEST_RSI(%rdi)
    movq %rbp, GUEST_RBP(%rdi)
    movq %r8, GUEST_R8(%rdi)
    movq %r9, GUEST_R9(%rdi)
    movq %r10, GUEST_R10(%rdi)
    movq %r11, GUEST_R11(%rdi)
    movq %r12, GUEST_R12(%rdi)
    movq %r13, GUEST_R13(%rdi)
    movq %r14, GUEST_R14(%rdi)
    movq %r15, GUEST_R15(%rdi)
    popq %rax
    movq %rax, GUEST_RDI(%rdi)

    popq %rax                   /* host VMCB */
    vmload %rax
    popq %rdi
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

.section .note.GNU-stack, "", @progbits
