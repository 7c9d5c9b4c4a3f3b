/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Physical memory after boot: the allocator's free set and the hypervisor's page tables. */
#ifndef CORE_MEMORY_H
#define CORE_MEMORY_H

#include <stdint.h>

struct boot_info;
struct palloc;
struct pt;
struct pt_mem;
struct acpi_info;

/* Free set = the loader's usable ranges, minus page 0. Returns 0 or -E_NOSPC. */
int memory_init(struct palloc *pa, const struct boot_info *bi);
/* The firmware's boot-services memory joins the free set once the core runs on its
 * own page tables, GDT and IDT (the firmware's live there until then). */
int memory_reclaim_boot_services(struct palloc *pa, const struct boot_info *bi);
/* Identity map of every range of the memory map plus the local and I/O APICs,
 * then switch CR3. The root lies below 4 GiB for the AP trampoline. */
int memory_build_host_tables(struct pt *pt, struct palloc *pa, const struct boot_info *bi,
                             const struct acpi_info *acpi);
/* Boot CPU, before the APs start: identity-maps device registers found after the tables
 * were built (an IOMMU's), uncached, and reloads CR3. 0 or -errno. */
int memory_map_mmio(struct pt *pt, uint64_t base, uint64_t size);
const char *memory_type_name(uint32_t type);
/* Page-table pages from the allocator, identity-mapped: for nested tables too. A page
 * freed through it is reused at once: tables other CPUs may walk hold theirs back until
 * the walkers flushed (vmexit/npt_retire.h). */
const struct pt_mem *memory_table_mem(void);

#endif
