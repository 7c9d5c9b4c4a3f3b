/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The hypervisor's services behind the exit policy's hooks (exit.h). */
#include "core/apic.h"
#include "core/cpu.h"
#include "core/log.h"
#include "core/percpu.h"
#include "vmexit/dev_trap.h"
#include "vmexit/exit.h"
#include "vmexit/vcpu.h"

static void host_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_values *out)
{
    struct cpuid_regs r = cpuid(leaf, subleaf);
    *out = (struct cpuid_values){r.eax, r.ebx, r.ecx, r.edx};
}

static uint32_t apic_id(unsigned cpu)
{
    return cpus[cpu].apic_id;
}

static void send_ipi(uint32_t apic, uint8_t vector)
{
    (void)apic_send_fixed(apic, vector);
}

static int lapic_write(uint32_t msr, uint64_t value)
{
    return apic_write_guest_lvt(msr, (uint32_t)value);
}

static int load_xcr0(uint64_t value)
{
    if (!(read_cr4() & X86_CR4_OSXSAVE))
        return -E_NOSYS;
    xsetbv(0, value);
    return 0;
}

static void warn(const char *line)
{
    log_warn("%s", line);
}

static void stop(struct vcpu *v, const char *reason)
{
    vcpu_stop_partition(v, "%s", reason);
}

const struct exit_hooks vcpu_exit_hooks = {
    .host_cpuid = host_cpuid,
    .cpuid_view = vcpu_cpuid_view,
    .hypercall = vcpu_hypercall,
    .x2apic_mode = apic_x2apic_mode,
    .apic_id = apic_id,
    .send_ipi = send_ipi,
    .lapic_write = lapic_write,
    .device_at = dev_trap_at,
    .device_mmio = dev_trap_mmio,
    .device_port = dev_trap_port,
    .xsetbv = load_xcr0,
    .warn = warn,
    .stop = stop,
    .before_entry = vcpu_before_entry,
    .guest_enter = vcpu_guest_enter,
    .guest_exit = vcpu_guest_exit,
};
