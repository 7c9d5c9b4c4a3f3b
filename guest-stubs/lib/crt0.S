/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Guest entry point: every vCPU arrives here in long mode with rdi = its struct sc_boot_info. */

    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    /* rdi (boot info) is passed through untouched as guest_start's first argument. */
    xorl %ebp, %ebp
    andq $-16, %rsp         /* SysV: rsp % 16 == 0 before the call */
    call guest_start
1:  cli                     /* guest_start does not return; never fall through */
    hlt
    jmp 1b
    .size _start, . - _start

    .section .note.GNU-stack, "", @progbits
