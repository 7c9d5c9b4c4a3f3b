/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Offsets the world switches (svm/svm_switch.S, vmx/vmx_switch.S) use, taken from the C
 * structures themselves: compiled to assembly only, and each "->NAME value" line becomes
 * "#define NAME value" in the build's asm_offsets.h (cmake/asm_offsets.cmake). */
#include <stddef.h>

#include "core/percpu.h"
#include "vmexit/vcpu.h"

#define OFFSET(name, type, member)                                                                 \
    __asm__ volatile(".ascii \"->" #name " %c0\\n\"" ::"i"(offsetof(struct type, member)))

void asm_offsets(void);
void asm_offsets(void)
{
    OFFSET(GUEST_RBX, guest_regs, rbx);
    OFFSET(GUEST_RCX, guest_regs, rcx);
    OFFSET(GUEST_RDX, guest_regs, rdx);
    OFFSET(GUEST_RSI, guest_regs, rsi);
    OFFSET(GUEST_RDI, guest_regs, rdi);
    OFFSET(GUEST_RBP, guest_regs, rbp);
    OFFSET(GUEST_R8, guest_regs, r8);
    OFFSET(GUEST_R9, guest_regs, r9);
    OFFSET(GUEST_R10, guest_regs, r10);
    OFFSET(GUEST_R11, guest_regs, r11);
    OFFSET(GUEST_R12, guest_regs, r12);
    OFFSET(GUEST_R13, guest_regs, r13);
    OFFSET(GUEST_R14, guest_regs, r14);
    OFFSET(GUEST_R15, guest_regs, r15);
    OFFSET(GUEST_RAX, guest_regs, rax);
    OFFSET(PERCPU_NMI_TAKEN, percpu, nmi_taken);
}
