/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* AP start-up code. smp.c copies [trampoline_start, trampoline_end) to a page
 * below 1 MiB, patches the fields marked "patched", and points the SIPI at it.
 * Real mode goes straight to long mode (PAE + LME + PG), then each AP takes a
 * stack slot with an atomic add and calls ap_entry(slot). */

#define TRAMP(x) ((x) - trampoline_start)

.text
.code16
.globl trampoline_start
trampoline_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    lgdtl TRAMP(tramp_gdtr)
    movl TRAMP(tramp_cr3), %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $0x20, %eax                 /* CR4.PAE */
    movl %eax, %cr4
    movl $0xc0000080, %ecx          /* EFER */
    rdmsr
    orl $0x100, %eax                /* EFER.LME */
    wrmsr
    movl %cr0, %eax
    andl $~0x60000000, %eax         /* CR0.CD, CR0.NW: an AP starts with caching off */
    orl $0x80000021, %eax           /* CR0.PG | CR0.NE | CR0.PE */
    movl %eax, %cr0
    ljmpl *TRAMP(tramp_far64)

.code64
tramp_long_mode:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl $1, %eax
    lock xaddl %eax, tramp_next_slot(%rip)
    movq tramp_stacks(%rip), %rdx
    movq (%rdx,%rax,8), %rsp        /* stack_tops[slot] */
    movl %eax, %edi
    xorl %ebp, %ebp
    call *tramp_entry(%rip)
1:  cli
    hlt
    jmp 1b

.p2align 3
tramp_gdt:
    .quad 0
    .quad 0x00af9a000000ffff        /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
tramp_gdtr:
    .word 23
    .long 0                         /* patched: linear address of tramp_gdt */
.p2align 2
tramp_far64:
    .long 0                         /* patched: linear address of tramp_long_mode */
    .word 0x08
.p2align 3
tramp_cr3:
    .quad 0                         /* patched: page table root, below 4 GiB */
tramp_entry:
    .quad 0                         /* patched: ap_entry */
tramp_stacks:
    .quad 0                         /* patched: array of stack tops, one per slot */
tramp_next_slot:
    .long 0
.globl trampoline_end
trampoline_end:

/* Offsets of the patched fields, for smp.c. */
.section .rodata
.p2align 3
.globl trampoline_offsets
trampoline_offsets:
    .quad TRAMP(tramp_gdtr) + 2, TRAMP(tramp_gdt), TRAMP(tramp_far64), TRAMP(tramp_long_mode)
    .quad TRAMP(tramp_cr3), TRAMP(tramp_entry), TRAMP(tramp_stacks), TRAMP(tramp_next_slot)

.section .note.GNU-stack, "", @progbits
