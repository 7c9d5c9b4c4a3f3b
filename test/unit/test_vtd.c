/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The VT-d driver against a model of the unit: its registers, and an invalidation queue it
 * processes when the tail is written (descriptors checked against the specification's
 * layouts, wait status written to memory), which can also be told to never complete, to
 * complete late, or to report errors. Checked: the enable sequence, the exact root, context
 * and interrupt remapping entries, the invalidations each call queues and waits for, and
 * fault records read back and cleared. Descriptor, IRTE and MSI bit positions are spelled
 * out here from the specification, not taken from the driver's macros. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "iommu/vtd.h"

#define FRO 0x220
#define NFR 4
#define CAP_4LEVEL (4ull << 8 | (uint64_t)(FRO / 16) << 24 | (uint64_t)(NFR - 1) << 40)
#define CAP_RWBF (1ull << 4)
#define ECAP_C (1ull << 0)
#define ECAP_QI (1ull << 1)
#define ECAP_IR (1ull << 3)
#define ECAP_EIM (1ull << 4)
#define ECAP_BASE (ECAP_C | ECAP_QI | ECAP_IR)

/* registers (VT-d 11.4) */
#define R_IQH 0x80
#define R_IQT 0x88
#define R_IQA 0x90
#define R_IRTA 0xb8
#define FSTS_IQE (1u << 4)
#define FSTS_ICE (1u << 5)
#define FSTS_ITE (1u << 6)
#define GCMD_QIE (1u << 26)
#define GCMD_CFI (1u << 23)

/* descriptors (VT-d 6.5.2): type in bits 3:0 (and 11:9, zero here) */
#define D_CC 1
#define D_IOTLB 2
#define D_IEC 4
#define D_WAIT 5
#define D_CC_GLOBAL (1ull << 4)    /* context-cache G (5:4) = 01 */
#define D_IOTLB_GLOBAL (1ull << 4) /* IOTLB G (5:4) = 01 */
#define D_IOTLB_DOMAIN (2ull << 4) /* IOTLB G (5:4) = 10 */
#define D_IOTLB_DW (1ull << 6)
#define D_IOTLB_DR (1ull << 7)
#define D_IEC_INDEX (1ull << 4) /* IEC G (bit 4): 0 global, 1 index-selective */
#define D_WAIT_IF (1ull << 4)
#define D_WAIT_SW (1ull << 5)

/* ---- the unit ---- */
enum ev_kind { EV_GCMD, EV_DESC };
struct event {
    enum ev_kind kind;
    uint64_t lo, hi;           /* the GCMD value, or the descriptor */
    uint64_t irte_lo, irte_hi; /* index-selective IEC: the entry as the unit saw it then */
};
#define MAX_EVENTS 2048
static struct event events[MAX_EVENTS];
static unsigned nevents;

static struct {
    uint64_t cap, ecap, rtaddr, active_root, irta, active_irta, iqa;
    uint32_t fectl, gsts, fsts;
    unsigned iqh, iqt;       /* descriptor indices */
    bool stuck;              /* GCMD commands are taken and never acknowledged */
    bool never_complete;     /* queued descriptors are taken and never processed */
    unsigned complete_after; /* descriptors processed only at this FSTS read */
    bool iqe_next;           /* the next descriptor is refused: invalidation queue error */
    bool ite_next;           /* the next wait descriptor times out */
    bool wrong_status;       /* waits write status data other than theirs */
    unsigned fsts_reads, waits;
    uint64_t frcd[NFR][2];
} unit;

static void record(enum ev_kind kind, uint64_t lo, uint64_t hi, uint64_t irte_lo, uint64_t irte_hi)
{
    assert_true(nevents < MAX_EVENTS);
    events[nevents++] = (struct event){kind, lo, hi, irte_lo, irte_hi};
}

/* Reserved bits zero, a known type and granularity: what hardware checks before it
 * processes a descriptor (anything else is an invalidation queue error). */
static bool desc_valid(uint64_t lo, uint64_t hi)
{
    if (lo & 0xe00) /* type bits 11:9: no descriptor this driver uses has them */
        return false;
    switch (lo & 0xf) {
    case D_CC: /* G 5:4, DID 31:16, SID 47:32, FM 49:48 */
        return !(lo & 0xfffc00000000f1c0ull) && (lo & 0x30) && !hi;
    case D_IOTLB: /* G 5:4, DW 6, DR 7, DID 31:16; ADDR, IH, AM in hi (page-selective) */
        return !(lo & 0xffffffff0000f100ull) && (lo & 0x30) && (lo & 0x30) != 0x30 && !hi;
    case D_IEC: /* G 4, IM 31:27, IIDX 47:32 */
        return !(lo & 0xffff000007fff1e0ull) && !hi;
    case D_WAIT: /* IF 4, SW 5, FN 6, PD 7, status data 63:32; status address hi 63:2 */
        return !(lo & 0xfffff100ull) && (lo & (D_WAIT_SW | D_WAIT_IF)) && !(hi & 3) &&
               !(lo & D_WAIT_IF); /* no completion interrupt: the driver polls */
    default:
        return false;
    }
}

static void process_queue(void)
{
    if (!(unit.gsts & VTD_GSTS_QIES) || (unit.fsts & FSTS_IQE))
        return;
    const uint64_t *q = (const uint64_t *)(uintptr_t)(unit.iqa & ~0xfffull);
    while (unit.iqh != unit.iqt) {
        uint64_t lo = q[2 * unit.iqh], hi = q[2 * unit.iqh + 1];
        if (unit.iqe_next || !desc_valid(lo, hi)) {
            unit.iqe_next = false;
            unit.fsts |= FSTS_IQE; /* stops here, IQH at the descriptor */
            return;
        }
        uint64_t irte_lo = 0, irte_hi = 0;
        if ((lo & 0xf) == D_IEC && (lo & D_IEC_INDEX)) {
            unsigned index = (unsigned)(lo >> 32) & 0xffff;
            assert_true(index < 2u << (unit.active_irta & 0xf)); /* IRTA.S */
            const uint64_t *irt = (const uint64_t *)(uintptr_t)(unit.active_irta & ~0xfffull);
            irte_lo = irt[2 * index];
            irte_hi = irt[2 * index + 1];
        }
        record(EV_DESC, lo, hi, irte_lo, irte_hi);
        if ((lo & 0xf) == D_WAIT) {
            if (unit.ite_next) {
                unit.ite_next = false;
                unit.fsts |= FSTS_ITE; /* the wait is aborted, its status never written */
            } else {
                uint32_t *status = (uint32_t *)(uintptr_t)(hi & ~3ull);
                *status = (uint32_t)(lo >> 32) ^ (unit.wrong_status ? 1u : 0u);
                unit.waits++;
            }
        }
        unit.iqh = (unit.iqh + 1) % 256;
    }
}

static uint32_t m_read32(void *ctx, uint32_t off)
{
    (void)ctx;
    if (off == VTD_GSTS)
        return unit.gsts;
    if (off == VTD_FSTS) {
        unit.fsts_reads++;
        if (unit.complete_after && --unit.complete_after == 0)
            process_queue();
        uint32_t s = unit.fsts & ~VTD_FSTS_PPF;
        for (unsigned i = 0; i < NFR; i++)
            if (unit.frcd[i][1] & VTD_FRCD_F)
                s |= VTD_FSTS_PPF;
        return s;
    }
    fail_msg("read32 of %#x", off);
    return 0;
}

static uint64_t m_read64(void *ctx, uint32_t off)
{
    (void)ctx;
    if (off == VTD_CAP)
        return unit.cap;
    if (off == VTD_ECAP)
        return unit.ecap;
    if (off == R_IQH)
        return (uint64_t)unit.iqh << 4;
    if (off == R_IQT)
        return (uint64_t)unit.iqt << 4;
    if (off >= FRO && off < FRO + 16 * NFR)
        return unit.frcd[(off - FRO) / 16][(off % 16) / 8];
    fail_msg("read64 of %#x", off);
    return 0;
}

static void m_write32(void *ctx, uint32_t off, uint32_t v)
{
    (void)ctx;
    if (off == VTD_GCMD) {
        record(EV_GCMD, v, 0, 0, 0);
        if (unit.stuck)
            return;
        if (v & VTD_GCMD_SRTP) {
            unit.active_root = unit.rtaddr;
            unit.gsts |= VTD_GSTS_RTPS;
        }
        if (v & VTD_GCMD_SIRTP) {
            unit.active_irta = unit.irta;
            unit.gsts |= VTD_GSTS_IRTPS;
        }
        if ((v & GCMD_QIE) && !(unit.gsts & VTD_GSTS_QIES)) {
            assert_int_equal(unit.iqt, 0);         /* the tail written 0 before enabling */
            assert_int_equal(unit.iqa & 0x807, 0); /* QS 0 (one page), DW 0 (128 bits) */
            assert_int_not_equal(unit.iqa, 0);
            unit.iqh = 0;
            unit.gsts |= VTD_GSTS_QIES;
        } else if (!(v & GCMD_QIE) && (unit.gsts & VTD_GSTS_QIES) && unit.iqh == unit.iqt) {
            unit.iqh = 0; /* reset while disabled */
            unit.gsts &= ~VTD_GSTS_QIES;
        }
        unit.gsts = (unit.gsts & ~(VTD_GSTS_TES | VTD_GSTS_IRES)) |
                    (v & VTD_GCMD_TE ? VTD_GSTS_TES : 0) | (v & VTD_GCMD_IRE ? VTD_GSTS_IRES : 0);
        return; /* WBF: done at once, WBFS stays clear */
    }
    if (off == VTD_FECTL) {
        unit.fectl = v;
        return;
    }
    if (off == VTD_FSTS) {
        unit.fsts &= ~(v & (VTD_FSTS_PFO | FSTS_IQE | FSTS_ICE | FSTS_ITE)); /* write 1 to clear */
        return;
    }
    fail_msg("write32 of %#x", off);
}

static void m_write64(void *ctx, uint32_t off, uint64_t v)
{
    (void)ctx;
    if (off == VTD_RTADDR) {
        unit.rtaddr = v;
    } else if (off == R_IRTA) {
        unit.irta = v;
    } else if (off == R_IQA) {
        unit.iqa = v;
    } else if (off == R_IQT) {
        assert_int_equal(v & ~0x7fff0ull, 0); /* QT in bits 18:4 */
        unsigned tail = (unsigned)(v >> 4);
        assert_true(tail < 256);
        /* the tail never laps the head (moving it back to the head empties the queue) */
        unsigned pending = (unit.iqt + 256 - unit.iqh) % 256;
        unsigned added = (tail + 256 - unit.iqt) % 256;
        if (tail != unit.iqh && pending + added > 255)
            fail_msg("tail %u laps head %u (tail was %u)", tail, unit.iqh, unit.iqt);
        unit.iqt = tail;
        if (!unit.never_complete && !unit.complete_after)
            process_queue();
    } else if (off >= FRO && off < FRO + 16 * NFR && off % 16 == 8) {
        unit.frcd[(off - FRO) / 16][1] &= ~(v & VTD_FRCD_F);
    } else {
        /* the context command and IOTLB registers included: no register-based invalidation */
        fail_msg("write64 of %#x", off);
    }
}

static const struct iommu_mmio mmio = {NULL, m_read32, m_read64, m_write32, m_write64};

/* ---- pages: heap pages, their address standing for the physical one ---- */
static void *allocated[64];
static unsigned nallocated;

static int p_alloc(void *ctx, unsigned order, uint64_t *pa)
{
    (void)ctx;
    size_t size = (size_t)4096 << order;
    void *p = aligned_alloc(size, size);
    assert_non_null(p);
    memset(p, 0, size);
    assert_true(nallocated < 64);
    allocated[nallocated++] = p;
    *pa = (uint64_t)(uintptr_t)p;
    return 0;
}

static void *p_va(void *ctx, uint64_t pa)
{
    (void)ctx;
    return (void *)(uintptr_t)pa;
}

static const struct iommu_pages pages = {NULL, p_alloc, p_va, NULL};
static struct vtd u;
static struct refusal why;

static int fresh(void **state)
{
    (void)state;
    memset(&unit, 0, sizeof(unit));
    nevents = 0;
    unit.cap = CAP_4LEVEL;
    unit.ecap = ECAP_BASE;
    memset(&u, 0, sizeof(u));
    u.poll_limit = 1000;
    return 0;
}

static int release(void **state)
{
    (void)state;
    while (nallocated)
        free(allocated[--nallocated]);
    return 0;
}

/* The first event from index from on of kind whose lo has value under mask; nevents if none. */
static unsigned find(unsigned from, enum ev_kind kind, uint64_t mask, uint64_t value)
{
    for (unsigned i = from; i < nevents; i++)
        if (events[i].kind == kind && (events[i].lo & mask) == value)
            return i;
    return nevents;
}

static unsigned count(unsigned from, enum ev_kind kind)
{
    unsigned n = 0;
    for (unsigned i = from; i < nevents; i++)
        n += events[i].kind == kind;
    return n;
}

/* Events from index from on are exactly the descriptors want (n of them), each batch
 * closed by a wait whose status data the driver then found in its status word. */
static void expect_descs(unsigned from, const uint64_t (*want)[2], unsigned n)
{
    unsigned k = 0;
    uint64_t last_data = 0;
    for (unsigned i = from; i < nevents; i++) {
        if (events[i].kind != EV_DESC)
            continue;
        assert_true(k < n);
        if (want[k][0] == D_WAIT) { /* its own status data, written where the driver reads */
            assert_int_equal(events[i].lo & 0xffffffffull, D_WAIT | D_WAIT_SW);
            assert_int_equal(events[i].hi, u.status_pa);
            assert_int_not_equal(events[i].lo >> 32, last_data);
            last_data = events[i].lo >> 32;
        } else {
            assert_int_equal(events[i].lo, want[k][0]);
            assert_int_equal(events[i].hi, want[k][1]);
        }
        k++;
    }
    assert_int_equal(k, n);
    assert_int_equal(want[n - 1][0], D_WAIT); /* the last batch, completed */
    assert_int_equal(*(const uint32_t *)(uintptr_t)u.status_pa, last_data);
}

static void init_ok(void)
{
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), 0);
}

static void test_init_blocks_everything(void **state)
{
    (void)state;
    init_ok();
    assert_int_equal(u.poll_limit, 1000);
    assert_int_equal(u.fro, FRO);
    assert_int_equal(u.nfr, NFR);
    assert_int_equal(unit.active_root, u.root_pa);
    assert_int_equal(u.root_pa & 0xfff, 0);
    for (unsigned i = 0; i < VTD_ENTRIES; i++)
        assert_int_equal(u.root[i].lo, 0); /* nothing present: every DMA faults */
    /* the queue first, then the root table, both caches emptied, translation on; then an
     * empty 4096-entry interrupt table, its cache emptied, remapping on (compatibility
     * format left blocked); the persistent bits kept throughout */
    unsigned ngcmd = count(0, EV_GCMD);
    assert_int_equal(ngcmd, 5);
    const uint32_t want[] = {GCMD_QIE, GCMD_QIE | VTD_GCMD_SRTP, GCMD_QIE | VTD_GCMD_TE,
                             GCMD_QIE | VTD_GCMD_TE | VTD_GCMD_SIRTP,
                             GCMD_QIE | VTD_GCMD_TE | VTD_GCMD_IRE};
    for (unsigned i = 0, k = 0; i < nevents; i++)
        if (events[i].kind == EV_GCMD)
            assert_int_equal(events[i].lo, want[k++]);
    assert_int_equal(unit.iqa, u.iq_pa);               /* QS 0, DW 0 */
    assert_int_equal(unit.active_irta, u.irt_pa | 11); /* S 11: 4096 entries; EIME 0 */
    assert_int_equal(u.irt_pa & 0xffff, 0);
    assert_false(u.eim);
    const uint64_t *irt = (const uint64_t *)(uintptr_t)u.irt_pa;
    for (unsigned i = 0; i < 2 * 4096; i++)
        assert_int_equal(irt[i], 0); /* no entry present: every interrupt refused */
    assert_int_equal(unit.fectl, VTD_FECTL_IM);
    assert_true(unit.gsts & VTD_GSTS_IRES);
    assert_true(unit.gsts & VTD_GSTS_TES);
    const uint64_t descs[][2] = {
        {D_CC | D_CC_GLOBAL, 0},
        {D_IOTLB | D_IOTLB_GLOBAL | D_IOTLB_DR | D_IOTLB_DW, 0},
        {D_WAIT, 0},
        {D_IEC, 0}, /* G 0: global */
        {D_WAIT, 0},
    };
    expect_descs(0, descs, 5);
    assert_int_equal(unit.waits, 2);
}

static void test_init_order(void **state)
{
    (void)state;
    init_ok();
    unsigned qie = find(0, EV_GCMD, GCMD_QIE, GCMD_QIE);
    unsigned srtp = find(0, EV_GCMD, VTD_GCMD_SRTP, VTD_GCMD_SRTP);
    unsigned first_desc = find(0, EV_DESC, 0, 0);
    unsigned cc = find(0, EV_DESC, 0xf, D_CC);
    unsigned iotlb = find(0, EV_DESC, 0xf, D_IOTLB);
    unsigned wait1 = find(iotlb, EV_DESC, 0xf, D_WAIT);
    unsigned te = find(0, EV_GCMD, VTD_GCMD_TE, VTD_GCMD_TE);
    unsigned sirtp = find(0, EV_GCMD, VTD_GCMD_SIRTP, VTD_GCMD_SIRTP);
    unsigned iec = find(0, EV_DESC, 0xf, D_IEC);
    unsigned wait2 = find(iec, EV_DESC, 0xf, D_WAIT);
    unsigned ire = find(0, EV_GCMD, VTD_GCMD_IRE, VTD_GCMD_IRE);
    assert_true(qie < first_desc);
    assert_true(srtp < cc && cc < iotlb && iotlb < wait1 && wait1 < te);
    assert_true(te < sirtp && sirtp < iec && iec < wait2 && wait2 < ire && ire < nevents);
    for (unsigned i = 0; i < nevents; i++)
        if (events[i].kind == EV_GCMD)
            assert_int_equal(events[i].lo & GCMD_CFI, 0);
}

static void test_init_extended_interrupt_mode(void **state)
{
    (void)state;
    unit.ecap |= ECAP_EIM;
    init_ok();
    assert_true(u.eim);
    assert_int_equal(unit.active_irta, u.irt_pa | 1ull << 11 | 11);
}

static void test_init_refusals(void **state)
{
    (void)state;
    unit.cap = 2ull << 8 | (uint64_t)(FRO / 16) << 24; /* 3-level only */
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), -E_NODEV);
    assert_string_equal(why.text, "VT-d: no 4-level second-level tables (SAGAW 0x2)");
    unit.cap = CAP_4LEVEL;
    unit.ecap = ECAP_BASE & ~ECAP_IR;
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), -E_NODEV);
    assert_string_equal(why.text, "VT-d: no interrupt remapping, so a device could raise any "
                                  "interrupt on any core");
    unit.ecap = ECAP_BASE & ~ECAP_QI;
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), -E_NODEV);
    assert_string_equal(why.text, "VT-d: no queued invalidation, so interrupt remapping "
                                  "entries could not be invalidated");
    assert_int_equal(nevents, 0); /* refused before any command */
    unit.ecap = ECAP_BASE;
    unit.gsts = VTD_GSTS_TES;
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), -E_BUSY);
    unit.gsts = VTD_GSTS_IRES;
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), -E_BUSY);
    unit.gsts = 0;
    unit.stuck = true;
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), -E_TIMEDOUT);
    assert_string_equal(why.text,
                        "VT-d: queued invalidation enable not acknowledged after 1000 polls");
    assert_int_equal(unit.gsts & VTD_GSTS_TES, 0);
    assert_int_equal(count(0, EV_DESC), 0);
}

/* Error bits left from before would stop the queue: cleared before it is enabled. */
static void test_init_clears_stale_queue_errors(void **state)
{
    (void)state;
    unit.fsts = FSTS_IQE | FSTS_ITE;
    init_ok();
    assert_int_equal(unit.fsts & (FSTS_IQE | FSTS_ICE | FSTS_ITE), 0);
    assert_int_equal(unit.waits, 2);
}

/* A queue left on (by the firmware) is drained, turned off and set up afresh. */
static void test_init_takes_over_a_queue_left_on(void **state)
{
    (void)state;
    unit.gsts = VTD_GSTS_QIES;
    unit.iqh = unit.iqt = 7;
    init_ok();
    assert_int_equal(events[0].kind, EV_GCMD);
    assert_int_equal(events[0].lo, 0); /* QIE cleared first */
    assert_int_equal(events[1].lo, GCMD_QIE);
    assert_int_equal(unit.waits, 2);
    /* one that never drains is not waited for forever */
    fresh(NULL);
    unit.gsts = VTD_GSTS_QIES;
    unit.iqh = 7;
    unit.iqt = 9;
    unit.never_complete = true;
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), -E_TIMEDOUT);
    assert_string_equal(why.text, "VT-d: the invalidation queue left on never drains");
}

static void test_attach(void **state)
{
    (void)state;
    init_ok();
    static uint8_t table[4096] __attribute__((aligned(4096)));
    struct iommu_domain d = {.id = 3, .root = (uint64_t)(uintptr_t)table};
    unsigned from = nevents;
    assert_int_equal(vtd_attach(&u, PCI_BDF(2, 1, 0), &d, &why), 0);
    const struct vtd_entry *re = &u.root[2];
    assert_int_equal(re->lo & 0xfff, VTD_PRESENT);
    const struct vtd_entry *ctx = (const struct vtd_entry *)(uintptr_t)(re->lo & ~0xfffull);
    assert_int_equal(ctx[PCI_BDF(0, 1, 0)].lo, d.root | VTD_PRESENT);
    assert_int_equal(ctx[PCI_BDF(0, 1, 0)].hi, VTD_CTX_AW_48 | 3ull << 8);
    assert_int_equal(ctx[PCI_BDF(0, 2, 0)].lo, 0);
    /* context cache (global), domain 3's IOTLB entries (DID bits 31:16), then a wait */
    const uint64_t descs[][2] = {
        {D_CC | D_CC_GLOBAL, 0},
        {D_IOTLB | D_IOTLB_DOMAIN | 3ull << 16 | D_IOTLB_DR | D_IOTLB_DW, 0},
        {D_WAIT, 0},
    };
    expect_descs(from, descs, 3);
    assert_int_equal(count(from, EV_GCMD), 0); /* no write-buffer flush without CAP.RWBF */
    /* a second function on the bus shares its context table */
    unsigned pages_before = nallocated;
    assert_int_equal(vtd_attach(&u, PCI_BDF(2, 2, 0), &d, &why), 0);
    assert_int_equal(nallocated, pages_before);
    assert_int_equal(ctx[PCI_BDF(0, 2, 0)].lo, d.root | VTD_PRESENT);
    /* ND 0: 16 domain IDs, so 16 is one too many */
    struct iommu_domain too_many = {.id = 16, .root = d.root};
    from = nevents;
    assert_int_equal(vtd_attach(&u, PCI_BDF(3, 0, 0), &too_many, &why), -E_INVAL);
    /* a domain without an ID or an unaligned root is refused before anything is written */
    struct iommu_domain bad = {.id = 0, .root = d.root};
    assert_int_equal(vtd_attach(&u, PCI_BDF(3, 0, 0), &bad, &why), -E_INVAL);
    assert_int_equal(u.root[3].lo, 0);
    assert_int_equal(nevents, from);
}

/* CAP.RWBF: the write buffer is flushed before each batch of invalidations. */
static void test_write_buffer_flush(void **state)
{
    (void)state;
    unit.cap |= CAP_RWBF;
    init_ok();
    static uint8_t table[4096] __attribute__((aligned(4096)));
    struct iommu_domain d = {.id = 1, .root = (uint64_t)(uintptr_t)table};
    unsigned from = nevents;
    assert_int_equal(vtd_attach(&u, PCI_BDF(0, 2, 0), &d, &why), 0);
    unsigned wbf = find(from, EV_GCMD, VTD_GCMD_WBF, VTD_GCMD_WBF);
    assert_true(wbf < find(from, EV_DESC, 0xf, D_CC));
    assert_int_equal(events[wbf].lo, GCMD_QIE | VTD_GCMD_TE | VTD_GCMD_IRE | VTD_GCMD_WBF);
}

static void test_flush_domain(void **state)
{
    (void)state;
    init_ok();
    unsigned from = nevents;
    assert_int_equal(vtd_flush_domain(&u, 7, &why), 0);
    const uint64_t descs[][2] = {
        {D_IOTLB | D_IOTLB_DOMAIN | 7ull << 16 | D_IOTLB_DR | D_IOTLB_DW, 0},
        {D_WAIT, 0},
    };
    expect_descs(from, descs, 2);
    /* each wait has its own status data: an earlier one's write is not taken for it */
    uint64_t first = events[nevents - 1].lo >> 32;
    assert_int_equal(vtd_flush_domain(&u, 7, &why), 0);
    assert_int_not_equal(events[nevents - 1].lo >> 32, first);
}

/* The call returns only once the unit wrote the wait's status: here, at the third poll. */
static void test_flush_waits_for_completion(void **state)
{
    (void)state;
    init_ok();
    unsigned waits = unit.waits;
    unit.complete_after = 3;
    unit.fsts_reads = 0;
    assert_int_equal(vtd_flush_domain(&u, 5, &why), 0);
    assert_int_equal(unit.waits, waits + 1);
    assert_int_equal(unit.fsts_reads, 3);
    /* status data other than the wait's is not completion */
    unit.wrong_status = true;
    assert_int_equal(vtd_flush_domain(&u, 5, &why), -E_TIMEDOUT);
    assert_string_equal(why.text, "VT-d: IOTLB invalidation not completed after 1000 polls");
}

static void test_never_completes(void **state)
{
    (void)state;
    init_ok();
    unit.never_complete = true;
    unit.fsts_reads = 0;
    assert_int_equal(vtd_flush_domain(&u, 7, &why), -E_TIMEDOUT);
    assert_string_equal(why.text, "VT-d: IOTLB invalidation not completed after 1000 polls");
    assert_true(unit.fsts_reads <= 1000); /* bounded by poll_limit */
    /* the queue fills; the driver neither laps the unit's head nor waits forever */
    int rc = 0;
    unsigned calls = 1;
    while (rc != -E_TIMEDOUT || !strstr(why.text, "full")) {
        rc = vtd_flush_domain(&u, 7, &why);
        assert_int_equal(rc, -E_TIMEDOUT);
        assert_true(++calls <= 128);
    }
    assert_string_equal(why.text,
                        "VT-d: IOTLB invalidation: invalidation queue still full after 1000 polls");
    assert_int_equal(calls, 128); /* 127 batches of 2 fill the 255 usable slots */
    /* once the unit catches up, the queue works again */
    unit.never_complete = false;
    process_queue();
    assert_int_equal(vtd_flush_domain(&u, 7, &why), 0);
}

static void test_queue_errors(void **state)
{
    (void)state;
    init_ok();
    unit.iqe_next = true;
    assert_int_equal(vtd_flush_domain(&u, 7, &why), -E_IO);
    assert_string_equal(why.text, "VT-d: IOTLB invalidation: invalidation queue error (FSTS 0x10)");
    assert_int_equal(unit.fsts & FSTS_IQE, 0); /* cleared */
    assert_int_equal(unit.iqt, unit.iqh);      /* the refused batch dropped */
    unsigned from = nevents;
    assert_int_equal(vtd_flush_domain(&u, 7, &why), 0); /* and the queue works again */
    assert_int_equal(count(from, EV_DESC), 2);
    unit.ite_next = true;
    assert_int_equal(vtd_flush_domain(&u, 7, &why), -E_IO);
    assert_string_equal(why.text, "VT-d: IOTLB invalidation: invalidation time-out (FSTS 0x40)");
    assert_int_equal(unit.fsts & FSTS_ITE, 0);
    assert_int_equal(vtd_flush_domain(&u, 7, &why), 0);
    /* errors while waiting for room are reported too */
    unit.never_complete = true;
    for (unsigned i = 0; i < 127; i++)
        assert_int_equal(vtd_flush_domain(&u, 7, &why), -E_TIMEDOUT);
    unit.fsts |= FSTS_ICE;
    assert_int_equal(vtd_flush_domain(&u, 7, &why), -E_IO);
    assert_string_equal(why.text,
                        "VT-d: IOTLB invalidation: invalidation completion error (FSTS 0x20)");
}

/* Hundreds of batches: the tail wraps around the 256-descriptor ring. */
static void test_queue_wraps(void **state)
{
    (void)state;
    init_ok();
    for (unsigned i = 0; i < 300; i++)
        assert_int_equal(vtd_flush_domain(&u, (uint16_t)(i % 16), &why), 0);
    assert_int_equal(unit.waits, 302);
    assert_int_equal(unit.iqh, (5 + 600) % 256);
    assert_int_equal(u.iq_tail, unit.iqh);
}

/* The entry's fields, as the specification places them (9.10). */
struct irte_fields {
    unsigned p, fpd, dm, rh, tm, dlm, avail, rsvd_14_12, im, vector, rsvd_31_24;
    uint32_t dst;
    unsigned sid, sq, svt;
    uint64_t rsvd_127_84;
};

static struct irte_fields decode_irte(uint64_t lo, uint64_t hi)
{
    return (struct irte_fields){.p = lo & 1,
                                .fpd = (lo >> 1) & 1,
                                .dm = (lo >> 2) & 1,
                                .rh = (lo >> 3) & 1,
                                .tm = (lo >> 4) & 1,
                                .dlm = (lo >> 5) & 7,
                                .avail = (lo >> 8) & 0xf,
                                .rsvd_14_12 = (lo >> 12) & 7,
                                .im = (lo >> 15) & 1,
                                .vector = (lo >> 16) & 0xff,
                                .rsvd_31_24 = (lo >> 24) & 0xff,
                                .dst = (uint32_t)(lo >> 32),
                                .sid = hi & 0xffff,
                                .sq = (hi >> 16) & 3,
                                .svt = (hi >> 18) & 3,
                                .rsvd_127_84 = hi >> 20};
}

static const uint64_t *irte_at(unsigned index)
{
    return (const uint64_t *)(uintptr_t)u.irt_pa + 2 * index;
}

/* A fixed, physical, edge, remapped entry for vector and dst, checked for source only. */
static void expect_irte(unsigned index, unsigned vector, uint32_t dst, pci_bdf source)
{
    struct irte_fields f = decode_irte(irte_at(index)[0], irte_at(index)[1]);
    assert_int_equal(f.p, 1);
    assert_int_equal(f.fpd, 0);
    assert_int_equal(f.dm, 0);
    assert_int_equal(f.rh, 0);
    assert_int_equal(f.tm, 0);
    assert_int_equal(f.dlm, 0);
    assert_int_equal(f.avail, 0);
    assert_int_equal(f.rsvd_14_12, 0);
    assert_int_equal(f.im, 0);
    assert_int_equal(f.vector, vector);
    assert_int_equal(f.rsvd_31_24, 0);
    assert_int_equal(f.dst, dst);
    assert_int_equal(f.sid, source);
    assert_int_equal(f.sq, 0);
    assert_int_equal(f.svt, 1);
    assert_int_equal(f.rsvd_127_84, 0);
}

/* The remappable-format MSI (5.1.2.2) names index as its handle. */
static void expect_msg(const struct iommu_msi_msg *m, unsigned index)
{
    assert_int_equal(m->address >> 32, 0);
    assert_int_equal((m->address >> 20) & 0xfff, 0xfee);
    assert_int_equal((m->address >> 4) & 1, 1); /* remappable format */
    assert_int_equal((m->address >> 3) & 1, 0); /* SHV: no subhandle */
    unsigned handle = (unsigned)((m->address >> 5) & 0x7fff) | (unsigned)((m->address >> 2) & 1)
                                                                   << 15;
    assert_int_equal(handle, index);
    assert_int_equal(m->data, 0);
}

/* The index-selective invalidation for index, queued after the entry was written. */
static void expect_iec(unsigned from, unsigned index, uint64_t irte_lo, uint64_t irte_hi)
{
    const uint64_t descs[][2] = {
        {D_IEC | D_IEC_INDEX | (uint64_t)index << 32, 0}, /* IM 0: this entry only */
        {D_WAIT, 0},
    };
    expect_descs(from, descs, 2);
    unsigned iec = find(from, EV_DESC, 0xf, D_IEC);
    assert_int_equal(events[iec].irte_lo, irte_lo);
    assert_int_equal(events[iec].irte_hi, irte_hi);
}

static void test_irte_set(void **state)
{
    (void)state;
    init_ok();
    struct iommu_irq irq = {.apic_id = 3, .vector = 0x41};
    struct iommu_msi_msg m;
    unsigned from = nevents;
    pci_bdf source = PCI_BDF(0x12, 0x1f, 5);
    assert_int_equal(vtd_irte_set(&u, 4095, source, &irq, &m, &why), 0);
    expect_irte(4095, 0x41, 3u << 8, source); /* xAPIC: the ID in DST bits 15:8 (47:40) */
    assert_int_equal(irte_at(4095)[0], 1 | 0x41ull << 16 | 3ull << 40);
    assert_int_equal(irte_at(4095)[1], source | 1ull << 18);
    expect_msg(&m, 4095);
    assert_int_equal(m.address, 0xfee00000u | 0xfffu << 5 | 1u << 4);
    expect_iec(from, 4095, irte_at(4095)[0], irte_at(4095)[1]);
    /* another index: only its entry */
    from = nevents;
    irq = (struct iommu_irq){.apic_id = 254, .vector = 255};
    assert_int_equal(vtd_irte_set(&u, 1, PCI_BDF(0, 2, 0), &irq, &m, &why), 0);
    expect_irte(1, 255, 254u << 8, PCI_BDF(0, 2, 0));
    expect_msg(&m, 1);
    expect_iec(from, 1, irte_at(1)[0], irte_at(1)[1]);
    for (unsigned i = 2; i < 4095; i++)
        assert_int_equal(irte_at(i)[0] | irte_at(i)[1], 0);
    assert_int_equal(irte_at(0)[0] | irte_at(0)[1], 0);
}

static void test_irte_set_extended(void **state)
{
    (void)state;
    unit.ecap |= ECAP_EIM;
    init_ok();
    struct iommu_irq irq = {.apic_id = 0x12345, .vector = 32};
    struct iommu_msi_msg m;
    assert_int_equal(vtd_irte_set(&u, 100, PCI_BDF(1, 0, 0), &irq, &m, &why), 0);
    expect_irte(100, 32, 0x12345, PCI_BDF(1, 0, 0)); /* x2APIC: the whole ID in DST */
    expect_msg(&m, 100);
    irq.apic_id = 7;
    assert_int_equal(vtd_irte_set(&u, 101, PCI_BDF(1, 0, 0), &irq, &m, &why), 0);
    expect_irte(101, 32, 7, PCI_BDF(1, 0, 0));
}

static void test_irte_refusals(void **state)
{
    (void)state;
    init_ok();
    struct iommu_irq irq = {.apic_id = 1, .vector = 31};
    struct iommu_msi_msg m = {0x1234, 0x5678};
    unsigned from = nevents;
    assert_int_equal(vtd_irte_set(&u, 5, PCI_BDF(0, 2, 0), &irq, &m, &why), -E_INVAL);
    assert_string_equal(why.text, "VT-d: vector 31 is an exception vector");
    irq.vector = 32;
    assert_int_equal(vtd_irte_set(&u, 4096, PCI_BDF(0, 2, 0), &irq, &m, &why), -E_INVAL);
    assert_string_equal(why.text, "VT-d: interrupt remapping entry 4096 past the table's 4096");
    irq.apic_id = 256;
    assert_int_equal(vtd_irte_set(&u, 5, PCI_BDF(0, 2, 0), &irq, &m, &why), -E_INVAL);
    assert_string_equal(why.text, "VT-d: APIC ID 256 needs extended interrupt mode, which the "
                                  "unit lacks (0xff is the broadcast ID)");
    irq.apic_id = 255; /* the broadcast: every core of the machine */
    assert_int_equal(vtd_irte_set(&u, 5, PCI_BDF(0, 2, 0), &irq, &m, &why), -E_INVAL);
    assert_int_equal(vtd_irte_clear(&u, 4096, &why), -E_INVAL);
    assert_int_equal(nevents, from); /* nothing queued */
    assert_int_equal(irte_at(5)[0] | irte_at(5)[1], 0);
    assert_int_equal(m.address, 0x1234);
    assert_int_equal(m.data, 0x5678);
    /* a unit that never completes the invalidation: the entry is not reported usable */
    irq.apic_id = 1;
    unit.never_complete = true;
    assert_int_equal(vtd_irte_set(&u, 5, PCI_BDF(0, 2, 0), &irq, &m, &why), -E_TIMEDOUT);
    assert_string_equal(why.text,
                        "VT-d: interrupt entry cache invalidation not completed after 1000 polls");
    assert_int_equal(m.address, 0x1234);
}

/* Moving an interrupt to another vector or core changes the lower half in one store; an
 * entry taken over by another source is first made not present (and invalidated), so the
 * unit never sees the new source with the old vector and destination. */
static void test_irte_retarget(void **state)
{
    (void)state;
    init_ok();
    struct iommu_irq irq = {.apic_id = 1, .vector = 40};
    struct iommu_msi_msg m;
    assert_int_equal(vtd_irte_set(&u, 9, PCI_BDF(0, 2, 0), &irq, &m, &why), 0);
    unsigned from = nevents;
    irq = (struct iommu_irq){.apic_id = 2, .vector = 41};
    assert_int_equal(vtd_irte_set(&u, 9, PCI_BDF(0, 2, 0), &irq, &m, &why), 0);
    expect_irte(9, 41, 2u << 8, PCI_BDF(0, 2, 0));
    expect_iec(from, 9, irte_at(9)[0], irte_at(9)[1]);
    from = nevents;
    assert_int_equal(vtd_irte_set(&u, 9, PCI_BDF(0, 3, 0), &irq, &m, &why), 0);
    expect_irte(9, 41, 2u << 8, PCI_BDF(0, 3, 0));
    unsigned first = find(from, EV_DESC, 0xf, D_IEC);
    unsigned second = find(first + 1, EV_DESC, 0xf, D_IEC);
    assert_true(second < nevents);
    assert_int_equal(events[first].lo, D_IEC | D_IEC_INDEX | 9ull << 32);
    assert_int_equal(events[first].irte_lo, 0); /* not present while the source changes */
    assert_int_equal(events[second].lo, D_IEC | D_IEC_INDEX | 9ull << 32);
    assert_int_equal(events[second].irte_lo, irte_at(9)[0]);
    assert_int_equal(events[second].irte_hi, PCI_BDF(0, 3, 0) | 1ull << 18);
    assert_int_equal(count(from, EV_DESC), 4); /* two batches, each with its wait */
}

static void test_irte_clear(void **state)
{
    (void)state;
    init_ok();
    struct iommu_irq irq = {.apic_id = 0, .vector = 0x80};
    struct iommu_msi_msg m;
    assert_int_equal(vtd_irte_set(&u, 77, PCI_BDF(0, 4, 0), &irq, &m, &why), 0);
    unsigned from = nevents;
    assert_int_equal(vtd_irte_clear(&u, 77, &why), 0);
    assert_int_equal(irte_at(77)[0] & 1, 0); /* P clear */
    assert_int_equal(irte_at(77)[0] | irte_at(77)[1], 0);
    expect_iec(from, 77, 0, 0);
    unit.never_complete = true;
    assert_int_equal(vtd_irte_clear(&u, 77, &why), -E_TIMEDOUT);
}

static void test_faults(void **state)
{
    (void)state;
    init_ok();
    struct iommu_fault f[8];
    assert_int_equal(vtd_faults(&u, f, 8), 0);
    /* two records, the unit's index at record 3: read in the order it filled them */
    unit.frcd[3][0] = 0x12345000 | 0xabc; /* low bits are not part of the address */
    unit.frcd[3][1] = VTD_FRCD_F | VTD_FRCD_T | 6ull << 32 | PCI_BDF(0, 2, 0);
    unit.frcd[0][0] = 0x40000000;
    unit.frcd[0][1] = VTD_FRCD_F | 5ull << 32 | PCI_BDF(0, 3, 0);
    unit.fsts = 3u << 8 | VTD_FSTS_PFO;
    assert_int_equal(vtd_faults(&u, f, 8), 2);
    assert_int_equal(f[0].source, PCI_BDF(0, 2, 0));
    assert_int_equal(f[0].addr, 0x12345000);
    assert_false(f[0].write);
    assert_int_equal(f[0].reason, 6);
    assert_int_equal(f[1].source, PCI_BDF(0, 3, 0));
    assert_int_equal(f[1].addr, 0x40000000);
    assert_true(f[1].write);
    assert_int_equal(unit.frcd[3][1] & VTD_FRCD_F, 0);
    assert_int_equal(unit.frcd[0][1] & VTD_FRCD_F, 0);
    assert_int_equal(u.overflows, 1);
    assert_int_equal(unit.fsts & VTD_FSTS_PFO, 0);
    assert_int_equal(vtd_faults(&u, f, 8), 0);
    /* max bounds what is read; the rest stays for the next call */
    unit.frcd[1][1] = VTD_FRCD_F;
    unit.frcd[2][1] = VTD_FRCD_F;
    assert_int_equal(vtd_faults(&u, f, 1), 1);
    assert_int_equal(vtd_faults(&u, f, 8), 1);
}

static void test_register_span(void **state)
{
    (void)state;
    /* through the fault recording registers, or through IRTA if they come first */
    assert_int_equal(vtd_register_span(CAP_4LEVEL, ECAP_BASE), FRO + 16 * NFR);
    assert_int_equal(vtd_register_span((uint64_t)0x20 / 16 << 24, 0), R_IRTA + 8);
    assert_int_equal(vtd_register_span((uint64_t)0x300 << 24 | (uint64_t)255 << 40, 0),
                     0x3000 + 16 * 256);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fresh, release)
    const struct CMUnitTest tests[] = {
        T(test_init_blocks_everything),
        T(test_init_order),
        T(test_init_extended_interrupt_mode),
        T(test_init_refusals),
        T(test_init_clears_stale_queue_errors),
        T(test_init_takes_over_a_queue_left_on),
        T(test_attach),
        T(test_write_buffer_flush),
        T(test_flush_domain),
        T(test_flush_waits_for_completion),
        T(test_never_completes),
        T(test_queue_errors),
        T(test_queue_wraps),
        T(test_irte_set),
        T(test_irte_set_extended),
        T(test_irte_refusals),
        T(test_irte_retarget),
        T(test_irte_clear),
        T(test_faults),
        T(test_register_span),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
