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
#include "vmexit/guest_regs.inc"

#define VMCS_HOST_RSP 0x6c14
#define VMX_SWITCH_EXITED 0
#define VMX_SWITCH_KICKED 1
#define VMX_SWITCH_FAILED 2

.text
.globl vmx_world_switch
vmx_world_switch:
    pushfq
    PUSH_CALLEE_SAVED
    pushq %rdi                  /* regs: 8(%rsp) from here on */
    pushq %rsi                  /* launched: (%rsp) */
    movq $VMCS_HOST_RSP, %rax
    vmwrite %rsp, %rax

    movq GUEST_RAX(%rdi), %rax
    LOAD_GUEST_REGS_BUT_RAX_RDI
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
    SAVE_GUEST_REGS_BUT_RAX_RDI
    popq %rax
    movq %rax, GUEST_RDI(%rdi)
    popq %rax                   /* the result */
    addq $16, %rsp              /* launched, regs */
    POP_CALLEE_SAVED
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
