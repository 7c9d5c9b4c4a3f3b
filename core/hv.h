/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* State the boot CPU builds once and every CPU reads afterwards. */
#ifndef CORE_HV_H
#define CORE_HV_H

#include <stdint.h>

#include "core/acpi.h"
#include "core/boot_info.h"
#include "core/config.h"
#include "core/palloc.h"
#include "core/pgtable.h"

struct hv {
    const struct boot_info *boot;
    struct config cfg;
    struct acpi_info acpi;
    struct palloc mem;
    struct pt host_pt;
    uint64_t stacks_bytes;
    uint64_t trampoline_page;
};

extern struct hv hv;
/* Identity access to physical memory for the ACPI parser. */
extern const struct acpi_mem hv_acpi_mem;

#endif
