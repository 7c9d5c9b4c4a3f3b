/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The VT-d driver against a model of the unit's registers: the enable sequence, the exact
 * root and context entries, invalidations that complete (and ones that never do), and
 * fault records read back and cleared. */
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
#define IRO 0x500
#define IOTLB (IRO + 8)
#define CAP_4LEVEL (4ull << 8 | (uint64_t)(FRO / 16) << 24 | (uint64_t)(NFR - 1) << 40)
#define ECAP_COHERENT ((uint64_t)(IRO / 16) << 8 | VTD_ECAP_C | VTD_ECAP_IR)

/* ---- the unit ---- */
static struct {
    uint64_t cap, ecap, rtaddr, active_root, irta, active_irta;
    uint32_t fectl;
    uint32_t gsts, fsts;
    uint64_t ccmd[8], iotlb[8];
    unsigned nccmd, niotlb;
    uint32_t gcmd_writes[8];
    unsigned ngcmd;
    bool stuck; /* commands are taken and never completed */
    bool iotlb_not_done;
    uint64_t frcd[NFR][2];
} unit;

static uint32_t m_read32(void *ctx, uint32_t off)
{
    (void)ctx;
    if (off == VTD_GSTS)
        return unit.gsts;
    if (off == VTD_FSTS) {
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
    if (off == VTD_CCMD)
        return unit.stuck ? VTD_CCMD_ICC : 0;
    if (off == IOTLB) {
        if (unit.stuck)
            return VTD_IOTLB_IVT;
        uint64_t last = unit.iotlb[unit.niotlb - 1];
        return unit.iotlb_not_done ? 0 : ((last >> 60) & 3) << 57; /* IAIG = IIRG */
    }
    if (off >= FRO && off < FRO + 16 * NFR)
        return unit.frcd[(off - FRO) / 16][(off % 16) / 8];
    fail_msg("read64 of %#x", off);
    return 0;
}

static void m_write32(void *ctx, uint32_t off, uint32_t v)
{
    (void)ctx;
    if (off == VTD_GCMD) {
        assert_true(unit.ngcmd < 8);
        unit.gcmd_writes[unit.ngcmd++] = v;
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
        unit.gsts = (unit.gsts & ~(VTD_GSTS_TES | VTD_GSTS_IRES)) |
                    (v & VTD_GCMD_TE ? VTD_GSTS_TES : 0) | (v & VTD_GCMD_IRE ? VTD_GSTS_IRES : 0);
        return;
    }
    if (off == VTD_FECTL) {
        unit.fectl = v;
        return;
    }
    if (off == VTD_FSTS) {
        unit.fsts &= ~(v & VTD_FSTS_PFO); /* write 1 to clear */
        return;
    }
    fail_msg("write32 of %#x", off);
}

static void m_write64(void *ctx, uint32_t off, uint64_t v)
{
    (void)ctx;
    if (off == VTD_RTADDR)
        unit.rtaddr = v;
    else if (off == VTD_IRTA)
        unit.irta = v;
    else if (off == VTD_CCMD && unit.nccmd < 8)
        unit.ccmd[unit.nccmd++] = v;
    else if (off == IOTLB && unit.niotlb < 8)
        unit.iotlb[unit.niotlb++] = v;
    else if (off >= FRO && off < FRO + 16 * NFR && off % 16 == 8)
        unit.frcd[(off - FRO) / 16][1] &= ~(v & VTD_FRCD_F);
    else
        fail_msg("write64 of %#x", off);
}

static const struct iommu_mmio mmio = {NULL, m_read32, m_read64, m_write32, m_write64};

/* ---- pages: heap pages, their address standing for the physical one ---- */
static void *allocated[16];
static unsigned nallocated;

static int p_alloc(void *ctx, unsigned order, uint64_t *pa)
{
    (void)ctx;
    size_t size = (size_t)4096 << order;
    void *p = aligned_alloc(size, size);
    assert_non_null(p);
    memset(p, 0, size);
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
    unit.cap = CAP_4LEVEL;
    unit.ecap = ECAP_COHERENT;
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

static void test_init_blocks_everything(void **state)
{
    (void)state;
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), 0);
    assert_int_equal(u.poll_limit, 1000);
    assert_int_equal(u.fro, FRO);
    assert_int_equal(u.nfr, NFR);
    assert_int_equal(unit.active_root, u.root_pa);
    assert_int_equal(u.root_pa & 0xfff, 0);
    for (unsigned i = 0; i < VTD_ENTRIES; i++)
        assert_int_equal(u.root[i].lo, 0); /* nothing present: every DMA faults */
    /* the root table first, both caches emptied, then translation on; then an empty
     * interrupt table and remapping on (compatibility format left blocked), TE kept */
    assert_int_equal(unit.ngcmd, 4);
    assert_int_equal(unit.gcmd_writes[0], VTD_GCMD_SRTP);
    assert_int_equal(unit.gcmd_writes[1], VTD_GCMD_TE);
    assert_int_equal(unit.gcmd_writes[2], VTD_GCMD_TE | VTD_GCMD_SIRTP);
    assert_int_equal(unit.gcmd_writes[3], VTD_GCMD_TE | VTD_GCMD_IRE);
    assert_int_equal(unit.active_irta, u.irt_pa | VTD_IRTA_SIZE_256);
    const uint64_t *irt = (const uint64_t *)(uintptr_t)u.irt_pa;
    for (unsigned i = 0; i < 512; i++)
        assert_int_equal(irt[i], 0); /* no entry present: every interrupt refused */
    assert_int_equal(unit.fectl, VTD_FECTL_IM);
    assert_true(unit.gsts & VTD_GSTS_IRES);
    assert_int_equal(unit.nccmd, 1);
    assert_int_equal(unit.ccmd[0], VTD_CCMD_ICC | VTD_CCMD_GLOBAL);
    assert_int_equal(unit.niotlb, 1);
    assert_int_equal(unit.iotlb[0], VTD_IOTLB_IVT | VTD_IOTLB_GLOBAL | VTD_IOTLB_DR | VTD_IOTLB_DW);
    assert_true(unit.gsts & VTD_GSTS_TES);
}

static void test_init_refusals(void **state)
{
    (void)state;
    unit.cap = 2ull << 8 | (uint64_t)(FRO / 16) << 24; /* 3-level only */
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), -E_NODEV);
    assert_string_equal(why.text, "VT-d: no 4-level second-level tables (SAGAW 0x2)");
    unit.cap = CAP_4LEVEL;
    unit.ecap = ECAP_COHERENT & ~VTD_ECAP_IR;
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), -E_NODEV);
    assert_string_equal(why.text, "VT-d: no interrupt remapping, so a device could raise any "
                                  "interrupt on any core");
    unit.ecap = ECAP_COHERENT;
    unit.gsts = VTD_GSTS_TES;
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), -E_BUSY);
    unit.gsts = VTD_GSTS_IRES;
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), -E_BUSY);
    unit.gsts = 0;
    unit.stuck = true;
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), -E_TIMEDOUT);
    assert_string_equal(why.text, "VT-d: root table pointer not acknowledged after 1000 polls");
    assert_int_equal(unit.gsts & VTD_GSTS_TES, 0);
}

static void test_attach(void **state)
{
    (void)state;
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), 0);
    static uint8_t table[4096] __attribute__((aligned(4096)));
    struct iommu_domain d = {.id = 3, .root = (uint64_t)(uintptr_t)table};
    assert_int_equal(vtd_attach(&u, PCI_BDF(2, 1, 0), &d, &why), 0);
    const struct vtd_entry *re = &u.root[2];
    assert_int_equal(re->lo & 0xfff, VTD_PRESENT);
    const struct vtd_entry *ctx = (const struct vtd_entry *)(uintptr_t)(re->lo & ~0xfffull);
    assert_int_equal(ctx[PCI_BDF(0, 1, 0)].lo, d.root | VTD_PRESENT);
    assert_int_equal(ctx[PCI_BDF(0, 1, 0)].hi, VTD_CTX_AW_48 | 3ull << 8);
    assert_int_equal(ctx[PCI_BDF(0, 2, 0)].lo, 0);
    assert_int_equal(unit.ccmd[unit.nccmd - 1], VTD_CCMD_ICC | VTD_CCMD_GLOBAL);
    assert_int_equal(unit.iotlb[unit.niotlb - 1], VTD_IOTLB_IVT | VTD_IOTLB_DOMAIN |
                                                      VTD_IOTLB_DID(3) | VTD_IOTLB_DR |
                                                      VTD_IOTLB_DW);
    /* a second function on the bus shares its context table */
    unsigned pages_before = nallocated;
    assert_int_equal(vtd_attach(&u, PCI_BDF(2, 2, 0), &d, &why), 0);
    assert_int_equal(nallocated, pages_before);
    assert_int_equal(ctx[PCI_BDF(0, 2, 0)].lo, d.root | VTD_PRESENT);
    /* ND 0: 16 domain IDs, so 16 is one too many */
    struct iommu_domain too_many = {.id = 16, .root = d.root};
    assert_int_equal(vtd_attach(&u, PCI_BDF(3, 0, 0), &too_many, &why), -E_INVAL);
    /* a domain without an ID or an unaligned root is refused before anything is written */
    struct iommu_domain bad = {.id = 0, .root = d.root};
    assert_int_equal(vtd_attach(&u, PCI_BDF(3, 0, 0), &bad, &why), -E_INVAL);
    assert_int_equal(u.root[3].lo, 0);
}

static void test_flush_domain(void **state)
{
    (void)state;
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), 0);
    assert_int_equal(vtd_flush_domain(&u, 7, &why), 0);
    assert_int_equal(unit.iotlb[unit.niotlb - 1], VTD_IOTLB_IVT | VTD_IOTLB_DOMAIN |
                                                      VTD_IOTLB_DID(7) | VTD_IOTLB_DR |
                                                      VTD_IOTLB_DW);
    unit.iotlb_not_done = true;
    assert_int_equal(vtd_flush_domain(&u, 7, &why), -E_IO);
    unit.stuck = true;
    assert_int_equal(vtd_flush_domain(&u, 7, &why), -E_TIMEDOUT);
    assert_string_equal(why.text, "VT-d: IOTLB invalidation not completed after 1000 polls");
}

static void test_faults(void **state)
{
    (void)state;
    assert_int_equal(vtd_init(&u, &mmio, &pages, &why), 0);
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
    assert_int_equal(vtd_register_span(CAP_4LEVEL, ECAP_COHERENT), IRO + 16);
    assert_int_equal(vtd_register_span((uint64_t)0x300 << 24 | (uint64_t)255 << 40, 0),
                     0x3000 + 16 * 256);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fresh, release)
    const struct CMUnitTest tests[] = {
        T(test_init_blocks_everything), T(test_init_refusals), T(test_attach),
        T(test_flush_domain),           T(test_faults),        T(test_register_span),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
