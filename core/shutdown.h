/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Ending the run with a status a script can read. */
#ifndef CORE_SHUTDOWN_H
#define CORE_SHUTDOWN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"

/* Values written to QEMU's isa-debug-exit; QEMU exits with (value << 1) | 1. */
#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_SUCCESS 0x10 /* exit status 33 */
#define DEBUG_EXIT_FAILURE 0x11 /* exit status 35 */
/* Bochs: its shutdown port, and the port 0xe9 console that reads back 0xe9 */
#define BOCHS_SHUTDOWN_PORT 0x8900
#define BOCHS_E9_PORT 0xe9

struct acpi_info;
void shutdown_configure(enum shutdown_method method, const struct acpi_info *acpi);
__attribute__((noreturn)) void machine_shutdown(bool success);

#endif
