/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The state the boot CPU builds (core/hv.h), defined in the platform layer that reads
 * it; boot/main.c fills it in. */
#include "core/hv.h"

#include <stddef.h>

struct hv hv;

static const void *identity_map(void *ctx, uint64_t pa, uint64_t len)
{
    (void)ctx;
    if (pa == 0 || pa + len < pa)
        return NULL;
    return (const void *)(uintptr_t)pa;
}

const struct acpi_mem hv_acpi_mem = {NULL, identity_map};
