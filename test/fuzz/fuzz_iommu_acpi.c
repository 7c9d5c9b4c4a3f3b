/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* libFuzzer target: dmar_parse and ivrs_parse, then path resolution and lookups on the result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/klib.h"
#include "fuzz_input.h"
#include "iommu/iommu_acpi.h"

/* Input layout:
 *   byte  0    bit 0: write the input's table size into the length field; bit 1: repair the
 *              checksum; bit 2: write the parser's signature (each so that the fuzzer gets past
 *              the header checks into the structures)
 *   bytes 1-2  a function to look up (little endian), byte 3 its segment
 *   bytes 4..  the table; config space for path resolution reads from it too */
#define HEADER_SIZE 4

struct image {
    const uint8_t *p;
    size_t n;
};

/* Config space made of the input: some functions present, some bridges, any bus numbers. */
static uint32_t image_read32(void *ctx, uint16_t segment, pci_bdf bdf, uint16_t off)
{
    const struct image *img = ctx;
    CHECK(off % 4 == 0 && off < 4096);
    if (img->n < 4)
        return 0xffffffff;
    size_t at = ((size_t)bdf * 61 + off + segment) % (img->n - 3);
    uint32_t v = (uint32_t)img->p[at] | (uint32_t)img->p[at + 1] << 8 |
                 (uint32_t)img->p[at + 2] << 16 | (uint32_t)img->p[at + 3] << 24;
    return off == PCI_VENDOR_ID && (bdf & 1) ? 0xffffffff : v;
}

static void check_text(const struct iommu_info *info)
{
    char buf[64];
    for (unsigned i = 0; i < info->nscopes; i++) {
        memset(buf, 'x', sizeof(buf));
        iommu_scope_text(&info->scopes[i], buf, sizeof(buf));
        CHECK(memchr(buf, '\0', sizeof(buf)) != NULL);
    }
    for (unsigned i = 0; i <= info->nunits; i++) {
        memset(buf, 'x', sizeof(buf));
        iommu_unit_text(info, i, buf, sizeof(buf));
        CHECK(memchr(buf, '\0', sizeof(buf)) != NULL);
    }
}

static void check_scope(const struct iommu_info *info, const struct iommu_scope *s, bool reserved)
{
    CHECK(s->type >= IOMMU_SCOPE_ENDPOINT && s->type <= IOMMU_SCOPE_ALL);
    CHECK(reserved ? s->unit == IOMMU_NO_UNIT : s->unit < info->nunits);
    CHECK(s->first <= s->last);
    CHECK(s->path_len <= IOMMU_MAX_PATH);
    CHECK(info->kind == IOMMU_VTD ? s->path_len >= 1 : s->path_len == 0);
    CHECK(s->resolved || info->kind == IOMMU_VTD);
    CHECK(!s->has_alias || info->kind == IOMMU_AMDVI);
    if (s->resolved && s->type == IOMMU_SCOPE_BRIDGE && !s->absent)
        CHECK(s->sec_bus > PCI_BUS(s->first) && s->sub_bus >= s->sec_bus);
}

static void check_lookup(const struct iommu_info *info, uint16_t segment, pci_bdf bdf)
{
    pci_bdf req = 0;
    int unit = iommu_unit_for(info, segment, bdf, &req);
    CHECK(unit >= -1 && unit < (int)info->nunits);
    if (unit < 0)
        CHECK(req == bdf);
    CHECK(iommu_unit_for(info, segment, bdf, NULL) == unit);
}

static void check_info(const struct iommu_info *info, enum iommu_kind kind)
{
    CHECK(info->kind == kind);
    CHECK(info->nunits >= 1 && info->nunits <= IOMMU_MAX_UNITS);
    CHECK(info->nscopes <= IOMMU_MAX_SCOPES);
    CHECK(info->nreserved <= IOMMU_MAX_RESERVED);
    CHECK(info->dropped_units == 0 || info->nunits == IOMMU_MAX_UNITS);
    for (unsigned i = 0; i < info->nunits; i++) {
        const struct iommu_unit *u = &info->units[i];
        CHECK(u->base != 0 && u->base % 4096 == 0);
        if (kind == IOMMU_AMDVI)
            CHECK(u->ivhd_type == 0x10 || u->ivhd_type == 0x11 || u->ivhd_type == 0x40);
        for (unsigned j = 0; j < i; j++) {
            const struct iommu_unit *w = &info->units[j];
            CHECK(kind != IOMMU_VTD || !u->include_all || !w->include_all ||
                  u->segment != w->segment);
            CHECK(kind != IOMMU_AMDVI || u->own_bdf != w->own_bdf || u->base != w->base ||
                  u->segment != w->segment);
        }
    }
    for (unsigned i = 0; i < info->nscopes; i++)
        check_scope(info, &info->scopes[i], false);
    for (unsigned i = 0; i < info->nreserved; i++) {
        CHECK(info->reserved[i].base <= info->reserved[i].limit);
        check_scope(info, &info->reserved[i].dev, true);
    }
}

static void fuzz_one(int (*parse)(const uint8_t *, uint32_t, struct iommu_info *, struct refusal *),
                     const char *sig, enum iommu_kind kind, const uint8_t *data, size_t size)
{
    size_t n = size - HEADER_SIZE;
    /* an exact-size copy, so that any read past the table is caught */
    uint8_t *t = malloc(n ? n : 1);
    if (!t)
        return;
    memcpy(t, data + HEADER_SIZE, n);
    if ((data[0] & 4) && n >= 4)
        memcpy(t, sig, 4);
    if ((data[0] & 1) && n >= 8)
        for (int i = 0; i < 4; i++)
            t[4 + i] = (uint8_t)(n >> (8 * i));
    if ((data[0] & 2) && n >= 10) {
        uint8_t sum = 0;
        t[9] = 0;
        for (size_t i = 0; i < n; i++)
            sum = (uint8_t)(sum + t[i]);
        t[9] = (uint8_t)(0u - sum);
    }

    static struct iommu_info info;
    struct refusal why;
    memset(&why, 'x', sizeof(why));
    int err = parse(t, (uint32_t)n, &info, &why);
    CHECK(memchr(why.text, '\0', sizeof(why.text)) != NULL);
    if (err) {
        CHECK(err < 0 && why.text[0] != '\0');
        CHECK(info.kind == IOMMU_NONE && info.nunits == 0 && info.nscopes == 0);
        free(t);
        return;
    }
    CHECK(why.text[0] == '\0');
    check_info(&info, kind);
    check_text(&info);

    uint16_t segment = data[3];
    pci_bdf bdf = (pci_bdf)(data[1] | data[2] << 8);
    check_lookup(&info, segment, bdf);
    for (unsigned i = 0; i < info.nscopes; i++) {
        check_lookup(&info, info.scopes[i].segment, info.scopes[i].first);
        check_lookup(&info, info.scopes[i].segment, info.scopes[i].last);
    }

    struct image img = {t, n};
    struct pci_cfg cfg = {.ctx = &img, .read32 = image_read32};
    int absent = iommu_resolve_scopes(&info, &cfg);
    CHECK(absent >= 0 && (unsigned)absent <= info.nscopes + info.nreserved);
    for (unsigned i = 0; i < info.nscopes; i++)
        CHECK(info.scopes[i].resolved);
    check_info(&info, kind);
    check_text(&info);
    check_lookup(&info, segment, bdf);
    for (unsigned i = 0; i < info.nscopes; i++)
        check_lookup(&info, info.scopes[i].segment, info.scopes[i].first);
    free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEADER_SIZE)
        return 0;
    fuzz_one(dmar_parse, "DMAR", IOMMU_VTD, data, size);
    fuzz_one(ivrs_parse, "IVRS", IOMMU_AMDVI, data, size);
    return 0;
}
