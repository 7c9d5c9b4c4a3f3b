/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* DMAR and IVRS parsers on QEMU's tables, on tables built here, and on broken ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/klib.h"
#include "iommu/iommu_acpi.h"

static struct iommu_info info; /* large: one shared, every parse zeroes it */
static struct refusal why;

/* ---- Table building: layouts written from the VT-d and AMD IOMMU specifications ---- */

struct tbl {
    uint8_t b[8192];
    uint32_t len;
};

static struct tbl tb;

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = i < 8 ? (uint8_t)(v >> (8 * i)) : 0;
}

static void emit(struct tbl *t, uint64_t v, unsigned n)
{
    assert_true(t->len + n <= sizeof(t->b));
    put_le(t->b + t->len, v, n);
    t->len += n;
}

static void fix_checksum(struct tbl *t)
{
    uint8_t sum = 0;
    t->b[9] = 0;
    for (uint32_t i = 0; i < t->len; i++)
        sum = (uint8_t)(sum + t->b[i]);
    t->b[9] = (uint8_t)(0x100 - sum);
}

/* Writes the length (offset 4) and the checksum (offset 9). */
static void sdt_end(struct tbl *t)
{
    put_le(t->b + 4, t->len, 4);
    fix_checksum(t);
}

static void sdt_begin(struct tbl *t, const char *sig, uint8_t revision)
{
    memset(t, 0, sizeof(*t));
    memcpy(t->b, sig, 4);
    t->b[8] = revision;
    memcpy(t->b + 10, "SIDECR", 6);
    memcpy(t->b + 16, "IOMMUTST", 8);
    t->len = 36;
}

static void dmar_begin(struct tbl *t, uint8_t haw, uint8_t flags)
{
    sdt_begin(t, "DMAR", 1);
    emit(t, haw, 1);
    emit(t, flags, 1);
    emit(t, 0, 10);
}

/* A remapping structure: type and length (patched by struct_end); returns where it starts. */
static uint32_t struct_begin(struct tbl *t, uint16_t type)
{
    uint32_t at = t->len;
    emit(t, type, 2);
    emit(t, 0, 2);
    return at;
}

static void struct_end(struct tbl *t, uint32_t at)
{
    put_le(t->b + at + 2, t->len - at, 2);
}

static uint32_t drhd_begin(struct tbl *t, uint8_t flags, uint16_t segment, uint64_t base)
{
    uint32_t at = struct_begin(t, 0);
    emit(t, flags, 1);
    emit(t, 0, 1); /* size */
    emit(t, segment, 2);
    emit(t, base, 8);
    return at;
}

static uint32_t rmrr_begin(struct tbl *t, uint16_t segment, uint64_t base, uint64_t limit)
{
    uint32_t at = struct_begin(t, 1);
    emit(t, 0, 2);
    emit(t, segment, 2);
    emit(t, base, 8);
    emit(t, limit, 8);
    return at;
}

/* Device scope with hops (device, function) pairs. */
static void scope(struct tbl *t, uint8_t type, uint8_t id, uint8_t bus, const uint8_t *path,
                  unsigned hops)
{
    emit(t, type, 1);
    emit(t, 6 + 2 * hops, 1);
    emit(t, 0, 2);
    emit(t, id, 1);
    emit(t, bus, 1);
    for (unsigned i = 0; i < 2 * hops; i++)
        emit(t, path[i], 1);
}

static void scope1(struct tbl *t, uint8_t type, uint8_t id, uint8_t bus, uint8_t dev, uint8_t fn)
{
    uint8_t p[2] = {dev, fn};
    scope(t, type, id, bus, p, 1);
}

static void ivrs_begin(struct tbl *t, uint32_t ivinfo)
{
    sdt_begin(t, "IVRS", 2);
    emit(t, ivinfo, 4);
    emit(t, 0, 8);
}

/* IVHD of type 0x10 (24-byte header) or 0x11 / 0x40 (40 bytes); ended by struct_end. */
static uint32_t ivhd_begin(struct tbl *t, uint8_t type, pci_bdf devid, uint64_t base,
                           uint16_t segment)
{
    uint32_t at = t->len;
    emit(t, type, 1);
    emit(t, 0x10, 1); /* flags: IotlbSup */
    emit(t, 0, 2);
    emit(t, devid, 2);
    emit(t, 0x40, 2); /* capability offset */
    emit(t, base, 8);
    emit(t, segment, 2);
    emit(t, 0, 2); /* IOMMU info */
    emit(t, 0, 4); /* feature reporting / attributes */
    if (type != 0x10) {
        emit(t, 0x29d3, 8); /* EFR image */
        emit(t, 0, 8);
    }
    return at;
}

static void de4(struct tbl *t, uint8_t type, pci_bdf devid)
{
    emit(t, type, 1);
    emit(t, devid, 2);
    emit(t, 0, 1);
}

static void de8(struct tbl *t, uint8_t type, pci_bdf devid, uint8_t b4, pci_bdf b5, uint8_t b7)
{
    de4(t, type, devid);
    emit(t, b4, 1);
    emit(t, b5, 2);
    emit(t, b7, 1);
}

static void ivmd(struct tbl *t, uint8_t type, uint8_t flags, pci_bdf devid, uint16_t aux,
                 uint64_t start, uint64_t size)
{
    emit(t, type, 1);
    emit(t, flags, 1);
    emit(t, 32, 2);
    emit(t, devid, 2);
    emit(t, aux, 2);
    emit(t, 0, 8);
    emit(t, start, 8);
    emit(t, size, 8);
}

static void parse_ok(int (*parse)(const uint8_t *, uint32_t, struct iommu_info *, struct refusal *),
                     const struct tbl *t)
{
    strcpy(why.text, "untouched");
    int err = parse(t->b, t->len, &info, &why);
    if (err)
        fail_msg("parse returned %d: %s", err, why.text);
    assert_string_equal(why.text, "");
}

static void parse_fails(int (*parse)(const uint8_t *, uint32_t, struct iommu_info *,
                                     struct refusal *),
                        const struct tbl *t, int err, const char *reason)
{
    memset(&info, 0x5a, sizeof(info));
    int got = parse(t->b, t->len, &info, &why);
    if (got != err)
        fail_msg("parse returned %d (%s), expected %d", got, why.text, err);
    if (!strstr(why.text, reason))
        fail_msg("why is \"%s\", expected it to mention \"%s\"", why.text, reason);
    assert_int_equal(info.kind, IOMMU_NONE); /* nothing half-parsed is left behind */
    assert_int_equal(info.nunits, 0);
    assert_int_equal(info.nscopes, 0);
}

static void expect_scope(unsigned i, uint8_t unit, uint8_t type, pci_bdf first, pci_bdf last)
{
    assert_true(i < info.nscopes);
    const struct iommu_scope *s = &info.scopes[i];
    assert_int_equal(s->unit, unit);
    assert_int_equal(s->type, type);
    assert_int_equal(s->first, first);
    assert_int_equal(s->last, last);
    assert_true(s->resolved);
    assert_false(s->absent);
}

static void expect_unit_for(uint16_t segment, pci_bdf bdf, int unit, pci_bdf requester)
{
    pci_bdf req = 0x1234;
    int got = iommu_unit_for(&info, segment, bdf, &req);
    if (got != unit)
        fail_msg("%04x:%02x:%02x.%u: unit %d, expected %d", segment, PCI_BUS(bdf), PCI_DEV(bdf),
                 PCI_FN(bdf), got, unit);
    assert_int_equal(req, requester);
}

static void expect_scope_text(unsigned i, const char *text)
{
    char buf[96];
    iommu_scope_text(&info.scopes[i], buf, sizeof(buf));
    assert_string_equal(buf, text);
}

/* ---- QEMU's tables: test/fixtures/acpi/<name>/<SIG>@<hexaddress>.bin ---- */

static bool load_table(const char *rel, struct tbl *t)
{
    const char *root = getenv("FIXTURES");
    char path[1024];
    if (!root)
        return false;
    snprintf(path, sizeof(path), "%s/acpi/%s", root, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s", path);
    memset(t, 0, sizeof(*t));
    t->len = (uint32_t)fread(t->b, 1, sizeof(t->b), f);
    fclose(f);
    assert_true(t->len >= 36);
    return true;
}

static void test_qemu_dmar(void **state)
{
    if (!load_table("qemu-q35-smp2-vtd-edu/DMAR@1f774000.bin", &tb))
        skip();
    parse_ok(dmar_parse, &tb);
    assert_int_equal(info.kind, IOMMU_VTD);
    assert_int_equal(info.revision, 1);
    assert_true(info.intr_remap);
    assert_int_equal(info.table_flags, IOMMU_DMAR_INTR_REMAP);
    assert_int_equal(info.address_width, 48);
    assert_int_equal(info.nunits, 1);
    assert_int_equal(info.units[0].base, 0xfed90000);
    assert_int_equal(info.units[0].segment, 0);
    assert_false(info.units[0].include_all);
    assert_int_equal(info.units[0].offset, 48);
    assert_int_equal(info.nscopes, 7);
    expect_scope(0, 0, IOMMU_SCOPE_IOAPIC, PCI_BDF(0xff, 0, 0), PCI_BDF(0xff, 0, 0));
    assert_int_equal(info.scopes[0].id, 0);
    static const pci_bdf endpoints[] = {PCI_BDF(0, 0, 0),    PCI_BDF(0, 1, 0),
                                        PCI_BDF(0, 2, 0),    PCI_BDF(0, 0x1f, 0),
                                        PCI_BDF(0, 0x1f, 2), PCI_BDF(0, 0x1f, 3)};
    for (unsigned i = 0; i < ARRAY_SIZE(endpoints); i++) {
        expect_scope(1 + i, 0, IOMMU_SCOPE_ENDPOINT, endpoints[i], endpoints[i]);
        assert_int_equal(info.scopes[1 + i].alias, endpoints[i]);
        assert_false(info.scopes[1 + i].has_alias);
    }
    assert_int_equal(info.nreserved + info.dropped_scopes + info.dropped_units, 0);

    expect_unit_for(0, PCI_BDF(0, 2, 0), 0, PCI_BDF(0, 2, 0));        /* edu */
    expect_unit_for(0, PCI_BDF(0, 3, 0), -1, PCI_BDF(0, 3, 0));       /* listed nowhere */
    expect_unit_for(0, PCI_BDF(0xff, 0, 0), -1, PCI_BDF(0xff, 0, 0)); /* the IOAPIC: no DMA */
    expect_unit_for(1, PCI_BDF(0, 2, 0), -1, PCI_BDF(0, 2, 0));       /* other segment */
    assert_int_equal(iommu_unit_for(&info, 0, PCI_BDF(0, 0x1f, 2), NULL), 0);

    char buf[96];
    iommu_unit_text(&info, 0, buf, sizeof(buf));
    assert_string_equal(buf, "VT-d unit 0 at 0xfed90000 segment 0");
    iommu_unit_text(&info, 1, buf, sizeof(buf));
    assert_string_equal(buf, "no unit 1");
    expect_scope_text(0, "ioapic 0 at 0000:ff:00.0");
    expect_scope_text(3, "endpoint 0000:00:02.0");

    /* one flipped bit anywhere is a checksum mismatch */
    tb.b[0x50] ^= 4;
    parse_fails(dmar_parse, &tb, -E_BADMSG, "DMAR checksum mismatch");
}

static void test_qemu_ivrs(void **state)
{
    if (!load_table("qemu-q35-smp2-amdvi-edu/IVRS@1f774000.bin", &tb))
        skip();
    parse_ok(ivrs_parse, &tb);
    assert_int_equal(info.kind, IOMMU_AMDVI);
    assert_int_equal(info.revision, 1);
    assert_true(info.intr_remap); /* it names the IOAPIC */
    assert_int_equal(info.table_flags, 0x2801);
    assert_int_equal(info.address_width, 40);
    /* the type 0x10 and 0x11 IVHDs describe one IOMMU: only the 0x11 one is used */
    assert_int_equal(info.nunits, 1);
    assert_int_equal(info.skipped_ivhds, 1);
    const struct iommu_unit *u = &info.units[0];
    assert_int_equal(u->ivhd_type, 0x11);
    assert_int_equal(u->offset, 0x6c);
    assert_int_equal(u->base, 0xfed80000);
    assert_int_equal(u->segment, 0);
    assert_int_equal(u->own_bdf, PCI_BDF(0, 2, 0));
    assert_int_equal(u->cap_offset, 0x40);
    assert_int_equal(u->flags, 0x11);
    assert_int_equal(u->efr, 0x29d3);
    assert_int_equal(info.nscopes, 8);
    static const pci_bdf selects[] = {PCI_BDF(0, 0, 0),   PCI_BDF(0, 1, 0),    PCI_BDF(0, 2, 0),
                                      PCI_BDF(0, 3, 0),   PCI_BDF(0, 0x1f, 0), PCI_BDF(0, 0x1f, 2),
                                      PCI_BDF(0, 0x1f, 3)};
    for (unsigned i = 0; i < ARRAY_SIZE(selects); i++)
        expect_scope(i, 0, IOMMU_SCOPE_ENDPOINT, selects[i], selects[i]);
    expect_scope(7, 0, IOMMU_SCOPE_IOAPIC, PCI_BDF(0, 0x14, 0), PCI_BDF(0, 0x14, 0));
    assert_int_equal(info.scopes[7].id, 0);
    assert_int_equal(info.nreserved + info.dropped_scopes + info.dropped_units, 0);

    expect_unit_for(0, PCI_BDF(0, 3, 0), 0, PCI_BDF(0, 3, 0)); /* edu */
    expect_unit_for(0, PCI_BDF(0, 4, 0), -1, PCI_BDF(0, 4, 0));
    expect_unit_for(0, PCI_BDF(0, 0x14, 0), -1, PCI_BDF(0, 0x14, 0)); /* the IOAPIC's ID */

    char buf[96];
    iommu_unit_text(&info, 0, buf, sizeof(buf));
    assert_string_equal(buf, "AMD-Vi unit 0 (IVHD 0x11) at 0xfed80000 segment 0 function 00:02.0");
    expect_scope_text(7, "ioapic 0 at 0000:00:14.0");

    /* without its 0x11 IVHD, the 0x10 one is used (the table is cut after it) */
    tb.len = 0x6c;
    sdt_end(&tb);
    parse_ok(ivrs_parse, &tb);
    assert_int_equal(info.nunits, 1);
    assert_int_equal(info.units[0].ivhd_type, 0x10);
    assert_int_equal(info.units[0].flags, 0xd1);
    assert_int_equal(info.units[0].efr, 0);
    assert_int_equal(info.skipped_ivhds, 0);
    assert_int_equal(info.nscopes, 8);
}

/* ---- VT-d, built here ---- */

static void test_dmar_include_all(void **state)
{
    dmar_begin(&tb, 38, 0);
    uint32_t at = drhd_begin(&tb, 0, 0, 0xfed90000);
    scope1(&tb, IOMMU_SCOPE_ENDPOINT, 0, 0, 2, 0);
    struct_end(&tb, at);
    at = drhd_begin(&tb, 1, 0, 0xfed91000); /* INCLUDE_PCI_ALL, last for its segment */
    scope1(&tb, IOMMU_SCOPE_IOAPIC, 8, 0xf0, 0x1f, 0);
    scope1(&tb, IOMMU_SCOPE_HPET, 0, 0, 0x1f, 7);
    struct_end(&tb, at);
    at = drhd_begin(&tb, 1, 1, 0xfed92000); /* the same for segment 1 */
    struct_end(&tb, at);
    sdt_end(&tb);

    parse_ok(dmar_parse, &tb);
    assert_false(info.intr_remap);
    assert_int_equal(info.address_width, 39);
    assert_int_equal(info.nunits, 3);
    assert_false(info.units[0].include_all);
    assert_true(info.units[1].include_all);
    assert_true(info.units[2].include_all);
    assert_int_equal(info.units[2].segment, 1);
    assert_int_equal(info.nscopes, 3);
    expect_scope(1, 1, IOMMU_SCOPE_IOAPIC, PCI_BDF(0xf0, 0x1f, 0), PCI_BDF(0xf0, 0x1f, 0));
    assert_int_equal(info.scopes[1].id, 8);
    expect_scope(2, 1, IOMMU_SCOPE_HPET, PCI_BDF(0, 0x1f, 7), PCI_BDF(0, 0x1f, 7));
    expect_scope_text(1, "ioapic 8 at 0000:f0:1f.0");

    expect_unit_for(0, PCI_BDF(0, 2, 0), 0, PCI_BDF(0, 2, 0));
    expect_unit_for(0, PCI_BDF(0, 0x1d, 0), 1, PCI_BDF(0, 0x1d, 0));
    expect_unit_for(0, PCI_BDF(0x80, 0, 0), 1, PCI_BDF(0x80, 0, 0));
    expect_unit_for(1, PCI_BDF(0, 2, 0), 2, PCI_BDF(0, 2, 0));
    expect_unit_for(2, PCI_BDF(0, 2, 0), -1, PCI_BDF(0, 2, 0));
    char buf[96];
    iommu_unit_text(&info, 1, buf, sizeof(buf));
    assert_string_equal(buf, "VT-d unit 1 at 0xfed91000 segment 0 include-all");

    /* a scope that was dropped might have named the device: no catch-all then */
    info.dropped_scopes = 1;
    expect_unit_for(0, PCI_BDF(0, 2, 0), 0, PCI_BDF(0, 2, 0));
    expect_unit_for(0, PCI_BDF(0, 0x1d, 0), -1, PCI_BDF(0, 0x1d, 0));
}

/* Fake configuration space: a few functions with their first 64 bytes. */
struct fake_fn {
    pci_bdf bdf;
    uint32_t regs[16];
};

static struct fake_fn fake_fns[8];
static unsigned nfake;

static uint32_t fake_read32(void *ctx, uint16_t segment, pci_bdf bdf, uint16_t off)
{
    assert_int_equal(off & 3, 0);
    for (unsigned i = 0; i < nfake; i++)
        if (segment == 0 && fake_fns[i].bdf == bdf)
            return off < 64 ? fake_fns[i].regs[off / 4] : 0;
    return 0xffffffff;
}

static void fake_add(pci_bdf bdf, bool bridge, uint8_t sec, uint8_t sub)
{
    struct fake_fn *f = &fake_fns[nfake++];
    memset(f, 0, sizeof(*f));
    f->bdf = bdf;
    f->regs[0] = 0x12348086;
    f->regs[PCI_HEADER_TYPE / 4] = (uint32_t)(bridge ? PCI_HEADER_BRIDGE : 0) << 16;
    f->regs[PCI_SECONDARY_BUS / 4] = (uint32_t)sec << 8 | (uint32_t)sub << 16;
}

static const struct pci_cfg fake_cfg = {.ctx = NULL, .read32 = fake_read32};

/* 00:1c.0 bridge to buses 2-5; 02:00.0 bridge to bus 3; 03:00.0 and 04:00.0 endpoints. */
static void fake_topology(void)
{
    nfake = 0;
    fake_add(PCI_BDF(0, 0x1c, 0), true, 2, 5);
    fake_add(PCI_BDF(2, 0, 0), true, 3, 3);
    fake_add(PCI_BDF(3, 0, 0), false, 0, 0);
    fake_add(PCI_BDF(4, 0, 0), false, 0, 0);
    fake_add(PCI_BDF(0, 0x1f, 0), false, 0, 0);
}

static void test_dmar_bridge_and_paths(void **state)
{
    static const uint8_t to_03_00[] = {0x1c, 0, 0, 0, 0, 0}; /* 00:1c.0 -> 02:00.0 -> 03:00.0 */
    static const uint8_t via_absent[] = {0x1b, 0, 0, 0};     /* 00:1b.0 is not there */
    dmar_begin(&tb, 47, 0);
    uint32_t at = drhd_begin(&tb, 0, 0, 0xfed90000);
    scope1(&tb, IOMMU_SCOPE_BRIDGE, 0, 0, 0x1c, 0);
    struct_end(&tb, at);
    at = drhd_begin(&tb, 0, 0, 0xfed91000);
    scope(&tb, IOMMU_SCOPE_ENDPOINT, 0, 0, to_03_00, 3);
    scope(&tb, IOMMU_SCOPE_ENDPOINT, 0, 0, via_absent, 2);
    struct_end(&tb, at);
    at = drhd_begin(&tb, 1, 0, 0xfed92000);
    struct_end(&tb, at);
    sdt_end(&tb);

    parse_ok(dmar_parse, &tb);
    assert_int_equal(info.nscopes, 3);
    /* unresolved: the bridge's buses and the long paths' ends are in config space */
    for (unsigned i = 0; i < 3; i++)
        assert_false(info.scopes[i].resolved);
    assert_int_equal(info.scopes[1].path_len, 3);
    assert_int_equal(info.scopes[1].path[0], 0x1c << 3);
    assert_int_equal(info.scopes[1].first, PCI_BDF(0, 0x1c, 0));
    expect_scope_text(1, "endpoint 0000:00:1c.0, unresolved path of 3 hops");
    expect_scope_text(0, "bridge 0000:00:1c.0, buses unresolved");
    /* until then nothing may fall to the catch-all: it could be behind the bridge */
    expect_unit_for(0, PCI_BDF(4, 0, 0), -1, PCI_BDF(4, 0, 0));
    expect_unit_for(0, PCI_BDF(0, 0x1f, 0), -1, PCI_BDF(0, 0x1f, 0));

    fake_topology();
    assert_int_equal(iommu_resolve_scopes(&info, &fake_cfg), 1); /* the path via 00:1b.0 */
    const struct iommu_scope *br = &info.scopes[0];
    assert_true(br->resolved);
    assert_int_equal(br->first, PCI_BDF(0, 0x1c, 0));
    assert_int_equal(br->sec_bus, 2);
    assert_int_equal(br->sub_bus, 5);
    expect_scope(1, 1, IOMMU_SCOPE_ENDPOINT, PCI_BDF(3, 0, 0), PCI_BDF(3, 0, 0));
    assert_true(info.scopes[2].resolved && info.scopes[2].absent);
    expect_scope_text(0, "bridge 0000:00:1c.0 buses 02-05");
    expect_scope_text(1, "endpoint 0000:03:00.0");
    expect_scope_text(2, "endpoint 0000, path from bus 00 leads to nothing present");

    expect_unit_for(0, PCI_BDF(3, 0, 0), 1, PCI_BDF(3, 0, 0)); /* listed beats behind a bridge */
    expect_unit_for(0, PCI_BDF(4, 0, 0), 0, PCI_BDF(4, 0, 0)); /* behind the bridge */
    expect_unit_for(0, PCI_BDF(5, 3, 1), 0, PCI_BDF(5, 3, 1));
    expect_unit_for(0, PCI_BDF(0, 0x1c, 0), 0, PCI_BDF(0, 0x1c, 0)); /* the bridge itself */
    expect_unit_for(0, PCI_BDF(6, 0, 0), 2, PCI_BDF(6, 0, 0));       /* past its buses */
    expect_unit_for(0, PCI_BDF(0, 0x1f, 0), 2, PCI_BDF(0, 0x1f, 0));
    assert_int_equal(iommu_resolve_scopes(&info, &fake_cfg), 0); /* nothing left to do */

    /* the walk itself */
    pci_bdf bdf = 0;
    assert_int_equal(
        iommu_path_resolve(&fake_cfg, 0, 0, (const uint8_t[]){0x1c << 3, 0, 0}, 3, &bdf, &why), 0);
    assert_int_equal(bdf, PCI_BDF(3, 0, 0));
    assert_int_equal(
        iommu_path_resolve(&fake_cfg, 0, 0, (const uint8_t[]){0x1f << 3, 0}, 2, &bdf, &why),
        -E_NOENT);
    assert_string_equal(why.text, "path hop 0 (00:1f.0) is no bridge with buses behind it");
    assert_int_equal(iommu_path_resolve(&fake_cfg, 0, 0, (const uint8_t[]){0}, 0, &bdf, &why),
                     -E_INVAL);
    assert_int_equal(iommu_path_resolve(&fake_cfg, 0, 0, (const uint8_t[IOMMU_MAX_PATH + 1]){0},
                                        IOMMU_MAX_PATH + 1, &bdf, &why),
                     -E_INVAL);
    /* a bridge whose secondary bus is not behind it (a loop) ends the walk */
    fake_fns[1].regs[PCI_SECONDARY_BUS / 4] = 1u << 8 | 3u << 16;
    assert_int_equal(
        iommu_path_resolve(&fake_cfg, 0, 0, (const uint8_t[]){0x1c << 3, 0, 0}, 3, &bdf, &why),
        -E_NOENT);
    assert_string_equal(why.text, "path hop 1 (02:00.0) is no bridge with buses behind it");
}

static void test_dmar_rmrr_and_others(void **state)
{
    dmar_begin(&tb, 38, IOMMU_DMAR_INTR_REMAP | IOMMU_DMAR_X2APIC_OPT_OUT);
    uint32_t at = drhd_begin(&tb, 1, 0, 0xfed90000);
    struct_end(&tb, at);
    at = rmrr_begin(&tb, 0, 0x7c000000, 0x7c0fffff);
    scope1(&tb, IOMMU_SCOPE_ENDPOINT, 0, 0, 0x14, 0);
    scope1(&tb, IOMMU_SCOPE_ENDPOINT, 0, 0, 0x1a, 0);
    struct_end(&tb, at);
    at = struct_begin(&tb, 2); /* ATSR: flags, reserved, segment, scopes */
    emit(&tb, 0, 4);
    scope1(&tb, IOMMU_SCOPE_BRIDGE, 0, 0, 1, 0);
    struct_end(&tb, at);
    at = struct_begin(&tb, 3); /* RHSA */
    emit(&tb, 0, 4);
    emit(&tb, 0xfed90000, 8);
    emit(&tb, 0, 4);
    struct_end(&tb, at);
    at = struct_begin(&tb, 4); /* ANDD */
    emit(&tb, 0, 3);
    emit(&tb, 1, 1);
    emit(&tb, 0x5453455c, 4); /* "\TST" */
    emit(&tb, 0, 1);
    struct_end(&tb, at);
    at = struct_begin(&tb, 0x77); /* reserved type: skipped */
    emit(&tb, 0xffffffff, 4);
    struct_end(&tb, at);
    sdt_end(&tb);

    parse_ok(dmar_parse, &tb);
    assert_true(info.intr_remap);
    assert_int_equal(info.table_flags, IOMMU_DMAR_INTR_REMAP | IOMMU_DMAR_X2APIC_OPT_OUT);
    assert_int_equal(info.nunits, 1);
    assert_int_equal(info.nscopes, 0);
    assert_int_equal(info.nreserved, 2);
    for (unsigned i = 0; i < 2; i++) {
        const struct iommu_reserved *r = &info.reserved[i];
        assert_int_equal(r->kind, IOMMU_RESERVED_RMRR);
        assert_int_equal(r->base, 0x7c000000);
        assert_int_equal(r->limit, 0x7c0fffff);
        assert_int_equal(r->dev.unit, IOMMU_NO_UNIT);
        assert_int_equal(r->dev.type, IOMMU_SCOPE_ENDPOINT);
        assert_true(r->dev.resolved);
    }
    assert_int_equal(info.reserved[0].dev.first, PCI_BDF(0, 0x14, 0));
    assert_int_equal(info.reserved[1].dev.first, PCI_BDF(0, 0x1a, 0));
    expect_unit_for(0, PCI_BDF(0, 0x14, 0), 0, PCI_BDF(0, 0x14, 0)); /* include-all */
}

/* More units and scopes than kept: counted, and never a catch-all. */
static void test_dmar_limits(void **state)
{
    dmar_begin(&tb, 38, 0);
    for (unsigned i = 0; i < IOMMU_MAX_UNITS + 8; i++) {
        uint32_t at = drhd_begin(&tb, 0, 0, 0xfe000000 + 0x1000 * i);
        scope1(&tb, IOMMU_SCOPE_ENDPOINT, 0, (uint8_t)i, 0, 0);
        struct_end(&tb, at);
    }
    uint32_t at = drhd_begin(&tb, 1, 0, 0xfd000000);
    struct_end(&tb, at);
    sdt_end(&tb);
    parse_ok(dmar_parse, &tb);
    assert_int_equal(info.nunits, IOMMU_MAX_UNITS);
    assert_int_equal(info.dropped_units, 9);
    assert_int_equal(info.nscopes, IOMMU_MAX_UNITS);
    assert_int_equal(info.dropped_scopes, 8);
    expect_unit_for(0, PCI_BDF(31, 0, 0), 31, PCI_BDF(31, 0, 0));
    expect_unit_for(0, PCI_BDF(32, 0, 0), -1, PCI_BDF(32, 0, 0));

    /* one unit with more scopes than kept, and one path longer than kept */
    static const uint8_t long_path[2 * (IOMMU_MAX_PATH + 1)] = {0};
    dmar_begin(&tb, 38, 0);
    at = drhd_begin(&tb, 0, 0, 0xfed90000);
    for (unsigned i = 0; i < IOMMU_MAX_SCOPES + 10; i++)
        scope1(&tb, IOMMU_SCOPE_ENDPOINT, 0, (uint8_t)(i >> 8), (uint8_t)(i >> 3 & 31),
               (uint8_t)(i & 7));
    struct_end(&tb, at);
    at = drhd_begin(&tb, 0, 0, 0xfed91000);
    scope(&tb, IOMMU_SCOPE_ENDPOINT, 0, 0, long_path, IOMMU_MAX_PATH + 1);
    struct_end(&tb, at);
    sdt_end(&tb);
    parse_ok(dmar_parse, &tb);
    assert_int_equal(info.nunits, 2);
    assert_int_equal(info.nscopes, IOMMU_MAX_SCOPES);
    assert_int_equal(info.dropped_scopes, 11);
    expect_scope(IOMMU_MAX_SCOPES - 1, 0, IOMMU_SCOPE_ENDPOINT, PCI_BDF(1, 31, 7),
                 PCI_BDF(1, 31, 7));
}

/* ---- VT-d, broken ---- */

static void test_dmar_malformed(void **state)
{
    /* header */
    dmar_begin(&tb, 38, 0);
    uint32_t at = drhd_begin(&tb, 1, 0, 0xfed90000);
    struct_end(&tb, at);
    sdt_end(&tb);
    struct tbl good = tb;
    tb.len = 20;
    parse_fails(dmar_parse, &tb, -E_BADMSG, "DMAR: 20 bytes are shorter than a table header");
    tb = good;
    put_le(tb.b + 4, 40, 4);
    parse_fails(dmar_parse, &tb, -E_BADMSG, "DMAR length 40 is shorter than its 48-byte header");
    tb = good;
    tb.len -= 1;
    parse_fails(dmar_parse, &tb, -E_BADMSG, "DMAR length 64 exceeds the 63 bytes available");
    tb = good;
    memcpy(tb.b, "DMAX", 4);
    parse_fails(dmar_parse, &tb, -E_BADMSG, "DMAR signature is \"DMAX\"");
    tb = good;
    tb.b[20]++;
    parse_fails(dmar_parse, &tb, -E_BADMSG, "DMAR checksum mismatch (bytes sum to 0x01)");
    tb = good;
    tb.b[36] = 0xff;
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG, "DMAR host address width 256 is implausible");
    assert_int_equal(dmar_parse(NULL, 64, &info, &why), -E_INVAL);
    assert_int_equal(dmar_parse(good.b, good.len, NULL, NULL), -E_INVAL);

    /* structures */
    dmar_begin(&tb, 38, 0);
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_NOENT, "DMAR lists no remapping hardware unit (DRHD)");
    dmar_begin(&tb, 38, 0);
    at = drhd_begin(&tb, 1, 0, 0xfed90000);
    put_le(tb.b + at + 2, 0, 2);
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG, "DMAR DRHD at offset 48 has length 0 (minimum 16)");
    dmar_begin(&tb, 38, 0);
    at = struct_begin(&tb, 9);
    put_le(tb.b + at + 2, 2, 2);
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG, "DMAR structure at offset 48 has length 2 (minimum 4)");
    dmar_begin(&tb, 38, 0);
    at = drhd_begin(&tb, 1, 0, 0xfed90000);
    put_le(tb.b + at + 2, 17, 2);
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG,
                "DMAR DRHD at offset 48 (length 17) overruns the table");
    tb = good;
    emit(&tb, 0, 2);
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG, "DMAR structure at offset 64 overruns the table");
    dmar_begin(&tb, 38, 0);
    at = drhd_begin(&tb, 1, 0, 0);
    struct_end(&tb, at);
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG, "DMAR DRHD at offset 48: register base 0x0 is zero");
    dmar_begin(&tb, 38, 0);
    at = drhd_begin(&tb, 1, 0, 0xfed90800);
    struct_end(&tb, at);
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG, "register base 0xfed90800 is not page-aligned");
    dmar_begin(&tb, 38, 0);
    at = drhd_begin(&tb, 1, 0, 0xfed90000);
    struct_end(&tb, at);
    at = drhd_begin(&tb, 1, 0, 0xfed91000);
    struct_end(&tb, at);
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG,
                "DMAR DRHD at offset 64: a second INCLUDE_PCI_ALL unit for segment 0 (the first "
                "at offset 48)");
    dmar_begin(&tb, 38, 0);
    at = drhd_begin(&tb, 1, 0, 0xfed90000);
    struct_end(&tb, at);
    at = rmrr_begin(&tb, 0, 0x2000, 0x1fff);
    struct_end(&tb, at);
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG,
                "DMAR RMRR at offset 64: limit 0x1fff is below base 0x2000");

    /* device scopes */
    dmar_begin(&tb, 38, 0);
    at = drhd_begin(&tb, 0, 0, 0xfed90000);
    scope1(&tb, IOMMU_SCOPE_ENDPOINT, 0, 0, 2, 0);
    struct_end(&tb, at);
    sdt_end(&tb);
    good = tb;
    tb.b[65] = 16; /* the scope's length: past its DRHD (and the table) */
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG,
                "DMAR DRHD at offset 48: device scope at offset 64 (length 16) overruns the "
                "structure");
    tb = good;
    tb.b[65] = 0;
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG,
                "DMAR DRHD at offset 48: device scope at offset 64 has length 0 (minimum 8)");
    tb = good;
    tb.b[70] = 32;
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG, "path hop 0 (20.0) is not a PCI function");
    tb = good;
    tb.b[71] = 8;
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG, "path hop 0 (02.8) is not a PCI function");
    /* a scope one byte longer than its path: odd path length (DRHD and table grown to fit) */
    tb = good;
    tb.b[65] = 9;
    emit(&tb, 0, 1);
    put_le(tb.b + 50, 25, 2);
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG,
                "DMAR DRHD at offset 48: device scope at offset 64 has an odd path length (3)");
    /* a scope cut short by its DRHD, with the table going on */
    tb = good;
    put_le(tb.b + 50, 20, 2);
    at = drhd_begin(&tb, 1, 0, 0xfed91000);
    struct_end(&tb, at);
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG,
                "DMAR DRHD at offset 48: device scope at offset 64 (length 8) overruns the "
                "structure");
    tb = good;
    put_le(tb.b + 50, 17, 2);
    tb.len = 48 + 17;
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG,
                "DMAR DRHD at offset 48: device scope at offset 64 overruns the structure");
    /* a scope of an RMRR and of an ATSR is checked the same way */
    dmar_begin(&tb, 38, 0);
    at = drhd_begin(&tb, 1, 0, 0xfed90000);
    struct_end(&tb, at);
    at = struct_begin(&tb, 2);
    emit(&tb, 0, 4);
    scope1(&tb, IOMMU_SCOPE_BRIDGE, 0, 0, 1, 0);
    tb.b[tb.len - 7] = 7;
    struct_end(&tb, at);
    sdt_end(&tb);
    parse_fails(dmar_parse, &tb, -E_BADMSG,
                "DMAR ATSR at offset 64: device scope at offset 72 has length 7 (minimum 8)");
}

/* ---- AMD-Vi, built here ---- */

static void test_ivrs_ranges_and_aliases(void **state)
{
    ivrs_begin(&tb, 48u << 8);
    uint32_t at = ivhd_begin(&tb, 0x10, PCI_BDF(0, 0x18, 2), 0xfeb80000, 0);
    de4(&tb, 0, 0);                                              /* padding */
    de4(&tb, 3, PCI_BDF(0, 0, 0));                               /* range start */
    de4(&tb, 4, PCI_BDF(0, 0x1f, 7));                            /* range end */
    de4(&tb, 2, PCI_BDF(1, 0, 0));                               /* select */
    de8(&tb, 0x42, PCI_BDF(2, 0, 0), 0, PCI_BDF(0, 0x1e, 0), 0); /* alias select */
    de8(&tb, 0x43, PCI_BDF(3, 0, 0), 0, PCI_BDF(0, 0x1e, 1), 0); /* alias range start */
    de4(&tb, 4, PCI_BDF(3, 0x1f, 7));
    de8(&tb, 0x46, PCI_BDF(0x10, 0, 0), 0, 0, 0x80); /* extended select */
    de8(&tb, 0x47, PCI_BDF(0x20, 0, 0), 0, 0, 0);    /* extended range start */
    de4(&tb, 4, PCI_BDF(0x20, 0, 7));
    de8(&tb, 0x48, 0, 2, PCI_BDF(0, 0x14, 0), 2); /* special: HPET 2 */
    de8(&tb, 0x7f, 0, 0, 0, 0);                   /* reserved 8-byte type: skipped */
    emit(&tb, 0xf0, 1);                           /* ACPI HID entry with a 4-byte UID */
    emit(&tb, PCI_BDF(0, 0x14, 5), 2);
    emit(&tb, 0, 1);
    emit(&tb, 0x3130304e494f5041ull, 8); /* "AMDI0010"-like HID */
    emit(&tb, 0, 8);
    emit(&tb, 2, 1);
    emit(&tb, 4, 1);
    emit(&tb, 0x30303030, 4);
    struct_end(&tb, at);
    at = ivhd_begin(&tb, 0x10, PCI_BDF(0x40, 0, 2), 0xfeb90000, 0);
    de4(&tb, 2, PCI_BDF(0x41, 0, 0));
    de4(&tb, 1, 0); /* all */
    struct_end(&tb, at);
    ivmd(&tb, 0x21, IOMMU_IVMD_UNITY | IOMMU_IVMD_READ | IOMMU_IVMD_WRITE, PCI_BDF(0, 0x12, 0), 0,
         0xa0000, 0x20000);
    ivmd(&tb, 0x22, IOMMU_IVMD_EXCLUSION, PCI_BDF(1, 0, 0), PCI_BDF(1, 0x1f, 7), 0x80000000,
         0x100000);
    ivmd(&tb, 0x20, IOMMU_IVMD_UNITY, 0, 0, 0xfffff000, 0x1000);
    ivmd(&tb, 0x21, IOMMU_IVMD_UNITY, PCI_BDF(0, 0x12, 0), 0, 0x1000, 0); /* empty: ignored */
    at = tb.len; /* an unknown block type: skipped */
    emit(&tb, 0x55, 1);
    emit(&tb, 0, 1);
    emit(&tb, 6, 2);
    emit(&tb, 0, 2);
    sdt_end(&tb);

    parse_ok(ivrs_parse, &tb);
    assert_int_equal(info.address_width, 48);
    assert_int_equal(info.revision, 2);
    assert_false(info.intr_remap); /* an HPET but no IOAPIC */
    assert_int_equal(info.nunits, 2);
    assert_int_equal(info.units[0].own_bdf, PCI_BDF(0, 0x18, 2));
    assert_int_equal(info.units[1].offset, 48 + 24 + 98);
    assert_int_equal(info.nscopes, 10);
    expect_scope(0, 0, IOMMU_SCOPE_RANGE, PCI_BDF(0, 0, 0), PCI_BDF(0, 0x1f, 7));
    assert_false(info.scopes[0].has_alias);
    expect_scope(1, 0, IOMMU_SCOPE_ENDPOINT, PCI_BDF(1, 0, 0), PCI_BDF(1, 0, 0));
    expect_scope(2, 0, IOMMU_SCOPE_ENDPOINT, PCI_BDF(2, 0, 0), PCI_BDF(2, 0, 0));
    assert_true(info.scopes[2].has_alias);
    assert_int_equal(info.scopes[2].alias, PCI_BDF(0, 0x1e, 0));
    expect_scope(3, 0, IOMMU_SCOPE_RANGE, PCI_BDF(3, 0, 0), PCI_BDF(3, 0x1f, 7));
    assert_int_equal(info.scopes[3].alias, PCI_BDF(0, 0x1e, 1));
    expect_scope(4, 0, IOMMU_SCOPE_ENDPOINT, PCI_BDF(0x10, 0, 0), PCI_BDF(0x10, 0, 0));
    expect_scope(5, 0, IOMMU_SCOPE_RANGE, PCI_BDF(0x20, 0, 0), PCI_BDF(0x20, 0, 7));
    expect_scope(6, 0, IOMMU_SCOPE_HPET, PCI_BDF(0, 0x14, 0), PCI_BDF(0, 0x14, 0));
    assert_int_equal(info.scopes[6].id, 2);
    expect_scope(7, 0, IOMMU_SCOPE_ACPI, PCI_BDF(0, 0x14, 5), PCI_BDF(0, 0x14, 5));
    expect_scope(8, 1, IOMMU_SCOPE_ENDPOINT, PCI_BDF(0x41, 0, 0), PCI_BDF(0x41, 0, 0));
    expect_scope(9, 1, IOMMU_SCOPE_ALL, 0, 0xffff);
    expect_scope_text(0, "range 0000:00:00.0-00:1f.7");
    expect_scope_text(2, "endpoint 0000:02:00.0 as 00:1e.0");
    expect_scope_text(3, "range 0000:03:00.0-03:1f.7 as 00:1e.1");
    expect_scope_text(9, "all of segment 0000");

    expect_unit_for(0, PCI_BDF(0, 5, 0), 0, PCI_BDF(0, 5, 0)); /* range beats all */
    expect_unit_for(0, PCI_BDF(1, 0, 0), 0, PCI_BDF(1, 0, 0));
    expect_unit_for(0, PCI_BDF(2, 0, 0), 0, PCI_BDF(0, 0x1e, 0)); /* alias select */
    expect_unit_for(0, PCI_BDF(3, 4, 2), 0, PCI_BDF(0, 0x1e, 1)); /* alias range */
    expect_unit_for(0, PCI_BDF(0x20, 0, 7), 0, PCI_BDF(0x20, 0, 7));
    expect_unit_for(0, PCI_BDF(0x20, 1, 0), 1, PCI_BDF(0x20, 1, 0)); /* all */
    expect_unit_for(0, PCI_BDF(0x41, 0, 0), 1, PCI_BDF(0x41, 0, 0));
    expect_unit_for(1, PCI_BDF(0x41, 0, 0), -1, PCI_BDF(0x41, 0, 0));
    info.dropped_scopes = 1; /* the "all" entry is a catch-all: it needs every scope known */
    expect_unit_for(0, PCI_BDF(0x20, 1, 0), -1, PCI_BDF(0x20, 1, 0));
    expect_unit_for(0, PCI_BDF(3, 4, 2), 0, PCI_BDF(0, 0x1e, 1));

    assert_int_equal(info.nreserved, 3);
    const struct iommu_reserved *r = &info.reserved[0];
    assert_int_equal(r->kind, IOMMU_RESERVED_IVMD);
    assert_int_equal(r->flags, IOMMU_IVMD_UNITY | IOMMU_IVMD_READ | IOMMU_IVMD_WRITE);
    assert_int_equal(r->base, 0xa0000);
    assert_int_equal(r->limit, 0xbffff);
    assert_int_equal(r->dev.type, IOMMU_SCOPE_ENDPOINT);
    assert_int_equal(r->dev.first, PCI_BDF(0, 0x12, 0));
    assert_int_equal(r->dev.unit, IOMMU_NO_UNIT);
    r = &info.reserved[1];
    assert_int_equal(r->dev.type, IOMMU_SCOPE_RANGE);
    assert_int_equal(r->dev.first, PCI_BDF(1, 0, 0));
    assert_int_equal(r->dev.last, PCI_BDF(1, 0x1f, 7));
    assert_int_equal(r->limit, 0x800fffff);
    r = &info.reserved[2];
    assert_int_equal(r->dev.type, IOMMU_SCOPE_ALL);
    assert_int_equal(r->limit, 0xffffffff);
}

/* One IOMMU listed as types 0x10, 0x11 and 0x40: only the 0x40 IVHD counts; an IOMMU listed
 * only as 0x10 next to it still counts. */
static void test_ivrs_duplicate_ivhds(void **state)
{
    ivrs_begin(&tb, 40u << 8);
    uint32_t at = ivhd_begin(&tb, 0x10, PCI_BDF(0, 2, 0), 0xfed80000, 0);
    de4(&tb, 2, PCI_BDF(0, 3, 0));
    struct_end(&tb, at);
    at = ivhd_begin(&tb, 0x11, PCI_BDF(0, 2, 0), 0xfed80000, 0);
    de4(&tb, 2, PCI_BDF(0, 4, 0));
    struct_end(&tb, at);
    at = ivhd_begin(&tb, 0x10, PCI_BDF(0x80, 2, 0), 0xfed84000, 0);
    de4(&tb, 2, PCI_BDF(0x81, 0, 0));
    de8(&tb, 0x48, 0, 0x21, PCI_BDF(0x80, 0x14, 0), 1); /* IOAPIC 0x21 */
    struct_end(&tb, at);
    at = ivhd_begin(&tb, 0x40, PCI_BDF(0, 2, 0), 0xfed80000, 0);
    de4(&tb, 2, PCI_BDF(0, 5, 0));
    struct_end(&tb, at);
    at = ivhd_begin(&tb, 0x10, PCI_BDF(0, 2, 0), 0xfed80000, 1); /* another segment's */
    de4(&tb, 2, PCI_BDF(0, 6, 0));
    struct_end(&tb, at);
    sdt_end(&tb);

    parse_ok(ivrs_parse, &tb);
    assert_true(info.intr_remap);
    assert_int_equal(info.skipped_ivhds, 2);
    assert_int_equal(info.nunits, 3);
    assert_int_equal(info.units[0].ivhd_type, 0x10);
    assert_int_equal(info.units[0].own_bdf, PCI_BDF(0x80, 2, 0));
    assert_int_equal(info.units[1].ivhd_type, 0x40);
    assert_int_equal(info.units[1].own_bdf, PCI_BDF(0, 2, 0));
    assert_int_equal(info.units[2].segment, 1);
    expect_unit_for(0, PCI_BDF(0, 3, 0), -1, PCI_BDF(0, 3, 0)); /* only in the 0x10 IVHD */
    expect_unit_for(0, PCI_BDF(0, 4, 0), -1, PCI_BDF(0, 4, 0)); /* only in the 0x11 IVHD */
    expect_unit_for(0, PCI_BDF(0, 5, 0), 1, PCI_BDF(0, 5, 0));
    expect_unit_for(0, PCI_BDF(0x81, 0, 0), 0, PCI_BDF(0x81, 0, 0));
    expect_unit_for(1, PCI_BDF(0, 6, 0), 2, PCI_BDF(0, 6, 0));
    expect_scope(1, 0, IOMMU_SCOPE_IOAPIC, PCI_BDF(0x80, 0x14, 0), PCI_BDF(0x80, 0x14, 0));
    assert_int_equal(info.scopes[1].id, 0x21);

    /* the same IOMMU twice in one type is ambiguous */
    ivrs_begin(&tb, 40u << 8);
    at = ivhd_begin(&tb, 0x11, PCI_BDF(0, 2, 0), 0xfed80000, 0);
    struct_end(&tb, at);
    at = ivhd_begin(&tb, 0x11, PCI_BDF(0, 2, 0), 0xfed80000, 0);
    struct_end(&tb, at);
    sdt_end(&tb);
    parse_fails(ivrs_parse, &tb, -E_BADMSG,
                "IVRS IVHD at offset 88 describes the same IOMMU as the IVHD at offset 48");
}

static void test_ivrs_limits(void **state)
{
    ivrs_begin(&tb, 40u << 8);
    for (unsigned i = 0; i < IOMMU_MAX_UNITS + 3; i++) {
        uint32_t at = ivhd_begin(&tb, 0x10, PCI_BDF(i, 0, 2), 0xf0000000 + 0x4000 * i, 0);
        de4(&tb, 2, PCI_BDF(i, 1, 0));
        struct_end(&tb, at);
    }
    sdt_end(&tb);
    parse_ok(ivrs_parse, &tb);
    assert_int_equal(info.nunits, IOMMU_MAX_UNITS);
    assert_int_equal(info.dropped_units, 3);
    assert_int_equal(info.dropped_scopes, 3);
    expect_unit_for(0, PCI_BDF(IOMMU_MAX_UNITS - 1, 1, 0), IOMMU_MAX_UNITS - 1,
                    PCI_BDF(IOMMU_MAX_UNITS - 1, 1, 0));
    expect_unit_for(0, PCI_BDF(IOMMU_MAX_UNITS, 1, 0), -1, PCI_BDF(IOMMU_MAX_UNITS, 1, 0));
}

/* ---- AMD-Vi, broken ---- */

/* An IVRS with one 0x10 IVHD holding the device entry bytes given. */
static void ivrs_with_entries(const uint8_t *entries, unsigned n)
{
    ivrs_begin(&tb, 40u << 8);
    uint32_t at = ivhd_begin(&tb, 0x10, PCI_BDF(0, 2, 0), 0xfed80000, 0);
    for (unsigned i = 0; i < n; i++)
        emit(&tb, entries[i], 1);
    struct_end(&tb, at);
    sdt_end(&tb);
}

#define ENTRIES(...)                                                                               \
    ivrs_with_entries((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static void test_ivrs_malformed(void **state)
{
    ENTRIES(2, 0, 0, 0);
    struct tbl good = tb;
    tb.len = 35;
    parse_fails(ivrs_parse, &tb, -E_BADMSG, "IVRS: 35 bytes are shorter than a table header");
    tb = good;
    put_le(tb.b + 4, 44, 4);
    parse_fails(ivrs_parse, &tb, -E_BADMSG, "IVRS length 44 is shorter than its 48-byte header");
    tb = good;
    tb.b[60] ^= 0x80;
    parse_fails(ivrs_parse, &tb, -E_BADMSG, "IVRS checksum mismatch (bytes sum to 0x80)");
    parse_fails(dmar_parse, &good, -E_BADMSG, "DMAR signature is \"IVRS\"");
    assert_int_equal(ivrs_parse(NULL, 0, &info, NULL), -E_INVAL);

    /* blocks */
    tb = good;
    put_le(tb.b + 50, 0, 2);
    sdt_end(&tb);
    parse_fails(ivrs_parse, &tb, -E_BADMSG,
                "IVRS IVHD at offset 48 (type 0x10) has length 0 (minimum 24)");
    tb = good;
    tb.b[48] = 0x11; /* now too short for its 40-byte header */
    sdt_end(&tb);
    parse_fails(ivrs_parse, &tb, -E_BADMSG,
                "IVRS IVHD at offset 48 (type 0x11) has length 28 (minimum 40)");
    tb = good;
    tb.b[48] = 0x99;
    put_le(tb.b + 50, 3, 2);
    sdt_end(&tb);
    parse_fails(ivrs_parse, &tb, -E_BADMSG,
                "IVRS block at offset 48 (type 0x99) has length 3 (minimum 4)");
    tb = good;
    put_le(tb.b + 50, 29, 2);
    sdt_end(&tb);
    parse_fails(ivrs_parse, &tb, -E_BADMSG,
                "IVRS IVHD at offset 48 (type 0x10, length 29) overruns the table");
    tb = good;
    emit(&tb, 0x20, 3);
    sdt_end(&tb);
    parse_fails(ivrs_parse, &tb, -E_BADMSG, "IVRS block at offset 76 overruns the table");
    tb = good;
    put_le(tb.b + 56, 0, 8);
    sdt_end(&tb);
    parse_fails(ivrs_parse, &tb, -E_BADMSG, "IVRS IVHD at offset 48: register base 0x0 is zero");
    ivrs_begin(&tb, 0);
    ivmd(&tb, 0x20, 1, 0, 0, 0x1000, 0x1000);
    sdt_end(&tb);
    parse_fails(ivrs_parse, &tb, -E_NOENT, "IVRS lists no IOMMU");
    ivrs_begin(&tb, 0);
    ivmd(&tb, 0x22, 1, PCI_BDF(1, 0, 0), PCI_BDF(0, 1, 0), 0x1000, 0x1000);
    sdt_end(&tb);
    parse_fails(ivrs_parse, &tb, -E_BADMSG,
                "IVRS IVMD at offset 48: device range ends at 0x0008, below its start 0x0100");
    ivrs_begin(&tb, 0);
    ivmd(&tb, 0x21, 1, 0, 0, 0xfffffffffffff000ull, 0x2000);
    sdt_end(&tb);
    parse_fails(ivrs_parse, &tb, -E_BADMSG,
                "IVRS IVMD at offset 48: 0x2000 bytes at 0xfffffffffffff000 run past the address "
                "space");

    /* device entries */
    ENTRIES(2, 0, 0, 0, 0x42, 0, 0, 0);
    parse_fails(ivrs_parse, &tb, -E_BADMSG,
                "IVRS IVHD at offset 48: device entry at offset 76 (type 0x42, length 8) overruns "
                "the IVHD");
    ENTRIES(2, 0, 0);
    parse_fails(ivrs_parse, &tb, -E_BADMSG,
                "device entry at offset 72 (type 0x02, length 4) overruns the IVHD");
    ENTRIES(0x80, 0, 0, 0);
    parse_fails(ivrs_parse, &tb, -E_BADMSG,
                "IVRS IVHD at offset 48: device entry at offset 72 has type 0x80, of unknown "
                "length");
    ENTRIES(0xf0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0);
    parse_fails(ivrs_parse, &tb, -E_BADMSG,
                "device entry at offset 72 (type 0xf0, length 31) overruns the IVHD");
    ENTRIES(0xf0, 0, 0, 0, 0, 0, 0, 0, 0);
    parse_fails(ivrs_parse, &tb, -E_BADMSG,
                "device entry at offset 72 (type 0xf0, length 22) overruns the IVHD");
    ENTRIES(4, 0, 1, 0);
    parse_fails(ivrs_parse, &tb, -E_BADMSG,
                "IVRS IVHD at offset 48: range end at offset 72 without a start");
    ENTRIES(3, 0, 1, 0, 2, 0, 0, 0);
    parse_fails(ivrs_parse, &tb, -E_BADMSG,
                "IVRS IVHD at offset 48: the range started at offset 72 has no end");
    ENTRIES(3, 0, 1, 0, 0x43, 0, 2, 0, 0, 0, 0, 0, 4, 0, 3, 0);
    parse_fails(ivrs_parse, &tb, -E_BADMSG,
                "IVRS IVHD at offset 48: range start at offset 76 before the range started at "
                "offset 72 has ended");
    ENTRIES(3, 0, 2, 0, 4, 0xff, 1, 0);
    parse_fails(ivrs_parse, &tb, -E_BADMSG,
                "IVRS IVHD at offset 48: range end 0x01ff at offset 76 is below its start 0x0200");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qemu_dmar),
        cmocka_unit_test(test_qemu_ivrs),
        cmocka_unit_test(test_dmar_include_all),
        cmocka_unit_test(test_dmar_bridge_and_paths),
        cmocka_unit_test(test_dmar_rmrr_and_others),
        cmocka_unit_test(test_dmar_limits),
        cmocka_unit_test(test_dmar_malformed),
        cmocka_unit_test(test_ivrs_ranges_and_aliases),
        cmocka_unit_test(test_ivrs_duplicate_ivhds),
        cmocka_unit_test(test_ivrs_limits),
        cmocka_unit_test(test_ivrs_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
