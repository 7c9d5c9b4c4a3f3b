/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Physical memory range allocator: add/remove/alloc on a sorted table of free ranges. */
#include "core/palloc.h"

#include "core/klib.h"

/* Highest 4 KiB-aligned address; no free range ends above it. */
#define PALLOC_TOP ALIGN_DOWN(UINT64_MAX, PAGE_SIZE)

static bool valid_align(uint64_t align)
{
    return align >= PAGE_SIZE && (align & (align - 1)) == 0;
}

static void delete_ranges(struct palloc *pa, unsigned first, unsigned last)
{
    /* Removes r[first, last). */
    memmove(&pa->r[first], &pa->r[last], (pa->n - last) * sizeof(pa->r[0]));
    pa->n -= last - first;
}

/* Insert [b, e) (aligned, non-empty), merging with neighbours. */
static int insert(struct palloc *pa, uint64_t b, uint64_t e)
{
    unsigned i = 0;
    while (i < pa->n && pa->r[i].base < b)
        i++;
    /* r[i-1].base < b <= r[i].base */
    if (i > 0 && pa->r[i - 1].end > b)
        return -E_EXIST;
    if (i < pa->n && pa->r[i].base < e)
        return -E_EXIST;

    bool join_left = i > 0 && pa->r[i - 1].end == b;
    bool join_right = i < pa->n && pa->r[i].base == e;
    if (join_left && join_right) {
        pa->r[i - 1].end = pa->r[i].end;
        delete_ranges(pa, i, i + 1);
    } else if (join_left) {
        pa->r[i - 1].end = e;
    } else if (join_right) {
        pa->r[i].base = b;
    } else {
        if (pa->n == PALLOC_MAX_RANGES)
            return -E_NOSPC;
        memmove(&pa->r[i + 1], &pa->r[i], (pa->n - i) * sizeof(pa->r[0]));
        pa->r[i].base = b;
        pa->r[i].end = e;
        pa->n++;
    }
    return 0;
}

/* Remove [b, e) (aligned) from the free set. */
static int carve(struct palloc *pa, uint64_t b, uint64_t e)
{
    unsigned i = 0;
    while (i < pa->n && pa->r[i].end <= b)
        i++;
    if (i == pa->n || pa->r[i].base >= e)
        return 0; /* nothing free in [b, e) */

    struct palloc_range *r = &pa->r[i];
    if (r->base < b && r->end > e) { /* strictly inside one range: split it */
        if (pa->n == PALLOC_MAX_RANGES)
            return -E_NOSPC;
        memmove(&pa->r[i + 2], &pa->r[i + 1], (pa->n - i - 1) * sizeof(pa->r[0]));
        pa->r[i + 1].base = e;
        pa->r[i + 1].end = r->end;
        r->end = b;
        pa->n++;
        return 0;
    }

    unsigned first = i;
    if (r->base < b) { /* keep the head of the first range */
        r->end = b;
        first = i + 1;
    }
    unsigned last = first;
    while (last < pa->n && pa->r[last].end <= e)
        last++;
    if (last < pa->n && pa->r[last].base < e) /* keep the tail of the last range */
        pa->r[last].base = e;
    delete_ranges(pa, first, last);
    return 0;
}

void palloc_init(struct palloc *pa)
{
    memset(pa, 0, sizeof(*pa));
}

int palloc_add(struct palloc *pa, uint64_t base, uint64_t size)
{
    uint64_t end;
    if (__builtin_add_overflow(base, size, &end))
        return -E_INVAL;
    if (base > PALLOC_TOP)
        return 0; /* rounds up past the top of the address space: empty */
    uint64_t b = ALIGN_UP(base, PAGE_SIZE);
    uint64_t e = ALIGN_DOWN(end, PAGE_SIZE);
    if (b >= e)
        return 0;
    return insert(pa, b, e);
}

int palloc_free(struct palloc *pa, uint64_t base, uint64_t size)
{
    return palloc_add(pa, base, size);
}

int palloc_remove(struct palloc *pa, uint64_t base, uint64_t size)
{
    uint64_t end;
    if (__builtin_add_overflow(base, size, &end))
        return -E_INVAL;
    if (size == 0)
        return 0;
    uint64_t b = ALIGN_DOWN(base, PAGE_SIZE);
    uint64_t e = end > PALLOC_TOP ? PALLOC_TOP : ALIGN_UP(end, PAGE_SIZE);
    if (b >= e)
        return 0;
    return carve(pa, b, e);
}

int palloc_alloc(struct palloc *pa, uint64_t size, uint64_t align, uint64_t limit, uint64_t *out)
{
    if (!out || size == 0 || size > PALLOC_TOP || !valid_align(align))
        return -E_INVAL;
    size = ALIGN_UP(size, PAGE_SIZE);

    for (unsigned i = pa->n; i-- > 0;) {
        const struct palloc_range *r = &pa->r[i];
        uint64_t top = limit != 0 && limit < r->end ? limit : r->end;
        if (top <= r->base || top - r->base < size)
            continue;
        uint64_t a = ALIGN_DOWN(top - size, align);
        if (a < r->base)
            continue;
        if (pa->n == PALLOC_MAX_RANGES && a != r->base && a + size != r->end) {
            /* Would split the range and there is no slot: only the bottom
             * of the range can be taken without one. */
            a = r->base;
            if (!IS_ALIGNED(a, align) || top - a < size)
                continue;
        }
        int rc = carve(pa, a, a + size);
        if (rc != 0)
            return rc; /* not reached: the placement needs no new slot */
        *out = a;
        return 0;
    }
    return -E_NOMEM;
}

uint64_t palloc_free_bytes(const struct palloc *pa)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < pa->n; i++)
        sum += pa->r[i].end - pa->r[i].base;
    return sum;
}

uint64_t palloc_largest(const struct palloc *pa, uint64_t align)
{
    if (!valid_align(align))
        return 0;
    uint64_t best = 0;
    for (unsigned i = 0; i < pa->n; i++) {
        const struct palloc_range *r = &pa->r[i];
        if (r->base > UINT64_MAX - (align - 1))
            continue; /* aligning up would wrap: no aligned start in range */
        uint64_t a = ALIGN_UP(r->base, align);
        if (a < r->end && r->end - a > best)
            best = r->end - a;
    }
    return best;
}
