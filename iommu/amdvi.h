/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Register-level driver for one AMD-Vi IOMMU: device table, command buffer, event log. */
#ifndef IOMMU_AMDVI_H
#define IOMMU_AMDVI_H

#include <stdint.h>

#include "core/refusal.h"
#include "iommu/pci.h"
#include "iommu/remap.h"

/* ---- Hardware layout (AMD I/O Virtualization Technology spec #48882, chapter 3) ---- */

/* MMIO registers */
#define AMDVI_DEV_TABLE_BASE 0x0000 /* base | (size in 4 KiB pages - 1) in bits 8:0 */
#define AMDVI_CMD_BUF_BASE 0x0008   /* base | log2(entries) in bits 59:56 */
#define AMDVI_EVT_LOG_BASE 0x0010   /* the same */
#define AMDVI_CONTROL 0x0018
#define AMDVI_EXCL_BASE 0x0020 /* exclusion range: enable in bit 0 */
#define AMDVI_EXCL_LIMIT 0x0028
#define AMDVI_EXT_FEATURE 0x0030
#define AMDVI_CMD_HEAD 0x2000 /* byte offsets into the ring, bits 18:4 */
#define AMDVI_CMD_TAIL 0x2008
#define AMDVI_EVT_HEAD 0x2010
#define AMDVI_EVT_TAIL 0x2018
#define AMDVI_STATUS 0x2020
#define AMDVI_RING_PTR_MASK 0x7fff0ULL
#define AMDVI_RING_LEN_SHIFT 56

/* Control register bits */
#define AMDVI_CTL_IOMMU_EN (1ULL << 0)
#define AMDVI_CTL_HT_TUN_EN (1ULL << 1)
#define AMDVI_CTL_EVT_LOG_EN (1ULL << 2)
#define AMDVI_CTL_EVT_INT_EN (1ULL << 3)
#define AMDVI_CTL_COM_WAIT_INT_EN (1ULL << 4)
#define AMDVI_CTL_COHERENT (1ULL << 10) /* the unit's table and ring reads snoop */
#define AMDVI_CTL_CMD_BUF_EN (1ULL << 12)
#define AMDVI_CTL_PPR_LOG_EN (1ULL << 13)
#define AMDVI_CTL_PPR_INT_EN (1ULL << 14)
#define AMDVI_CTL_PPR_EN (1ULL << 15)
#define AMDVI_CTL_GT_EN (1ULL << 16)
#define AMDVI_CTL_GA_EN (1ULL << 17)
#define AMDVI_CTL_GA_LOG_EN (1ULL << 28)
#define AMDVI_CTL_GA_INT_EN (1ULL << 29)

/* Status register bits (the first three are write-1-to-clear) */
#define AMDVI_STS_EVT_OVERFLOW (1ULL << 0)
#define AMDVI_STS_EVT_LOG_INT (1ULL << 1)
#define AMDVI_STS_COM_WAIT_INT (1ULL << 2)
#define AMDVI_STS_EVT_LOG_RUN (1ULL << 3)
#define AMDVI_STS_CMD_BUF_RUN (1ULL << 4)

#define AMDVI_EFR_IA_SUP (1ULL << 6) /* INVALIDATE_IOMMU_ALL implemented */

/* Device table entry: 256 bits, one per requester ID. */
struct amdvi_dte {
    uint64_t q[4];
};
#define AMDVI_DTE_V (1ULL << 0)  /* entry valid */
#define AMDVI_DTE_TV (1ULL << 1) /* translation fields valid */
#define AMDVI_DTE_MODE_SHIFT 9   /* paging mode, bits 11:9: levels of the table, 0 = none */
#define AMDVI_DTE_MODE_MASK (7ULL << AMDVI_DTE_MODE_SHIFT)
#define AMDVI_DTE_ROOT_MASK 0x000ffffffffff000ULL /* page table root, bits 51:12 */
#define AMDVI_DTE_IR (1ULL << 61)
#define AMDVI_DTE_IW (1ULL << 62)
#define AMDVI_DTE_DOMAIN_MASK 0xffffULL /* q[1] bits 15:0 (DTE bits 79:64) */
#define AMDVI_DEVICES 65536u            /* one entry per 16-bit requester ID */

/* Command: 128 bits, opcode in bits 63:60 of the first quadword. */
struct amdvi_cmd {
    uint64_t q[2];
};
#define AMDVI_CMD_OPCODE_SHIFT 60
#define AMDVI_CMD_COMPLETION_WAIT 0x1ULL
#define AMDVI_CMD_INV_DEVTAB_ENTRY 0x2ULL
#define AMDVI_CMD_INV_IOMMU_PAGES 0x3ULL
#define AMDVI_CMD_INV_IOMMU_ALL 0x8ULL
#define AMDVI_CW_STORE (1ULL << 0)                /* COMPLETION_WAIT: store q[1] at the address */
#define AMDVI_CW_ADDR_MASK 0x000ffffffffffff8ULL  /* store address bits 51:3 */
#define AMDVI_INV_PAGES_DOMAIN_SHIFT 32           /* DomainID in q[0] bits 47:32 */
#define AMDVI_INV_PAGES_S (1ULL << 0)             /* q[1]: address encodes a range */
#define AMDVI_INV_PAGES_PDE (1ULL << 1)           /* q[1]: directory entries too */
#define AMDVI_INV_PAGES_ALL 0x7ffffffffffff000ULL /* with S: the whole address space */

/* Event log entry: 128 bits, event code in bits 63:60 of the first quadword. */
struct amdvi_event {
    uint64_t q[2];
};
#define AMDVI_EVT_CODE_SHIFT 60
#define AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY 0x1
#define AMDVI_EVT_IO_PAGE_FAULT 0x2
#define AMDVI_EVT_DEV_TAB_HW_ERROR 0x3
#define AMDVI_EVT_PAGE_TAB_HW_ERROR 0x4
#define AMDVI_EVT_ILLEGAL_COMMAND 0x5
#define AMDVI_EVT_COMMAND_HW_ERROR 0x6
#define AMDVI_EVT_IOTLB_INV_TIMEOUT 0x7
#define AMDVI_EVT_INVALID_DEV_REQUEST 0x8
#define AMDVI_EVT_DEVID_MASK 0xffffULL /* q[0] bits 15:0; the address is q[1] */
#define AMDVI_EVT_FLAG_RW (1ULL << 53) /* flags are q[0] bits 59:48; RW: the access was a write */

_Static_assert(sizeof(struct amdvi_dte) == 32, "a DTE is 256 bits");
_Static_assert(sizeof(struct amdvi_cmd) == 16, "a command is 128 bits");
_Static_assert(sizeof(struct amdvi_event) == 16, "an event log entry is 128 bits");
_Static_assert(AMDVI_DTE_IR == 0x2000000000000000ULL && AMDVI_DTE_IW == 0x4000000000000000ULL,
               "DTE IR/IW are bits 61-62");
_Static_assert(AMDVI_DTE_MODE_MASK == 0xe00, "DTE Mode is bits 11:9");

/* Ring sizes: 4 KiB each, 256 entries of 16 bytes (the smallest the unit takes). */
#define AMDVI_RING_BYTES 4096u
#define AMDVI_RING_ENTRIES (AMDVI_RING_BYTES / 16u)
#define AMDVI_RING_LEN_LOG2 8 /* log2(AMDVI_RING_ENTRIES) */

/* ---- Driver ------------------------------------------------------------------------ */

/* One unit. The caller serialises calls (one CPU at a time). */
struct amdvi {
    const struct iommu_mmio *mmio;
    const struct iommu_pages *pages;
    uint64_t dev_table_pa;
    void *dev_table; /* AMDVI_DEVICES entries, 2 MiB */
    uint64_t cmd_pa;
    void *cmd;
    uint32_t cmd_tail; /* byte offset of the next command slot */
    uint32_t cmd_head; /* the unit's head as last read */
    uint64_t evt_pa;
    void *evt;
    uint32_t evt_head;
    uint64_t wait_pa; /* COMPLETION_WAIT stores the sequence number here */
    volatile uint64_t *wait_va;
    uint64_t wait_seq;
    uint32_t poll_limit; /* every wait gives up after this many reads; IOMMU_POLL_LIMIT */
    uint64_t efr;        /* the Extended Feature Register as read at init */
    /* Event log accounting */
    uint64_t evt_overflows; /* times the log filled and the unit dropped events */
    uint64_t evt_unknown;   /* entries with a code this driver does not decode (0 included) */
    uint64_t evt_bad_tail;  /* tail register reads outside the ring */
    uint32_t evt_unwritten; /* head + 1 of an entry seen unwritten (code 0) once, else 0 */
};

/* Disables the unit, then sets up a device table of AMDVI_DEVICES entries (2 MiB: every
 * requester ID) each V=1 TV=1 IR=IW=0 (all DMA blocked), a 4 KiB command buffer and event
 * log, and enables the unit; then invalidates every cached device table entry (the unit
 * may have run before with other tables) and waits for it. Returns 0, -E_INVAL (bad
 * arguments), -E_NOMEM, -E_TIMEDOUT or -E_IO, with why filled. */
int amdvi_init(struct amdvi *u, const struct iommu_mmio *mmio, const struct iommu_pages *pages,
               struct refusal *why);

/* Translates requester's DMA through d->root (a 4-level pt_format_amdvi table: mode 4,
 * 48-bit addresses) with DTE IR=IW=1 and d->id as domain; then INVALIDATE_DEVTAB_ENTRY,
 * INVALIDATE_IOMMU_PAGES (all of the domain) and COMPLETION_WAIT, waited for. -E_BUSY if
 * requester already translates with another domain or root (detach it first). */
int amdvi_attach(struct amdvi *u, pci_bdf requester, const struct iommu_domain *d,
                 struct refusal *why);

/* Blocks requester's DMA again (IR=IW=0, no translation), invalidated and waited for. */
int amdvi_detach(struct amdvi *u, pci_bdf requester, struct refusal *why);

/* INVALIDATE_IOMMU_PAGES for the whole domain (directory entries included) and
 * COMPLETION_WAIT; returns 0 only once the unit has completed both, so that the caller may
 * report an unmap done and free its table pages. */
int amdvi_flush_domain(struct amdvi *u, uint16_t domain, struct refusal *why);

/* Moves up to max new event log entries into out and advances the head register; restarts
 * a log that overflowed (counted in evt_overflows). Returns how many. Never waits.
 * IO_PAGE_FAULT and the other device events give source, addr (and write for page faults
 * and illegal DTEs); reason is the event code; unknown codes come with source and addr 0. */
unsigned amdvi_faults(struct amdvi *u, struct iommu_fault *out, unsigned max);

#endif
