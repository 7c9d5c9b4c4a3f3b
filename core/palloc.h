/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Physical memory range allocator: a sorted table of free 4 KiB-aligned ranges. */
#ifndef CORE_PALLOC_H
#define CORE_PALLOC_H

#include <stdint.h>

#define PALLOC_MAX_RANGES 256

/* [base, end), both 4 KiB aligned, base < end. */
struct palloc_range {
    uint64_t base, end;
};

/* Free ranges: sorted by base, disjoint, never adjacent (adjacent ones are merged). */
struct palloc {
    unsigned n;
    struct palloc_range r[PALLOC_MAX_RANGES];
};

void palloc_init(struct palloc *pa);

/* Add free memory, rounded inward to 4 KiB (a range that rounds to nothing is
 * accepted and ignored). base+size wrapping -> -E_INVAL; overlap with memory
 * already free -> -E_EXIST; table full -> -E_NOSPC. Nothing changes on error. */
int palloc_add(struct palloc *pa, uint64_t base, uint64_t size);

/* Take [base, base+size), rounded outward to 4 KiB, out of the free set; parts
 * that are not free are ignored. base+size wrapping -> -E_INVAL; a split that
 * needs a slot in a full table -> -E_NOSPC. Nothing changes on error. */
int palloc_remove(struct palloc *pa, uint64_t base, uint64_t size);

/* Allocate size bytes (rounded up to 4 KiB) aligned to align (a power of two
 * >= 4 KiB) lying entirely below limit (exclusive; 0 = no limit), at the highest
 * suitable address. -E_INVAL bad arguments, -E_NOMEM nothing fits. When the
 * table is full only placements that need no new range are considered. */
int palloc_alloc(struct palloc *pa, uint64_t size, uint64_t align, uint64_t limit, uint64_t *out);

/* Give memory back: the same as palloc_add (so a double free is -E_EXIST). */
int palloc_free(struct palloc *pa, uint64_t base, uint64_t size);

uint64_t palloc_free_bytes(const struct palloc *pa);

/* Largest size palloc_alloc could return with that alignment (no limit); 0 if
 * nothing is free or align is not a power of two >= 4 KiB. */
uint64_t palloc_largest(const struct palloc *pa, uint64_t align);

#endif
