/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Formats each line privately, then writes it whole under a lock so lines of
 * different CPUs never interleave. A CPU in an exception or a panic never waits for
 * the lock for long, nor for itself: it may have been printing when it faulted. */
#include "core/log.h"

#include "core/fmt.h"
#include "core/klib.h"
#include "core/log_lock.h"
#include "core/percpu.h"
#include "core/serial.h"
#include "core/time.h"

#define LOG_LINE_MAX 320
/* How long a CPU in trouble waits for another CPU's line to end (milliseconds on
 * hardware, more under an emulator), then prints anyway. */
#define EMERGENCY_SPINS 1000000

static enum log_level min_level = LOG_INFO;
static struct log_lock log_lock;
static bool early_emergency; /* the boot CPU's, before the per-CPU data exists */

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
    min_level = level;
}

static bool *emergency(void)
{
    struct percpu *pc = this_cpu_or_null();
    return pc ? &pc->emergency : &early_emergency;
}

static void emit(const char *line, size_t n)
{
    unsigned cpu = this_cpu_index();
    enum log_lock_got got =
        log_lock_acquire(&log_lock, cpu, *emergency() ? EMERGENCY_SPINS : LOG_LOCK_FOREVER);
    serial_write(line, n);
    log_lock_release(&log_lock, cpu, got);
}

void log_emergency(void)
{
    *emergency() = true;
}

void log_abandon(void)
{
    (void)log_lock_abandon(&log_lock, this_cpu_index());
}

void log_fault_holding_lock(void)
{
    unsigned cpu = this_cpu_index();
    log_warn("taking a deliberate #UD while holding the log lock ('debug log_fault_cpu=%u')", cpu);
    (void)log_lock_acquire(&log_lock, cpu, LOG_LOCK_FOREVER);
    __asm__ volatile("ud2"); /* the CPU parks in the exception handler, lock in hand */
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
