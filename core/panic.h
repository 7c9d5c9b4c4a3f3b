/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Stopping a CPU with a reason. */
#ifndef CORE_PANIC_H
#define CORE_PANIC_H

/* Stop this CPU for good and record why; on the boot CPU the whole run ends
 * with status=fail, since nothing is left to coordinate the others. */
__attribute__((noreturn)) void cpu_park(const char *reason);
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

#endif
