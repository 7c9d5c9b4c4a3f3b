/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Formats each line privately, then writes it whole under a lock so lines of
 * different CPUs never interleave. */
#include "core/log.h"

#include "core/fmt.h"
#include "core/klib.h"
#include "core/percpu.h"
#include "core/serial.h"
#include "core/spinlock.h"
#include "core/time.h"

#define LOG_LINE_MAX 320

static enum log_level min_level = LOG_INFO;
static struct spinlock log_lock;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level) { min_level = level; }

static void emit(const char *line, size_t n)
{
    spin_lock(&log_lock);
    serial_write(line, n);
    spin_unlock(&log_lock);
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    if (level < min_level)
        return;
    char line[LOG_LINE_MAX];
    uint64_t us = time_since_handoff_us();
    int n = ksnprintf(line, sizeof(line), "[%4llu.%06llu] cpu%-2u %-5s ",
                      (unsigned long long)(us / 1000000), (unsigned long long)(us % 1000000),
                      this_cpu_index(), level_names[level]);
    n += kvsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    emit(line, (size_t)n);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

void log_raw(const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    emit(line, (size_t)n);
}
