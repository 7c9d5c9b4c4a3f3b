/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Free physical memory and the hypervisor's own identity-mapped page tables. */
#include "core/memory.h"

#include "core/acpi.h"
#include "core/boot_info.h"
#include "core/cpu.h"
#include "core/klib.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/pgtable.h"
#include "core/spinlock.h"

#define LOW_4G (4 * GiB)

const char *memory_type_name(uint32_t type)
{
    static const char *const names[] = {"?",        "usable",       "reserved", "acpi",
                                        "acpi-nvs", "hypervisor",   "firmware", "mmio",
                                        "bad",      "boot-services"};
    return type < ARRAY_SIZE(names) ? names[type] : "?";
}

static int add_ranges(struct palloc *pa, const struct boot_info *bi, uint32_t type)
{
    for (uint32_t i = 0; i < bi->nmem; i++) {
        if (bi->mem[i].type != type)
            continue;
        int rc = palloc_add(pa, bi->mem[i].base, bi->mem[i].size);
        if (rc == -E_NOSPC)
            return rc;
        if (rc)
            log_warn("memory map range %llx+%llx ignored (%d)", (unsigned long long)bi->mem[i].base,
                     (unsigned long long)bi->mem[i].size, rc);
    }
    return palloc_remove(pa, 0, PAGE_SIZE); /* keep NULL unmapped and unallocated */
}

int memory_init(struct palloc *pa, const struct boot_info *bi)
{
    palloc_init(pa);
    return add_ranges(pa, bi, BOOT_MEM_USABLE);
}

int memory_reclaim_boot_services(struct palloc *pa, const struct boot_info *bi)
{
    return add_ranges(pa, bi, BOOT_MEM_BOOT_SERVICES);
}

/* Page-table pages come from the allocator, below 4 GiB so any CPU can load
 * the root from 32-bit code. */
/* Side cores and guest cores change nested tables at run time: one lock for the
 * allocator they share. */
static struct spinlock table_alloc_lock;
/* Table pages given back, linked through their first word (0 ends the list): reused
 * before the allocator is asked, so scattered single pages never fragment its ranges. */
static uint64_t free_tables;

static int alloc_table_page(void *ctx, uint64_t *out)
{
    int rc = 0;
    spin_lock(&table_alloc_lock);
    if (free_tables) {
        *out = free_tables;
        free_tables = *(const uint64_t *)(uintptr_t)free_tables;
    } else {
        rc = palloc_alloc(ctx, PAGE_SIZE, PAGE_SIZE, LOW_4G, out);
    }
    spin_unlock(&table_alloc_lock);
    if (!rc)
        memset((void *)(uintptr_t)*out, 0, PAGE_SIZE);
    return rc;
}

/* The caller made sure no CPU can still walk the page (see struct pt_mem). */
static void free_table_page(void *ctx, uint64_t pa)
{
    (void)ctx;
    spin_lock(&table_alloc_lock);
    *(uint64_t *)(uintptr_t)pa = free_tables;
    free_tables = pa;
    spin_unlock(&table_alloc_lock);
}

static void *identity(void *ctx, uint64_t pa)
{
    (void)ctx;
    return (void *)(uintptr_t)pa;
}

static int map_identity(struct pt *pt, uint64_t base, uint64_t size, unsigned flags)
{
    if (base < PAGE_SIZE) { /* page 0 stays unmapped: NULL dereferences fault */
        if (size <= PAGE_SIZE - base)
            return 0;
        size -= PAGE_SIZE - base;
        base = PAGE_SIZE;
    }
    uint64_t end = ALIGN_UP(base + size, PAGE_SIZE);
    base = ALIGN_DOWN(base, PAGE_SIZE);
    int rc = pt_map(pt, base, base, end - base, flags);
    if (rc != -E_EXIST)
        return rc;
    /* Part of the range is mapped already (the memory map covers some of an MMIO window):
     * pt_map is all or nothing, so the rest goes in 2 MiB, then 4 KiB, at a time. */
    for (uint64_t at = base; at < end;) {
        uint64_t step = !(at & (2 * MiB - 1)) && end - at >= 2 * MiB ? 2 * MiB : PAGE_SIZE;
        rc = pt_map(pt, at, at, step, flags);
        if (rc == -E_EXIST && step > PAGE_SIZE)
            step = PAGE_SIZE, rc = pt_map(pt, at, at, step, flags);
        if (rc && rc != -E_EXIST)
            return rc;
        at += step;
    }
    return 0;
}

static struct pt_mem table_mem;

const struct pt_mem *memory_table_mem(void)
{
    return &table_mem;
}

int memory_build_host_tables(struct pt *pt, struct palloc *pa, const struct boot_info *bi,
                             const struct acpi_info *acpi)
{
    struct pt_mem *mem = &table_mem;
    *mem = (struct pt_mem){pa, alloc_table_page, identity, free_table_page};
    bool gb = (cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_PDPE1GB) != 0;
    int rc = pt_init(pt, &pt_format_x86, mem, gb ? PT_1G : PT_2M);
    const unsigned rwx = PT_READ | PT_WRITE | PT_EXEC;

    for (uint32_t i = 0; !rc && i < bi->nmem; i++) {
        uint32_t t = bi->mem[i].type;
        unsigned flags = (t == BOOT_MEM_MMIO || t == BOOT_MEM_RESERVED) ? rwx | PT_UNCACHED : rwx;
        rc = map_identity(pt, bi->mem[i].base, bi->mem[i].size, flags);
    }
    if (!rc)
        rc = map_identity(pt, acpi->lapic_address, PAGE_SIZE, rwx | PT_UNCACHED);
    for (unsigned i = 0; !rc && i < acpi->nioapics; i++)
        rc = map_identity(pt, acpi->ioapics[i].address, PAGE_SIZE, rwx | PT_UNCACHED);
    for (unsigned i = 0; !rc && i < acpi->necam; i++) { /* PCI configuration space */
        const struct acpi_ecam *e = &acpi->ecam[i];
        rc = map_identity(pt, e->base + ((uint64_t)e->start_bus << 20),
                          (uint64_t)(e->end_bus - e->start_bus + 1) << 20,
                          PT_READ | PT_WRITE | PT_UNCACHED);
    }
    if (rc)
        return rc;
    write_cr3(pt->root);
    return 0;
}

int memory_map_mmio(struct pt *pt, uint64_t base, uint64_t size)
{
    uint64_t start = base & ~(uint64_t)(PAGE_SIZE - 1);
    int rc = map_identity(pt, start, ALIGN_UP(base + size, PAGE_SIZE) - start,
                          PT_READ | PT_WRITE | PT_UNCACHED);
    if (!rc)
        write_cr3(pt->root);
    return rc;
}
