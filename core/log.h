/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Levelled console log; every line carries the time since hand-off and the CPU index. */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <stdarg.h>

#include "core/log_level.h"

void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* A line exactly as given, no prefix: for machine-read lines (RESULT, ACPIDUMP). */
void log_raw(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* This CPU is in an exception or a panic: from now on it waits for the log lock only
 * briefly, and not at all if it holds it (it faulted while printing). */
void log_emergency(void);
/* This CPU stops for good: it lets the log lock go if it holds it. */
void log_abandon(void);
/* 'debug log_fault_cpu': a #UD with the log lock held, as if printing had faulted. */
void log_fault_holding_lock(void);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
