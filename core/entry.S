/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* core_start(boot_info): leave the loader's stack (firmware boot-services
 * memory, which the allocator hands out) for the core's own, then run core_main. */

.text
.globl core_start
core_start:
    cli
    leaq boot_stack_top(%rip), %rsp
    xorl %ebp, %ebp
    call core_main
1:  hlt
    jmp 1b

.bss
.p2align 12
.globl boot_stack_guard
boot_stack_guard:           /* unmapped once the core's tables are built (core/stacks.c) */
    .skip 4096
boot_stack:
    .skip 32768
boot_stack_top:

.section .note.GNU-stack, "", @progbits
