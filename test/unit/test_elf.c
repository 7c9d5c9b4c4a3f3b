/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* ELF64 loader on images built here (good, broken on purpose, at the edges) and on a real one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/elf.h"
#include "core/klib.h"
#include "core/refusal.h"

/* The partition's image area used unless a test says otherwise. */
#define WIN_MIN 0x200000ull
#define WIN_MAX 0x4000000ull

/* ---- A small ELF64 image builder ---- */

#define PT_LOAD 1u
#define PT_NOTE 4u
#define PT_GNU_STACK 0x6474e551u
#define PF_X ELF_PF_X
#define PF_W ELF_PF_W
#define PF_R ELF_PF_R

#define PHOFF 64u
#define MAX_PHDRS 20u
#define DATA_START 0x1000u /* segment contents go after the program header table */
#define BUF_MAX 0x8000u

struct builder {
    uint8_t buf[BUF_MAX];
    size_t size;
    unsigned phnum;
    unsigned phentsize; /* the stride b_phdr writes at */
    size_t data_end;
};

static void put16(struct builder *b, size_t at, uint16_t v)
{
    memcpy(b->buf + at, &v, sizeof(v));
}

static void put32(struct builder *b, size_t at, uint32_t v)
{
    memcpy(b->buf + at, &v, sizeof(v));
}

static void put64(struct builder *b, size_t at, uint64_t v)
{
    memcpy(b->buf + at, &v, sizeof(v));
}

/* Ehdr field offsets, from the ELF-64 format. */
#define E_TYPE 16
#define E_MACHINE 18
#define E_VERSION 20
#define E_ENTRY 24
#define E_PHOFF 32
#define E_EHSIZE 52
#define E_PHENTSIZE 54
#define E_PHNUM 56

static void b_init(struct builder *b, uint64_t entry)
{
    memset(b, 0, sizeof(*b));
    static const uint8_t ident[16] = {0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* LE */, 1};
    memcpy(b->buf, ident, sizeof(ident));
    put16(b, E_TYPE, 2);     /* ET_EXEC */
    put16(b, E_MACHINE, 62); /* EM_X86_64 */
    put32(b, E_VERSION, 1);
    put64(b, E_ENTRY, entry);
    put64(b, E_PHOFF, PHOFF);
    put16(b, E_EHSIZE, 64);
    put16(b, E_PHENTSIZE, 56);
    put16(b, E_PHNUM, 0);
    b->phentsize = 56;
    b->size = PHOFF;
    b->data_end = DATA_START;
}

/* Appends a raw program header; returns its index. */
static unsigned b_phdr(struct builder *b, uint32_t type, uint32_t flags, uint64_t offset,
                       uint64_t vaddr, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
    assert_true(b->phnum < MAX_PHDRS);
    size_t at = PHOFF + (size_t)b->phnum * b->phentsize;
    put32(b, at + 0, type);
    put32(b, at + 4, flags);
    put64(b, at + 8, offset);
    put64(b, at + 16, vaddr);
    put64(b, at + 24, paddr);
    put64(b, at + 32, filesz);
    put64(b, at + 40, memsz);
    put64(b, at + 48, 0x1000);
    put16(b, E_PHNUM, (uint16_t)++b->phnum);
    if (b->size < at + b->phentsize)
        b->size = at + b->phentsize;
    return b->phnum - 1;
}

/* Appends a PT_LOAD at gpa whose file bytes are filesz bytes of a pattern (seed, seed+1, ...);
 * returns the file offset of those bytes. */
static uint64_t b_load(struct builder *b, uint32_t flags, uint64_t gpa, size_t filesz,
                       uint64_t memsz, uint8_t seed)
{
    size_t off = b->data_end;
    assert_true(off + filesz <= BUF_MAX);
    for (size_t i = 0; i < filesz; i++)
        b->buf[off + i] = (uint8_t)(seed + i);
    b->data_end = ALIGN_UP(off + filesz, 16);
    if (b->size < off + filesz)
        b->size = off + filesz;
    b_phdr(b, PT_LOAD, flags, off, gpa, gpa, filesz, memsz);
    return off;
}

/* ---- Parsing a copy at an odd address, exactly as long as the image ---- */

struct parsed {
    uint8_t *alloc;
    const uint8_t *file; /* alloc + 1 */
    struct elf_image img;
    struct refusal why;
    int err;
};

static void parsed_free(struct parsed *p)
{
    free(p->alloc);
    p->alloc = NULL;
}

static int parse_window(struct builder *b, uint64_t lo, uint64_t hi, struct parsed *p)
{
    p->alloc = malloc(b->size + 1);
    assert_non_null(p->alloc);
    memcpy(p->alloc + 1, b->buf, b->size);
    p->file = p->alloc + 1;
    memset(&p->why, 'x', sizeof(p->why));
    p->err = elf_parse(p->file, b->size, lo, hi, &p->img, &p->why);
    return p->err;
}

static bool image_is_zero(const struct elf_image *img)
{
    static const struct elf_image zero;
    return memcmp(img, &zero, sizeof(zero)) == 0;
}

static void expect_ok_window(struct builder *b, uint64_t lo, uint64_t hi, struct parsed *p)
{
    if (parse_window(b, lo, hi, p) != 0)
        fail_msg("refused (%d): %s", p->err, p->why.text);
    assert_string_equal(p->why.text, "");
}

/* Refused with err, the reason containing want. */
static void expect_refused_window(struct builder *b, uint64_t lo, uint64_t hi, int err,
                                  const char *want)
{
    struct parsed p;
    parse_window(b, lo, hi, &p);
    if (p.err != err || !strstr(p.why.text, want))
        fail_msg("got %d \"%s\", want %d \"%s\"", p.err, p.err ? p.why.text : "", err, want);
    assert_true(image_is_zero(&p.img));
    parsed_free(&p);
}

static void expect_refused(struct builder *b, int err, const char *want)
{
    expect_refused_window(b, WIN_MIN, WIN_MAX, err, want);
}

/* Refused with a reason equal to want. */
static void expect_reason(struct builder *b, int err, const char *want)
{
    struct parsed p;
    parse_window(b, WIN_MIN, WIN_MAX, &p);
    assert_int_equal(p.err, err);
    assert_string_equal(p.why.text, want);
    parsed_free(&p);
}

/* The usual good image: text R-X at 0x200000, data RW with bss at 0x202000, plus a note, a
 * GNU_STACK header and an empty PT_LOAD that must all be ignored. */
#define TEXT_GPA 0x200000ull
#define TEXT_SIZE 0x40u
#define DATA_GPA 0x202000ull
#define DATA_FILE 0x30u
#define DATA_MEM 0x1000u
#define ENTRY (TEXT_GPA + 0x10)

static void build_good(struct builder *b)
{
    b_init(b, ENTRY);
    b_load(b, PF_R | PF_X, TEXT_GPA, TEXT_SIZE, TEXT_SIZE, 0x10);
    b_phdr(b, PT_NOTE, PF_R, 0, 0x5000, 0x6000, 0, 0x10);
    b_load(b, PF_R | PF_W, DATA_GPA, DATA_FILE, DATA_MEM, 0x80);
    b_phdr(b, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0);
    b_phdr(b, PT_LOAD, PF_R, 0, 0x100, 0x100, 0, 0); /* empty: skipped, not out of the window */
}

/* ---- The good image ---- */

static void test_good_image(void **state)
{
    (void)state;
    static struct builder b;
    struct parsed p;
    build_good(&b);
    expect_ok_window(&b, WIN_MIN, WIN_MAX, &p);

    const struct elf_image *img = &p.img;
    assert_int_equal(img->entry, ENTRY);
    assert_int_equal(img->nsegments, 2);
    assert_int_equal(img->seg[0].gpa, TEXT_GPA);
    assert_int_equal(img->seg[0].file_offset, DATA_START);
    assert_int_equal(img->seg[0].file_size, TEXT_SIZE);
    assert_int_equal(img->seg[0].mem_size, TEXT_SIZE);
    assert_int_equal(img->seg[0].flags, PF_R | PF_X);
    assert_int_equal(img->seg[1].gpa, DATA_GPA);
    assert_int_equal(img->seg[1].file_size, DATA_FILE);
    assert_int_equal(img->seg[1].mem_size, DATA_MEM);
    assert_int_equal(img->seg[1].flags, PF_R | PF_W);
    assert_int_equal(img->lowest, TEXT_GPA);
    assert_int_equal(img->highest, DATA_GPA + DATA_MEM); /* already page-aligned */

    /* fake guest memory for [0x200000, 0x204000), guest-physical 0 below its start */
    enum { GUEST_SIZE = 0x4000 };
    uint8_t *mem = malloc(GUEST_SIZE);
    assert_non_null(mem);
    memset(mem, 0xaa, GUEST_SIZE);
    uint8_t *guest_base = (uint8_t *)((uintptr_t)mem - (uintptr_t)WIN_MIN);
    elf_load(p.file, img, guest_base);

    for (size_t a = 0; a < GUEST_SIZE; a++) {
        uint64_t gpa = WIN_MIN + a;
        uint8_t want = 0xaa;
        if (gpa >= TEXT_GPA && gpa < TEXT_GPA + TEXT_SIZE)
            want = (uint8_t)(0x10 + (gpa - TEXT_GPA));
        else if (gpa >= DATA_GPA && gpa < DATA_GPA + DATA_FILE)
            want = (uint8_t)(0x80 + (gpa - DATA_GPA));
        else if (gpa >= DATA_GPA && gpa < DATA_GPA + DATA_MEM)
            want = 0; /* bss */
        if (mem[a] != want)
            fail_msg("gpa 0x%llx: 0x%02x, want 0x%02x", (unsigned long long)gpa, mem[a], want);
    }
    free(mem);
    parsed_free(&p);
}

static void test_highest_rounds_up(void **state)
{
    (void)state;
    static struct builder b;
    struct parsed p;
    b_init(&b, 0x300000);
    b_load(&b, PF_R | PF_W, 0x400123, 0x10, 0x20, 0);
    b_load(&b, PF_R | PF_X, 0x300000, 0x10, 0x10, 0);
    expect_ok_window(&b, WIN_MIN, WIN_MAX, &p);
    assert_int_equal(p.img.lowest, 0x300000); /* the lower segment comes second */
    assert_int_equal(p.img.highest, 0x401000);
    parsed_free(&p);
}

/* Bits of p_flags other than R, W, X are dropped; the entry may be in the bss part. */
static void test_flags_and_entry_in_bss(void **state)
{
    (void)state;
    static struct builder b;
    struct parsed p;
    b_init(&b, 0x200100);
    b_load(&b, PF_R | PF_W | PF_X | 0xf0000000u, 0x200000, 0x20, 0x1000, 0);
    expect_ok_window(&b, WIN_MIN, WIN_MAX, &p);
    assert_int_equal(p.img.seg[0].flags, PF_R | PF_W | PF_X);
    parsed_free(&p);
}

/* ---- Header refusals ---- */

static void test_bad_magic_and_ident(void **state)
{
    (void)state;
    static struct builder b;
    const char *why_magic = "not an ELF file (bad magic)";

    build_good(&b);
    b.buf[1] = 'e';
    expect_reason(&b, -E_INVAL, why_magic);

    build_good(&b);
    b.size = 3; /* too short for the magic */
    expect_reason(&b, -E_INVAL, why_magic);
    b.size = 0;
    expect_reason(&b, -E_INVAL, why_magic);

    build_good(&b);
    b.size = 10;
    expect_reason(&b, -E_BADMSG, "ELF header is truncated (10 of 64 bytes)");
    b.size = 63;
    expect_reason(&b, -E_BADMSG, "ELF header is truncated (63 of 64 bytes)");

    build_good(&b);
    b.buf[4] = 1; /* ELFCLASS32 */
    expect_refused(&b, -E_INVAL, "not a 64-bit ELF");
    expect_reason(&b, -E_INVAL, "not a 64-bit ELF (class 1)");

    build_good(&b);
    b.buf[5] = 2; /* ELFDATA2MSB */
    expect_refused(&b, -E_INVAL, "not little-endian");

    build_good(&b);
    b.buf[6] = 0;
    expect_reason(&b, -E_INVAL, "unsupported ELF identification version 0");
}

static void test_bad_header_fields(void **state)
{
    (void)state;
    static struct builder b;

    build_good(&b);
    put16(&b, E_MACHINE, 3); /* EM_386 */
    expect_reason(&b, -E_INVAL, "not an x86-64 executable (machine 3)");

    build_good(&b);
    put16(&b, E_TYPE, 3); /* ET_DYN */
    expect_reason(&b, -E_INVAL, "not an executable (type 3)");
    put16(&b, E_TYPE, 1); /* ET_REL */
    expect_reason(&b, -E_INVAL, "not an executable (type 1)");

    build_good(&b);
    put32(&b, E_VERSION, 2);
    expect_reason(&b, -E_INVAL, "unsupported ELF version 2");

    build_good(&b);
    put16(&b, E_PHENTSIZE, 55);
    expect_reason(&b, -E_BADMSG, "program header entry size 55 is smaller than 56");

    build_good(&b);
    put16(&b, E_PHNUM, 0xffff);
    expect_refused(&b, -E_INVAL, "PN_XNUM");
}

/* A larger e_phentsize is allowed: each header is read at its stride. */
static void test_large_phentsize(void **state)
{
    (void)state;
    static struct builder b;
    struct parsed p;
    b_init(&b, 0x200000);
    b.phentsize = 64;
    put16(&b, E_PHENTSIZE, 64);
    b_load(&b, PF_R | PF_X, 0x200000, 0x10, 0x10, 0);
    b_load(&b, PF_R, 0x300000, 0x10, 0x10, 0);
    memset(b.buf + PHOFF + 56, 0xee, 8); /* padding after header 0: must not be read */
    expect_ok_window(&b, WIN_MIN, WIN_MAX, &p);
    assert_int_equal(p.img.nsegments, 2);
    assert_int_equal(p.img.seg[1].gpa, 0x300000);
    parsed_free(&p);
}

static void test_program_headers_outside_file(void **state)
{
    (void)state;
    static struct builder b;
    const char *why = "program headers lie outside the file";

    build_good(&b);
    put64(&b, E_PHOFF, b.size); /* table starts at the end of the file */
    expect_reason(&b, -E_BADMSG, why);

    build_good(&b);
    put64(&b, E_PHOFF, UINT64_MAX - 0x10); /* phoff + table wraps to a small number */
    expect_reason(&b, -E_BADMSG, why);

    /* the table's last byte just past the end of the file */
    b_init(&b, 0x200000);
    b_phdr(&b, PT_LOAD, PF_R | PF_X, 0, 0x200000, 0x200000, 0x40, 0x40);
    b.size = PHOFF + 55;
    expect_reason(&b, -E_BADMSG, why);
    b.size = PHOFF + 56; /* exactly fits: fine */
    struct parsed p;
    expect_ok_window(&b, WIN_MIN, WIN_MAX, &p);
    parsed_free(&p);
}

/* ---- Segment refusals ---- */

static void test_segment_file_range(void **state)
{
    (void)state;
    static struct builder b;

    build_good(&b);
    b.size--; /* cuts the last byte of segment 2's file bytes (the data, program header 2) */
    expect_reason(&b, -E_BADMSG, "segment 2 file range lies outside the file");

    b_init(&b, 0x200000);
    b_load(&b, PF_R | PF_X, 0x200000, 0x10, 0x10, 0);
    b_phdr(&b, PT_LOAD, PF_R, UINT64_MAX - 0xf, 0x300000, 0x300000, 0x20, 0x20); /* wraps */
    expect_reason(&b, -E_BADMSG, "segment 1 file range lies outside the file");

    b_init(&b, 0x200000);
    b_load(&b, PF_R | PF_X, 0x200000, 0x10, 0x10, 0);
    b_phdr(&b, PT_LOAD, PF_R, 0x10, 0x300000, 0x300000, UINT64_MAX - 0x8, UINT64_MAX - 0x8);
    expect_reason(&b, -E_BADMSG, "segment 1 file range lies outside the file");

    /* no file bytes: the offset does not matter */
    struct parsed p;
    b_init(&b, 0x200000);
    b_load(&b, PF_R | PF_X, 0x200000, 0x10, 0x10, 0);
    b_phdr(&b, PT_LOAD, PF_R | PF_W, UINT64_MAX, 0x300000, 0x300000, 0, 0x100);
    expect_ok_window(&b, WIN_MIN, WIN_MAX, &p);
    assert_int_equal(p.img.nsegments, 2);
    parsed_free(&p);
}

static void test_segment_sizes_and_addresses(void **state)
{
    (void)state;
    static struct builder b;

    b_init(&b, 0x200000);
    b_load(&b, PF_R | PF_X, 0x200000, 0x20, 0x1f, 0);
    expect_reason(&b, -E_BADMSG, "segment 0 has file size larger than memory size");

    b_init(&b, 0x200000);
    b_load(&b, PF_R | PF_X, 0x200000, 0x20, 0x20, 0);
    b_phdr(&b, PT_LOAD, PF_R, DATA_START, 0x300000, 0x300000, 0x10, 0); /* memsz 0, filesz not */
    expect_reason(&b, -E_BADMSG, "segment 1 has file size larger than memory size");

    b_init(&b, 0x200000);
    b_phdr(&b, PT_LOAD, PF_R | PF_X, DATA_START, 0xffffffff80200000ull, 0x200000, 0x10, 0x10);
    b.size = DATA_START + 0x10;
    expect_refused(&b, -E_INVAL, "segment 0: vaddr != paddr");
    expect_reason(&b, -E_INVAL, "segment 0: vaddr != paddr (0xffffffff80200000, 0x200000)");
}

static void test_segment_outside_window(void **state)
{
    (void)state;
    static struct builder b;

    b_init(&b, 0x200000);
    b_load(&b, PF_R | PF_X, 0x200000, 0x10, 0x10, 0);
    b_load(&b, PF_R, 0x300000, 0x10, 0x10, 0);
    b_load(&b, PF_R | PF_W, 0x1000, 0x10, 0x2000, 0);
    expect_reason(&b, -E_RANGE,
                  "segment 2 at 0x1000-0x3000 lies outside the partition's image area "
                  "0x200000-0x4000000");

    b_init(&b, 0x200000);
    b_load(&b, PF_R | PF_X, 0x200000, 0x10, 0x10, 0);
    b_load(&b, PF_R | PF_W, 0x3fff000, 0x10, 0x2000, 0); /* straddles load_max */
    expect_reason(&b, -E_RANGE,
                  "segment 1 at 0x3fff000-0x4001000 lies outside the partition's image area "
                  "0x200000-0x4000000");
}

static void test_window_boundaries(void **state)
{
    (void)state;
    static struct builder b;
    struct parsed p;

    /* one segment filling the window exactly */
    b_init(&b, WIN_MIN);
    b_load(&b, PF_R | PF_X, WIN_MIN, 0x10, WIN_MAX - WIN_MIN, 0);
    expect_ok_window(&b, WIN_MIN, WIN_MAX, &p);
    assert_int_equal(p.img.lowest, WIN_MIN);
    assert_int_equal(p.img.highest, WIN_MAX);
    parsed_free(&p);

    /* one byte over the top */
    b_init(&b, WIN_MIN);
    b_load(&b, PF_R | PF_X, WIN_MIN, 0x10, WIN_MAX - WIN_MIN + 1, 0);
    expect_refused(&b, -E_RANGE, "segment 0 at 0x200000-0x4000001 lies outside");

    /* one byte below the bottom */
    b_init(&b, WIN_MIN);
    b_load(&b, PF_R | PF_X, WIN_MIN - 1, 0x10, 0x20, 0);
    expect_refused(&b, -E_RANGE, "segment 0 at 0x1fffff-0x20001f lies outside");

    /* a segment at the bottom and one ending at the top of a small window */
    b_init(&b, 0x1000);
    b_load(&b, PF_R | PF_X, 0x1000, 0x10, 0x10, 0);
    b_load(&b, PF_R | PF_W, 0x1ff0, 0x10, 0x10, 0);
    expect_ok_window(&b, 0x1000, 0x2000, &p);
    assert_int_equal(p.img.highest, 0x2000);
    parsed_free(&p);
    b_init(&b, 0x1000);
    b_load(&b, PF_R | PF_X, 0x1000, 0x10, 0x10, 0);
    b_load(&b, PF_R | PF_W, 0x1f00, 0x10, 0x10, 0);
    /* the same in an unaligned window: highest is rounded up past load_max */
    expect_ok_window(&b, 0x1000, 0x1f10, &p);
    assert_int_equal(p.img.highest, 0x2000);
    parsed_free(&p);
    expect_refused_window(&b, 0x1000, 0x1f0f, -E_RANGE, "segment 1 at 0x1f00-0x1f10");

    /* the top of the address space: a window ending at the last page, and segments there */
    const uint64_t top = UINT64_MAX - 0xfff; /* 0xffff_ffff_ffff_f000 */
    b_init(&b, top - 0x1000);
    b_load(&b, PF_R | PF_X, top - 0x1000, 0x10, 0x1000, 0);
    expect_ok_window(&b, top - 0x2000, top, &p);
    assert_int_equal(p.img.highest, top);
    parsed_free(&p);
}

static void test_address_wraparound(void **state)
{
    (void)state;
    static struct builder b;

    /* vaddr + memsz wraps past 2^64 to a small address inside the window */
    b_init(&b, 0x200000);
    b_load(&b, PF_R | PF_X, 0x200000, 0x10, 0x10, 0);
    b_load(&b, PF_R | PF_W, UINT64_MAX - 0xfff, 0x10, 0x201000, 0);
    expect_refused(&b, -E_OVERFLOW,
                   "segment 1 at 0xfffffffffffff000 with memory size 0x201000 "
                   "wraps around the address space");

    /* ends exactly at 2^64: also a wrap (the end is not representable) */
    b_init(&b, 0x200000);
    b_load(&b, PF_R | PF_X, 0x200000, 0x10, 0x10, 0);
    b_load(&b, PF_R | PF_W, UINT64_MAX - 0xfff, 0x10, 0x1000, 0);
    expect_refused(&b, -E_OVERFLOW, "segment 1 at 0xfffffffffffff000");

    /* ends at 2^64 - 1: no wrap, just outside the window */
    b_init(&b, 0x200000);
    b_load(&b, PF_R | PF_X, 0x200000, 0x10, 0x10, 0);
    b_load(&b, PF_R | PF_W, UINT64_MAX - 0xfff, 0x10, 0xfff, 0);
    expect_refused(&b, -E_RANGE, "segment 1 at 0xfffffffffffff000-0xffffffffffffffff lies outside");
}

static void test_overlap(void **state)
{
    (void)state;
    static struct builder b;
    struct parsed p;

    b_init(&b, 0x200000);
    b_load(&b, PF_R | PF_X, 0x200000, 0x10, 0x1000, 0);
    b_load(&b, PF_R | PF_W, 0x200fff, 0x10, 0x10, 0);
    expect_reason(&b, -E_RANGE, "segments 0 and 1 overlap");

    /* one inside the other, the inner one first; numbered by program header */
    b_init(&b, 0x200000);
    b_load(&b, PF_R | PF_X, 0x200000, 0x10, 0x1000, 0);
    b_phdr(&b, PT_NOTE, 0, 0, 0, 0, 0, 0);
    b_load(&b, PF_R, 0x300800, 0x10, 0x10, 0);
    b_load(&b, PF_R | PF_W, 0x300000, 0x10, 0x1000, 0);
    expect_reason(&b, -E_RANGE, "segments 2 and 3 overlap");

    /* touching is not overlapping */
    b_init(&b, 0x200000);
    b_load(&b, PF_R | PF_X, 0x200000, 0x10, 0x1000, 0);
    b_load(&b, PF_R | PF_W, 0x201000, 0x10, 0x10, 0);
    b_load(&b, PF_R | PF_W, 0x1ff000, 0x10, 0x1000, 0);
    expect_ok_window(&b, 0x1ff000, WIN_MAX, &p);
    assert_int_equal(p.img.nsegments, 3);
    assert_int_equal(p.img.lowest, 0x1ff000);
    assert_int_equal(p.img.highest, 0x202000);
    parsed_free(&p);
}

static void test_entry_point(void **state)
{
    (void)state;
    static struct builder b;
    struct parsed p;

    build_good(&b);
    put64(&b, E_ENTRY, DATA_GPA + 4); /* in the writable, non-executable segment */
    expect_reason(&b, -E_INVAL, "entry point 0x202004 is not inside an executable segment");

    build_good(&b);
    put64(&b, E_ENTRY, TEXT_GPA + TEXT_SIZE); /* one past the end of text */
    expect_reason(&b, -E_INVAL, "entry point 0x200040 is not inside an executable segment");

    build_good(&b);
    put64(&b, E_ENTRY, TEXT_GPA + TEXT_SIZE - 1); /* the last byte of text */
    expect_ok_window(&b, WIN_MIN, WIN_MAX, &p);
    parsed_free(&p);

    build_good(&b);
    put64(&b, E_ENTRY, 0);
    expect_refused(&b, -E_INVAL, "entry point 0x0 is not inside");
}

static void test_no_loadable_segment(void **state)
{
    (void)state;
    static struct builder b;

    b_init(&b, 0x200000);
    b.size = 64;
    expect_reason(&b, -E_INVAL, "no loadable segment");

    b_init(&b, 0x200000);
    b_phdr(&b, PT_NOTE, PF_R, 0, 0x200000, 0x200000, 0, 0x10);
    b_phdr(&b, PT_LOAD, PF_R | PF_X, 0, 0x200000, 0x200000, 0, 0);
    b_phdr(&b, PT_LOAD, PF_R | PF_X, 0, 0x1234, 0x5678, 0, 0); /* empty: not even checked */
    expect_reason(&b, -E_INVAL, "no loadable segment");
}

static void test_segment_count(void **state)
{
    (void)state;
    static struct builder b;
    struct parsed p;

    b_init(&b, 0x200000);
    for (unsigned i = 0; i < ELF_MAX_SEGMENTS; i++)
        b_load(&b, i ? PF_R : PF_R | PF_X, 0x200000 + i * 0x1000ull, 0x10, 0x10, (uint8_t)i);
    b_phdr(&b, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0); /* not counted */
    expect_ok_window(&b, WIN_MIN, WIN_MAX, &p);
    assert_int_equal(p.img.nsegments, ELF_MAX_SEGMENTS);
    assert_int_equal(p.img.highest, 0x200000 + ELF_MAX_SEGMENTS * 0x1000ull);
    parsed_free(&p);

    b_load(&b, PF_R, 0x200000 + ELF_MAX_SEGMENTS * 0x1000ull, 0x10, 0x10, 0);
    expect_reason(&b, -E_RANGE, "too many segments (at most 16)");
}

/* ---- The refusal and the window arguments ---- */

/* A reason longer than a refusal holds is cut to REFUSAL_MAX - 1 characters, terminated; and no
 * refusal at all (NULL) is accepted. */
static void test_refusal_truncated_or_absent(void **state)
{
    (void)state;
    static struct builder b;
    const uint64_t lo = 0x8000000000000000ull, hi = 0xfffffffffffff000ull;
    const uint64_t gpa = 0x1000000000000000ull;
    struct elf_image img;
    struct refusal why;
    char full[256];

    b_init(&b, gpa);
    b_load(&b, PF_R | PF_X, gpa, 0x10, 0x10, 0);
    int n = snprintf(full, sizeof(full),
                     "segment 0 at 0x%llx-0x%llx lies outside the partition's image area "
                     "0x%llx-0x%llx",
                     (unsigned long long)gpa, (unsigned long long)gpa + 0x10,
                     (unsigned long long)lo, (unsigned long long)hi);
    assert_true(n >= REFUSAL_MAX);
    memset(&why, 'x', sizeof(why));
    assert_int_equal(elf_parse(b.buf, b.size, lo, hi, &img, &why), -E_RANGE);
    assert_int_equal(strlen(why.text), REFUSAL_MAX - 1);
    assert_memory_equal(why.text, full, REFUSAL_MAX - 1);
    assert_int_equal(elf_parse(b.buf, b.size, lo, hi, &img, NULL), -E_RANGE);
    assert_true(image_is_zero(&img));

    build_good(&b);
    put16(&b, E_MACHINE, 40);
    assert_int_equal(elf_parse(b.buf, b.size, WIN_MIN, WIN_MAX, &img, NULL), -E_INVAL);
    build_good(&b);
    assert_int_equal(elf_parse(b.buf, b.size, WIN_MIN, WIN_MAX, &img, NULL), 0);
}

static void test_invalid_window(void **state)
{
    (void)state;
    static struct builder b;
    build_good(&b);
    expect_refused_window(&b, WIN_MAX, WIN_MAX, -E_INVAL, "invalid image area 0x4000000-0x4000000");
    expect_refused_window(&b, WIN_MAX, WIN_MIN, -E_INVAL, "invalid image area");
    expect_refused_window(&b, WIN_MIN, UINT64_MAX, -E_INVAL, "invalid image area");
}

/* ---- A real image: test/fixtures/elf/tiny.elf, built by clang and ld.lld ---- */

static uint8_t *read_fixture(const char *name, size_t *len)
{
    const char *root = getenv("FIXTURES");
    char path[1024];
    if (!root)
        fail_msg("FIXTURES is not set (run through ctest)");
    snprintf(path, sizeof(path), "%s/elf/%s", root, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    bool ok = fseek(f, 0, SEEK_END) == 0;
    long size = ok ? ftell(f) : -1;
    ok = size > 0 && fseek(f, 0, SEEK_SET) == 0;
    uint8_t *data = ok ? malloc((size_t)size) : NULL;
    ok = data && fread(data, 1, (size_t)size, f) == (size_t)size;
    fclose(f);
    if (!ok)
        fail_msg("cannot read %s", path);
    *len = (size_t)size;
    return data;
}

static void test_toolchain_image(void **state)
{
    (void)state;
    size_t len;
    uint8_t *file = read_fixture("tiny.elf", &len);
    struct elf_image img;
    struct refusal why;

    /* lld puts the ELF and program headers in a read-only segment a page below -Ttext */
    assert_int_equal(elf_parse(file, len, 0x100000, 0x400000, &img, &why), 0);
    assert_int_equal(img.entry, 0x200000);
    assert_int_equal(img.nsegments, 3);
    assert_int_equal(img.seg[0].gpa, 0x1ff000);
    assert_int_equal(img.seg[0].flags, PF_R);
    assert_int_equal(img.seg[1].gpa, 0x200000);
    assert_int_equal(img.seg[1].flags, PF_R | PF_X);
    assert_int_equal(img.seg[2].flags, PF_R | PF_W);
    assert_true(img.seg[2].mem_size > img.seg[2].file_size); /* .bss */
    assert_int_equal(img.lowest, 0x1ff000);
    assert_int_equal(img.highest, 0x202000);

    /* load it: the text is the file's bytes, the bss zero */
    enum { GUEST_SIZE = 0x3000 };
    uint8_t *mem = malloc(GUEST_SIZE);
    assert_non_null(mem);
    memset(mem, 0xaa, GUEST_SIZE);
    elf_load(file, &img, (uint8_t *)((uintptr_t)mem - 0x1ff000u));
    assert_memory_equal(mem + 0x1000, file + img.seg[1].file_offset, img.seg[1].file_size);
    uint8_t *data = mem + 0x2000;
    for (uint64_t i = img.seg[2].file_size; i < img.seg[2].mem_size; i++)
        assert_int_equal(data[i], 0);
    assert_int_equal(data[img.seg[2].mem_size], 0xaa);
    free(mem);

    /* the headers segment lies below a window that starts at -Ttext */
    assert_int_equal(elf_parse(file, len, 0x200000, 0x400000, &img, &why), -E_RANGE);
    assert_string_equal(why.text,
                        "segment 0 at 0x1ff000-0x1ff120 lies outside the partition's image "
                        "area 0x200000-0x400000");
    free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_image),
        cmocka_unit_test(test_highest_rounds_up),
        cmocka_unit_test(test_flags_and_entry_in_bss),
        cmocka_unit_test(test_bad_magic_and_ident),
        cmocka_unit_test(test_bad_header_fields),
        cmocka_unit_test(test_large_phentsize),
        cmocka_unit_test(test_program_headers_outside_file),
        cmocka_unit_test(test_segment_file_range),
        cmocka_unit_test(test_segment_sizes_and_addresses),
        cmocka_unit_test(test_segment_outside_window),
        cmocka_unit_test(test_window_boundaries),
        cmocka_unit_test(test_address_wraparound),
        cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_entry_point),
        cmocka_unit_test(test_no_loadable_segment),
        cmocka_unit_test(test_segment_count),
        cmocka_unit_test(test_refusal_truncated_or_absent),
        cmocka_unit_test(test_invalid_window),
        cmocka_unit_test(test_toolchain_image),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
