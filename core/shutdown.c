/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Shutdown: the emulator's exit device under QEMU or Bochs, the ACPI reset register on
 * hardware, or a halt. */
#include "core/shutdown.h"

#include "core/acpi.h"
#include "core/cpu.h"
#include "core/klib.h"
#include "core/log.h"
#include "core/serial.h"

#define ACPI_GAS_SYSTEM_IO 1

static enum shutdown_method method = SHUTDOWN_AUTO;
static bool reset_io_ok;
static uint16_t reset_port;
static uint8_t reset_value;

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
    if (acpi && acpi->reset_supported && acpi->reset_reg.space_id == ACPI_GAS_SYSTEM_IO &&
        acpi->reset_reg.address <= 0xffff) {
        reset_io_ok = true;
        reset_port = (uint16_t)acpi->reset_reg.address;
        reset_value = acpi->reset_value;
    }
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
    if (m == SHUTDOWN_RESET && reset_io_ok)
        outb(reset_port, reset_value);
    for (;;)
        halt();
}
