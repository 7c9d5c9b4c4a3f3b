/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The register frame isr.S builds, and the trap dispatcher. */
#ifndef CORE_TRAP_H
#define CORE_TRAP_H

#include <stddef.h>
#include <stdint.h>

#define VECTOR_NMI 2
#define VECTOR_DOUBLE_FAULT 8
#define VECTOR_PAGE_FAULT 14
#define VECTOR_MACHINE_CHECK 18
#define VECTOR_WAKEUP 0xf0   /* IPI that only ends a hlt */
#define VECTOR_SPURIOUS 0xff /* LAPIC spurious vector */

/* Field order is the reverse of the pushes in isr.S. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

_Static_assert(offsetof(struct trap_frame, rax) == 14 * 8, "isr.S pushes 15 GPRs first");
_Static_assert(offsetof(struct trap_frame, vector) == 15 * 8, "then the stub's vector");
_Static_assert(offsetof(struct trap_frame, rip) == 17 * 8, "then the CPU's frame");
_Static_assert(sizeof(struct trap_frame) % 16 == 0, "keeps the stack 16-byte aligned");

void trap_dispatch(struct trap_frame *f);

#endif
