/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* libFuzzer target: the Linux boot protocol loader on arbitrary bytes. The first 8 bytes
 * choose the partition (RAM window, initrd size, command-line length, reserved ranges);
 * the rest is the bzImage. What is accepted must lie where it was promised. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bzimage.h"
#include "core/klib.h"
#include "core/refusal.h"
#include "fuzz_input.h"

#define RAM_HI (64ull << 20)
#define ZP_HDR_END 0x290

static char cmdline[4096];

static void check_reason(int rc, const struct refusal *why)
{
    CHECK(memchr(why->text, '\0', sizeof(why->text)) != NULL);
    CHECK(rc == 0 || why->text[0] != '\0');
}

static void check_kernel(const struct bzimage *k, uint64_t size, uint64_t lo, uint64_t hi)
{
    CHECK(k->version >= BZ_MIN_VERSION);
    CHECK(k->kernel_offset < size && k->kernel_size == size - k->kernel_offset);
    CHECK(k->kernel_size <= k->init_size);
    CHECK(k->load_gpa >= lo && k->load_gpa <= hi && k->init_size <= hi - k->load_gpa);
    CHECK(k->load_gpa % 4096 == 0);
    CHECK(k->entry_gpa == k->load_gpa + BZ_ENTRY_64_OFFSET);
    CHECK(k->header_len > 0 && 0x1f1 + (uint64_t)k->header_len <= ZP_HDR_END);
    CHECK(0x1f1 + (uint64_t)k->header_len <= size);
}

static void check_e820(const struct bz_e820 *e, int n)
{
    for (int i = 0; i < n; i++) {
        CHECK(e[i].size > 0);
        CHECK(e[i].type == BZ_E820_RAM || e[i].type == BZ_E820_RESERVED);
        CHECK(i == 0 || e[i].addr >= e[i - 1].addr + e[i - 1].size);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    uint64_t lo = (uint64_t)u8(&in) << 20, hi = RAM_HI - ((uint64_t)u8(&in) << 16);
    uint64_t initrd = (uint64_t)u16(&in) << 10;
    unsigned cmdlen = u16(&in) % sizeof(cmdline);
    struct bz_range reserved[2] = {{(uint64_t)u8(&in) << 20, 1ull << 20},
                                   {0xe0000000ull, (uint64_t)u8(&in) << 12}};
    struct refusal why = {{0}};
    struct bzimage k;
    int rc = bzimage_parse(in.p, in.left, lo, hi, &k, &why);
    check_reason(rc, &why);
    if (rc)
        return 0;
    check_kernel(&k, in.left, lo, hi);

    struct bz_e820 e[BZ_E820_MAX];
    int n = bzimage_e820(RAM_HI, reserved, reserved[1].size ? 2 : 1, e, &why);
    check_reason(n < 0 ? n : 0, &why);
    if (n < 0)
        return 0;
    check_e820(e, n);

    uint64_t initrd_gpa = 0;
    if (initrd) {
        rc = bzimage_place_initrd(&k, initrd, lo, hi, &initrd_gpa, &why);
        check_reason(rc, &why);
        if (rc)
            return 0;
        CHECK(initrd_gpa >= lo && initrd_gpa + initrd <= hi && initrd_gpa % 4096 == 0);
        CHECK(initrd_gpa + initrd <= k.initrd_limit);
        CHECK(initrd_gpa + initrd <= k.load_gpa || initrd_gpa >= k.load_gpa + k.init_size);
    }
    memset(cmdline, 'c', cmdlen);
    cmdline[cmdlen] = '\0';
    static uint8_t zp[BZ_ZERO_PAGE_SIZE];
    struct bz_params p = {0x9000, cmdline, initrd_gpa, initrd, e, (unsigned)n};
    rc = bzimage_zero_page(in.p, &k, &p, zp, &why);
    check_reason(rc, &why);
    if (rc)
        return 0;
    CHECK(cmdlen <= k.cmdline_max);
    CHECK(memcmp(zp + 0x1f1, in.p + 0x1f1, 9) == 0); /* setup_sects .. ram_size */
    CHECK(zp[0x1e8] == n && zp[0x210] == 0xff);
    /* the load writes exactly the kernel's bytes at its place, nothing outside init_size */
    uint8_t *guest = calloc(1, k.init_size);
    CHECK(guest != NULL);
    struct bzimage at_zero = k; /* the buffer stands for [load_gpa, load_gpa + init_size) */
    at_zero.load_gpa = 0;
    bzimage_load(in.p, &at_zero, guest);
    CHECK(memcmp(guest, in.p + k.kernel_offset, k.kernel_size) == 0);
    free(guest);
    return 0;
}
