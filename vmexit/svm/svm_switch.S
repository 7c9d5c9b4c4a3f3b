/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* SVM world switch.
 * void svm_world_switch(struct guest_regs *regs, uint64_t vmcb_pa, uint64_t host_vmcb_pa)
 * Loads the guest's general-purpose registers (rax, rsp, rip come from the
 * VMCB), runs the guest, saves them back. VMLOAD/VMSAVE move the state VMRUN
 * leaves alone (FS/GS/TR/LDTR bases, KernelGSBase, STAR family, SYSENTER);
 * the host's copy (our %gs per-CPU base among it) is reloaded on the way out.
 * Called with GIF clear; returns with GIF clear. */

/* struct guest_regs offsets (checked in svm.c) */
#define R_RBX 0
#define R_RCX 8
#define R_RDX 16
#define R_RSI 24
#define R_RDI 32
#define R_RBP 40
#define R_R8 48
#define R_R9 56
#define R_R10 64
#define R_R11 72
#define R_R12 80
#define R_R13 88
#define R_R14 96
#define R_R15 104

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

    movq R_RBX(%rdi), %rbx
    movq R_RCX(%rdi), %rcx
    movq R_RDX(%rdi), %rdx
    movq R_RSI(%rdi), %rsi
    movq R_RBP(%rdi), %rbp
    movq R_R8(%rdi), %r8
    movq R_R9(%rdi), %r9
    movq R_R10(%rdi), %r10
    movq R_R11(%rdi), %r11
    movq R_R12(%rdi), %r12
    movq R_R13(%rdi), %r13
    movq R_R14(%rdi), %r14
    movq R_R15(%rdi), %r15
    movq R_RDI(%rdi), %rdi

    vmload %rax
    vmrun %rax
    vmsave %rax

    pushq %rdi                  /* guest rdi; regs is now at 16(%rsp) */
    movq 16(%rsp), %rdi
    movq %rbx, R_RBX(%rdi)
    movq %rcx, R_RCX(%rdi)
    movq %rdx, R_RDX(%rdi)
    movq %rsi, R_RSI(%rdi)
    movq %rbp, R_RBP(%rdi)
    movq %r8, R_R8(%rdi)
    movq %r9, R_R9(%rdi)
    movq %r10, R_R10(%rdi)
    movq %r11, R_R11(%rdi)
    movq %r12, R_R12(%rdi)
    movq %r13, R_R13(%rdi)
    movq %r14, R_R14(%rdi)
    movq %r15, R_R15(%rdi)
    popq %rax
    movq %rax, R_RDI(%rdi)

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
