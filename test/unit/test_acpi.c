/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* ACPI parser on tables built in fake physical memory, broken on purpose, and dumped from QEMU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "core/acpi.h"
#include "core/klib.h"

/* ---- Fake physical memory: blobs at chosen addresses, nothing in between ---- */

#define MAX_BLOBS 64

struct blob {
    uint64_t pa;
    size_t len;
    uint8_t *alloc; /* one byte more than len: data sits at an odd address */
    char name[64];
};

struct sys {
    struct blob blobs[MAX_BLOBS];
    unsigned nblobs;
    struct acpi_mem mem;
    struct acpi_info info;
    struct refusal why;
    uint64_t rsdp_pa;
};

static uint8_t *blob_data(struct blob *b)
{
    return b->alloc + 1;
}

static const void *fake_map(void *ctx, uint64_t pa, uint64_t len)
{
    struct sys *s = ctx;
    for (unsigned i = 0; i < s->nblobs; i++) {
        struct blob *b = &s->blobs[i];
        if (pa >= b->pa && pa - b->pa <= b->len && len <= b->len - (pa - b->pa))
            return blob_data(b) + (pa - b->pa);
    }
    return NULL;
}

static void mem_add(struct sys *s, uint64_t pa, const void *data, size_t len)
{
    assert_true(s->nblobs < MAX_BLOBS);
    struct blob *b = &s->blobs[s->nblobs++];
    b->pa = pa;
    b->len = len;
    b->alloc = malloc(len + 1);
    assert_non_null(b->alloc);
    memcpy(blob_data(b), data, len);
}

/* Writable bytes at pa, for corrupting tables after they are placed. */
static uint8_t *mem_at(struct sys *s, uint64_t pa)
{
    for (unsigned i = 0; i < s->nblobs; i++)
        if (pa >= s->blobs[i].pa && pa < s->blobs[i].pa + s->blobs[i].len)
            return blob_data(&s->blobs[i]) + (pa - s->blobs[i].pa);
    fail_msg("nothing at 0x%llx", (unsigned long long)pa);
    return NULL;
}

static int setup(void **state)
{
    struct sys *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    s->mem = (struct acpi_mem){.ctx = s, .map = fake_map};
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    struct sys *s = *state;
    for (unsigned i = 0; i < s->nblobs; i++)
        free(s->blobs[i].alloc);
    free(s);
    return 0;
}

/* ---- Table builders: layouts written from the ACPI specification, apart from acpi.c ---- */

struct tbl {
    uint8_t b[32768]; /* room for a MADT of more than ACPI_MAX_CPUS entries */
    uint32_t len;
};

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void emit(struct tbl *t, uint64_t v, unsigned n)
{
    assert_true(t->len + n <= sizeof(t->b));
    put_le(t->b + t->len, v, n);
    t->len += n;
}

/* Makes the len bytes at p sum to zero by adjusting the byte at p[at]. */
static void fix_checksum(uint8_t *p, uint32_t len, uint32_t at)
{
    uint8_t sum = 0;
    p[at] = 0;
    for (uint32_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    p[at] = (uint8_t)(0x100 - sum);
}

static void sdt_begin(struct tbl *t, const char *sig)
{
    memset(t, 0, sizeof(*t));
    memcpy(t->b, sig, 4);
    t->b[8] = 1;                      /* revision */
    memcpy(t->b + 10, "SIDECR", 6);   /* OEM ID */
    memcpy(t->b + 16, "TESTTABL", 8); /* OEM table ID */
    put_le(t->b + 24, 1, 4);          /* OEM revision */
    memcpy(t->b + 28, "SCTB", 4);     /* creator ID */
    put_le(t->b + 32, 0x20260101, 4); /* creator revision */
    t->len = 36;
}

/* Writes the length (offset 4) and the checksum (offset 9). */
static void sdt_end(struct tbl *t)
{
    put_le(t->b + 4, t->len, 4);
    fix_checksum(t->b, t->len, 9);
}

static void madt_begin(struct tbl *t, uint32_t lapic, uint32_t flags)
{
    sdt_begin(t, "APIC");
    emit(t, lapic, 4);
    emit(t, flags, 4);
}

static void madt_lapic(struct tbl *t, uint8_t uid, uint8_t id, uint32_t flags)
{
    emit(t, 0, 1);
    emit(t, 8, 1);
    emit(t, uid, 1);
    emit(t, id, 1);
    emit(t, flags, 4);
}

static void madt_ioapic(struct tbl *t, uint8_t id, uint32_t address, uint32_t gsi_base)
{
    emit(t, 1, 1);
    emit(t, 12, 1);
    emit(t, id, 1);
    emit(t, 0, 1);
    emit(t, address, 4);
    emit(t, gsi_base, 4);
}

static void madt_override(struct tbl *t, uint8_t source, uint32_t gsi, uint16_t flags)
{
    emit(t, 2, 1);
    emit(t, 10, 1);
    emit(t, 0, 1); /* bus: ISA */
    emit(t, source, 1);
    emit(t, gsi, 4);
    emit(t, flags, 2);
}

static void madt_lapic_override(struct tbl *t, uint64_t address)
{
    emit(t, 5, 1);
    emit(t, 12, 1);
    emit(t, 0, 2);
    emit(t, address, 8);
}

static void madt_x2apic(struct tbl *t, uint32_t id, uint32_t flags, uint32_t uid)
{
    emit(t, 9, 1);
    emit(t, 16, 1);
    emit(t, 0, 2);
    emit(t, id, 4);
    emit(t, flags, 4);
    emit(t, uid, 4);
}

/* MADT with n enabled local APIC entries, IDs 0..n-1, plus one IO APIC and two overrides. */
static void madt_standard(struct tbl *t, unsigned ncpus)
{
    madt_begin(t, 0xfee00000, 1);
    for (unsigned i = 0; i < ncpus; i++)
        madt_lapic(t, (uint8_t)i, (uint8_t)i, 1);
    madt_ioapic(t, 0, 0xfec00000, 0);
    madt_override(t, 0, 2, 0);
    madt_override(t, 9, 9, 0xd);
    sdt_end(t);
}

#define FADT_FULL_LENGTH 276
#define FADT_FLAG_RESET_REG_SUP (1u << 10)

/* FADT of the given length; fields beyond it are left out. */
static void fadt_build(struct tbl *t, uint32_t length, uint32_t pm_tmr, uint32_t flags,
                       uint8_t reset_space, uint64_t reset_addr, uint8_t reset_value)
{
    sdt_begin(t, "FACP");
    t->len = length;
    if (length >= 80)
        put_le(t->b + 76, pm_tmr, 4);
    if (length >= 116)
        put_le(t->b + 112, flags, 4);
    if (length >= 129) {
        t->b[116] = reset_space;
        t->b[117] = 8; /* bit width */
        t->b[118] = 0; /* bit offset */
        t->b[119] = 1; /* access size: byte */
        put_le(t->b + 120, reset_addr, 8);
        t->b[128] = reset_value;
    }
    sdt_end(t);
}

static void root_build(struct tbl *t, bool xsdt, const uint64_t *addrs, unsigned n)
{
    sdt_begin(t, xsdt ? "XSDT" : "RSDT");
    for (unsigned i = 0; i < n; i++)
        emit(t, addrs[i], xsdt ? 8 : 4);
    sdt_end(t);
}

/* RSDP; returns its length (20 for revision 0, 36 otherwise). */
static uint32_t rsdp_build(uint8_t out[36], uint8_t revision, uint32_t rsdt, uint64_t xsdt)
{
    memset(out, 0, 36);
    memcpy(out, "RSD PTR ", 8);
    memcpy(out + 9, "SIDECR", 6);
    out[15] = revision;
    put_le(out + 16, rsdt, 4);
    if (revision < 2) {
        fix_checksum(out, 20, 8);
        return 20;
    }
    put_le(out + 20, 36, 4);
    put_le(out + 24, xsdt, 8);
    fix_checksum(out, 20, 8);
    fix_checksum(out, 36, 32);
    return 36;
}

#define RSDP_PA 0xf5a10ull
#define RSDT_PA 0x7ffe0800ull
#define XSDT_PA 0x7ffe1000ull
#define MADT_PA 0x7ffe2003ull /* deliberately unaligned */
#define FADT_PA 0x7fff0001ull /* above the largest MADT built here */
#define MADT2_PA 0x7fff8000ull
#define OUTSIDE_PA 0x40000000ull

/* Revision 2 RSDP -> XSDT -> {FADT, MADT}; the RSDT points to the same tables. fadt may be NULL. */
static void install_v2(struct sys *s, const struct tbl *madt, const struct tbl *fadt)
{
    uint8_t rsdp[36];
    struct tbl root;
    uint64_t both[] = {FADT_PA, MADT_PA};
    uint64_t madt_only[] = {MADT_PA};

    mem_add(s, RSDP_PA, rsdp, rsdp_build(rsdp, 2, RSDT_PA, XSDT_PA));
    root_build(&root, true, fadt ? both : madt_only, fadt ? 2 : 1);
    mem_add(s, XSDT_PA, root.b, root.len);
    root_build(&root, false, fadt ? both : madt_only, fadt ? 2 : 1);
    mem_add(s, RSDT_PA, root.b, root.len);
    mem_add(s, MADT_PA, madt->b, madt->len);
    if (fadt)
        mem_add(s, FADT_PA, fadt->b, fadt->len);
    s->rsdp_pa = RSDP_PA;
}

static int parse(struct sys *s)
{
    strcpy(s->why.text, "untouched");
    return acpi_parse(&s->mem, s->rsdp_pa, &s->info, &s->why);
}

static void expect_ok(struct sys *s)
{
    int err = parse(s);
    if (err)
        fail_msg("acpi_parse returned %d: %s", err, s->why.text);
    assert_string_equal(s->why.text, "");
}

static void expect_error(struct sys *s, int err, const char *reason)
{
    int got = parse(s);
    assert_int_equal(got, err);
    if (!strstr(s->why.text, reason))
        fail_msg("why is \"%s\", expected it to mention \"%s\"", s->why.text, reason);
}

static void expect_cpu_ids(const struct acpi_info *info, unsigned n)
{
    assert_int_equal(info->ncpus, n);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(info->cpus[i].apic_id, i);
}

/* Standard revision 2 system with n CPUs and a FADT. */
static void install_standard(struct sys *s, unsigned ncpus)
{
    struct tbl madt, fadt;
    madt_standard(&madt, ncpus);
    fadt_build(&fadt, FADT_FULL_LENGTH, 0x608, FADT_FLAG_RESET_REG_SUP, 1, 0xcf9, 0x6);
    install_v2(s, &madt, &fadt);
}

/* ---- Well-formed tables ---- */

static void test_v1_rsdp_rsdt(void **state)
{
    struct sys *s = *state;
    uint8_t rsdp[36];
    struct tbl rsdt, madt;
    uint64_t entries[] = {MADT_PA};

    madt_standard(&madt, 4);
    root_build(&rsdt, false, entries, 1);
    mem_add(s, RSDP_PA, rsdp, rsdp_build(rsdp, 0, RSDT_PA, 0));
    mem_add(s, RSDT_PA, rsdt.b, rsdt.len);
    mem_add(s, MADT_PA, madt.b, madt.len);
    s->rsdp_pa = RSDP_PA;

    expect_ok(s);
    assert_int_equal(s->info.rsdp_revision, 0);
    assert_false(s->info.uses_xsdt);
    assert_string_equal(s->info.oem_id, "SIDECR");
    expect_cpu_ids(&s->info, 4);
    assert_int_equal(s->info.madt_address, MADT_PA);
    assert_false(s->info.has_fadt);
    assert_false(s->info.reset_supported);
    assert_int_equal(s->info.pm_timer_port, 0);
}

static void test_v2_rsdp_xsdt(void **state)
{
    struct sys *s = *state;
    uint8_t rsdp[36];
    struct tbl root, madt_x, madt_r;
    uint64_t via_xsdt[] = {MADT_PA};
    uint64_t via_rsdt[] = {MADT2_PA};

    /* The XSDT and the RSDT disagree: the XSDT wins. */
    madt_standard(&madt_x, 4);
    madt_standard(&madt_r, 1);
    mem_add(s, RSDP_PA, rsdp, rsdp_build(rsdp, 2, RSDT_PA, XSDT_PA));
    root_build(&root, true, via_xsdt, 1);
    mem_add(s, XSDT_PA, root.b, root.len);
    root_build(&root, false, via_rsdt, 1);
    mem_add(s, RSDT_PA, root.b, root.len);
    mem_add(s, MADT_PA, madt_x.b, madt_x.len);
    mem_add(s, MADT2_PA, madt_r.b, madt_r.len);
    s->rsdp_pa = RSDP_PA;

    expect_ok(s);
    assert_int_equal(s->info.rsdp_revision, 2);
    assert_true(s->info.uses_xsdt);
    assert_int_equal(s->info.madt_address, MADT_PA);
    expect_cpu_ids(&s->info, 4);
    assert_int_equal(s->info.lapic_address, 0xfee00000);
    assert_true(s->info.pcat_compat);
    assert_int_equal(s->info.interrupt_overrides, 2);
}

static void test_v2_without_xsdt_uses_rsdt(void **state)
{
    struct sys *s = *state;
    uint8_t rsdp[36];
    struct tbl root, madt;
    uint64_t entries[] = {MADT_PA};

    madt_standard(&madt, 2);
    mem_add(s, RSDP_PA, rsdp, rsdp_build(rsdp, 2, RSDT_PA, 0));
    root_build(&root, false, entries, 1);
    mem_add(s, RSDT_PA, root.b, root.len);
    mem_add(s, MADT_PA, madt.b, madt.len);
    s->rsdp_pa = RSDP_PA;

    expect_ok(s);
    assert_int_equal(s->info.rsdp_revision, 2);
    assert_false(s->info.uses_xsdt);
    expect_cpu_ids(&s->info, 2);
}

static void test_4_cpus(void **state)
{
    struct sys *s = *state;
    install_standard(s, 4);
    expect_ok(s);
    expect_cpu_ids(&s->info, 4);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(s->info.cpus[i].uid, i);
        assert_false(s->info.cpus[i].x2apic_entry);
    }
    assert_int_equal(s->info.disabled_cpus, 0);
    assert_int_equal(s->info.dropped_cpus, 0);
}

static void test_64_cpus(void **state)
{
    struct sys *s = *state;
    install_standard(s, 64);
    expect_ok(s);
    expect_cpu_ids(&s->info, 64);
    assert_int_equal(s->info.cpus[63].uid, 63);
    assert_int_equal(s->info.nioapics, 1);
}

static void test_disabled_cpus_skipped_and_counted(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    madt_begin(&madt, 0xfee00000, 1);
    madt_lapic(&madt, 0, 0, 1);
    madt_lapic(&madt, 1, 1, 0); /* disabled */
    madt_lapic(&madt, 2, 2, 1);
    madt_lapic(&madt, 3, 3, 2);      /* online capable, not enabled */
    madt_x2apic(&madt, 300, 0, 300); /* disabled x2APIC */
    madt_lapic(&madt, 4, 0xff, 1);   /* placeholder ID: skipped, not counted */
    sdt_end(&madt);
    install_v2(s, &madt, NULL);

    expect_ok(s);
    assert_int_equal(s->info.ncpus, 2);
    assert_int_equal(s->info.cpus[0].apic_id, 0);
    assert_int_equal(s->info.cpus[1].apic_id, 2);
    assert_int_equal(s->info.cpus[1].uid, 2);
    assert_int_equal(s->info.disabled_cpus, 3);
}

static void test_x2apic_entries(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    madt_begin(&madt, 0xfee00000, 0);
    madt_lapic(&madt, 0, 0, 1);
    madt_x2apic(&madt, 0x100, 1, 1000);
    madt_x2apic(&madt, 0x12345, 1, 1001);
    madt_x2apic(&madt, 0xffffffff, 1, 1002); /* broadcast ID: never a CPU */
    sdt_end(&madt);
    install_v2(s, &madt, NULL);

    expect_ok(s);
    assert_false(s->info.pcat_compat);
    assert_int_equal(s->info.ncpus, 3);
    assert_false(s->info.cpus[0].x2apic_entry);
    assert_int_equal(s->info.cpus[1].apic_id, 0x100);
    assert_int_equal(s->info.cpus[1].uid, 1000);
    assert_true(s->info.cpus[1].x2apic_entry);
    assert_int_equal(s->info.cpus[2].apic_id, 0x12345);
    assert_int_equal(s->info.cpus[2].uid, 1001);
}

static void test_duplicate_ids_counted_once(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    madt_begin(&madt, 0xfee00000, 1);
    madt_lapic(&madt, 0, 0, 1);
    madt_lapic(&madt, 1, 1, 1);
    madt_lapic(&madt, 2, 2, 1);
    madt_x2apic(&madt, 1, 1, 11); /* same CPU as the type 0 entry for ID 1 */
    madt_x2apic(&madt, 2, 1, 12);
    madt_x2apic(&madt, 3, 1, 13);
    madt_lapic(&madt, 9, 3, 1); /* ID 3 again, now as type 0 */
    sdt_end(&madt);
    install_v2(s, &madt, NULL);

    expect_ok(s);
    expect_cpu_ids(&s->info, 4);
    /* the first description of a CPU is the one kept */
    assert_int_equal(s->info.cpus[1].uid, 1);
    assert_false(s->info.cpus[1].x2apic_entry);
    assert_int_equal(s->info.cpus[3].uid, 13);
    assert_true(s->info.cpus[3].x2apic_entry);
    assert_int_equal(s->info.dropped_cpus, 0);
}

static void test_lapic_address_override(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    madt_begin(&madt, 0xfee00000, 1);
    madt_lapic(&madt, 0, 0, 1);
    madt_lapic_override(&madt, 0x123456789000ull);
    sdt_end(&madt);
    install_v2(s, &madt, NULL);

    expect_ok(s);
    assert_int_equal(s->info.lapic_address, 0x123456789000ull);
}

static void test_ioapics(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    madt_begin(&madt, 0xfee00000, 1);
    madt_lapic(&madt, 0, 0, 1);
    madt_ioapic(&madt, 8, 0xfec00000, 0);
    madt_override(&madt, 0, 2, 0);
    madt_ioapic(&madt, 9, 0xfec01000, 24);
    sdt_end(&madt);
    install_v2(s, &madt, NULL);

    expect_ok(s);
    assert_int_equal(s->info.nioapics, 2);
    assert_int_equal(s->info.ioapics[0].id, 8);
    assert_int_equal(s->info.ioapics[0].address, 0xfec00000);
    assert_int_equal(s->info.ioapics[0].gsi_base, 0);
    assert_int_equal(s->info.ioapics[1].id, 9);
    assert_int_equal(s->info.ioapics[1].address, 0xfec01000);
    assert_int_equal(s->info.ioapics[1].gsi_base, 24);
    assert_int_equal(s->info.interrupt_overrides, 1);
}

static void test_ioapics_beyond_max_ignored(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    madt_begin(&madt, 0xfee00000, 1);
    madt_lapic(&madt, 0, 0, 1);
    for (unsigned i = 0; i < ACPI_MAX_IOAPICS + 2; i++)
        madt_ioapic(&madt, (uint8_t)i, 0xfec00000 + 0x1000 * i, 24 * i);
    sdt_end(&madt);
    install_v2(s, &madt, NULL);

    expect_ok(s);
    assert_int_equal(s->info.nioapics, ACPI_MAX_IOAPICS);
    assert_int_equal(s->info.ioapics[ACPI_MAX_IOAPICS - 1].gsi_base, 24 * (ACPI_MAX_IOAPICS - 1));
    assert_int_equal(s->info.dropped_ioapics, 2); /* counted, for the warning */
}

/* A two-socket Xeon lists about 13 I/O APICs: every one is kept. */
static void test_thirteen_ioapics_all_kept(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    madt_begin(&madt, 0xfee00000, 1);
    madt_lapic(&madt, 0, 0, 1);
    for (unsigned i = 0; i < 13; i++)
        madt_ioapic(&madt, (uint8_t)(8 + i), 0xfec00000 + 0x1000 * i, 24 * i);
    sdt_end(&madt);
    install_v2(s, &madt, NULL);

    expect_ok(s);
    assert_int_equal(s->info.nioapics, 13);
    assert_int_equal(s->info.dropped_ioapics, 0);
    assert_int_equal(s->info.ioapics[12].id, 20);
    assert_int_equal(s->info.ioapics[12].gsi_base, 24 * 12);
}

/* Empty slots are not disabled CPUs: 80 entries with APIC ID 0 (one board's MADT), a
 * duplicate of a disabled ID, and in a revision-5 MADT anything not online-capable. */
static void test_placeholder_slots_are_not_disabled_cpus(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    madt_begin(&madt, 0xfee00000, 1);
    madt_lapic(&madt, 0, 2, 1); /* the boot CPU, ID 2 */
    madt_lapic(&madt, 1, 4, 1);
    for (unsigned i = 0; i < 80; i++)
        madt_lapic(&madt, (uint8_t)(10 + i), 0, 0); /* empty slots, all ID 0 */
    madt_lapic(&madt, 100, 6, 0);                   /* a CPU that may come online */
    madt_lapic(&madt, 101, 6, 0);                   /* its ID again: a slot */
    madt_lapic(&madt, 102, 4, 0);                   /* an enabled CPU's ID: a slot */
    sdt_end(&madt);
    install_v2(s, &madt, NULL);
    expect_ok(s);
    assert_int_equal(s->info.ncpus, 2);
    /* IDs 0 and 6 once each: an ID-0 entry could be a CPU that comes online later (no enabled
     * CPU has ID 0 here), the 79 others with it cannot */
    assert_int_equal(s->info.disabled_cpus, 2);
    assert_int_equal(s->info.placeholder_slots, 81);
}

/* ACPI 6.3 (MADT revision 5): only online-capable entries are disabled CPUs. */
static void test_madt_revision5_online_capable(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    madt_begin(&madt, 0xfee00000, 1);
    madt.b[8] = 5;
    madt_lapic(&madt, 0, 0, 1);
    madt_lapic(&madt, 1, 1, 0);      /* not online-capable: a slot */
    madt_lapic(&madt, 2, 2, 2);      /* online-capable */
    madt_x2apic(&madt, 300, 0, 300); /* not online-capable */
    sdt_end(&madt);
    install_v2(s, &madt, NULL);
    expect_ok(s);
    assert_int_equal(s->info.disabled_cpus, 1);
    assert_int_equal(s->info.placeholder_slots, 2);
}

static void test_unknown_entries_skipped(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    madt_begin(&madt, 0xfee00000, 1);
    madt_lapic(&madt, 0, 0, 1);
    emit(&madt, 4, 1); /* local APIC NMI */
    emit(&madt, 6, 1);
    emit(&madt, 0xff, 1);
    emit(&madt, 0x5, 2);
    emit(&madt, 1, 1);
    emit(&madt, 0x7f, 1); /* a type from the future, with a long body */
    emit(&madt, 20, 1);
    for (int i = 0; i < 18; i++)
        emit(&madt, 0xee, 1);
    madt_lapic(&madt, 1, 1, 1);
    sdt_end(&madt);
    install_v2(s, &madt, NULL);

    expect_ok(s);
    expect_cpu_ids(&s->info, 2);
}

static void test_fadt_reset_register(void **state)
{
    struct sys *s = *state;
    install_standard(s, 1);
    expect_ok(s);
    assert_true(s->info.has_fadt);
    assert_true(s->info.reset_supported);
    assert_int_equal(s->info.reset_reg.space_id, 1);
    assert_int_equal(s->info.reset_reg.bit_width, 8);
    assert_int_equal(s->info.reset_reg.bit_offset, 0);
    assert_int_equal(s->info.reset_reg.access_size, 1);
    assert_int_equal(s->info.reset_reg.address, 0xcf9);
    assert_int_equal(s->info.reset_value, 6);
    assert_int_equal(s->info.pm_timer_port, 0x608);
}

static void test_fadt_without_reset_support(void **state)
{
    struct sys *s = *state;
    struct tbl madt, fadt;
    madt_standard(&madt, 1);
    fadt_build(&fadt, FADT_FULL_LENGTH, 0x408, 0, 1, 0xcf9, 6); /* register there, flag clear */
    install_v2(s, &madt, &fadt);
    expect_ok(s);
    assert_true(s->info.has_fadt);
    assert_false(s->info.reset_supported);
    assert_int_equal(s->info.pm_timer_port, 0x408);
}

static void test_short_fadt_reads_only_its_fields(void **state)
{
    struct sys *s = *state;
    struct tbl madt, fadt;
    madt_standard(&madt, 1);
    /* ACPI 1.0 FADT: 116 bytes, ends before the flags and the reset register. */
    fadt_build(&fadt, 116, 0xb008, 0, 0, 0, 0);
    install_v2(s, &madt, &fadt);
    expect_ok(s);
    assert_true(s->info.has_fadt);
    assert_false(s->info.reset_supported);
    assert_int_equal(s->info.pm_timer_port, 0xb008);

    /* A FADT of only a header has nothing to read but is still a FADT. */
    fadt_build(&fadt, 36, 0, 0, 0, 0, 0);
    memcpy(mem_at(s, FADT_PA), fadt.b, fadt.len);
    expect_ok(s);
    assert_true(s->info.has_fadt);
    assert_int_equal(s->info.pm_timer_port, 0);
}

static void test_unneeded_unmappable_entry_skipped(void **state)
{
    struct sys *s = *state;
    uint8_t rsdp[36];
    struct tbl root, madt;
    uint64_t entries[] = {OUTSIDE_PA, 0, MADT_PA};

    madt_standard(&madt, 2);
    mem_add(s, RSDP_PA, rsdp, rsdp_build(rsdp, 2, 0, XSDT_PA));
    root_build(&root, true, entries, 3);
    mem_add(s, XSDT_PA, root.b, root.len);
    mem_add(s, MADT_PA, madt.b, madt.len);
    s->rsdp_pa = RSDP_PA;

    expect_ok(s);
    expect_cpu_ids(&s->info, 2);
}

static void test_first_madt_wins(void **state)
{
    struct sys *s = *state;
    uint8_t rsdp[36];
    struct tbl root, first, second;
    uint64_t entries[] = {MADT_PA, MADT2_PA};

    madt_standard(&first, 3);
    madt_standard(&second, 5);
    mem_add(s, RSDP_PA, rsdp, rsdp_build(rsdp, 2, 0, XSDT_PA));
    root_build(&root, true, entries, 2);
    mem_add(s, XSDT_PA, root.b, root.len);
    mem_add(s, MADT_PA, first.b, first.len);
    mem_add(s, MADT2_PA, second.b, second.len);
    s->rsdp_pa = RSDP_PA;

    expect_ok(s);
    assert_int_equal(s->info.madt_address, MADT_PA);
    expect_cpu_ids(&s->info, 3);
}

static void test_more_than_max_cpus_dropped(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    madt_begin(&madt, 0xfee00000, 1);
    for (unsigned i = 0; i < 200; i++)
        madt_lapic(&madt, (uint8_t)i, (uint8_t)i, 1);
    for (unsigned i = 200; i < ACPI_MAX_CPUS + 100; i++)
        madt_x2apic(&madt, i, 1, i);
    sdt_end(&madt);
    install_v2(s, &madt, NULL);

    expect_ok(s);
    expect_cpu_ids(&s->info, ACPI_MAX_CPUS);
    assert_int_equal(s->info.dropped_cpus, 100);
    assert_true(s->info.cpus[ACPI_MAX_CPUS - 1].x2apic_entry);
}

/* ---- Malformed tables ---- */

static void test_bad_rsdp_signature(void **state)
{
    struct sys *s = *state;
    install_standard(s, 4);
    mem_at(s, RSDP_PA)[4] = 'X';
    expect_error(s, -E_BADMSG, "RSDP signature");
}

static void test_bad_rsdp_checksum(void **state)
{
    struct sys *s = *state;
    install_standard(s, 4);
    mem_at(s, RSDP_PA)[8] ^= 1;
    expect_error(s, -E_BADMSG, "RSDP checksum mismatch");
}

static void test_bad_rsdp_extended_checksum(void **state)
{
    struct sys *s = *state;
    install_standard(s, 4);
    mem_at(s, RSDP_PA)[32] ^= 1;
    expect_error(s, -E_BADMSG, "RSDP extended checksum mismatch");
}

static void test_bad_rsdp_length(void **state)
{
    struct sys *s = *state;
    install_standard(s, 4);
    uint8_t *rsdp = mem_at(s, RSDP_PA);
    put_le(rsdp + 20, 24, 4);
    fix_checksum(rsdp, 36, 32);
    expect_error(s, -E_BADMSG, "RSDP length 24 is shorter than 36");
    put_le(rsdp + 20, 0x10000000, 4);
    fix_checksum(rsdp, 36, 32);
    expect_error(s, -E_BADMSG, "RSDP length 268435456 is implausible");
    put_le(rsdp + 20, 40, 4); /* sensible, but the RSDP blob is only 36 bytes */
    fix_checksum(rsdp, 36, 32);
    expect_error(s, -E_FAULT, "RSDP length 40 overruns accessible memory");
}

static void test_rsdp_not_accessible(void **state)
{
    struct sys *s = *state;
    install_standard(s, 4);
    s->rsdp_pa = OUTSIDE_PA;
    expect_error(s, -E_FAULT, "RSDP at 0x40000000 is not accessible");
    s->rsdp_pa = RSDP_PA + 20; /* 16 bytes left in the blob */
    expect_error(s, -E_FAULT, "RSDP at 0xf5a24 is not accessible");
}

static void test_rsdp_without_root(void **state)
{
    struct sys *s = *state;
    uint8_t rsdp[36];
    mem_add(s, RSDP_PA, rsdp, rsdp_build(rsdp, 0, 0, 0));
    s->rsdp_pa = RSDP_PA;
    expect_error(s, -E_NOENT, "RSDP has neither an XSDT nor an RSDT address");
}

static void test_xsdt_checksum(void **state)
{
    struct sys *s = *state;
    install_standard(s, 4);
    mem_at(s, XSDT_PA)[16] ^= 0x20; /* a letter of the OEM table ID */
    expect_error(s, -E_BADMSG, "XSDT checksum mismatch");
}

static void test_xsdt_bad_signature(void **state)
{
    struct sys *s = *state;
    install_standard(s, 4);
    memcpy(mem_at(s, XSDT_PA), "RSDT", 4);
    expect_error(s, -E_BADMSG, "XSDT signature is \"RSDT\", expected \"XSDT\"");
}

static void test_truncated_xsdt(void **state)
{
    struct sys *s = *state;
    install_standard(s, 4);
    uint8_t *xsdt = mem_at(s, XSDT_PA);
    put_le(xsdt + 4, 20, 4);
    fix_checksum(xsdt, 20, 9);
    expect_error(s, -E_BADMSG, "XSDT length 20 is shorter than its header");
}

static void test_xsdt_outside_memory(void **state)
{
    struct sys *s = *state;
    install_standard(s, 4);
    uint8_t *rsdp = mem_at(s, RSDP_PA);
    put_le(rsdp + 24, OUTSIDE_PA, 8);
    fix_checksum(rsdp, 36, 32);
    expect_error(s, -E_FAULT, "XSDT at 0x40000000 is not accessible");
}

static void test_rsdt_outside_memory(void **state)
{
    struct sys *s = *state;
    uint8_t rsdp[36];
    mem_add(s, RSDP_PA, rsdp, rsdp_build(rsdp, 0, (uint32_t)OUTSIDE_PA, 0));
    s->rsdp_pa = RSDP_PA;
    expect_error(s, -E_FAULT, "RSDT at 0x40000000 is not accessible");
}

static void test_madt_bad_checksum(void **state)
{
    struct sys *s = *state;
    install_standard(s, 4);
    mem_at(s, MADT_PA)[44 + 3] ^= 0x04; /* the first CPU's APIC ID */
    expect_error(s, -E_BADMSG, "MADT checksum mismatch");
}

static void test_madt_length_overruns_memory(void **state)
{
    struct sys *s = *state;
    install_standard(s, 4);
    uint8_t *madt = mem_at(s, MADT_PA);
    put_le(madt + 4, 0x1000, 4); /* the blob holds 108 bytes */
    expect_error(s, -E_FAULT, "MADT length 4096 at 0x7ffe2003 overruns accessible memory");
}

static void test_madt_shorter_than_its_header(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    sdt_begin(&madt, "APIC");
    emit(&madt, 0xfee00000, 4); /* no flags dword */
    sdt_end(&madt);
    install_v2(s, &madt, NULL);
    expect_error(s, -E_BADMSG, "MADT length 40 is shorter than its 44-byte header");
}

static void test_madt_entry_length_zero(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    madt_begin(&madt, 0xfee00000, 1);
    madt_lapic(&madt, 0, 0, 1);
    emit(&madt, 0, 1);
    emit(&madt, 0, 1); /* length 0: would loop forever */
    madt_lapic(&madt, 1, 1, 1);
    sdt_end(&madt);
    install_v2(s, &madt, NULL);
    expect_error(s, -E_BADMSG, "MADT entry at offset 52 has length 0");
}

static void test_madt_entry_overruns(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    madt_begin(&madt, 0xfee00000, 1);
    madt_lapic(&madt, 0, 0, 1);
    madt_lapic(&madt, 1, 1, 1);
    madt_ioapic(&madt, 0, 0xfec00000, 0);
    madt.len -= 4; /* the IO APIC entry at 60 still claims 12 bytes */
    sdt_end(&madt);
    install_v2(s, &madt, NULL);
    expect_error(s, -E_BADMSG, "MADT entry at offset 60 overruns the table");
}

static void test_madt_entry_one_byte_too_long(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    madt_begin(&madt, 0xfee00000, 1);
    madt_lapic(&madt, 0, 0, 1);
    emit(&madt, 0x7f, 1); /* unknown type, length 5, 4 bytes left */
    emit(&madt, 5, 1);
    emit(&madt, 0, 2);
    sdt_end(&madt);
    install_v2(s, &madt, NULL);
    expect_error(s, -E_BADMSG, "MADT entry at offset 52 overruns the table");
}

static void test_madt_trailing_byte(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    madt_begin(&madt, 0xfee00000, 1);
    madt_lapic(&madt, 0, 0, 1);
    emit(&madt, 0, 1); /* a lone byte cannot even hold type and length */
    sdt_end(&madt);
    install_v2(s, &madt, NULL);
    expect_error(s, -E_BADMSG, "MADT entry at offset 52 overruns the table");
}

static void test_madt_known_entry_too_short(void **state)
{
    struct sys *s = *state;
    struct tbl madt;
    madt_begin(&madt, 0xfee00000, 1);
    emit(&madt, 9, 1); /* local x2APIC, cut to 8 bytes */
    emit(&madt, 8, 1);
    emit(&madt, 0, 2);
    emit(&madt, 5, 4);
    sdt_end(&madt);
    install_v2(s, &madt, NULL);
    expect_error(s, -E_BADMSG,
                 "MADT local x2APIC entry at offset 44 has length 8, expected at least 16");
}

static void test_no_madt(void **state)
{
    struct sys *s = *state;
    uint8_t rsdp[36];
    struct tbl root, fadt;
    uint64_t entries[] = {FADT_PA};

    fadt_build(&fadt, FADT_FULL_LENGTH, 0x608, 0, 0, 0, 0);
    mem_add(s, RSDP_PA, rsdp, rsdp_build(rsdp, 2, 0, XSDT_PA));
    root_build(&root, true, entries, 1);
    mem_add(s, XSDT_PA, root.b, root.len);
    mem_add(s, FADT_PA, fadt.b, fadt.len);
    s->rsdp_pa = RSDP_PA;
    expect_error(s, -E_NOENT, "no MADT (APIC) table");
}

static void test_madt_signature_changed_means_no_madt(void **state)
{
    struct sys *s = *state;
    install_standard(s, 4);
    memcpy(mem_at(s, MADT_PA), "APIX", 4); /* no longer an MADT by signature */
    expect_error(s, -E_NOENT, "no MADT (APIC) table");
}

static void test_fadt_bad_checksum(void **state)
{
    struct sys *s = *state;
    install_standard(s, 4);
    mem_at(s, FADT_PA)[128] ^= 0xff; /* reset value */
    expect_error(s, -E_BADMSG, "FADT checksum mismatch");
}

static void test_bad_arguments(void **state)
{
    struct sys *s = *state;
    struct acpi_mem nomap = {.ctx = s, .map = NULL};
    struct refusal why = {.text = "untouched"};
    assert_int_equal(acpi_parse(NULL, RSDP_PA, &s->info, &why), -E_INVAL);
    assert_string_equal(why.text, "acpi_parse needs a memory accessor and an output");
    assert_int_equal(acpi_parse(&nomap, RSDP_PA, &s->info, NULL), -E_INVAL);
    assert_int_equal(acpi_parse(&s->mem, RSDP_PA, NULL, NULL), -E_INVAL);
    assert_int_equal(acpi_list_tables(&s->mem, RSDP_PA, NULL, 1), -E_INVAL);
}

/* ---- acpi_list_tables ---- */

static void test_list_tables(void **state)
{
    struct sys *s = *state;
    struct acpi_table_ref refs[ACPI_MAX_TABLES];
    install_standard(s, 4);
    mem_at(s, MADT_PA)[44] ^= 1; /* checksums are not required */

    int n = acpi_list_tables(&s->mem, RSDP_PA, refs, ACPI_MAX_TABLES);
    assert_int_equal(n, 4);
    assert_string_equal(refs[0].signature, "RSDP");
    assert_int_equal(refs[0].address, RSDP_PA);
    assert_int_equal(refs[0].length, 36);
    assert_string_equal(refs[1].signature, "XSDT");
    assert_int_equal(refs[1].address, XSDT_PA);
    assert_int_equal(refs[1].length, 36 + 2 * 8);
    assert_string_equal(refs[2].signature, "FACP");
    assert_int_equal(refs[2].address, FADT_PA);
    assert_int_equal(refs[2].length, FADT_FULL_LENGTH);
    assert_string_equal(refs[3].signature, "APIC");
    assert_int_equal(refs[3].address, MADT_PA);
    assert_int_equal(refs[3].length, 44 + 4 * 8 + 12 + 2 * 10);

    assert_int_equal(acpi_list_tables(&s->mem, RSDP_PA, refs, 2), 2);
    assert_int_equal(acpi_list_tables(&s->mem, RSDP_PA, NULL, 0), 0);
}

static void test_list_tables_v1_and_errors(void **state)
{
    struct sys *s = *state;
    struct acpi_table_ref refs[ACPI_MAX_TABLES];
    uint8_t rsdp[36];
    struct tbl rsdt, madt;
    uint64_t entries[] = {OUTSIDE_PA, MADT_PA};

    madt_standard(&madt, 1);
    root_build(&rsdt, false, entries, 2);
    mem_add(s, RSDP_PA, rsdp, rsdp_build(rsdp, 0, RSDT_PA, 0));
    mem_add(s, RSDT_PA, rsdt.b, rsdt.len);
    mem_add(s, MADT_PA, madt.b, madt.len);
    memcpy(mem_at(s, MADT_PA), "AP\001C", 4); /* listed, made printable */

    int n = acpi_list_tables(&s->mem, RSDP_PA, refs, ACPI_MAX_TABLES);
    assert_int_equal(n, 3); /* the entry outside memory is left out */
    assert_string_equal(refs[0].signature, "RSDP");
    assert_int_equal(refs[0].length, 20);
    assert_string_equal(refs[1].signature, "RSDT");
    assert_int_equal(refs[1].length, 36 + 2 * 4);
    assert_string_equal(refs[2].signature, "AP?C");

    assert_int_equal(acpi_list_tables(&s->mem, OUTSIDE_PA, refs, ACPI_MAX_TABLES), -E_FAULT);
    mem_at(s, RSDP_PA)[0] = 'X';
    assert_int_equal(acpi_list_tables(&s->mem, RSDP_PA, refs, ACPI_MAX_TABLES), -E_BADMSG);
}

/* ---- Tables dumped from QEMU: test/fixtures/acpi/<name>/<SIG>@<hexaddress>.bin ---- */

static bool read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    bool ok = fseek(f, 0, SEEK_END) == 0;
    long size = ok ? ftell(f) : -1;
    ok = size > 0 && fseek(f, 0, SEEK_SET) == 0;
    *data = ok ? malloc((size_t)size) : NULL;
    ok = *data && fread(*data, 1, (size_t)size, f) == (size_t)size;
    fclose(f);
    if (!ok) {
        free(*data);
        return false;
    }
    *len = (size_t)size;
    return true;
}

/* Loads every table file of the fixture directory into fake memory; false if there is no
 * such directory. */
static bool load_fixture(struct sys *s, const char *name)
{
    const char *root = getenv("FIXTURES");
    char dir[512], path[1024];
    if (!root)
        return false;
    snprintf(dir, sizeof(dir), "%s/acpi/%s", root, name);
    DIR *d = opendir(dir);
    if (!d)
        return false;

    bool have_rsdp = false;
    for (struct dirent *de; (de = readdir(d));) {
        const char *at = strchr(de->d_name, '@');
        size_t nlen = strlen(de->d_name);
        if (!at || nlen < 5 || strcmp(de->d_name + nlen - 4, ".bin") != 0)
            continue;
        char *end;
        unsigned long long pa = strtoull(at + 1, &end, 16);
        if (end == at + 1 || strcmp(end, ".bin") != 0)
            fail_msg("fixture %s/%s: expected <SIG>@<hexaddress>.bin", dir, de->d_name);

        uint8_t *data;
        size_t len;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (!read_file(path, &data, &len))
            fail_msg("cannot read fixture %s", path);
        mem_add(s, pa, data, len);
        free(data);
        snprintf(s->blobs[s->nblobs - 1].name, sizeof(s->blobs[0].name), "%.*s",
                 (int)(at - de->d_name), de->d_name);
        if (strcmp(s->blobs[s->nblobs - 1].name, "RSDP") == 0) {
            s->rsdp_pa = pa;
            have_rsdp = true;
        }
    }
    closedir(d);
    if (!have_rsdp)
        fail_msg("fixture %s has no RSDP@<address>.bin", dir);
    return true;
}

static struct blob *fixture_blob(struct sys *s, const char *sig)
{
    for (unsigned i = 0; i < s->nblobs; i++)
        if (strcmp(s->blobs[i].name, sig) == 0)
            return &s->blobs[i];
    fail_msg("fixture has no %s table", sig);
    return NULL;
}

static void expect_qemu_q35(struct sys *s, unsigned ncpus)
{
    expect_ok(s);
    expect_cpu_ids(&s->info, ncpus);
    assert_int_equal(s->info.disabled_cpus + s->info.dropped_cpus, 0);
    assert_int_equal(s->info.nioapics, 1);
    assert_int_equal(s->info.ioapics[0].address, 0xfec00000);
    assert_int_equal(s->info.lapic_address, 0xfee00000);
    assert_true(s->info.uses_xsdt);
    assert_true(s->info.has_fadt);
    assert_int_equal(s->info.madt_address, fixture_blob(s, "APIC")->pa);

    /* every table listed is one of the dumped files, at its address and length */
    struct acpi_table_ref refs[ACPI_MAX_TABLES];
    int n = acpi_list_tables(&s->mem, s->rsdp_pa, refs, ACPI_MAX_TABLES);
    assert_true(n >= 4);
    for (int i = 0; i < n; i++) {
        struct blob *b = fixture_blob(s, refs[i].signature);
        if (b->pa != refs[i].address) /* a signature may occur twice (SSDT) */
            continue;
        assert_true(refs[i].length <= b->len);
    }
}

static void test_qemu_q35_smp4(void **state)
{
    struct sys *s = *state;
    if (!load_fixture(s, "qemu-q35-smp4"))
        skip();
    expect_qemu_q35(s, 4);
}

static void test_qemu_q35_smp64(void **state)
{
    struct sys *s = *state;
    if (!load_fixture(s, "qemu-q35-smp64"))
        skip();
    expect_qemu_q35(s, 64);
}

static void test_qemu_corrupted_madt(void **state)
{
    struct sys *s = *state;
    if (!load_fixture(s, "qemu-q35-smp4"))
        skip();
    struct blob *madt = fixture_blob(s, "APIC");
    blob_data(madt)[madt->len / 2] ^= 0x10;
    expect_error(s, -E_BADMSG, "MADT checksum mismatch");
}

/* MCFG allocations: the good ones kept, unusable ones and those beyond the limit counted. The
 * table rides in install_v2's second slot: the parser goes by signature. */
static void test_mcfg(void **state)
{
    struct sys *s = *state;
    static struct tbl madt, mcfg;
    madt_standard(&madt, 2);
    sdt_begin(&mcfg, "MCFG");
    emit(&mcfg, 0, 8); /* reserved */
    emit(&mcfg, 0xb0000000, 8), emit(&mcfg, 0, 2), emit(&mcfg, 0, 1), emit(&mcfg, 0xff, 1);
    emit(&mcfg, 0, 4);
    emit(&mcfg, 0xc0000000, 8), emit(&mcfg, 1, 2), emit(&mcfg, 0x80, 1), emit(&mcfg, 0x7f, 1);
    emit(&mcfg, 0, 4); /* end bus before start bus */
    emit(&mcfg, 0xc0001000, 8), emit(&mcfg, 2, 2), emit(&mcfg, 0, 1), emit(&mcfg, 0, 1);
    emit(&mcfg, 0, 4); /* not 1 MiB aligned */
    for (unsigned i = 0; i < ACPI_MAX_ECAM; i++) {
        emit(&mcfg, 0xd0000000ull + ((uint64_t)i << 28), 8), emit(&mcfg, 3 + i, 2);
        emit(&mcfg, 0, 1), emit(&mcfg, 0x0f, 1), emit(&mcfg, 0, 4);
    }
    emit(&mcfg, 0xee, 7); /* a partial entry at the end is not read */
    sdt_end(&mcfg);
    install_v2(s, &madt, &mcfg);
    expect_ok(s);
    assert_int_equal(s->info.mcfg_address, FADT_PA);
    assert_int_equal(s->info.necam, ACPI_MAX_ECAM);
    assert_int_equal(s->info.bad_ecam, 2);
    assert_int_equal(s->info.dropped_ecam, 1);
    assert_int_equal(s->info.ecam[0].base, 0xb0000000);
    assert_int_equal(s->info.ecam[0].end_bus, 0xff);
    assert_int_equal(s->info.ecam[1].segment, 3);
    assert_int_equal(s->info.ecam[1].end_bus, 0x0f);
    assert_int_equal(s->info.dmar.address, 0);

    /* a checksum that fails: the MCFG is ignored, the boot is not refused */
    mem_at(s, FADT_PA + 40)[0] ^= 1;
    expect_ok(s);
    assert_int_equal(s->info.mcfg_address, 0);
    assert_int_equal(s->info.necam, 0);
    assert_int_equal(s->info.bad_ecam, 1);
}

/* QEMU q35 with an IOMMU: its ECAM window, and the DMAR or IVRS kept for iommu/. */
static void expect_iommu_fixture(struct sys *s, const char *name, const char *sig)
{
    if (!load_fixture(s, name))
        skip();
    expect_qemu_q35(s, 2);
    assert_int_equal(s->info.necam, 1);
    assert_int_equal(s->info.ecam[0].base, 0xb0000000);
    assert_int_equal(s->info.ecam[0].segment, 0);
    assert_int_equal(s->info.ecam[0].start_bus, 0);
    assert_int_equal(s->info.ecam[0].end_bus, 0xff);
    const struct acpi_table_ref *kept = sig[0] == 'D' ? &s->info.dmar : &s->info.ivrs;
    const struct acpi_table_ref *other = sig[0] == 'D' ? &s->info.ivrs : &s->info.dmar;
    assert_string_equal(kept->signature, sig);
    assert_int_equal(kept->address, fixture_blob(s, sig)->pa);
    assert_int_equal(kept->length, fixture_blob(s, sig)->len);
    assert_int_equal(other->address, 0);
}

static void test_qemu_q35_vtd(void **state)
{
    expect_iommu_fixture(*state, "qemu-q35-smp2-vtd-edu", "DMAR");
}

static void test_qemu_q35_amdvi(void **state)
{
    expect_iommu_fixture(*state, "qemu-q35-smp2-amdvi-edu", "IVRS");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_v1_rsdp_rsdt),
        T(test_mcfg),
        T(test_qemu_q35_vtd),
        T(test_qemu_q35_amdvi),
        T(test_v2_rsdp_xsdt),
        T(test_v2_without_xsdt_uses_rsdt),
        T(test_4_cpus),
        T(test_64_cpus),
        T(test_disabled_cpus_skipped_and_counted),
        T(test_x2apic_entries),
        T(test_duplicate_ids_counted_once),
        T(test_lapic_address_override),
        T(test_ioapics),
        T(test_ioapics_beyond_max_ignored),
        T(test_thirteen_ioapics_all_kept),
        T(test_placeholder_slots_are_not_disabled_cpus),
        T(test_madt_revision5_online_capable),
        T(test_unknown_entries_skipped),
        T(test_fadt_reset_register),
        T(test_fadt_without_reset_support),
        T(test_short_fadt_reads_only_its_fields),
        T(test_unneeded_unmappable_entry_skipped),
        T(test_first_madt_wins),
        T(test_more_than_max_cpus_dropped),
        T(test_bad_rsdp_signature),
        T(test_bad_rsdp_checksum),
        T(test_bad_rsdp_extended_checksum),
        T(test_bad_rsdp_length),
        T(test_rsdp_not_accessible),
        T(test_rsdp_without_root),
        T(test_xsdt_checksum),
        T(test_xsdt_bad_signature),
        T(test_truncated_xsdt),
        T(test_xsdt_outside_memory),
        T(test_rsdt_outside_memory),
        T(test_madt_bad_checksum),
        T(test_madt_length_overruns_memory),
        T(test_madt_shorter_than_its_header),
        T(test_madt_entry_length_zero),
        T(test_madt_entry_overruns),
        T(test_madt_entry_one_byte_too_long),
        T(test_madt_trailing_byte),
        T(test_madt_known_entry_too_short),
        T(test_no_madt),
        T(test_madt_signature_changed_means_no_madt),
        T(test_fadt_bad_checksum),
        T(test_bad_arguments),
        T(test_list_tables),
        T(test_list_tables_v1_and_errors),
        T(test_qemu_q35_smp4),
        T(test_qemu_q35_smp64),
        T(test_qemu_corrupted_madt),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
