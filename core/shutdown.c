/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Shutdown: the emulator's exit device under QEMU or Bochs, the ACPI reset register on
 * hardware, or a halt. */
#include "core/shutdown.h"

#include "core/acpi.h"
#include "core/cpu.h"
#include "core/klib.h"
#include "core/log.h"
#include "core/reset_plan.h"
#include "core/serial.h"
#include "core/time.h"

static enum shutdown_method method = SHUTDOWN_AUTO;
static struct reset_step reset_steps[RESET_PLAN_MAX];
static unsigned reset_nsteps;

/* QEMU's TCG and KVM accelerators announce themselves in CPUID leaf 0x40000000. */
static bool running_under_qemu(void)
{
    if (!(cpuid(1, 0).ecx & CPUID_1_ECX_HYPERVISOR))
        return false;
    struct cpuid_regs r = cpuid(0x40000000, 0);
    char sig[13];
    memcpy(sig, &r.ebx, 4);
    memcpy(sig + 4, &r.ecx, 4);
    memcpy(sig + 8, &r.edx, 4);
    sig[12] = '\0';
    return memcmp(sig, "TCGTCGTCGTCG", 12) == 0 || memcmp(sig, "KVMKVMKVM", 9) == 0;
}

/* Bochs with its port 0xe9 console (tools/sidecore turns it on) reads 0xe9 back there;
 * nothing else answers that port with its own number. */
static bool running_under_bochs(void)
{
    return inb(BOCHS_E9_PORT) == BOCHS_E9_PORT;
}

/* QEMU's isa-debug-exit ends QEMU with a status; Bochs's shutdown port (0x8900) ends Bochs:
 * 'D' stops in its debugger, whose command file then quits with status 0, and "Shutdown"
 * quits with status 1. Each emulator ignores the other's port. */
static void emulator_exit(bool success)
{
    outl(DEBUG_EXIT_PORT, success ? DEBUG_EXIT_SUCCESS : DEBUG_EXIT_FAILURE);
    const char *word = success ? "D" : "Shutdown";
    for (; *word; word++)
        outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*word);
}

void shutdown_configure(enum shutdown_method m, const struct acpi_info *acpi)
{
    method = m;
    reset_nsteps = reset_plan(acpi, reset_steps);
}

#define KBC_STATUS_INPUT_FULL 0x02
#define KBC_PULSE_RESET 0xfe
#define CF9_SYSTEM_RESET 0x02
#define CF9_RESET_CPU 0x04

static void reset_step(const struct reset_step *s)
{
    switch (s->kind) {
    case RESET_ACPI:
        outb(s->port, s->value);
        break;
    case RESET_CF9: /* a hard reset: the system reset bit, then the edge that starts it */
        outb(RESET_CF9_PORT, CF9_SYSTEM_RESET);
        udelay(50);
        outb(RESET_CF9_PORT, CF9_SYSTEM_RESET | CF9_RESET_CPU);
        break;
    case RESET_KBC:
        for (int i = 0; i < 10000 && (inb(RESET_KBC_PORT) & KBC_STATUS_INPUT_FULL); i++)
            udelay(10);
        outb(RESET_KBC_PORT, KBC_PULSE_RESET);
        break;
    }
}

/* Each step in turn, said before it is tried; a machine still running 100 ms later is not
 * reset by it. */
static void machine_reset(void)
{
    if (!reset_nsteps) /* a failure before the FADT was read: the fallbacks alone */
        reset_nsteps = reset_plan(NULL, reset_steps);
    for (unsigned i = 0; i < reset_nsteps; i++) {
        log_info("resetting the machine through %s", reset_kind_name(reset_steps[i].kind));
        serial_drain();
        reset_step(&reset_steps[i]);
        udelay(100000);
    }
    log_error("the machine did not reset: halting");
    serial_drain();
}

void machine_shutdown(bool success)
{
    irq_disable();
    serial_drain(); /* or the last lines are cut */
    enum shutdown_method m = method;
    if (m == SHUTDOWN_AUTO)
        m = running_under_qemu() || running_under_bochs() ? SHUTDOWN_DEBUG_EXIT : SHUTDOWN_RESET;
    if (m == SHUTDOWN_DEBUG_EXIT)
        emulator_exit(success);
    if (m == SHUTDOWN_RESET)
        machine_reset();
    for (;;)
        halt();
}
