/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* libFuzzer target: acpi_parse and acpi_list_tables on an arbitrary image of physical memory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/acpi.h"
#include "core/klib.h"

/* Input layout:
 *   bytes 0-1  offset of the RSDP inside the image (little endian)
 *   byte  2    bit 0: repair the checksums of everything that looks like a table, so that the
 *              fuzzer gets past the checksum checks into the MADT and FADT decoders
 *   byte  3    unused
 *   bytes 4..  the image, mapped at physical address IMAGE_BASE; nothing else is accessible */
#define HEADER_SIZE 4
#define IMAGE_BASE 0x1000u

struct image {
    const uint8_t *p;
    size_t n;
};

static const void *image_map(void *ctx, uint64_t pa, uint64_t len)
{
    const struct image *img = ctx;
    if (pa < IMAGE_BASE)
        return NULL;
    uint64_t off = pa - IMAGE_BASE;
    if (off > img->n || len > img->n - off)
        return NULL;
    return img->p + off;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fix_sum(uint8_t *p, size_t len, size_t at)
{
    uint8_t sum = 0;
    p[at] = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    p[at] = (uint8_t)(0u - sum);
}

static void repair_checksums(uint8_t *img, size_t n)
{
    static const char *const sigs[] = {"XSDT", "RSDT", "APIC", "FACP"};
    for (size_t off = 0; off + 20 <= n; off++) {
        uint8_t *p = img + off;
        size_t left = n - off;
        if (memcmp(p, "RSD PTR ", 8) == 0) {
            fix_sum(p, 20, 8);
            uint32_t len = left >= 36 ? le32(p + 20) : 0;
            if (p[15] >= 2 && len >= 36 && len <= left)
                fix_sum(p, len, 32);
            continue;
        }
        if (left < 36)
            continue;
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
            uint32_t len = le32(p + 4);
            if (memcmp(p, sigs[i], 4) == 0 && len >= 36 && len <= left)
                fix_sum(p, len, 9);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEADER_SIZE)
        return 0;
    uint64_t rsdp_pa = IMAGE_BASE + ((uint64_t)data[0] | (uint64_t)data[1] << 8);
    size_t n = size - HEADER_SIZE;
    /* an exact-size copy, so that any read past the image is caught */
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        return 0;
    memcpy(copy, data + HEADER_SIZE, n);
    if (data[2] & 1)
        repair_checksums(copy, n);

    struct image img = {copy, n};
    struct acpi_mem mem = {.ctx = &img, .map = image_map};
    static struct acpi_info info;
    struct refusal why;
    memset(&why, 'x', sizeof(why));
    int err = acpi_parse(&mem, rsdp_pa, &info, &why);
    if (!memchr(why.text, '\0', sizeof(why.text)))
        __builtin_trap();
    if (err == 0) {
        if (why.text[0] || info.ncpus > ACPI_MAX_CPUS || info.nioapics > ACPI_MAX_IOAPICS)
            __builtin_trap();
    } else if (err > 0 || !why.text[0]) {
        __builtin_trap();
    }

    struct acpi_table_ref refs[ACPI_MAX_TABLES];
    int count = acpi_list_tables(&mem, rsdp_pa, refs, ACPI_MAX_TABLES);
    if (count > (int)ACPI_MAX_TABLES)
        __builtin_trap();
    for (int i = 0; i < count; i++)
        if (strlen(refs[i].signature) != 4)
            __builtin_trap();
    if (err == 0 && count < 3) /* a parse that succeeded read an RSDP, a root table and an MADT */
        __builtin_trap();
    free(copy);
    return 0;
}
