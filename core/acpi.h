/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* ACPI table parser: RSDP, RSDT/XSDT, MADT and FADT into the facts the hypervisor boots from. */
#ifndef CORE_ACPI_H
#define CORE_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/refusal.h"

#define ACPI_MAX_CPUS 1024
#define ACPI_MAX_IOAPICS 128 /* two-socket servers list about 13; the rest are counted */
#define ACPI_MAX_TABLES 64
#define ACPI_MAX_ECAM 16 /* PCI segment groups with memory-mapped configuration */

/* Access to physical memory: returns a pointer to len readable bytes at physical address pa, or
 * NULL if that range is not accessible. The hypervisor maps identity; tests map fixture blobs.
 * Pointers returned must stay valid until the acpi_* call that asked for them returns. */
struct acpi_mem {
    void *ctx;
    const void *(*map)(void *ctx, uint64_t pa, uint64_t len);
};

struct acpi_cpu {
    uint32_t apic_id;
    uint32_t uid;
    bool x2apic_entry; /* described by a local x2APIC (type 9) entry */
};

struct acpi_ioapic {
    uint8_t id;
    uint32_t address;
    uint32_t gsi_base;
};

/* Generic address structure, unpacked. */
struct acpi_gas {
    uint8_t space_id, bit_width, bit_offset, access_size;
    uint64_t address;
};

struct acpi_table_ref {
    char signature[5]; /* NUL-terminated; bytes outside printable ASCII shown as '?' */
    uint64_t address;
    uint32_t length;
};

/* One MCFG allocation: the configuration space of buses start_bus..end_bus of a segment. */
struct acpi_ecam {
    uint64_t base; /* where bus 0 would be */
    uint16_t segment;
    uint8_t start_bus, end_bus;
};

struct acpi_info {
    uint8_t rsdp_revision;
    bool uses_xsdt;
    char oem_id[7];
    uint64_t lapic_address;
    bool pcat_compat;
    unsigned ncpus;
    struct acpi_cpu cpus[ACPI_MAX_CPUS]; /* enabled CPUs, MADT order */
    /* Entries without the enabled flag, skipped: CPUs that could come online later are
     * disabled_cpus; empty slots (not online-capable in a MADT of revision 5 or later, or an
     * APIC ID another entry already has: boards list dozens with ID 0) are placeholder_slots */
    unsigned disabled_cpus;
    unsigned placeholder_slots;
    uint32_t disabled_ids[ACPI_MAX_CPUS]; /* while parsing: the disabled entries' APIC IDs */
    unsigned dropped_cpus;                /* enabled CPUs beyond ACPI_MAX_CPUS */
    unsigned nioapics;
    unsigned dropped_ioapics; /* IO APICs beyond ACPI_MAX_IOAPICS, counted */
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
    unsigned interrupt_overrides;
    bool has_fadt;
    bool reset_supported;
    struct acpi_gas reset_reg;
    uint8_t reset_value;
    uint32_t pm_timer_port; /* 0 if none */
    uint64_t madt_address;
    uint64_t mcfg_address; /* 0: no usable MCFG */
    unsigned necam;
    unsigned bad_ecam;     /* allocations (or a whole MCFG) that failed their checks */
    unsigned dropped_ecam; /* beyond ACPI_MAX_ECAM */
    struct acpi_ecam ecam[ACPI_MAX_ECAM];
    /* The IOMMU tables, found but not parsed here (iommu/ does; address 0 when absent) */
    struct acpi_table_ref dmar, ivrs;
};

/* Parse RSDP -> XSDT (RSDT if revision 0 or no XSDT) -> MADT (required) and FADT (optional).
 * Verifies signatures, lengths and checksums of every table it reads. On error returns a negative
 * errno and fills why with a human-readable reason naming the table and what is wrong
 * ("MADT checksum mismatch", "XSDT length 20 is shorter than its header", "MADT entry at offset 60
 * overruns the table", "no MADT (APIC) table", ...). On success why holds "". why may be NULL.
 * Errors: -E_INVAL bad arguments; -E_FAULT a range that has to be read is not accessible;
 * -E_BADMSG a signature, length, checksum or MADT entry is wrong; -E_NOENT no MADT, or an RSDP
 * without any root table address. */
int acpi_parse(const struct acpi_mem *mem, uint64_t rsdp_pa, struct acpi_info *out,
               struct refusal *why);

/* List RSDP (signature "RSDP", length 20 or 36), the root table and every table it points to (for
 * dumps). Returns the number of refs written or a negative errno. Does not require checksums to be
 * valid. Entries whose header cannot be mapped are left out; at most max refs are written. */
int acpi_list_tables(const struct acpi_mem *mem, uint64_t rsdp_pa, struct acpi_table_ref *out,
                     unsigned max);

#endif
