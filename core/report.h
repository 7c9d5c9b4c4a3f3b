/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* What the boot CPU prints: the CPU role table, the memory layout, the ACPI dump. */
#ifndef CORE_REPORT_H
#define CORE_REPORT_H

void report_cpu_table(void);
void report_memory_layout(void);
/* ACPIDUMP lines that tools/sidecore turns back into fixture files. */
void report_acpi_dump(void);
const char *cpu_state_name(unsigned state);

#endif
