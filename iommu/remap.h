/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* What the IOMMU drivers (vtd.c, amdvi.c) are given and what they report, so that they stay
 * hardware-independent: register access, pages for their own tables, a bound on waiting,
 * and the faults they read back. The hypervisor passes real MMIO and frames; the host tests
 * pass a model of the registers and heap pages. */
#ifndef IOMMU_REMAP_H
#define IOMMU_REMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/pci.h"

/* One unit's register block; off is a byte offset into it, naturally aligned. */
struct iommu_mmio {
    void *ctx;
    uint32_t (*read32)(void *ctx, uint32_t off);
    uint64_t (*read64)(void *ctx, uint32_t off);
    void (*write32)(void *ctx, uint32_t off, uint32_t v);
    void (*write64)(void *ctx, uint32_t off, uint64_t v);
};

/* Physically contiguous, zeroed, naturally aligned memory for the IOMMU's own structures
 * (root and context tables, device table, command buffer, event log). */
struct iommu_pages {
    void *ctx;
    /* 2^order pages; returns 0 or -E_NOMEM */
    int (*alloc)(void *ctx, unsigned order, uint64_t *pa);
    void *(*va)(void *ctx, uint64_t pa);
    /* Writes len bytes at va back to memory, for a unit that does not snoop the CPU's
     * caches (VT-d ECAP.C = 0). NULL: the unit is coherent. */
    void (*clean)(void *ctx, const void *va, unsigned len);
};

/* A register poll gives up after this many reads (hardware answers in microseconds; a unit
 * that never does must not hang the boot CPU or a side core). */
#define IOMMU_POLL_LIMIT 10000000u

/* One DMA the IOMMU refused, as its fault record or event log entry says. */
struct iommu_fault {
    pci_bdf source; /* requester ID */
    uint64_t addr;  /* the DMA address (page-aligned on VT-d) */
    bool write;
    uint16_t reason; /* VT-d fault reason, or the AMD-Vi event code */
};

/* Translation for one domain: the root of its page table (core/pgtable.c; pt_format_ept for
 * VT-d second-level, pt_format_amdvi for AMD-Vi), 4 levels, 48-bit input addresses. */
struct iommu_domain {
    uint16_t id; /* nonzero: VT-d domain ID, AMD-Vi domain ID */
    uint64_t root;
};

/* One interrupt a device may raise, as a remapping entry delivers it: fixed delivery,
 * physical destination mode, edge-triggered, to one core. */
struct iommu_irq {
    uint32_t apic_id;
    uint8_t vector; /* 32..255 */
};

/* The MSI message a device must send to use a remapping entry. */
struct iommu_msi_msg {
    uint64_t address;
    uint32_t data;
};

#endif
