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
/* q[2] (DTE bits 191:128): what becomes of the requester's interrupts (MSI writes to
 * 0xfee00000-0xfeefffff). With IV=0 they would pass unremapped: never left so here. */
#define AMDVI_DTE_IV (1ULL << 0)      /* DTE 128: the fields below valid */
#define AMDVI_DTE_INT_TAB_LEN_SHIFT 1 /* DTE 132:129: log2(table entries) */
#define AMDVI_DTE_INT_TAB_LEN_MASK (0xfULL << AMDVI_DTE_INT_TAB_LEN_SHIFT)
#define AMDVI_DTE_IG (1ULL << 5)                      /* DTE 133: refused ones not logged */
#define AMDVI_DTE_INT_ROOT_MASK 0x000fffffffffffc0ULL /* DTE 179:134: table address 51:6 */
#define AMDVI_DTE_INIT_PASS (1ULL << 56)              /* DTE 184 */
#define AMDVI_DTE_EINT_PASS (1ULL << 57)              /* DTE 185: ExtInt */
#define AMDVI_DTE_NMI_PASS (1ULL << 58)               /* DTE 186 */
#define AMDVI_DTE_INT_CTL_SHIFT 60                    /* DTE 189:188: fixed/arbitrated ones */
#define AMDVI_DTE_INT_CTL_MASK (3ULL << AMDVI_DTE_INT_CTL_SHIFT)
#define AMDVI_DTE_INT_CTL_ABORT 0ULL      /* target-aborted */
#define AMDVI_DTE_INT_CTL_FORWARD 1ULL    /* passed unremapped */
#define AMDVI_DTE_INT_CTL_REMAP 2ULL      /* through the interrupt remapping table */
#define AMDVI_DTE_LINT0_PASS (1ULL << 62) /* DTE 190 */
#define AMDVI_DTE_LINT1_PASS (1ULL << 63) /* DTE 191 */
/* The field holds address bits 51:6, but the table must be aligned to 128 bytes. */
#define AMDVI_IRT_ALIGN 128u

/* Command: 128 bits, opcode in bits 63:60 of the first quadword. */
struct amdvi_cmd {
    uint64_t q[2];
};
#define AMDVI_CMD_OPCODE_SHIFT 60
#define AMDVI_CMD_COMPLETION_WAIT 0x1ULL
#define AMDVI_CMD_INV_DEVTAB_ENTRY 0x2ULL
#define AMDVI_CMD_INV_IOMMU_PAGES 0x3ULL
#define AMDVI_CMD_INV_INTERRUPT_TABLE 0x5ULL /* DeviceID in q[0] bits 15:0, the rest 0 */
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
#define AMDVI_EVT_FLAG_I (1ULL << 51)  /* flags are q[0] bits 59:48; I: an interrupt request */
#define AMDVI_EVT_FLAG_RW (1ULL << 53) /* RW: the access was a write */

_Static_assert(sizeof(struct amdvi_dte) == 32, "a DTE is 256 bits");
_Static_assert(sizeof(struct amdvi_cmd) == 16, "a command is 128 bits");
_Static_assert(sizeof(struct amdvi_event) == 16, "an event log entry is 128 bits");
_Static_assert(AMDVI_DTE_IR == 0x2000000000000000ULL && AMDVI_DTE_IW == 0x4000000000000000ULL,
               "DTE IR/IW are bits 61-62");
_Static_assert(AMDVI_DTE_MODE_MASK == 0xe00, "DTE Mode is bits 11:9");
/* DTE bit n is bit n - 128 of q[2] for the interrupt fields (spec: Device Table Entry Format) */
_Static_assert(AMDVI_DTE_IV == 1ULL << (128 - 128), "DTE IV is bit 128");
_Static_assert(AMDVI_DTE_INT_TAB_LEN_MASK == 0xfULL << (129 - 128), "DTE IntTabLen is 132:129");
_Static_assert(AMDVI_DTE_IG == 1ULL << (133 - 128), "DTE IG is bit 133");
_Static_assert(AMDVI_DTE_INT_ROOT_MASK == ((1ULL << (179 - 134 + 1)) - 1) << (134 - 128),
               "DTE IntTableRootPtr (address bits 51:6) is 179:134");
_Static_assert(AMDVI_DTE_INIT_PASS == 1ULL << (184 - 128) &&
                   AMDVI_DTE_EINT_PASS == 1ULL << (185 - 128) &&
                   AMDVI_DTE_NMI_PASS == 1ULL << (186 - 128),
               "DTE InitPass, EIntPass, NMIPass are bits 184-186");
_Static_assert(AMDVI_DTE_INT_CTL_MASK == 3ULL << (188 - 128), "DTE IntCtl is 189:188");
_Static_assert(AMDVI_DTE_LINT0_PASS == 1ULL << (190 - 128) &&
                   AMDVI_DTE_LINT1_PASS == 1ULL << (191 - 128),
               "DTE Lint0Pass, Lint1Pass are bits 190-191");
_Static_assert(AMDVI_IRT_ALIGN % (AMDVI_DTE_INT_ROOT_MASK & -AMDVI_DTE_INT_ROOT_MASK) == 0,
               "a 128-byte aligned table root is expressible in the DTE field");
_Static_assert(AMDVI_EVT_FLAG_I == 1ULL << (48 + 3), "event flag I is flags bit 3 (bit 51)");

/* Ring sizes: 4 KiB each, 256 entries of 16 bytes (the smallest the unit takes). */
#define AMDVI_RING_BYTES 4096u
#define AMDVI_RING_ENTRIES (AMDVI_RING_BYTES / 16u)
#define AMDVI_RING_LEN_LOG2 8 /* log2(AMDVI_RING_ENTRIES) */

/* Interrupt remapping table entry, legacy 32-bit format (the GA 128-bit one only with
 * Control GAEn, which this driver keeps 0). The MSI data bits 10:0 index the table. */
struct amdvi_irte {
    uint32_t raw;
};
#define AMDVI_IRTE_REMAP_EN (1u << 0) /* 0: the interrupt is target-aborted (and logged) */
#define AMDVI_IRTE_SUP_IOPF (1u << 1) /* 1: such an abort is not logged */
#define AMDVI_IRTE_INT_TYPE_SHIFT 2   /* bits 4:2: 000b fixed, 001b arbitrated */
#define AMDVI_IRTE_INT_TYPE_MASK (7u << AMDVI_IRTE_INT_TYPE_SHIFT)
#define AMDVI_IRTE_RQ_EOI (1u << 5)     /* 1: the device needs an EOI */
#define AMDVI_IRTE_DM (1u << 6)         /* destination mode: 0 physical, 1 logical */
#define AMDVI_IRTE_GUEST_MODE (1u << 7) /* 0 in the legacy format */
#define AMDVI_IRTE_DEST_SHIFT 8         /* bits 15:8: APIC ID (8 bits in this format) */
#define AMDVI_IRTE_DEST_MASK (0xffu << AMDVI_IRTE_DEST_SHIFT)
#define AMDVI_IRTE_VECTOR_SHIFT 16 /* bits 23:16 */
#define AMDVI_IRTE_VECTOR_MASK (0xffu << AMDVI_IRTE_VECTOR_SHIFT)
#define AMDVI_IRTE_RESERVED_MASK 0xff000000u /* bits 31:24 */

_Static_assert(sizeof(struct amdvi_irte) == 4, "a legacy IRTE is 32 bits");
_Static_assert(AMDVI_IRTE_INT_TYPE_MASK == 0x1c && AMDVI_IRTE_DM == 0x40 &&
                   AMDVI_IRTE_DEST_MASK == 0xff00 && AMDVI_IRTE_VECTOR_MASK == 0xff0000,
               "IRTE IntType 4:2, DM 6, Destination 15:8, Vector 23:16");
/* The fields tile the entry: their sum equals their union only if no two overlap. */
_Static_assert((AMDVI_IRTE_REMAP_EN | AMDVI_IRTE_SUP_IOPF | AMDVI_IRTE_INT_TYPE_MASK |
                AMDVI_IRTE_RQ_EOI | AMDVI_IRTE_DM | AMDVI_IRTE_GUEST_MODE | AMDVI_IRTE_DEST_MASK |
                AMDVI_IRTE_VECTOR_MASK | AMDVI_IRTE_RESERVED_MASK) == 0xffffffffu &&
                   (uint64_t)AMDVI_IRTE_REMAP_EN + AMDVI_IRTE_SUP_IOPF + AMDVI_IRTE_INT_TYPE_MASK +
                           AMDVI_IRTE_RQ_EOI + AMDVI_IRTE_DM + AMDVI_IRTE_GUEST_MODE +
                           AMDVI_IRTE_DEST_MASK + AMDVI_IRTE_VECTOR_MASK +
                           AMDVI_IRTE_RESERVED_MASK ==
                       0xffffffffu,
               "IRTE fields cover bits 31:0 once each");

/* One table per requester that has remapped interrupts: 256 entries (IntTabLen 8), 1 KiB,
 * in a page of its own. 256 keeps MSI data bits 10:8, which the unit reads as the message
 * type, at 000b (fixed) for every index. */
#define AMDVI_IRT_LEN_LOG2 8
#define AMDVI_IRT_ENTRIES (1u << AMDVI_IRT_LEN_LOG2)
#define AMDVI_IRT_BYTES (AMDVI_IRT_ENTRIES * sizeof(struct amdvi_irte))
#define AMDVI_MSI_ADDRESS 0xfee00000ULL /* the MSI a remapped device sends: data = index */
#define AMDVI_VECTOR_MIN 32             /* 0-31 are exceptions */
#define AMDVI_IRTE_APIC_ID_MAX 254      /* 8 bits, and 0xff is the broadcast ID */
_Static_assert(AMDVI_IRT_ENTRIES == 256 && AMDVI_IRT_BYTES == 1024, "256 entries, 1 KiB");
_Static_assert(AMDVI_IRT_LEN_LOG2 <= 11, "IntTabLen up to 1011b (2048 entries)");

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
    uint32_t irt_tables; /* interrupt remapping tables allocated (a page each, kept) */
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
 * and illegal DTEs); reason is the event code; unknown codes come with source and addr 0.
 * An interrupt the unit refused (a disabled or missing remapping entry) comes as an
 * IO_PAGE_FAULT with flag I or an INVALID_DEVICE_REQUEST: reported the same way, addr being
 * the interrupt's MSI address. */
unsigned amdvi_faults(struct amdvi *u, struct iommu_fault *out, unsigned max);

/* ---- Interrupt remapping ---------------------------------------------------------------- */

/* Remapping entry index (0 .. AMDVI_IRT_ENTRIES - 1) of requester's interrupt table delivers
 * irq (fixed, physical, edge). The table (AMDVI_IRT_ENTRIES 32-bit entries, all remapping
 * disabled) is allocated on the requester's first entry and its device table entry turned to
 * IntCtl 10b (remapped) with IV=1, IntTabLen and the table root; NMI, INIT, ExtInt, Lint0/1
 * pass-through bits stay 0. Then INVALIDATE_INTERRUPT_TABLE for requester (and
 * INVALIDATE_DEVTAB_ENTRY when the DTE changed) and COMPLETION_WAIT, waited for. msg: the MSI
 * the device must send (address 0xfee00000, data = index), filled only on success.
 * -E_INVAL: index, vector < 32 or an APIC ID above 255 (32-bit entries hold 8 bits); nothing
 * written. -E_NOMEM: no page for the table; the DTE untouched. -E_TIMEDOUT, -E_IO: the unit
 * did not complete (the entry may be in use). A second entry of the requester reuses its
 * table; setting an entry again replaces it. amdvi_attach and amdvi_detach leave the
 * interrupt fields as they are. */
int amdvi_irte_set(struct amdvi *u, pci_bdf requester, unsigned index, const struct iommu_irq *irq,
                   struct iommu_msi_msg *msg, struct refusal *why);

/* Entry index disabled again (RemapEn 0: the unit refuses and logs the interrupt),
 * invalidated and waited for. A requester without a table (its interrupts all aborted) has
 * nothing to disable: 0 at once. The table stays, every entry of it possibly disabled. */
int amdvi_irte_clear(struct amdvi *u, pci_bdf requester, unsigned index, struct refusal *why);

#endif
