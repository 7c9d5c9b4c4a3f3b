/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The 256 IDT entry stubs and the common path that saves the GPRs and calls guest_trap. */

/* Vectors for which the CPU pushes an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP,
 * #VC, #SX. The others get a 0 pushed so every frame looks the same. */
#define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
                      (v) == 29 || (v) == 30)

    .text
    .globl sc_isr_common
    .type sc_isr_common, @function
sc_isr_common:
    /* stack: vector, error, rip, cs, rflags, rsp, ss (struct sc_trap_frame from .vector on) */
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld
    movq %rsp, %rdi         /* 22 quadwords above a 16-byte aligned point: rsp is aligned */
    call guest_trap
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
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
