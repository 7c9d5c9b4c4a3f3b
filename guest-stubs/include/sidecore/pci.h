/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* PCI for the test guests: configuration mechanism #1 on the partition's bus 0 (the
 * hypervisor emulates it: each access exits), and device registers reached with single MOV
 * instructions, the only memory instructions the hypervisor emulates on a trapped page (a
 * plain volatile access may become a CMP or an OR with memory). */
#ifndef SIDECORE_PCI_H
#define SIDECORE_PCI_H

#include <stdint.h>

uint32_t sc_pci_read32(unsigned devfn, unsigned reg);
void sc_pci_write32(unsigned devfn, unsigned reg, uint32_t v);
void sc_pci_write16(unsigned devfn, unsigned reg, uint16_t v);
/* The capability with id, from a bounded walk of the list; 0 if none. */
unsigned sc_pci_find_capability(unsigned devfn, uint8_t id);

static inline void sc_mmio_write8(uint64_t addr, uint8_t v)
{
    __asm__ volatile("movb %0, %1"
                     :
                     : "q"(v), "m"(*(volatile uint8_t *)(uintptr_t)addr)
                     : "memory");
}

static inline void sc_mmio_write16(uint64_t addr, uint16_t v)
{
    __asm__ volatile("movw %0, %1"
                     :
                     : "r"(v), "m"(*(volatile uint16_t *)(uintptr_t)addr)
                     : "memory");
}

static inline void sc_mmio_write32(uint64_t addr, uint32_t v)
{
    __asm__ volatile("movl %0, %1"
                     :
                     : "r"(v), "m"(*(volatile uint32_t *)(uintptr_t)addr)
                     : "memory");
}

static inline void sc_mmio_write64(uint64_t addr, uint64_t v)
{
    __asm__ volatile("movq %0, %1"
                     :
                     : "r"(v), "m"(*(volatile uint64_t *)(uintptr_t)addr)
                     : "memory");
}

static inline uint8_t sc_mmio_read8(uint64_t addr)
{
    uint8_t v;
    __asm__ volatile("movb %1, %0"
                     : "=q"(v)
                     : "m"(*(volatile uint8_t *)(uintptr_t)addr)
                     : "memory");
    return v;
}

static inline uint16_t sc_mmio_read16(uint64_t addr)
{
    uint16_t v;
    __asm__ volatile("movw %1, %0"
                     : "=r"(v)
                     : "m"(*(volatile uint16_t *)(uintptr_t)addr)
                     : "memory");
    return v;
}

static inline uint32_t sc_mmio_read32(uint64_t addr)
{
    uint32_t v;
    __asm__ volatile("movl %1, %0"
                     : "=r"(v)
                     : "m"(*(volatile uint32_t *)(uintptr_t)addr)
                     : "memory");
    return v;
}

static inline uint64_t sc_mmio_read64(uint64_t addr)
{
    uint64_t v;
    __asm__ volatile("movq %1, %0"
                     : "=r"(v)
                     : "m"(*(volatile uint64_t *)(uintptr_t)addr)
                     : "memory");
    return v;
}

#endif
