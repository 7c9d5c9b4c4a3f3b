/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Interrupt entry stubs: build a struct trap_frame and call trap_dispatch. */

#include "core/gprs.inc"

.altmacro
.macro ISR_ENTRY vector
    .quad \vector, isr_\vector
.endm

.macro STUB vector, has_error
    .p2align 4
isr_\vector:
    .if \has_error == 0
    pushq $0
    .endif
    pushq $\vector
    jmp isr_common
.endm

.text
/* Exceptions 0-31 (8, 10-14, 17, 21, 29, 30 push an error code), then every
 * interrupt vector: a stray interrupt (say, a guest's timer still pending when
 * its partition stopped) is acknowledged, not a #GP. */
STUB 0, 0
STUB 1, 0
STUB 2, 0
STUB 3, 0
STUB 4, 0
STUB 5, 0
STUB 6, 0
STUB 7, 0
STUB 8, 1
STUB 9, 0
STUB 10, 1
STUB 11, 1
STUB 12, 1
STUB 13, 1
STUB 14, 1
STUB 15, 0
STUB 16, 0
STUB 17, 1
STUB 18, 0
STUB 19, 0
STUB 20, 0
STUB 21, 1
STUB 22, 0
STUB 23, 0
STUB 24, 0
STUB 25, 0
STUB 26, 0
STUB 27, 0
STUB 28, 0
STUB 29, 1
STUB 30, 1
STUB 31, 0
.set vec, 32
.rept 224
    STUB %vec, 0
    .set vec, vec + 1
.endr

isr_common:
    PUSH_GPRS
    cld
    movq %rsp, %rdi          /* 22 quadwords pushed: %rsp is 16-byte aligned */
    call trap_dispatch
    POP_GPRS
    addq $16, %rsp           /* vector and error code */
    iretq

/* Vector number and stub address for each installed gate (vector, pointer). */
.section .data.rel.ro, "aw"
.p2align 3
.globl isr_table
isr_table:
.set vec, 0
.rept 256
    ISR_ENTRY %vec
    .set vec, vec + 1
.endr
.globl isr_table_count
isr_table_count:
    .quad 256

.section .note.GNU-stack, "", @progbits
