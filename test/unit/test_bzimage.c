/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The Linux boot protocol loader (core/bzimage.c) on bzImages built here field by field:
 * placement, refusals with their reasons, the initrd's place, the e820 map, the zero page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/bzimage.h"
#include "core/klib.h"
#include "core/refusal.h"

#define SETUP_SECTS 3
#define KERNEL_AT ((SETUP_SECTS + 1) * 512)
#define KERNEL_BYTES 8192
#define IMAGE_BYTES (KERNEL_AT + KERNEL_BYTES)
#define RAM_LO (2 * MiB)
#define RAM_HI (64 * MiB)

static uint8_t image[IMAGE_BYTES];

static void put16(unsigned at, uint16_t v)
{
    memcpy(image + at, &v, sizeof(v));
}

static void put32(unsigned at, uint32_t v)
{
    memcpy(image + at, &v, sizeof(v));
}

static void put64(unsigned at, uint64_t v)
{
    memcpy(image + at, &v, sizeof(v));
}

static uint32_t get32(const uint8_t *p, unsigned at)
{
    uint32_t v;
    memcpy(&v, p + at, sizeof(v));
    return v;
}

static uint64_t get64(const uint8_t *p, unsigned at)
{
    uint64_t v;
    memcpy(&v, p + at, sizeof(v));
    return v;
}

/* A protocol 2.15 x86-64 bzImage as a 6.1 kernel's header lays it out. */
static int make_image(void **state)
{
    (void)state;
    memset(image, 0, sizeof(image));
    image[0x1f1] = SETUP_SECTS;
    put32(0x1f4, KERNEL_BYTES / 16); /* syssize */
    put16(0x1fe, 0xaa55);            /* boot_flag */
    image[0x200] = 0xeb;             /* jmp */
    image[0x201] = 0x6a;             /* to 0x26c: the header's end */
    put32(0x202, 0x53726448);        /* "HdrS" */
    put16(0x206, 0x020f);            /* 2.15 */
    image[0x211] = 1;                /* LOADED_HIGH */
    put32(0x22c, 0x7fffffff);        /* initrd_addr_max */
    put32(0x230, 2 * MiB);           /* kernel_alignment */
    image[0x234] = 1;                /* relocatable */
    put16(0x236, 1);                 /* XLF_KERNEL_64 */
    put32(0x238, 2047);              /* cmdline_size */
    put64(0x258, 16 * MiB);          /* pref_address */
    put32(0x260, 4 * MiB);           /* init_size */
    for (unsigned i = 0; i < KERNEL_BYTES; i++)
        image[KERNEL_AT + i] = (uint8_t)(i * 7 + 1);
    return 0;
}

static int parse(struct bzimage *k, struct refusal *why)
{
    return bzimage_parse(image, sizeof(image), RAM_LO, RAM_HI, k, why);
}

static void assert_refused(int err, const char *reason)
{
    struct bzimage k;
    struct refusal why;
    assert_int_equal(parse(&k, &why), -err);
    assert_non_null(strstr(why.text, reason));
}

static void test_a_6_1_header_is_placed_at_its_preferred_address(void **state)
{
    (void)state;
    struct bzimage k;
    struct refusal why;
    assert_true(bzimage_detect(image, sizeof(image)));
    assert_int_equal(parse(&k, &why), 0);
    assert_int_equal(k.version, 0x020f);
    assert_int_equal(k.kernel_offset, KERNEL_AT);
    assert_int_equal(k.kernel_size, KERNEL_BYTES);
    assert_int_equal(k.load_gpa, 16 * MiB);
    assert_int_equal(k.entry_gpa, 16 * MiB + 0x200);
    assert_int_equal(k.init_size, 4 * MiB);
    assert_int_equal(k.header_len, 0x26c - 0x1f1);
    assert_int_equal(k.cmdline_max, 2047);
    assert_int_equal(k.initrd_limit, 0x80000000ull);
}

static void test_setup_sects_zero_means_four(void **state)
{
    (void)state;
    image[0x1f1] = 0;
    put32(0x1f4, (IMAGE_BYTES - 5 * 512) / 16); /* the kernel now starts a sector later */
    struct bzimage k;
    assert_int_equal(parse(&k, NULL), 0);
    assert_int_equal(k.kernel_offset, 5 * 512);
}

static void test_old_protocols_and_32_bit_kernels_are_refused(void **state)
{
    (void)state;
    put16(0x206, 0x020b);
    assert_refused(E_INVAL, "protocol 2.11 is too old: 2.12 or later");
    put16(0x206, 0x020f);
    put16(0x236, 0);
    assert_refused(E_INVAL, "no 64-bit entry point");
    put16(0x236, 1);
    image[0x211] = 0;
    assert_refused(E_INVAL, "zImage");
}

static void test_not_a_bzimage(void **state)
{
    (void)state;
    struct bzimage k;
    struct refusal why;
    put32(0x202, 0x7f454c46);
    assert_false(bzimage_detect(image, sizeof(image)));
    assert_refused(E_INVAL, "not a bzImage");
    assert_int_equal(bzimage_parse(image, 0x203, RAM_LO, RAM_HI, &k, &why), -E_INVAL);
    assert_false(bzimage_detect(image, 0));
}

static void test_truncated_images_are_refused(void **state)
{
    (void)state;
    struct bzimage k;
    struct refusal why;
    /* the header runs past the end of the file */
    assert_int_equal(bzimage_parse(image, 0x250, RAM_LO, RAM_HI, &k, &why), -E_INVAL);
    assert_non_null(strstr(why.text, "setup header ends beyond the file"));
    /* nothing after the setup sectors */
    assert_int_equal(bzimage_parse(image, KERNEL_AT, RAM_LO, RAM_HI, &k, &why), -E_INVAL);
    assert_non_null(strstr(why.text, "no kernel after 3 setup sectors"));
    /* fewer kernel bytes than syssize says */
    assert_int_equal(bzimage_parse(image, IMAGE_BYTES - 16, RAM_LO, RAM_HI, &k, &why), -E_INVAL);
    assert_non_null(strstr(why.text, "truncated: the kernel is"));
    image[0x1f1] = 0xff; /* 256 setup sectors: beyond the file */
    assert_refused(E_INVAL, "no kernel after 255 setup sectors");
}

static void test_header_lengths_are_bounded(void **state)
{
    (void)state;
    image[0x201] = 0x10; /* a header that ends before init_size */
    assert_refused(E_INVAL, "too short for protocol 2.12");
    image[0x201] = 0xff; /* beyond the zero page's room for it */
    assert_refused(E_INVAL, "overruns its room in the zero page");
}

static void test_sizes_and_alignment_are_checked(void **state)
{
    (void)state;
    put32(0x260, KERNEL_BYTES - 1);
    assert_refused(E_INVAL, "smaller than the kernel");
    put32(0x260, 4 * MiB);
    put32(0x230, 3 * MiB);
    assert_refused(E_INVAL, "not a power of two");
    put32(0x230, 512);
    assert_refused(E_INVAL, "not a power of two of 4K or more");
}

static void test_relocation_when_the_preferred_address_does_not_fit(void **state)
{
    (void)state;
    struct bzimage k;
    struct refusal why;
    /* RAM ends before 16M + init_size: the lowest 2M-aligned address from 3M is 4M */
    assert_int_equal(bzimage_parse(image, sizeof(image), 3 * MiB, 18 * MiB, &k, &why), 0);
    assert_int_equal(k.load_gpa, 4 * MiB);
    assert_int_equal(k.entry_gpa, 4 * MiB + 0x200);
    /* a misaligned preference is not taken either */
    put64(0x258, 16 * MiB + 4096);
    assert_int_equal(parse(&k, &why), 0);
    assert_int_equal(k.load_gpa, 2 * MiB);
    /* no room at all */
    assert_int_equal(bzimage_parse(image, sizeof(image), RAM_LO, 5 * MiB, &k, &why), -E_NOMEM);
    assert_non_null(strstr(why.text, "needs 0x400000 bytes"));
    /* not relocatable and not where it wants to be */
    image[0x234] = 0;
    put64(0x258, 16 * MiB);
    assert_int_equal(bzimage_parse(image, sizeof(image), RAM_LO, 18 * MiB, &k, &why), -E_NOMEM);
    assert_non_null(strstr(why.text, "not relocatable"));
    /* an address range that would wrap */
    image[0x234] = 1;
    assert_int_equal(bzimage_parse(image, sizeof(image), UINT64_MAX - MiB, UINT64_MAX, &k, &why),
                     -E_NOMEM);
}

static void test_initrd_goes_high_and_clear_of_the_kernel(void **state)
{
    (void)state;
    struct bzimage k;
    uint64_t at;
    struct refusal why;
    assert_int_equal(parse(&k, NULL), 0);
    /* the top of RAM, page-aligned down */
    assert_int_equal(bzimage_place_initrd(&k, 3 * MiB + 5, RAM_LO, RAM_HI, &at, &why), 0);
    assert_int_equal(at, (RAM_HI - (3 * MiB + 5)) & ~4095ull);
    /* a limit of the kernel's below the top of RAM wins */
    k.initrd_limit = 32 * MiB;
    assert_int_equal(bzimage_place_initrd(&k, MiB, RAM_LO, RAM_HI, &at, &why), 0);
    assert_int_equal(at, 31 * MiB);
    /* only room below the kernel (16M-20M) */
    k.initrd_limit = 19 * MiB;
    assert_int_equal(bzimage_place_initrd(&k, MiB, RAM_LO, RAM_HI, &at, &why), 0);
    assert_int_equal(at, 15 * MiB);
    /* too big for either side */
    assert_int_equal(bzimage_place_initrd(&k, 15 * MiB, RAM_LO, RAM_HI, &at, &why), -E_NOMEM);
    assert_non_null(strstr(why.text, "no room for an initrd"));
    assert_int_equal(bzimage_place_initrd(&k, 0, RAM_LO, RAM_HI, &at, &why), -E_INVAL);
    assert_int_equal(bzimage_place_initrd(&k, UINT64_MAX, RAM_LO, RAM_HI, &at, &why), -E_NOMEM);
}

static void test_e820_is_ram_less_the_reserved_ranges(void **state)
{
    (void)state;
    struct bz_e820 e[BZ_E820_MAX];
    struct refusal why;
    const struct bz_range reserved[] = {
        {0xe0000000, 0x6000}, /* the ring window, beyond RAM */
        {0, 0x200000},        /* low memory */
        {60 * MiB, 4 * MiB},  /* stacks at the top of RAM */
    };
    assert_int_equal(bzimage_e820(RAM_HI, reserved, 3, e, &why), 4);
    assert_true(e[0].addr == 0 && e[0].size == 0x200000 && e[0].type == BZ_E820_RESERVED);
    assert_true(e[1].addr == 0x200000 && e[1].size == 58 * MiB && e[1].type == BZ_E820_RAM);
    assert_true(e[2].addr == 60 * MiB && e[2].size == 4 * MiB && e[2].type == BZ_E820_RESERVED);
    assert_true(e[3].addr == 0xe0000000 && e[3].size == 0x6000 && e[3].type == BZ_E820_RESERVED);
    /* nothing reserved: one RAM entry */
    assert_int_equal(bzimage_e820(RAM_HI, NULL, 0, e, &why), 1);
    assert_true(e[0].addr == 0 && e[0].size == RAM_HI);
    const struct bz_range clash[] = {{MiB, MiB}, {MiB + 4096, 4096}};
    assert_int_equal(bzimage_e820(RAM_HI, clash, 2, e, &why), -E_INVAL);
    assert_non_null(strstr(why.text, "overlap"));
    const struct bz_range wraps[] = {{UINT64_MAX - 10, 100}};
    assert_int_equal(bzimage_e820(RAM_HI, wraps, 1, e, &why), -E_INVAL);
}

static void test_e820_table_is_bounded(void **state)
{
    (void)state;
    static struct bz_range many[BZ_E820_MAX];
    struct bz_e820 e[BZ_E820_MAX];
    struct refusal why;
    for (unsigned i = 0; i < BZ_E820_MAX; i++) /* each splits RAM: 2 entries apiece */
        many[i] = (struct bz_range){(uint64_t)(2 * i + 1) * 4096, 4096};
    assert_int_equal(bzimage_e820(RAM_HI, many, BZ_E820_MAX, e, &why), -E_NOMEM);
    assert_non_null(strstr(why.text, "more than 128 e820 entries"));
}

static void test_zero_page_carries_header_cmdline_initrd_and_map(void **state)
{
    (void)state;
    struct bzimage k;
    struct refusal why;
    static uint8_t zp[BZ_ZERO_PAGE_SIZE];
    assert_int_equal(parse(&k, NULL), 0);
    const struct bz_e820 e[] = {{0, 2 * MiB, BZ_E820_RESERVED}, {2 * MiB, 62 * MiB, BZ_E820_RAM}};
    struct bz_params p = {0x9000, "console=hvc0 quiet", 48 * MiB, 5 * MiB, e, 2};
    memset(zp, 0xaa, sizeof(zp));
    assert_int_equal(bzimage_zero_page(image, &k, &p, zp, &why), 0);
    assert_memory_equal(zp + 0x1f1, image + 0x1f1, 0x1fa - 0x1f1);
    assert_memory_equal(zp + 0x1fc, image + 0x1fc, 0x210 - 0x1fc);
    assert_int_equal(get32(zp, 0x1fa) & 0xffff, 0xffff); /* vid_mode: normal */
    assert_int_equal(get32(zp, 0x202), 0x53726448);
    assert_int_equal(get64(zp, 0x258), 16 * MiB);
    assert_int_equal(zp[0x210], 0xff); /* type_of_loader */
    assert_int_equal(get32(zp, 0x228), 0x9000);
    assert_int_equal(get32(zp, 0x0c8), 0);
    assert_int_equal(get32(zp, 0x218), 48 * MiB);
    assert_int_equal(get32(zp, 0x21c), 5 * MiB);
    assert_int_equal(zp[0x1e8], 2);
    assert_int_equal(get64(zp, 0x2d0 + 20), 2 * MiB);
    assert_int_equal(get64(zp, 0x2d0 + 28), 62 * MiB);
    assert_int_equal(get32(zp, 0x2d0 + 36), BZ_E820_RAM);
    assert_int_equal(zp[0x1ef], 0); /* sentinel */
    assert_int_equal(zp[0x26c], 0); /* past the header: built from zero */
    assert_int_equal(zp[4095], 0);
    /* an initrd above 4G splits into the ext_ fields */
    k.initrd_limit = UINT64_MAX;
    p.initrd_gpa = 0x123456000ull;
    assert_int_equal(bzimage_zero_page(image, &k, &p, zp, &why), 0);
    assert_int_equal(get32(zp, 0x218), 0x23456000);
    assert_int_equal(get32(zp, 0x0c0), 1);
}

static void test_zero_page_refuses_what_the_kernel_cannot_take(void **state)
{
    (void)state;
    struct bzimage k;
    struct refusal why;
    static uint8_t zp[BZ_ZERO_PAGE_SIZE];
    static char longline[4096];
    assert_int_equal(parse(&k, NULL), 0);
    const struct bz_e820 e[] = {{0, RAM_HI, BZ_E820_RAM}};
    memset(longline, 'x', 2048);
    struct bz_params p = {0x9000, longline, 48 * MiB, MiB, e, 1};
    assert_int_equal(bzimage_zero_page(image, &k, &p, zp, &why), -E_INVAL);
    assert_non_null(strstr(why.text, "command line of 2048 bytes; the kernel takes at most 2047"));
    longline[2047] = '\0'; /* 2047: accepted */
    assert_int_equal(bzimage_zero_page(image, &k, &p, zp, &why), 0);
    p.cmdline = "";
    p.initrd_gpa = 19 * MiB; /* into the kernel's 16M-20M */
    assert_int_equal(bzimage_zero_page(image, &k, &p, zp, &why), -E_INVAL);
    assert_non_null(strstr(why.text, "overlaps the kernel"));
    p.initrd_gpa = 0x7ff00000; /* ends right at the limit: accepted */
    assert_int_equal(bzimage_zero_page(image, &k, &p, zp, &why), 0);
    p.initrd_gpa = 0x7ff00001; /* one byte above initrd_addr_max */
    assert_int_equal(bzimage_zero_page(image, &k, &p, zp, &why), -E_INVAL);
    assert_non_null(strstr(why.text, "above the kernel's limit"));
    p.initrd_gpa = UINT64_MAX - 10; /* wraps */
    assert_int_equal(bzimage_zero_page(image, &k, &p, zp, &why), -E_INVAL);
    p.initrd_gpa = 48 * MiB;
    p.cmdline_gpa = 17 * MiB;
    assert_int_equal(bzimage_zero_page(image, &k, &p, zp, &why), -E_INVAL);
    assert_non_null(strstr(why.text, "command line at 0x1100000 overlaps"));
    p.cmdline_gpa = 0x9000;
    p.e820_count = 0;
    assert_int_equal(bzimage_zero_page(image, &k, &p, zp, &why), -E_INVAL);
}

static void test_load_copies_the_kernel_to_its_place(void **state)
{
    (void)state;
    struct bzimage k;
    assert_int_equal(bzimage_parse(image, sizeof(image), 0, 8 * MiB, &k, NULL), 0);
    image[0x234] = 0;
    uint8_t *guest = calloc(1, 8 * MiB);
    assert_non_null(guest);
    k.load_gpa = 2 * MiB;
    bzimage_load(image, &k, guest);
    assert_memory_equal(guest + 2 * MiB, image + KERNEL_AT, KERNEL_BYTES);
    assert_int_equal(guest[2 * MiB - 1], 0);
    assert_int_equal(guest[2 * MiB + KERNEL_BYTES], 0);
    free(guest);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup(name, make_image)
    const struct CMUnitTest tests[] = {
        T(test_a_6_1_header_is_placed_at_its_preferred_address),
        T(test_setup_sects_zero_means_four),
        T(test_old_protocols_and_32_bit_kernels_are_refused),
        T(test_not_a_bzimage),
        T(test_truncated_images_are_refused),
        T(test_header_lengths_are_bounded),
        T(test_sizes_and_alignment_are_checked),
        T(test_relocation_when_the_preferred_address_does_not_fit),
        T(test_initrd_goes_high_and_clear_of_the_kernel),
        T(test_e820_is_ram_less_the_reserved_ranges),
        T(test_e820_table_is_bounded),
        T(test_zero_page_carries_header_cmdline_initrd_and_map),
        T(test_zero_page_refuses_what_the_kernel_cannot_take),
        T(test_load_copies_the_kernel_to_its_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
