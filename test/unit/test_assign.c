/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* PCI functions found by a scan of a fake configuration space, and the checks on devices=
 * against that machine: existence, what may not be handed over, the IOMMU requirement and
 * the iommu=off decision, and groups (requester ID alias, functions of one device). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/klib.h"
#include "iommu/assign.h"
#include "iommu/iommu_acpi.h"
#include "iommu/pci.h"

/* ---- a fake configuration space: a few functions, everything else reads as all ones ---- */

struct fake_fn {
    pci_bdf bdf;
    uint64_t bar_size[6]; /* what sizing finds (a 64-bit BAR: in its lower slot) */
    bool sizing[6];       /* all ones was written to this BAR register */
    uint32_t regs[20];    /* the first 80 bytes: the header and one capability at 0x40 */
};

static struct fake_fn fns[16];
static unsigned nfns;
static unsigned reads;

static void add_fn(pci_bdf bdf, uint16_t vendor, uint16_t device, uint32_t class_rev,
                   uint8_t header)
{
    struct fake_fn *f = &fns[nfns++];
    memset(f, 0, sizeof(*f));
    f->bdf = bdf;
    f->regs[0] = (uint32_t)device << 16 | vendor;
    f->regs[2] = class_rev;
    f->regs[3] = (uint32_t)header << 16;
    f->regs[4] = 0xc0000000u + ((uint32_t)bdf << 12); /* BAR0: a page of its own */
}

static struct fake_fn *fake_find(uint16_t segment, pci_bdf bdf)
{
    for (unsigned i = 0; segment == 0 && i < nfns; i++)
        if (fns[i].bdf == bdf)
            return &fns[i];
    return NULL;
}

/* A BAR register being sized reads back the size's mask (with the type bits). */
static uint32_t bar_read(const struct fake_fn *f, unsigned bar)
{
    uint32_t type = f->regs[4 + bar] & 0xf;
    if (bar > 0 && (f->regs[4 + bar - 1] & 7) == PCI_BAR_TYPE_64 && f->bar_size[bar - 1])
        return (uint32_t)(~(f->bar_size[bar - 1] - 1) >> 32); /* upper half of a 64-bit BAR */
    return f->bar_size[bar] ? (uint32_t) ~(f->bar_size[bar] - 1) | type : 0;
}

static uint32_t fake_read32(void *ctx, uint16_t segment, pci_bdf bdf, uint16_t off)
{
    (void)ctx;
    reads++;
    assert_int_equal(off & 3, 0);
    const struct fake_fn *f = fake_find(segment, bdf);
    if (!f)
        return 0xffffffffu;
    if (off >= PCI_BAR0 && off < PCI_BAR0 + 24 && f->sizing[(off - PCI_BAR0) / 4])
        return bar_read(f, (off - PCI_BAR0) / 4u);
    return off < 80 ? f->regs[off / 4] : 0;
}

static unsigned writes;

static void fake_write32(void *ctx, uint16_t segment, pci_bdf bdf, uint16_t off, uint32_t v)
{
    (void)ctx;
    writes++;
    struct fake_fn *f = fake_find(segment, bdf);
    assert_non_null(f);
    if (off >= PCI_BAR0 && off < PCI_BAR0 + 24) {
        unsigned bar = (off - PCI_BAR0) / 4u;
        /* sizing is only safe with memory decoding off */
        assert_int_equal(f->regs[1] & PCI_COMMAND_MEMORY, 0);
        f->sizing[bar] = v == 0xffffffffu;
        if (!f->sizing[bar])
            f->regs[off / 4] = v;
        return;
    }
    assert_int_equal(off, PCI_COMMAND);
    f->regs[1] = (f->regs[1] & 0xffff0000u) | (v & 0xffff);
}

static const struct pci_cfg fake_cfg = {NULL, fake_read32, fake_write32};
static struct pci_inventory inv;
static struct iommu_info iommu;
static struct config cfg;
static struct cfg_errors errs;

/* q35-like: host bridge, edu, a multi-function device at 1f, a bridge to bus 1 with two
 * devices behind it. */
static int machine(void **state)
{
    (void)state;
    nfns = 0;
    add_fn(PCI_BDF(0, 0, 0), 0x8086, 0x29c0, 0x06000002, 0);
    add_fn(PCI_BDF(0, 2, 0), 0x1234, 0x11e8, 0x00ff0010, 0);
    add_fn(PCI_BDF(0, 3, 0), 0x1234, 0x11e8, 0x00ff0010, 0);
    add_fn(PCI_BDF(0, 0x1f, 0), 0x8086, 0x2918, 0x06010002, PCI_HEADER_MULTI_FUNCTION);
    add_fn(PCI_BDF(0, 0x1f, 2), 0x8086, 0x2922, 0x01060102, 0);
    add_fn(PCI_BDF(0, 0x1f, 3), 0x8086, 0x2930, 0x0c050002, 0);
    add_fn(PCI_BDF(0, 0x1e, 0), 0x1b36, 0x0001, 0x06040000, PCI_HEADER_BRIDGE);
    fns[nfns - 1].regs[6] = 0x00010100; /* primary 0, secondary 1, subordinate 1 */
    add_fn(PCI_BDF(1, 1, 0), 0x1234, 0x11e8, 0x00ff0010, 0);
    add_fn(PCI_BDF(1, 2, 0), 0x1234, 0x11e8, 0x00ff0010, 0);
    add_fn(PCI_BDF(0, 5, 3), 0x1234, 0x0001, 0x02000000, 0); /* fn 3 of a device with no fn 0 */
    memset(&inv, 0, sizeof(inv));
    pci_scan(&fake_cfg, 0, 0, 0xff, &inv);
    memset(&iommu, 0, sizeof(iommu));
    return 0;
}

static void test_scan(void **state)
{
    (void)state;
    assert_int_equal(inv.n, 9); /* not 00:05.3: without function 0 there is no device */
    assert_int_equal(inv.f[0].bdf, PCI_BDF(0, 0, 0));
    assert_int_equal(inv.f[1].bdf, PCI_BDF(0, 2, 0));
    const struct pci_function *f = pci_find(&inv, 0, PCI_BDF(0, 0x1f, 2));
    assert_non_null(f);
    assert_int_equal(f->vendor, 0x8086);
    assert_int_equal(f->device, 0x2922);
    assert_int_equal(f->class_rev >> 8, 0x010601);
    assert_int_equal(f->nbars, 6);
    assert_int_equal(f->bar[0], 0xc0000000u + ((uint32_t)PCI_BDF(0, 0x1f, 2) << 12));
    const struct pci_function *br = pci_find(&inv, 0, PCI_BDF(0, 0x1e, 0));
    assert_int_equal(br->layout, PCI_HEADER_BRIDGE);
    assert_int_equal(br->nbars, 2);
    assert_int_equal(br->secondary, 1);
    assert_int_equal(br->subordinate, 1);
    assert_non_null(pci_find(&inv, 0, PCI_BDF(1, 2, 0)));
    assert_null(pci_find(&inv, 1, PCI_BDF(1, 2, 0)));
    char text[32];
    pci_class_text(f->class_rev, text, sizeof(text));
    assert_string_equal(text, "SATA AHCI");
    pci_class_text(0x0c050002, text, sizeof(text));
    assert_string_equal(text, "SMBus");
    pci_class_text(0x0b400000, text, sizeof(text));
    assert_string_equal(text, "class 0x0b4000");
    pci_bdf_text(0x12, PCI_BDF(0x3b, 0x1f, 7), text, sizeof(text));
    assert_string_equal(text, "0012:3b:1f.7");
}

static void test_scan_keeps_within_its_limit(void **state)
{
    (void)state;
    static struct pci_inventory small;
    memset(&small, 0, sizeof(small));
    small.n = PCI_MAX_FUNCTIONS - 2;
    reads = 0;
    pci_scan(&fake_cfg, 0, 0, 0xff, &small);
    assert_int_equal(small.n, PCI_MAX_FUNCTIONS);
    assert_int_equal(small.dropped, 7);
    /* a bounded walk: each device slot once, functions 1-7 only of multi-function devices */
    assert_true(reads < 256 * 32 + 7 * 2 + 9 * 16);
}

/* Parses text (every partition line 2 onwards), then checks it against the machine. */
static int check(const char *text)
{
    memset(&errs, 0, sizeof(errs));
    assert_int_equal(config_parse(text, strlen(text), &cfg, &errs), 0);
    struct assign_machine m = {&inv, &iommu};
    return assign_check(&cfg, &m, &errs);
}

static void expect_refused(const char *text, unsigned line, const char *msg)
{
    assert_int_equal(check(text), -E_INVAL);
    assert_int_equal(errs.count, 1);
    assert_int_equal(errs.e[0].line, line);
    assert_string_equal(errs.e[0].msg, msg);
}

#define SC0 "sidecore cpu=0 services=pt,irq,io\n"

/* One VT-d unit that lists every function but 00:03.0. */
static void vtd_unit(void)
{
    iommu.kind = IOMMU_VTD;
    iommu.nunits = 1;
    iommu.units[0] = (struct iommu_unit){.base = 0xfed90000};
    for (unsigned i = 0; i < inv.n; i++) {
        if (inv.f[i].bdf == PCI_BDF(0, 3, 0))
            continue;
        iommu.scopes[iommu.nscopes++] = (struct iommu_scope){.type = IOMMU_SCOPE_ENDPOINT,
                                                             .first = inv.f[i].bdf,
                                                             .last = inv.f[i].bdf,
                                                             .alias = inv.f[i].bdf,
                                                             .resolved = true};
    }
}

static void test_assignable(void **state)
{
    (void)state;
    vtd_unit();
    assert_int_equal(check(SC0 "partition name=a cpus=1 memory=16M devices=00:02.0\n"
                               "partition name=b cpus=2 memory=16M devices=01:01.0,01:02.0,"
                               "00:1f.2\n"),
                     0);
    assert_int_equal(errs.count, 0);
    assert_int_equal(assign_owner(&cfg, 0, PCI_BDF(1, 1, 0)), 1);
    assert_int_equal(assign_owner(&cfg, 0, PCI_BDF(1, 2, 0)), 1);
    assert_int_equal(assign_owner(&cfg, 0, PCI_BDF(0, 3, 0)), -1);
}

static void test_refusals(void **state)
{
    (void)state;
    vtd_unit();
    expect_refused(SC0 "partition name=a cpus=1 memory=16M devices=00:09.0\n", 2,
                   "partition 'a': PCI function 0000:00:09.0 does not exist on this machine");
    expect_refused(SC0 "partition name=a cpus=1 memory=16M devices=0001:00:02.0\n", 2,
                   "partition 'a': PCI function 0001:00:02.0 does not exist on this machine");
    expect_refused(SC0 "partition name=a cpus=1 memory=16M devices=00:1e.0\n", 2,
                   "partition 'a': PCI function 0000:00:1e.0 is a bridge: hand over the "
                   "functions behind it instead");
    expect_refused(SC0 "partition name=a cpus=1 memory=16M devices=00:00.0\n", 2,
                   "partition 'a': PCI function 0000:00:00.0 is a host bridge");
    expect_refused(SC0 "partition name=a cpus=1 memory=16M devices=00:03.0\n", 2,
                   "partition 'a': PCI function 0000:00:03.0 is behind no IOMMU unit the "
                   "firmware lists");
}

static void test_no_iommu(void **state)
{
    (void)state;
    expect_refused(SC0 "\npartition name=a cpus=1 memory=16M devices=00:02.0\n", 3,
                   "partition 'a': PCI function 0000:00:02.0: no IOMMU (no usable DMAR or IVRS) "
                   "to confine its DMA; 'boot iommu=off' hands it over anyway");
    /* the trust decision, written down */
    assert_int_equal(check(SC0 "boot iommu=off\n"
                               "partition name=a cpus=1 memory=16M devices=00:02.0\n"),
                     0);
    /* but never a function that does not exist or cannot be given away */
    expect_refused(SC0 "boot iommu=off\npartition name=a cpus=1 memory=16M devices=00:1e.0\n", 3,
                   "partition 'a': PCI function 0000:00:1e.0 is a bridge: hand over the "
                   "functions behind it instead");
}

static void test_functions_of_one_device(void **state)
{
    (void)state;
    vtd_unit();
    expect_refused(SC0 "partition name=a cpus=1 memory=16M devices=00:1f.2\n"
                       "partition name=b cpus=2 memory=16M devices=00:1f.3\n",
                   3,
                   "partition 'b': PCI function 0000:00:1f.3 is a function of the same device as "
                   "0000:00:1f.2 of partition 'a' (line 2)");
    /* both to one partition: fine */
    assert_int_equal(check(SC0 "partition name=a cpus=1 memory=16M devices=00:1f.2,00:1f.3\n"), 0);
}

/* AMD-Vi: bus 1 sits behind a conventional PCI bridge, and its DMA carries 00:1e.0's ID. */
static void test_alias_shared(void **state)
{
    (void)state;
    iommu.kind = IOMMU_AMDVI;
    iommu.nunits = 1;
    iommu.units[0] = (struct iommu_unit){.base = 0xfed80000, .own_bdf = PCI_BDF(0, 4, 0)};
    iommu.scopes[iommu.nscopes++] = (struct iommu_scope){
        .type = IOMMU_SCOPE_ALL, .first = 0, .last = 0xffff, .alias = 0, .resolved = true};
    iommu.scopes[iommu.nscopes++] = (struct iommu_scope){.type = IOMMU_SCOPE_RANGE,
                                                         .first = PCI_BDF(1, 0, 0),
                                                         .last = PCI_BDF(1, 31, 7),
                                                         .alias = PCI_BDF(0, 0x1e, 0),
                                                         .has_alias = true,
                                                         .resolved = true};
    expect_refused(SC0 "partition name=a cpus=1 memory=16M devices=01:01.0\n"
                       "partition name=b cpus=2 memory=16M devices=01:02.0\n",
                   3,
                   "partition 'b': PCI function 0000:01:02.0 its DMA carries the same requester "
                   "ID as 0000:01:01.0 of partition 'a' (line 2)");
    /* the other function behind the bridge unowned: its DMA would be translated as a's */
    expect_refused(SC0 "partition name=a cpus=1 memory=16M devices=01:01.0\n"
                       "partition name=b cpus=2 memory=16M devices=00:02.0\n",
                   2,
                   "partition 'a': PCI function 0000:01:01.0 its DMA carries the same requester "
                   "ID as 0000:01:02.0, which no partition owns: name both");
    assert_int_equal(check(SC0 "partition name=a cpus=1 memory=16M devices=01:01.0,01:02.0\n"
                               "partition name=b cpus=2 memory=16M devices=00:02.0\n"),
                     0);
}

/* A BAR smaller than a page may share the page with another function's BAR. */
static void test_bar_page_shared(void **state)
{
    (void)state;
    vtd_unit();
    fake_find(0, PCI_BDF(0, 0x1f, 3))->regs[4] = 0xc1234100; /* SMBus-sized, 256 bytes */
    fake_find(0, PCI_BDF(0, 0x1f, 2))->regs[5] = 0xc1234800; /* AHCI-sized, in that page */
    memset(&inv, 0, sizeof(inv));
    pci_scan(&fake_cfg, 0, 0, 0xff, &inv);
    expect_refused(SC0 "partition name=a cpus=1 memory=16M devices=00:1f.3\n", 2,
                   "partition 'a': PCI function 0000:00:1f.3: BAR0 shares its page with a BAR "
                   "of 0000:00:1f.2");
}

/* Behind a bridge, DMA may carry the bridge's requester ID instead of its own. */
static void test_bridge_takes_over_requester_id(void **state)
{
    (void)state;
    vtd_unit();
    const struct pci_function *f = pci_find(&inv, 0, PCI_BDF(1, 2, 0));
    assert_int_equal(pci_requester_id(&inv, f), PCI_BDF(0, 0x1e, 0)); /* conventional bridge */
    assert_int_equal(pci_requester_id(&inv, pci_find(&inv, 0, PCI_BDF(0, 2, 0))), PCI_BDF(0, 2, 0));
    expect_refused(SC0 "partition name=a cpus=1 memory=16M devices=01:01.0\n"
                       "partition name=b cpus=2 memory=16M devices=01:02.0\n",
                   3,
                   "partition 'b': PCI function 0000:01:02.0 its DMA carries the same requester "
                   "ID as 0000:01:01.0 of partition 'a' (line 2)");

    /* the same bridge as a PCI Express to PCI bridge: its secondary bus, device 0 */
    struct fake_fn *br = NULL;
    for (unsigned i = 0; i < nfns; i++)
        if (fns[i].bdf == PCI_BDF(0, 0x1e, 0))
            br = &fns[i];
    br->regs[1] = (uint32_t)PCI_STATUS_CAP_LIST << 16;
    br->regs[13] = 0x40;
    br->regs[16] = (uint32_t)(PCI_EXP_TYPE_PCI_BRIDGE << 4) << 16 | PCI_CAP_ID_EXP;
    memset(&inv, 0, sizeof(inv));
    pci_scan(&fake_cfg, 0, 0, 0xff, &inv);
    assert_int_equal(pci_find(&inv, 0, PCI_BDF(0, 0x1e, 0))->pcie_type, PCI_EXP_TYPE_PCI_BRIDGE);
    assert_int_equal(pci_find(&inv, 0, PCI_BDF(0, 2, 0))->pcie_type, PCI_NOT_EXPRESS);
    assert_int_equal(pci_requester_id(&inv, pci_find(&inv, 0, PCI_BDF(1, 2, 0))), PCI_BDF(1, 0, 0));

    /* a capability list that loops is walked a bounded number of times */
    br->regs[16] = 0x4001; /* id 1 (power management), next 0x40: itself */
    memset(&inv, 0, sizeof(inv));
    pci_scan(&fake_cfg, 0, 0, 0xff, &inv);
    assert_int_equal(pci_find(&inv, 0, PCI_BDF(0, 0x1e, 0))->pcie_type, PCI_NOT_EXPRESS);
}

static void test_bar_sizes(void **state)
{
    (void)state;
    struct fake_fn *f = fake_find(0, PCI_BDF(0, 2, 0));
    f->regs[1] = PCI_COMMAND_MEMORY | PCI_COMMAND_BUS_MASTER;
    f->regs[4] = 0xc1000000;                   /* 32-bit, 1 MiB */
    f->regs[5] = 0xc000 | PCI_BAR_IO;          /* I/O: not sized */
    f->regs[6] = 0x80000000 | PCI_BAR_TYPE_64; /* 64-bit, 16 KiB, at 0x4_8000_0000 */
    f->regs[7] = 0x4;
    f->bar_size[0] = 1 << 20;
    f->bar_size[2] = 16 << 10;
    memset(&inv, 0, sizeof(inv));
    pci_scan(&fake_cfg, 0, 0, 0xff, &inv);
    uint64_t size[PCI_MAX_BARS];
    writes = 0;
    pci_size_bars(&fake_cfg, pci_find(&inv, 0, PCI_BDF(0, 2, 0)), size);
    assert_int_equal(size[0], 1 << 20);
    assert_int_equal(size[1], 0);
    assert_int_equal(size[2], 16 << 10);
    assert_int_equal(size[3], 0);
    assert_int_equal(size[4] | size[5], 0);
    /* every register as it was, decoding back on */
    assert_int_equal(f->regs[4], 0xc1000000);
    assert_int_equal(f->regs[6], 0x80000000 | PCI_BAR_TYPE_64);
    assert_int_equal(f->regs[7], 0x4);
    assert_int_equal(f->regs[1] & 0xffff, PCI_COMMAND_MEMORY | PCI_COMMAND_BUS_MASTER);
    for (unsigned i = 0; i < 6; i++)
        assert_false(f->sizing[i]);
    assert_int_equal(writes, 2 + 2 * 5); /* command off and back; BARs 0, 2, 3 (+4, 5) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_scan, machine),
        cmocka_unit_test_setup(test_scan_keeps_within_its_limit, machine),
        cmocka_unit_test_setup(test_assignable, machine),
        cmocka_unit_test_setup(test_refusals, machine),
        cmocka_unit_test_setup(test_no_iommu, machine),
        cmocka_unit_test_setup(test_functions_of_one_device, machine),
        cmocka_unit_test_setup(test_alias_shared, machine),
        cmocka_unit_test_setup(test_bridge_takes_over_requester_id, machine),
        cmocka_unit_test_setup(test_bar_sizes, machine),
        cmocka_unit_test_setup(test_bar_page_shared, machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
