/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* GDT, TSS and IDT layouts (Intel SDM vol. 3, 3.4.5, 7.2.1, 6.14.1). */
#ifndef CORE_DESC_H
#define CORE_DESC_H

#include <stddef.h>
#include <stdint.h>

#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

#define IST_NMI 1 /* NMI and double fault run on their own stacks */
#define IST_DF 2
#define IST_MC 3

/* null, code64, data, TSS (16 bytes) */
struct gdt_table {
    uint64_t entry[5];
};

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

_Static_assert(offsetof(struct tss, rsp) == 4, "TSS rsp0");
_Static_assert(offsetof(struct tss, ist) == 0x24, "TSS ist1");
_Static_assert(offsetof(struct tss, iomap_base) == 0x66, "TSS iomap");
_Static_assert(sizeof(struct tss) == 104, "TSS size");

struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr; /* 0x8e: present, DPL 0, 64-bit interrupt gate */
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate size");
_Static_assert(offsetof(struct idt_gate, type_attr) == 5, "IDT gate type");
_Static_assert(offsetof(struct idt_gate, offset_high) == 8, "IDT gate high offset");

struct desc_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

_Static_assert(sizeof(struct desc_ptr) == 10, "descriptor pointer");

struct percpu;
/* Build and load this CPU's GDT and TSS (IST stacks from ist_base) and the shared IDT. */
void desc_init_cpu(struct percpu *pc, uint64_t ist_stacks_top[3]);
void idt_build(void);

#endif
