/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* VMX world switch.
 * int vmx_world_switch(struct guest_regs *regs, int launched)
 * Loads every guest general-purpose register (rax included: the VMCS holds only rsp and
 * rip), enters the guest with VMLAUNCH (first entry after VMCLEAR) or VMRESUME, and at the
 * VM exit (HOST_RIP = vmx_vm_exit, HOST_RSP = this frame) saves them back. Returns
 * VMX_SWITCH_EXITED after a VM exit, VMX_SWITCH_KICKED if an NMI reached the hypervisor
 * since vmx_hold_events (the entry is not made: the kick is not lost), VMX_SWITCH_FAILED
 * if the instruction failed (VM-instruction error in the VMCS). The host's rflags (IF) are
 * restored: a VM exit clears them. */
#include "asm_offsets.h"

#define VMCS_HOST_RSP 0x6c14
#define VMX_SWITCH_EXITED 0
#define VMX_SWITCH_KICKED 1
#define VMX_SWITCH_FAILED 2

.text
.globl vmx_world_switch
vmx_world_switch:
    pushfq
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    pushq %rdi                  /* regs: 8(%rsp) from here on */
    pushq %rsi                  /* launched: (%rsp) */
    movq $VMCS_HOST_RSP, %rax
    vmwrite %rsp, %rax

    movq GUEST_RAX(%rdi), %rax
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

/* The last look for a kick, and the entry. An NMI taken anywhere in here resumes at
 * vmx_entry_window (core/trap.c, percpu.nmi_restart_*): it is seen, never passed. */
.globl vmx_entry_window
vmx_entry_window:
    cmpb $0, %gs:PERCPU_NMI_TAKEN
    jne vmx_kicked
    cmpq $0, (%rsp)
    je 1f
    vmresume
    jmp vmx_failed
1:  vmlaunch
.globl vmx_entry_window_end
vmx_entry_window_end:
vmx_failed:
    pushq $VMX_SWITCH_FAILED
    jmp save_guest
vmx_kicked:
    pushq $VMX_SWITCH_KICKED
    jmp save_guest

.globl vmx_vm_exit
vmx_vm_exit:
    pushq $VMX_SWITCH_EXITED
save_guest:                     /* (%rsp) result, 8 launched, 16 regs */
    pushq %rdi
    movq 24(%rsp), %rdi
    movq %rax, GUEST_RAX(%rdi)
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
    popq %rax                   /* the result */
    addq $16, %rsp              /* launched, regs */
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    popfq
    ret

/* void vmx_unblock_nmis(void): an IRET to the next instruction, which ends any blocking
 * of NMIs the processor may hold after an NMI-caused VM exit. */
.globl vmx_unblock_nmis
vmx_unblock_nmis:
    movq %rsp, %rdx
    xorl %eax, %eax
    movw %ss, %ax
    pushq %rax
    pushq %rdx
    pushfq
    movw %cs, %ax
    pushq %rax
    leaq 1f(%rip), %rax
    pushq %rax
    iretq
1:  ret

.section .note.GNU-stack, "", @progbits
