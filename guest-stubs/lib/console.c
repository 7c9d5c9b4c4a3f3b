/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Hypercall wrappers: console output, PASS/FAIL lines, exit, exit counters, steady phase. */
#include "core/fmt.h"
#include "sidecore/guest.h"

#define PRINTF_BUF 512 /* on the vCPU's stack (16 KiB in all) */

void sc_console_write(const char *s, unsigned long n)
{
    while (n) {
        unsigned long chunk = n < SC_CONSOLE_MAX ? n : SC_CONSOLE_MAX;
        sc_hypercall(SC_HC_CONSOLE_WRITE, (long)(uintptr_t)s, (long)chunk, 0);
        s += chunk;
        n -= chunk;
    }
}

/* Formats after prefix into buf; appends a newline if newline is set and none ends the text.
 * Returns the length to write. */
__attribute__((format(printf, 4, 0))) static unsigned long
format(char *buf, const char *prefix, bool newline, const char *fmt, va_list ap)
{
    unsigned long len = 0;
    while (prefix && prefix[len])
        buf[len] = prefix[len], len++;
    int n = kvsnprintf(buf + len, PRINTF_BUF - len, fmt, ap);
    if (n > 0)
        len += (unsigned long)n < PRINTF_BUF - len ? (unsigned long)n : PRINTF_BUF - len - 1;
    if (newline && (len == 0 || buf[len - 1] != '\n')) {
        if (len == PRINTF_BUF)
            len--;
        buf[len++] = '\n';
    }
    return len;
}

void sc_vprintf(const char *fmt, va_list ap)
{
    char buf[PRINTF_BUF];
    sc_console_write(buf, format(buf, NULL, false, fmt, ap));
}

void sc_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sc_vprintf(fmt, ap);
    va_end(ap);
}

void sc_pass(const char *fmt, ...)
{
    char buf[PRINTF_BUF];
    va_list ap;
    va_start(ap, fmt);
    unsigned long n = format(buf, "PASS: ", true, fmt, ap);
    va_end(ap);
    sc_console_write(buf, n);
}

void sc_fail(const char *fmt, ...)
{
    char buf[PRINTF_BUF];
    va_list ap;
    va_start(ap, fmt);
    unsigned long n = format(buf, "FAIL: ", true, fmt, ap);
    va_end(ap);
    sc_console_write(buf, n);
}

bool sc_check(bool ok, const char *fmt, ...)
{
    char buf[PRINTF_BUF];
    va_list ap;
    va_start(ap, fmt);
    unsigned long n = format(buf, ok ? "PASS: " : "FAIL: ", true, fmt, ap);
    va_end(ap);
    sc_console_write(buf, n);
    return ok;
}

void sc_exit(int status)
{
    sc_hypercall(SC_HC_EXIT, status, 0, 0);
    /* The hypervisor never resumes an exited vCPU; if it does, stay put without exiting. */
    for (;;) {
        sc_irq_disable();
        sc_halt();
    }
}

int sc_exit_counters(unsigned vcpu, struct sc_exit_counters *out)
{
    return (int)sc_hypercall(SC_HC_EXIT_COUNTERS, (long)(uintptr_t)out, (long)vcpu, 0);
}

void sc_steady_begin(void)
{
    sc_hypercall(SC_HC_STEADY_BEGIN, 0, 0, 0);
}

uint64_t sc_steady_end(void)
{
    return (uint64_t)sc_hypercall(SC_HC_STEADY_END, 0, 0, 0);
}

static const char *const reason_names[SC_EXIT_REASONS] = {
    [SC_EXIT_CPUID] = "cpuid",
    [SC_EXIT_HYPERCALL] = "hypercall",
    [SC_EXIT_MSR_READ] = "msr-read",
    [SC_EXIT_MSR_WRITE] = "msr-write",
    [SC_EXIT_IO] = "io",
    [SC_EXIT_NPF] = "npf",
    [SC_EXIT_NMI] = "nmi",
    [SC_EXIT_INTR] = "intr",
    [SC_EXIT_VINTR] = "vintr",
    [SC_EXIT_HLT] = "hlt",
    [SC_EXIT_SHUTDOWN] = "shutdown",
    [SC_EXIT_EXCEPTION] = "exception",
    [SC_EXIT_OTHER] = "other",
};

const char *sc_exit_reason_name(unsigned reason)
{
    return reason < SC_EXIT_REASONS && reason_names[reason] ? reason_names[reason] : "?";
}

void sc_print_exit_counters(const char *prefix, const struct sc_exit_counters *c)
{
    char buf[PRINTF_BUF];
    unsigned len = 0;
    for (unsigned r = 0; r < SC_EXIT_REASONS && len < sizeof(buf); r++) {
        int n = ksnprintf(buf + len, sizeof(buf) - len, " %s=%llu", sc_exit_reason_name(r),
                          (unsigned long long)c->by_reason[r]);
        len += n > 0 ? (unsigned)n : 0;
    }
    sc_printf("%stotal=%llu steady=%llu%s\n", prefix, (unsigned long long)c->total,
              (unsigned long long)c->steady, buf);
}
