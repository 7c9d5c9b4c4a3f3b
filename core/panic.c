/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* panic and park: a failing CPU stops alone; the boot CPU ends the run. */
#include "core/panic.h"

#include "core/cpu.h"
#include "core/fmt.h"
#include "core/klib.h"
#include "core/log.h"
#include "core/percpu.h"
#include "core/shutdown.h"

void cpu_park(const char *reason)
{
    irq_disable();
    log_emergency();
    struct percpu *pc = this_cpu();
    size_t n = strlen(reason);
    if (n >= sizeof(pc->pub.park_reason))
        n = sizeof(pc->pub.park_reason) - 1;
    memcpy(pc->pub.park_reason, reason, n);
    pc->pub.park_reason[n] = '\0';
    __atomic_store_n(&pc->pub.state, CPU_PARKED, __ATOMIC_RELEASE);
    log_error("cpu %u parked: %s", pc->index, reason);
    if (pc->index == 0) {
        log_raw("RESULT status=fail reason=boot-cpu-parked cpus=%u", cpu_count);
        machine_shutdown(false);
    }
    log_abandon(); /* it may have faulted while printing: the others go on */
    for (;;)
        halt();
}

void panic(const char *fmt, ...)
{
    log_emergency();
    char msg[80];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_error("PANIC: %s", msg);
    cpu_park(msg);
}

#ifndef NDEBUG
void kassert_fail(const char *expr, const char *file, int line)
{
    panic("assertion '%s' failed at %s:%d", expr, file, line);
}
#endif
