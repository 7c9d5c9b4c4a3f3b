/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The order of the reset steps (reset_plan.h). */
#include "core/reset_plan.h"

#include "core/acpi.h"

#define ACPI_GAS_SYSTEM_IO 1

const char *reset_kind_name(enum reset_kind kind)
{
    switch (kind) {
    case RESET_ACPI:
        return "the ACPI reset register";
    case RESET_CF9:
        return "the reset control register (port 0xcf9)";
    case RESET_KBC:
        return "the keyboard controller (port 0x64)";
    }
    return "?";
}

unsigned reset_plan(const struct acpi_info *acpi, struct reset_step out[RESET_PLAN_MAX])
{
    unsigned n = 0;
    uint16_t acpi_port = 0;
    if (acpi && acpi->reset_supported && acpi->reset_reg.space_id == ACPI_GAS_SYSTEM_IO &&
        acpi->reset_reg.address != 0 && acpi->reset_reg.address <= 0xffff) {
        acpi_port = (uint16_t)acpi->reset_reg.address;
        out[n++] = (struct reset_step){RESET_ACPI, acpi_port, acpi->reset_value};
    }
    if (acpi_port != RESET_CF9_PORT)
        out[n++] = (struct reset_step){RESET_CF9, RESET_CF9_PORT, 0};
    if (acpi_port != RESET_KBC_PORT)
        out[n++] = (struct reset_step){RESET_KBC, RESET_KBC_PORT, 0};
    return n;
}
