/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* One Intel VT-d remapping unit (VT-d specification 4.x, chapters 6, 9 and 11): legacy-mode
 * root and context tables, queued invalidation (the only invalidation used: register-based
 * invalidation must not be mixed with it), interrupt remapping with a 4096-entry table, fault
 * recording registers. Calls on one unit are serialized by the caller (one queue). */
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
#define VTD_FSTS 0x034
#define VTD_FECTL 0x038
#define VTD_IQH 0x080 /* invalidation queue head: the next descriptor the unit reads */
#define VTD_IQT 0x088 /* invalidation queue tail: the next descriptor software writes */
#define VTD_IQA 0x090 /* invalidation queue address, size and descriptor width */
#define VTD_IRTA 0x0b8

#define VTD_CAP_RWBF (1ull << 4)
#define VTD_CAP_CM (1ull << 7)               /* caching mode: invalidate on not-present too */
#define VTD_CAP_SAGAW(c) (((c) >> 8) & 0x1f) /* bit 2: 4-level (48-bit) tables */
#define VTD_CAP_FRO(c) ((uint32_t)(((c) >> 24) & 0x3ff) * 16)
#define VTD_CAP_NFR(c) ((unsigned)(((c) >> 40) & 0xff) + 1)
#define VTD_ECAP_C (1ull << 0)            /* page-walk coherency */
#define VTD_ECAP_QI (1ull << 1)           /* queued invalidation */
#define VTD_ECAP_IR (1ull << 3)           /* interrupt remapping */
#define VTD_ECAP_EIM (1ull << 4)          /* extended interrupt mode: 32-bit x2APIC IDs */
#define VTD_CAP_ND(c) ((unsigned)((c)&7)) /* domain IDs: 2^(4 + 2 * ND) */
#define VTD_CAP_SLLPS_2M (1ull << 34)

#define VTD_GCMD_TE (1u << 31)
#define VTD_GCMD_SRTP (1u << 30)
#define VTD_GCMD_WBF (1u << 27)
#define VTD_GCMD_QIE (1u << 26)
#define VTD_GCMD_IRE (1u << 25)
#define VTD_GCMD_SIRTP (1u << 24)
#define VTD_GCMD_CFI (1u << 23) /* never set: compatibility-format interrupts stay blocked */
#define VTD_GSTS_TES (1u << 31)
#define VTD_GSTS_RTPS (1u << 30)
#define VTD_GSTS_WBFS (1u << 27)
#define VTD_GSTS_QIES (1u << 26)
#define VTD_GSTS_IRES (1u << 25)
#define VTD_GSTS_IRTPS (1u << 24)
#define VTD_FECTL_IM (1u << 31) /* fault events not signalled: the boot CPU polls */

#define VTD_FSTS_PFO (1u << 0)
#define VTD_FSTS_PPF (1u << 1)
#define VTD_FSTS_IQE (1u << 4) /* invalidation queue error: the unit stopped at IQH */
#define VTD_FSTS_ICE (1u << 5) /* invalidation completion error */
#define VTD_FSTS_ITE (1u << 6) /* invalidation time-out error */
#define VTD_FSTS_QUEUE_ERRORS (VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE)
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

/* The invalidation queue (chapter 6.5.2): one page of 128-bit descriptors */
struct vtd_desc {
    uint64_t lo, hi;
};
_Static_assert(sizeof(struct vtd_desc) == 16, "descriptors are 128 bits (IQA.DW = 0)");
#define VTD_IQ_ENTRIES 256    /* IQA.QS = 0: 2^(0 + 8) descriptors */
#define VTD_IQA_QS_1PAGE 0ull /* and DW (bit 11) = 0: 128-bit descriptors */
#define VTD_IQ_INDEX(r) ((unsigned)(((r) >> 4) & 0x7fff)) /* IQH/IQT bits 18:4 */
#define VTD_IQ_REG(i) ((uint64_t)(i) << 4)
_Static_assert(VTD_IQ_ENTRIES * sizeof(struct vtd_desc) == 4096u << VTD_IQA_QS_1PAGE,
               "the queue is the one page IQA.QS says");
_Static_assert(VTD_IQ_INDEX(VTD_IQ_REG(VTD_IQ_ENTRIES - 1)) == VTD_IQ_ENTRIES - 1,
               "IQH/IQT hold the descriptor index in bits 18:4");

#define VTD_DESC_TYPE(lo) ((unsigned)((lo)&0xf)) /* bits 11:9 (type high) stay 0 */
#define VTD_DESC_CC 1u                           /* context-cache invalidate */
#define VTD_DESC_IOTLB 2u                        /* IOTLB invalidate */
#define VTD_DESC_IEC 4u                          /* interrupt entry cache invalidate */
#define VTD_DESC_WAIT 5u                         /* invalidation wait */
#define VTD_CC_GLOBAL (1ull << 4)                /* G (bits 5:4) 01 */
#define VTD_IOTLB_GLOBAL (1ull << 4)             /* G (bits 5:4) 01 */
#define VTD_IOTLB_DOMAIN (2ull << 4)             /* G (bits 5:4) 10 */
#define VTD_IOTLB_DW (1ull << 6)                 /* drain writes */
#define VTD_IOTLB_DR (1ull << 7)                 /* drain reads */
#define VTD_DESC_DID(d) ((uint64_t)(d) << 16)    /* bits 31:16 */
#define VTD_IEC_INDEXED (1ull << 4)              /* G: 0 global, 1 index-selective */
#define VTD_IEC_IM(m) ((uint64_t)(m) << 27)      /* bits 31:27: 2^IM entries from IIDX */
#define VTD_IEC_IIDX(i) ((uint64_t)(i) << 32)    /* bits 47:32 */
#define VTD_WAIT_SW (1ull << 5)                  /* status write */
#define VTD_WAIT_DATA(d) ((uint64_t)(d) << 32)   /* bits 63:32; address in hi 63:2 */
_Static_assert(VTD_DESC_DID(0xffff) == 0xffff0000ull, "DID is descriptor bits 31:16");
_Static_assert(VTD_IEC_IM(0x1f) == 0xf8000000ull, "IM is descriptor bits 31:27");
_Static_assert(VTD_IEC_IIDX(0xffff) == 0x0000ffff00000000ull, "IIDX is bits 47:32");
_Static_assert(VTD_WAIT_DATA(0xffffffffu) == 0xffffffff00000000ull, "status data 63:32");
_Static_assert((VTD_IOTLB_DOMAIN | VTD_IOTLB_DW | VTD_IOTLB_DR) == 0xe0, "G 5:4, DW 6, DR 7");

/* Interrupt remapping (chapters 5.1 and 9.10): 4096 entries of 128 bits, 16 pages */
struct vtd_irte {
    uint64_t lo, hi;
};
_Static_assert(sizeof(struct vtd_irte) == 16, "interrupt remapping entries are 128 bits");
#define VTD_IRT_ENTRIES 4096
#define VTD_IRT_ORDER 4            /* 2^4 pages */
#define VTD_IRTA_SIZE_4096 11u     /* IRTA.S: 2^(S + 1) entries */
#define VTD_IRTA_EIME (1ull << 11) /* 32-bit x2APIC destinations */
_Static_assert(1u << (VTD_IRTA_SIZE_4096 + 1) == VTD_IRT_ENTRIES, "IRTA.S matches the table");
_Static_assert(VTD_IRT_ENTRIES * sizeof(struct vtd_irte) == 4096u << VTD_IRT_ORDER,
               "the table fills the pages allocated for it");
/* lo */
#define VTD_IRTE_P (1ull << 0)
#define VTD_IRTE_FPD (1ull << 1)                    /* fault processing disable: kept 0 */
#define VTD_IRTE_DM_LOGICAL (1ull << 2)             /* kept 0: physical destination */
#define VTD_IRTE_RH (1ull << 3)                     /* redirection hint: kept 0 */
#define VTD_IRTE_TM_LEVEL (1ull << 4)               /* kept 0: edge */
#define VTD_IRTE_DLM(m) ((uint64_t)(m) << 5)        /* bits 7:5, 000 fixed */
#define VTD_IRTE_POSTED (1ull << 15)                /* IM: kept 0, remapped */
#define VTD_IRTE_V(v) ((uint64_t)(v) << 16)         /* bits 23:16 */
#define VTD_IRTE_DST(d) ((uint64_t)(d) << 32)       /* bits 63:32, x2APIC ID (EIME 1) */
#define VTD_IRTE_DST_XAPIC(d) ((uint64_t)(d) << 40) /* bits 47:40, xAPIC ID (EIME 0) */
/* hi */
#define VTD_IRTE_SID(s) ((uint64_t)(s))       /* bits 79:64 */
#define VTD_IRTE_SQ(q) ((uint64_t)(q) << 16)  /* bits 81:80, 00 compare all 16 SID bits */
#define VTD_IRTE_SVT(t) ((uint64_t)(t) << 18) /* bits 83:82 */
#define VTD_SVT_REQUESTER 1u                  /* verify the requester ID against SID, SQ */
_Static_assert(VTD_IRTE_V(0xff) == 0xff0000ull && VTD_IRTE_DLM(7) == 0xe0ull,
               "vector 23:16, delivery mode 7:5");
_Static_assert(VTD_IRTE_DST(0xffffffffu) == 0xffffffff00000000ull &&
                   VTD_IRTE_DST_XAPIC(0xff) == 0x0000ff0000000000ull,
               "destination 63:32, xAPIC ID 47:40");
_Static_assert(VTD_IRTE_SVT(3) == 0xc0000ull && VTD_IRTE_SQ(3) == 0x30000ull,
               "SVT 83:82 and SQ 81:80 in the upper quadword");

/* Remappable-format MSI address (chapter 5.1.2.2): handle[14:0] in 19:5, handle[15] in 2 */
#define VTD_MSI_BASE 0xfee00000u
#define VTD_MSI_REMAPPABLE (1u << 4) /* interrupt format */
#define VTD_MSI_SHV (1u << 3)        /* subhandle valid: kept 0 */
#define VTD_MSI_HANDLE(h) ((((uint32_t)(h)&0x7fff) << 5) | ((((uint32_t)(h) >> 15) & 1) << 2))
_Static_assert(VTD_MSI_HANDLE(0xffff) == 0x000fffe4u, "handle bits 19:5 and 2");

struct vtd {
    const struct iommu_mmio *mmio;
    const struct iommu_pages *pages;
    uint64_t cap, ecap;
    uint32_t gcmd; /* the persistent command bits set so far (QIE, TE, IRE) */
    uint32_t fro;  /* fault recording registers' offset */
    unsigned nfr;  /* their number */
    uint64_t root_pa;
    struct vtd_entry *root;
    uint64_t iq_pa; /* the invalidation queue */
    struct vtd_desc *iq;
    unsigned iq_tail;   /* the next descriptor to write */
    uint64_t status_pa; /* where invalidation wait descriptors write their status data */
    uint32_t *status;   /* written only by the unit */
    uint32_t seq;       /* the status data of the last wait descriptor */
    uint64_t irt_pa;    /* the interrupt remapping table: empty until vtd_irte_set */
    struct vtd_irte *irt;
    bool eim;            /* IRTA.EIME set: destinations are 32-bit x2APIC IDs */
    uint32_t poll_limit; /* IOMMU_POLL_LIMIT; smaller in tests */
    unsigned overflows;  /* fault records lost (FSTS.PFO seen) */
};

/* Probes the unit, turns queued invalidation on, installs an empty root table and turns
 * translation on: from here every DMA of every device behind the unit is refused (and
 * recorded as a fault) until attached. Then interrupt remapping on with an empty table
 * (extended interrupt mode when the unit has it) and compatibility format off: no device
 * can raise an interrupt (a DMA write to 0xfeexxxxx included). Fault events are masked.
 * -E_NODEV: the unit cannot do what this driver needs (4-level tables, interrupt
 * remapping, queued invalidation); -E_BUSY: the firmware left translation or remapping on;
 * -E_TIMEDOUT: a command or invalidation never completed; -E_IO: the unit reported an
 * invalidation queue error; -E_NOMEM. why says which. */
int vtd_init(struct vtd *u, const struct iommu_mmio *mmio, const struct iommu_pages *pages,
             struct refusal *why);

/* DMA carrying requester ID source is translated through d's tables from now on; the
 * context cache and d's IOTLB entries are invalidated, and the call returns only after the
 * unit completed that. */
int vtd_attach(struct vtd *u, pci_bdf source, const struct iommu_domain *d, struct refusal *why);

/* Invalidates every IOTLB entry of domain and waits for the unit to complete it: after
 * this, no DMA uses a translation removed before the call. */
int vtd_flush_domain(struct vtd *u, uint16_t domain, struct refusal *why);

/* Interrupt remapping entry index (0 .. VTD_IRT_ENTRIES - 1) delivers irq (fixed, physical,
 * edge) for interrupt requests carrying requester ID source only (SVT 01, SQ 00, SID source:
 * another device using the index is refused by the unit); the entry's interrupt-entry-cache
 * line is invalidated and the call returns only after the unit completed that. msg: the MSI
 * the device must send (remappable format, SHV 0). -E_INVAL: index, vector < 32 or APIC ID
 * out of range. */
int vtd_irte_set(struct vtd *u, unsigned index, pci_bdf source, const struct iommu_irq *irq,
                 struct iommu_msi_msg *msg, struct refusal *why);

/* Entry index not present again (interrupts using it are refused and recorded as faults),
 * invalidated and waited for. */
int vtd_irte_clear(struct vtd *u, unsigned index, struct refusal *why);

/* Reads (and clears) up to max pending fault records. Never waits. */
unsigned vtd_faults(struct vtd *u, struct iommu_fault *out, unsigned max);

/* Domain IDs the unit has (IDs 1 .. n - 1 are usable). */
unsigned vtd_domains(const struct vtd *u);

/* The extent of the register block this driver touches, for mapping it. */
uint32_t vtd_register_span(uint64_t cap, uint64_t ecap);

#endif
