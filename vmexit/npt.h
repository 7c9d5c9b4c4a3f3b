/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The nested page tables of a partition, built with the common page-table builder
 * (host-tested on fake memory). */
#ifndef VMEXIT_NPT_H
#define VMEXIT_NPT_H

#include <stdint.h>

#include "core/pgtable.h"

/* Map guest-physical [4 KiB, size) to host-physical [base + 4 KiB, base + size)
 * with the largest pages that fit, and the LAPIC page uncached at lapic_gpa ->
 * lapic_hpa. Guest page 0 and everything else stay unmapped. base must be
 * 2 MiB aligned. 0 or a negative errno. */
int npt_map_partition(struct pt *npt, uint64_t base, uint64_t size, uint64_t lapic_gpa,
                      uint64_t lapic_hpa);

#endif
