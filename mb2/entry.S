/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The Multiboot2 header and entry. GRUB loads this ELF at its link address (mb2.ld) and
 * jumps to mb2_entry in 32-bit protected mode, paging off, eax = the loader's magic,
 * ebx = the boot information (Multiboot2 specification 1.0, section 3.3). This builds an
 * identity map (1 GiB pages over 512 GiB where the CPU has them, else 2 MiB pages over
 * 4 GiB), enters long mode and calls mb2_main(magic, info) on its own stack. The core
 * replaces both the map and the GDT with its own once it has read the memory map. */

#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0
#define MB2_TAG_END 0
#define MB2_TAG_MODULE_ALIGN 6 /* modules on page boundaries (multiboot2.c requires it) */
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define CR0_PE 1
#define CR0_PG 0x80000000
#define CR0_CD_NW 0x60000000
#define CR4_PAE (1 << 5)
#define PTE_PRESENT_WRITE 0x3
#define PTE_LARGE 0x80
#define CPUID_LM_BIT 29   /* CPUID 0x80000001 edx */
#define CPUID_1G_BIT 26
#define SEL_CODE64 8
#define SEL_DATA 16
#define COM1 0x3f8

.section .multiboot2, "a"
.balign 8
mb2_header:
    .long MB2_HEADER_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    .balign 8
    .short MB2_TAG_MODULE_ALIGN, 0
    .long 8
    .balign 8
    .short MB2_TAG_END, 0
    .long 8
mb2_header_end:

.text
.code32
.globl mb2_entry
mb2_entry:
    cli
    cld
    movl %eax, %edi                 /* magic, first argument of mb2_main */
    movl %ebx, %esi                 /* boot information, second */
    movl $mb2_stack_top, %esp

    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb no_long_mode
    movl $0x80000001, %eax
    cpuid
    btl $CPUID_LM_BIT, %edx
    jnc no_long_mode

    movl $mb2_pdpt + PTE_PRESENT_WRITE, mb2_pml4
    btl $CPUID_1G_BIT, %edx
    jnc map_2m
    /* PDPT entry i maps i GiB: low word i << 30 | flags, high word i >> 2 */
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $30, %eax
    orl $(PTE_PRESENT_WRITE | PTE_LARGE), %eax
    movl %eax, mb2_pdpt(, %ecx, 8)
    movl %ecx, %eax
    shrl $2, %eax
    movl %eax, mb2_pdpt + 4(, %ecx, 8)
    incl %ecx
    cmpl $512, %ecx
    jb 1b
    jmp paging_on
map_2m:
    /* four PDs, 2048 entries: entry j maps j << 21, its high word j >> 11 */
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $12, %eax
    addl $mb2_pd + PTE_PRESENT_WRITE, %eax
    movl %eax, mb2_pdpt(, %ecx, 8)
    incl %ecx
    cmpl $4, %ecx
    jb 1b
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $21, %eax
    orl $(PTE_PRESENT_WRITE | PTE_LARGE), %eax
    movl %eax, mb2_pd(, %ecx, 8)
    movl %ecx, %eax
    shrl $11, %eax
    movl %eax, mb2_pd + 4(, %ecx, 8)
    incl %ecx
    cmpl $2048, %ecx
    jb 1b

paging_on:
    movl $mb2_pml4, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $CR4_PAE, %eax
    movl %eax, %cr4
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr
    movl %cr0, %eax
    andl $~CR0_CD_NW, %eax
    orl $(CR0_PG | CR0_PE), %eax
    movl %eax, %cr0
    lgdt mb2_gdt_pointer
    ljmp $SEL_CODE64, $long_mode

/* No long mode: say so on COM1 (its power-on defaults will do) and stop. */
no_long_mode:
    movl $no_long_mode_text, %esi
1:  lodsb
    testb %al, %al
    jz 3f
    movb %al, %bl
    movw $COM1 + 5, %dx
2:  inb %dx, %al                    /* line status: transmitter empty */
    testb $0x20, %al
    jz 2b
    movw $COM1, %dx
    movb %bl, %al
    outb %al, %dx
    jmp 1b
3:  hlt
    jmp 3b

.code64
long_mode:
    movl $SEL_DATA, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    movl $mb2_stack_top, %esp       /* zero-extends: the stack is below 4 GiB */
    movl %edi, %edi                 /* the upper halves are undefined after the switch */
    movl %esi, %esi
    xorl %ebp, %ebp
    call mb2_main                   /* does not return */
1:  hlt
    jmp 1b

.section .rodata
no_long_mode_text:
    .asciz "sidecore-mb2: error: this CPU has no 64-bit long mode\r\n"
.balign 8
mb2_gdt:
    .quad 0
    .quad 0x00af9a000000ffff        /* 64-bit code, DPL 0 */
    .quad 0x00cf92000000ffff        /* data, 4 GiB */
mb2_gdt_end:
mb2_gdt_pointer:
    .short mb2_gdt_end - mb2_gdt - 1
    .long mb2_gdt

.bss
.balign 4096
mb2_pml4:
    .skip 4096
mb2_pdpt:
    .skip 4096
mb2_pd:
    .skip 4 * 4096
mb2_stack:
    .skip 16384
mb2_stack_top:

.section .note.GNU-stack, "", @progbits
