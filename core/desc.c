/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The hypervisor's own GDT, TSS (per CPU) and IDT (shared). */
#include "core/desc.h"

#include "core/klib.h"
#include "core/percpu.h"
#include "core/trap.h"

#define GDT_CODE64 0x00af9a000000ffffull /* present, DPL0, exec/read, L=1 */
#define GDT_DATA 0x00cf92000000ffffull   /* present, DPL0, read/write */
#define TSS_TYPE_AVAILABLE 0x89ull       /* present, 64-bit TSS available */
#define IDT_INTERRUPT_GATE 0x8e

struct isr_entry {
    uint64_t vector;
    uint64_t stub;
};
extern const struct isr_entry isr_table[];
extern const uint64_t isr_table_count;

static struct idt_gate idt[256] __attribute__((aligned(16)));

static uint8_t ist_for_vector(uint64_t v)
{
    switch (v) {
    case VECTOR_NMI:
        return IST_NMI;
    case VECTOR_DOUBLE_FAULT:
        return IST_DF;
    case VECTOR_MACHINE_CHECK:
        return IST_MC;
    default:
        return 0;
    }
}

void idt_build(void)
{
    for (uint64_t i = 0; i < isr_table_count; i++) {
        uint64_t v = isr_table[i].vector, addr = isr_table[i].stub;
        idt[v] = (struct idt_gate){
            .offset_low = (uint16_t)addr,
            .selector = SEL_CODE64,
            .ist = ist_for_vector(v),
            .type_attr = IDT_INTERRUPT_GATE,
            .offset_mid = (uint16_t)(addr >> 16),
            .offset_high = (uint32_t)(addr >> 32),
        };
    }
}

static void load_segments(void)
{
    /* reload CS through a far return, then the data segments */
    __asm__ volatile("pushq %[cs]\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movw %[ds], %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%ss\n\t"
                     "movw %%ax, %%fs\n\t"
                     :
                     : [cs] "i"(SEL_CODE64), [ds] "i"(SEL_DATA)
                     : "rax", "memory");
}

void desc_init_cpu(struct percpu *pc, uint64_t ist_stacks_top[3])
{
    uint64_t tss = (uint64_t)(uintptr_t)&pc->tss;
    memset(&pc->tss, 0, sizeof(pc->tss));
    for (int i = 0; i < 3; i++)
        pc->tss.ist[i] = ist_stacks_top[i];
    pc->tss.iomap_base = sizeof(struct tss); /* no I/O bitmap */

    pc->gdt.entry[0] = 0;
    pc->gdt.entry[1] = GDT_CODE64;
    pc->gdt.entry[2] = GDT_DATA;
    pc->gdt.entry[3] = (sizeof(struct tss) - 1) | ((tss & 0xffffff) << 16) |
                       (TSS_TYPE_AVAILABLE << 40) | ((tss >> 24 & 0xff) << 56);
    pc->gdt.entry[4] = tss >> 32;

    struct desc_ptr gdtr = {sizeof(pc->gdt) - 1, (uint64_t)(uintptr_t)&pc->gdt};
    struct desc_ptr idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
    __asm__ volatile("lgdt %0" ::"m"(gdtr) : "memory");
    load_segments();
    __asm__ volatile("ltr %w0" ::"r"((uint16_t)SEL_TSS) : "memory");
    __asm__ volatile("lidt %0" ::"m"(idtr) : "memory");
}
