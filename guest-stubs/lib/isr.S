/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The 256 IDT entry stubs and the common path that saves the GPRs and calls guest_trap. */

/* Vectors for which the CPU pushes an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP,
 * #VC, #SX. The others get a 0 pushed so every frame looks the same. */
#include "core/gprs.inc"

#define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
                      (v) == 29 || (v) == 30)

    .text
    .globl sc_isr_common
    .type sc_isr_common, @function
sc_isr_common:
    /* stack: vector, error, rip, cs, rflags, rsp, ss (struct sc_trap_frame from .vector on) */
    PUSH_GPRS
    cld
    movq %rsp, %rdi         /* 22 quadwords above a 16-byte aligned point: rsp is aligned */
    call guest_trap
    POP_GPRS
    addq $16, %rsp          /* vector and error code */
    iretq
    .size sc_isr_common, . - sc_isr_common

/* One stub per vector; sc_isr_table (in .rodata) holds their addresses. */
    .set vec, 0
    .rept 256
    .text
1:
    .if HAS_ERROR(vec)
    pushq $vec
    .else
    pushq $0
    pushq $vec
    .endif
    jmp sc_isr_common
    .section .rodata
    .if vec == 0
    .balign 8
    .globl sc_isr_table
    .type sc_isr_table, @object
sc_isr_table:
    .endif
    .quad 1b
    .set vec, vec + 1
    .endr
    .size sc_isr_table, 256 * 8

    .section .note.GNU-stack, "", @progbits
