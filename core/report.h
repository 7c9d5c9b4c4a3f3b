/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* What the boot CPU prints: the CPU role table, the memory layout, the ACPI dump. */
#ifndef CORE_REPORT_H
#define CORE_REPORT_H

#include <stdint.h>

void report_cpu_table(void);
/* The memory layout: the hypervisor's own parts here, then each partition's line (by the
 * layer that owns partitions), then report_memory_free. */
void report_memory_layout(void);
void report_layout_line(const char *what, uint64_t base, uint64_t size, const char *note);
void report_memory_free(void);
/* ACPIDUMP lines that tools/sidecore turns back into fixture files. */
void report_acpi_dump(void);
const char *cpu_state_name(unsigned state);

#endif
