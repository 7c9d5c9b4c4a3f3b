/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* One Intel VT-d remapping unit (VT-d specification 4.x, chapters 9 and 11): legacy-mode
 * root and context tables, register-based invalidation, fault recording registers. */
#ifndef IOMMU_VTD_H
#define IOMMU_VTD_H

#include <stdbool.h>
#include <stdint.h>

#include "core/refusal.h"
#include "iommu/remap.h"

/* Register offsets (chapter 11.4) */
#define VTD_VER 0x000
#define VTD_CAP 0x008
#define VTD_ECAP 0x010
#define VTD_GCMD 0x018
#define VTD_GSTS 0x01c
#define VTD_RTADDR 0x020
#define VTD_CCMD 0x028
#define VTD_FSTS 0x034
#define VTD_FECTL 0x038
#define VTD_IRTA 0x0b8

#define VTD_CAP_RWBF (1ull << 4)
#define VTD_CAP_CM (1ull << 7)               /* caching mode: invalidate on not-present too */
#define VTD_CAP_SAGAW(c) (((c) >> 8) & 0x1f) /* bit 2: 4-level (48-bit) tables */
#define VTD_CAP_FRO(c) ((uint32_t)(((c) >> 24) & 0x3ff) * 16)
#define VTD_CAP_NFR(c) ((unsigned)(((c) >> 40) & 0xff) + 1)
#define VTD_ECAP_C (1ull << 0)            /* page-walk coherency */
#define VTD_ECAP_IR (1ull << 3)           /* interrupt remapping */
#define VTD_CAP_ND(c) ((unsigned)((c)&7)) /* domain IDs: 2^(4 + 2 * ND) */
#define VTD_CAP_SLLPS_2M (1ull << 34)
#define VTD_ECAP_IRO(e) ((uint32_t)(((e) >> 8) & 0x3ff) * 16)

#define VTD_GCMD_TE (1u << 31)
#define VTD_GCMD_SRTP (1u << 30)
#define VTD_GCMD_WBF (1u << 27)
#define VTD_GCMD_IRE (1u << 25)
#define VTD_GCMD_SIRTP (1u << 24)
#define VTD_GSTS_TES (1u << 31)
#define VTD_GSTS_RTPS (1u << 30)
#define VTD_GSTS_WBFS (1u << 27)
#define VTD_GSTS_IRES (1u << 25)
#define VTD_GSTS_IRTPS (1u << 24)
#define VTD_FECTL_IM (1u << 31) /* fault events not signalled: the boot CPU polls */
#define VTD_IRTA_SIZE_256 7u    /* 2^(7 + 1) entries: one page */

#define VTD_CCMD_ICC (1ull << 63)
#define VTD_CCMD_GLOBAL (1ull << 61)
#define VTD_IOTLB_IVT (1ull << 63)
#define VTD_IOTLB_GLOBAL (1ull << 60)
#define VTD_IOTLB_DOMAIN (2ull << 60)
#define VTD_IOTLB_IAIG(v) (((v) >> 57) & 3) /* 0: the invalidation was not done */
#define VTD_IOTLB_DR (1ull << 49)
#define VTD_IOTLB_DW (1ull << 48)
#define VTD_IOTLB_DID(d) ((uint64_t)(d) << 32)

#define VTD_FSTS_PFO (1u << 0)
#define VTD_FSTS_PPF (1u << 1)
#define VTD_FSTS_FRI(s) (((s) >> 8) & 0xff)
#define VTD_FRCD_F (1ull << 63) /* in the record's upper quadword */
#define VTD_FRCD_T (1ull << 62) /* 1: a read, 0: a write */
#define VTD_FRCD_FR(hi) ((uint16_t)(((hi) >> 32) & 0xff))
#define VTD_FRCD_SID(hi) ((pci_bdf)((hi)&0xffff))

/* Root and context entries, 128 bits each (chapter 9.1 and 9.3) */
struct vtd_entry {
    uint64_t lo, hi;
};
_Static_assert(sizeof(struct vtd_entry) == 16, "root and context entries are 128 bits");
#define VTD_PRESENT 1ull
#define VTD_CTX_AW_48 2ull /* 4-level second-level tables */
#define VTD_CTX_DID(d) ((uint64_t)(d) << 8)
#define VTD_ENTRIES 256 /* per root table (buses) and per context table (devfns) */

struct vtd {
    const struct iommu_mmio *mmio;
    const struct iommu_pages *pages;
    uint64_t cap, ecap;
    uint32_t gcmd;  /* the persistent command bits set so far (TE) */
    uint32_t fro;   /* fault recording registers' offset */
    unsigned nfr;   /* their number */
    uint32_t iotlb; /* the IOTLB invalidate register's offset */
    uint64_t root_pa;
    struct vtd_entry *root;
    uint64_t irt_pa;     /* the interrupt remapping table: empty, so every interrupt is refused */
    uint32_t poll_limit; /* IOMMU_POLL_LIMIT; smaller in tests */
    unsigned overflows;  /* fault records lost (FSTS.PFO seen) */
};

/* Probes the unit, installs an empty root table and turns translation on: from here every
 * DMA of every device behind the unit is refused (and recorded as a fault) until attached.
 * Then interrupt remapping on with an empty table and compatibility format off: no device
 * can raise an interrupt (a DMA write to 0xfeexxxxx included). Fault events are masked.
 * -E_NODEV: the unit cannot do what this driver needs (4-level tables, interrupt
 * remapping); -E_BUSY: the firmware left translation or remapping on; -E_TIMEDOUT: a
 * command never completed; -E_NOMEM. why says which. */
int vtd_init(struct vtd *u, const struct iommu_mmio *mmio, const struct iommu_pages *pages,
             struct refusal *why);

/* DMA carrying requester ID source is translated through d's tables from now on; the
 * context cache and d's IOTLB entries are invalidated, and the call returns only after the
 * unit completed that. */
int vtd_attach(struct vtd *u, pci_bdf source, const struct iommu_domain *d, struct refusal *why);

/* Invalidates every IOTLB entry of domain and waits for the unit to complete it: after
 * this, no DMA uses a translation removed before the call. */
int vtd_flush_domain(struct vtd *u, uint16_t domain, struct refusal *why);

/* Reads (and clears) up to max pending fault records. Never waits. */
unsigned vtd_faults(struct vtd *u, struct iommu_fault *out, unsigned max);

/* Domain IDs the unit has (IDs 1 .. n - 1 are usable). */
unsigned vtd_domains(const struct vtd *u);

/* The extent of the register block this driver touches, for mapping it. */
uint32_t vtd_register_span(uint64_t cap, uint64_t ecap);

#endif
