/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* 4-level page-table builder for host x86-64, AMD NPT, Intel EPT and AMD-Vi I/O formats. */
#ifndef CORE_PGTABLE_H
#define CORE_PGTABLE_H

#include <stdint.h>

/* ---- Hardware entry layouts ------------------------------------------- */

/* x86-64 4-level paging entries (Intel SDM vol. 3 ch. 4.5, AMD APM vol. 2
 * 5.3); AMD nested page tables use the same layout (APM vol. 2 15.25.5). */
#define X86_PTE_P (1ULL << 0)          /* present */
#define X86_PTE_RW (1ULL << 1)         /* writable */
#define X86_PTE_US (1ULL << 2)         /* user accessible */
#define X86_PTE_PWT (1ULL << 3)        /* write-through */
#define X86_PTE_PCD (1ULL << 4)        /* cache disable */
#define X86_PTE_A (1ULL << 5)          /* accessed */
#define X86_PTE_D (1ULL << 6)          /* dirty (leaves) */
#define X86_PTE_PS (1ULL << 7)         /* PDPTE/PDE: maps a 1 GiB / 2 MiB page */
#define X86_PTE_PAT_4K (1ULL << 7)     /* PTE: PAT index bit 2 */
#define X86_PTE_G (1ULL << 8)          /* global (leaves) */
#define X86_PTE_PAT_LARGE (1ULL << 12) /* 2M/1G leaf: PAT index bit 2 */
#define X86_PTE_NX (1ULL << 63)        /* no execute (needs EFER.NXE) */

/* Intel EPT entries (SDM vol. 3 ch. 29.3.2). */
#define EPT_R (1ULL << 0)
#define EPT_W (1ULL << 1)
#define EPT_X (1ULL << 2)
#define EPT_MT_SHIFT 3 /* leaf memory type, bits 5:3 */
#define EPT_MT_MASK (7ULL << EPT_MT_SHIFT)
#define EPT_MT_UC 0ULL
#define EPT_MT_WB 6ULL
#define EPT_IPAT (1ULL << 6)  /* leaf: ignore guest PAT */
#define EPT_LARGE (1ULL << 7) /* PDPTE/PDE: maps a 1 GiB / 2 MiB page */
#define EPT_A (1ULL << 8)
#define EPT_D (1ULL << 9)

/* AMD-Vi v1 I/O page table entries (AMD IOMMU spec #48882, "I/O Page Tables for Host
 * Translations"). A directory entry at level L has NextLevel L-1; a leaf has NextLevel 0,
 * at level 1 (4 KiB), 2 (2 MiB) or 3 (1 GiB). IR/IW combine (AND) along the walk. */
#define AMDVI_PTE_PR (1ULL << 0)     /* present */
#define AMDVI_PTE_NEXT_LEVEL_SHIFT 9 /* NextLevel, bits 11:9 */
#define AMDVI_PTE_NEXT_LEVEL_MASK (7ULL << AMDVI_PTE_NEXT_LEVEL_SHIFT)
#define AMDVI_PTE_FC (1ULL << 60) /* leaf: force coherent (snooped) DMA */
#define AMDVI_PTE_IR (1ULL << 61) /* DMA reads allowed */
#define AMDVI_PTE_IW (1ULL << 62) /* DMA writes allowed */

/* Physical address bits 51:12 of any entry (leaves mask further by page size). */
#define PTE_ADDR_MASK 0x000ffffffffff000ULL

_Static_assert(X86_PTE_P == 0x1 && X86_PTE_RW == 0x2 && X86_PTE_US == 0x4,
               "x86 P/RW/US are bits 0-2");
_Static_assert(X86_PTE_PWT == 0x8 && X86_PTE_PCD == 0x10, "x86 PWT/PCD are bits 3-4");
_Static_assert(X86_PTE_PS == 0x80 && X86_PTE_PAT_LARGE == 0x1000,
               "x86 PS is bit 7, large PAT bit 12");
_Static_assert(X86_PTE_NX == 0x8000000000000000ULL, "x86 NX is bit 63");
_Static_assert(EPT_R == 0x1 && EPT_W == 0x2 && EPT_X == 0x4, "EPT R/W/X are bits 0-2");
_Static_assert(EPT_MT_MASK == 0x38 && (EPT_MT_WB << EPT_MT_SHIFT) == 0x30,
               "EPT memory type is bits 5:3");
_Static_assert(EPT_IPAT == 0x40 && EPT_LARGE == 0x80, "EPT ignore-PAT is bit 6, large bit 7");
_Static_assert(AMDVI_PTE_PR == 0x1 && AMDVI_PTE_NEXT_LEVEL_MASK == 0xe00,
               "AMD-Vi PR is bit 0, NextLevel bits 11:9");
_Static_assert(AMDVI_PTE_FC == 0x1000000000000000ULL && AMDVI_PTE_IR == 0x2000000000000000ULL &&
                   AMDVI_PTE_IW == 0x4000000000000000ULL,
               "AMD-Vi FC/IR/IW are bits 60-62");
_Static_assert(PTE_ADDR_MASK == (((1ULL << 52) - 1) & ~0xfffULL), "addresses are bits 51:12");

/* ---- Builder ---------------------------------------------------------- */

/* How the builder reaches table memory: real frames in the hypervisor, a
 * pool of host pages in the tests. */
struct pt_mem {
    void *ctx;
    /* A zeroed 4 KiB page; returns 0 or -E_NOMEM. */
    int (*alloc_page)(void *ctx, uint64_t *pa);
    /* Pointer through which the page at pa is accessed. */
    void *(*phys_to_virt)(void *ctx, uint64_t pa);
    /* A table page that became empty and was unlinked (every entry not present). A CPU
     * may still hold a cached pointer to it until its TLB is flushed: tables other
     * cores walk must not reuse the page before that. */
    void (*free_page)(void *ctx, uint64_t pa);
};

/* Access flags for pt_map/pt_protect/pt_lookup. PT_READ is required when
 * mapping (no format here expresses a present but unreadable page). */
#define PT_READ 0x1u
#define PT_WRITE 0x2u
#define PT_EXEC 0x4u
#define PT_USER 0x8u      /* x86 U/S: host tables only; NPT always sets it, EPT ignores it */
#define PT_UNCACHED 0x10u /* MMIO: PCD+PWT on x86/NPT, memory type UC on EPT; else WB */
/* AMD-Vi encodes PT_READ (IR) and PT_WRITE (IW) only: PT_EXEC, PT_USER and PT_UNCACHED are
 * accepted and dropped (every leaf has FC set: device accesses snoop the CPU caches). */
#define PT_FLAGS_ALL (PT_READ | PT_WRITE | PT_EXEC | PT_USER | PT_UNCACHED)

/* Opaque description of how leaf and table entries are encoded. */
struct pt_format;
extern const struct pt_format pt_format_x86;   /* hypervisor tables: P,RW,US,PWT,PCD,PS,NX */
extern const struct pt_format pt_format_npt;   /* AMD NPT: x86 encoding, U always set */
extern const struct pt_format pt_format_ept;   /* Intel EPT: R,W,X, memory type, large bit */
extern const struct pt_format pt_format_amdvi; /* AMD-Vi v1 I/O tables: PR,NextLevel,FC,IR,IW */

enum pt_page_size { PT_4K = 1, PT_2M = 2, PT_1G = 3 }; /* level numbers of leaves */

#define PT_VA_BITS 48 /* input addresses are below 2^48 */
#define PT_PA_BITS 52 /* output addresses are below 2^52 */

struct pt {
    const struct pt_format *fmt;
    const struct pt_mem *mem;
    uint64_t root; /* physical address of the top-level table */
    enum pt_page_size max_page;
    uint64_t pages_mapped[4]; /* leaf count per level index PT_4K..PT_1G (index 0 unused) */
    unsigned tables;          /* table pages allocated including the root */
};

/* Allocate the root (never freed; every other table page is freed as soon as it holds
 * no entry, so `tables` counts only pages in use). -E_INVAL bad arguments, -E_NOMEM. */
int pt_init(struct pt *pt, const struct pt_format *fmt, const struct pt_mem *mem,
            enum pt_page_size max_page);

/* Map [va, va+size) to [pa, pa+size) with the largest pages that fit (va and
 * pa aligned, within size, <= max_page). -E_INVAL: va/pa/size not 4 KiB
 * aligned, size 0, bad flags; -E_RANGE: va range beyond 48 bits or pa range
 * beyond 52 bits; -E_EXIST: something in the range is already mapped;
 * -E_NOMEM: a table page could not be allocated. On any error no mapping has
 * changed (table pages allocated before a failure are freed again). */
int pt_map(struct pt *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned flags);

/* Remove the mappings in [va, va+size); large pages partly covered are split
 * first, holes are fine; tables left empty are freed. -E_INVAL/-E_RANGE as for
 * pt_map; -E_NOMEM if a split cannot get a table page (translations are then
 * unchanged). */
int pt_unmap(struct pt *pt, uint64_t va, uint64_t size);

/* Set the flags of every page in [va, va+size) (large pages partly covered are
 * split). -E_NOENT if any page in the range is unmapped; -E_NOMEM as for
 * pt_unmap; no translation or flag changes on error. */
int pt_protect(struct pt *pt, uint64_t va, uint64_t size, unsigned flags);

/* Translate va: physical address, flags (as given to pt_map, minus PT_USER on
 * NPT/EPT, only PT_READ/PT_WRITE on AMD-Vi) and leaf size; any output may be NULL. -E_NOENT if
 * unmapped (including va beyond 48 bits). */
int pt_lookup(const struct pt *pt, uint64_t va, uint64_t *pa, unsigned *flags,
              enum pt_page_size *size);

#endif
