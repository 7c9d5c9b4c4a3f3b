/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Editing a loader's memory map before the core sees it (portable, host-tested). */
#ifndef CORE_BOOT_MEM_H
#define CORE_BOOT_MEM_H

#include <stdint.h>

#include "core/boot_info.h"

/* Marks the free memory (usable or boot-services) in [base, base + size), widened to whole
 * pages, as type: the ranges it overlaps are split, the rest of the map is left alone.
 * 0, or -E_NOSPC (the map unchanged) if the split needs more than BOOT_MAX_MEM_RANGES. */
int boot_mem_carve(struct boot_info *bi, uint64_t base, uint64_t size, uint32_t type);

#endif
