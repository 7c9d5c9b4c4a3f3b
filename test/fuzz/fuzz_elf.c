/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* libFuzzer target: elf_parse on arbitrary bytes, elf_load of what it accepts, invariants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/elf.h"
#include "core/klib.h"

/* The input is the ELF file. It is loaded into a partition whose image area is
 * [LOAD_MIN, LOAD_MAX), backed by a buffer of exactly that size, so a write outside is caught. */
#define LOAD_MIN 0x200000ull
#define LOAD_MAX 0x300000ull
#define GUEST_SIZE (LOAD_MAX - LOAD_MIN)
#define FILL 0xa5

#define check(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static void check_image(const struct elf_image *img, uint64_t size)
{
    check(img->nsegments >= 1 && img->nsegments <= ELF_MAX_SEGMENTS);
    bool entry_ok = false;
    uint64_t lowest = UINT64_MAX, highest = 0;
    for (unsigned i = 0; i < img->nsegments; i++) {
        const struct elf_segment *s = &img->seg[i];
        check(s->mem_size > 0 && s->file_size <= s->mem_size);
        check(s->gpa >= LOAD_MIN && s->mem_size <= LOAD_MAX - s->gpa);
        check(s->file_size == 0 ||
              (s->file_offset <= size && s->file_size <= size - s->file_offset));
        check((s->flags & ~(uint32_t)(ELF_PF_R | ELF_PF_W | ELF_PF_X)) == 0);
        uint64_t end = s->gpa + s->mem_size;
        for (unsigned j = 0; j < i; j++)
            check(img->seg[j].gpa >= end || s->gpa >= img->seg[j].gpa + img->seg[j].mem_size);
        if ((s->flags & ELF_PF_X) && img->entry >= s->gpa && img->entry < end)
            entry_ok = true;
        lowest = s->gpa < lowest ? s->gpa : lowest;
        highest = end > highest ? end : highest;
    }
    check(entry_ok);
    check(img->lowest == lowest);
    check(img->highest == ALIGN_UP(highest, PAGE_SIZE) && img->highest <= LOAD_MAX);
}

/* Every byte of the area is the segment's file byte, a zero of its bss, or untouched. Each
 * segment is refilled once checked (they do not overlap), which leaves the area all FILL again. */
static void check_loaded(const struct elf_image *img, const uint8_t *file, uint8_t *mem,
                         const uint8_t *zeros, const uint8_t *fills)
{
    for (unsigned i = 0; i < img->nsegments; i++) {
        const struct elf_segment *s = &img->seg[i];
        uint8_t *at = mem + (s->gpa - LOAD_MIN);
        check(s->file_size == 0 || memcmp(at, file + s->file_offset, s->file_size) == 0);
        check(memcmp(at + s->file_size, zeros, s->mem_size - s->file_size) == 0);
        memset(at, FILL, s->mem_size);
    }
    check(memcmp(mem, fills, GUEST_SIZE) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the guest area (kept all FILL by check_loaded), and references to compare it with */
    static uint8_t *guest, *zeros, *fills;
    if (!guest) {
        guest = malloc(GUEST_SIZE);
        zeros = calloc(1, GUEST_SIZE);
        fills = malloc(GUEST_SIZE);
        if (!guest || !zeros || !fills)
            abort();
        memset(guest, FILL, GUEST_SIZE);
        memset(fills, FILL, GUEST_SIZE);
    }
    /* an exact-size copy at an odd address: misaligned fields and over-reads are both caught */
    uint8_t *alloc = malloc(size + 1);
    if (!alloc)
        return 0;
    uint8_t *file = alloc + 1;
    memcpy(file, data, size);

    static struct elf_image img;
    struct refusal why;
    memset(&why, 'x', sizeof(why));
    int err = elf_parse(file, size, LOAD_MIN, LOAD_MAX, &img, &why);
    check(memchr(why.text, '\0', sizeof(why.text)) != NULL);
    if (err == 0) {
        check(why.text[0] == '\0');
        check_image(&img, size);
        /* guest-physical 0 lies LOAD_MIN below the buffer: integer arithmetic, not a pointer */
        elf_load(file, &img, (uint8_t *)((uintptr_t)guest - (uintptr_t)LOAD_MIN));
        check_loaded(&img, file, guest, zeros, fills);
    } else {
        static const struct elf_image zero;
        /* this window's reasons all fit: none is cut at REFUSAL_MAX */
        check(err < 0 && why.text[0] != '\0' && strlen(why.text) < sizeof(why.text) - 1);
        check(memcmp(&img, &zero, sizeof(zero)) == 0);
    }
    free(alloc);
    return 0;
}
