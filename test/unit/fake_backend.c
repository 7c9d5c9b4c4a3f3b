/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The fake backend and hooks of fake_backend.h. */
#include "fake_backend.h"

#include <stdio.h>
#include <string.h>

#include "core/klib.h"
#include "core/refusal.h"
#include "vmexit/hypercall.h"

struct fake fake;
struct partition fake_partition;

uint32_t fake_apic_id(unsigned cpu)
{
    return 0x100 + 2 * cpu;
}

static void trace(const char *word)
{
    size_t n = strlen(fake.trace);
    snprintf(fake.trace + n, sizeof(fake.trace) - n, "%s%s", n ? " " : "", word);
}

void fake_reset(unsigned nvcpus)
{
    memset(&fake, 0, sizeof(fake));
    fake.x2apic = true;
    struct partition *p = &fake_partition;
    memset(p, 0, sizeof(*p));
    p->name = "p";
    p->base = (uint64_t)(uintptr_t)fake.guest;
    p->size = FAKE_GUEST_SIZE;
    fake.code_bits = 64;
    p->nvcpus = nvcpus;
    for (unsigned i = 0; i < nvcpus; i++)
        p->vcpus[i] = (struct vcpu){.partition = p, .id = i, .cpu = 1 + i, .state = VCPU_RUNNING};
    life_init(&p->life, nvcpus);
    life_enter(&p->life);
}

/* ---- the backend */

static int fake_cpu_enable(struct vcpu *v, struct refusal *why)
{
    (void)v;
    trace("enable");
    if (fake.enable_rc)
        return refuse(why, -fake.enable_rc, "fake refuses the state");
    return 0;
}

static void fake_hold(struct vcpu *v)
{
    (void)v;
    trace(fake.held ? "hold-again" : "hold");
    fake.held = true;
}

static void fake_release(struct vcpu *v)
{
    (void)v;
    trace(fake.held ? "release" : "release-unheld");
    fake.held = false;
}

static void fake_enter(struct vcpu *v)
{
    trace(fake.held ? "enter" : "enter-unheld");
    if (fake.next_exit < fake.nexits && fake.exits[fake.next_exit].reason == VCPU_EXIT_NMI &&
        fake.stop_on_nmi)
        (void)life_stop(&v->partition->life); /* the kick of a stop by another core */
}

static void fake_decode(const struct vcpu *v, struct vcpu_exit *out)
{
    (void)v;
    trace(fake.held ? "decode-held" : "decode");
    if (fake.next_exit < fake.nexits)
        *out = fake.exits[fake.next_exit++];
    else /* more entries than the test planned: stop there */
        *out = (struct vcpu_exit){.reason = VCPU_EXIT_UNKNOWN, .hw_code = 0xdead};
}

static void fake_skip(struct vcpu *v, unsigned len)
{
    (void)v;
    fake.skips++;
    fake.skipped_bytes += len;
    fake.rip += len;
}

static void fake_inject(struct vcpu *v, unsigned vector, bool has_error, uint32_t error)
{
    (void)v;
    fake.injections++;
    fake.inj_vector = vector;
    fake.inj_has_error = has_error;
    fake.inj_error = error;
}

static uint64_t fake_read_reg(const struct vcpu *v, enum vcpu_reg reg)
{
    (void)v;
    return reg == VCPU_REG_DR7 ? fake.dr7 : reg == VCPU_REG_RSP ? fake.rsp : fake.rflags;
}

static void fake_write_reg(struct vcpu *v, enum vcpu_reg reg, uint64_t value)
{
    (void)v;
    if (reg == VCPU_REG_DR7)
        fake.dr7 = value;
    else if (reg == VCPU_REG_RSP)
        fake.rsp = value;
    else
        fake.rflags = value;
}

static void fake_state(const struct vcpu *v, struct guest_state *out)
{
    *out = (struct guest_state){.rip = fake.rip,
                                .rsp = fake.rsp,
                                .rflags = fake.rflags,
                                .cr0 = fake.cr0,
                                .cr3 = fake.cr3,
                                .cr4 = fake.cr4,
                                .efer = fake.efer,
                                .code_bits = fake.code_bits,
                                .regs = v->regs};
}

static void fake_flush(struct vcpu *v)
{
    (void)v;
    trace("flush");
}

static bool fake_diagnose_entry(const struct vcpu *v, struct refusal *why)
{
    (void)v;
    if (!fake.entry_diagnosis[0])
        return false;
    return refuse(why, E_INVAL, "%s", fake.entry_diagnosis) != 0;
}

const struct vcpu_backend fake_backend = {
    .name = "Fake VM",
    .hw_info_names = {"qual", "info"},
    .cpu_enable = fake_cpu_enable,
    .hold_events = fake_hold,
    .release_events = fake_release,
    .enter = fake_enter,
    .decode_exit = fake_decode,
    .skip_instruction = fake_skip,
    .inject_exception = fake_inject,
    .read_reg = fake_read_reg,
    .write_reg = fake_write_reg,
    .flush_guest_tlb = fake_flush,
    .vcpu_state = fake_state,
    .diagnose_entry = fake_diagnose_entry,
};

/* ---- the hypervisor's side */

static int xsetbv_hook(uint64_t value)
{
    if (fake.xsetbv_fails)
        return -E_NOSYS;
    fake.xsetbvs++;
    fake.xcr0 = value;
    return 0;
}

static void host_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_values *out)
{
    fake.host_cpuid_calls++;
    fake.host_cpuid_leaf = leaf;
    fake.host_cpuid_sub = subleaf;
    *out = fake.host_cpuid;
}

static struct cpuid_guest_view cpuid_view(const struct vcpu *v)
{
    return (struct cpuid_guest_view){
        v->id, v->partition->nvcpus, fake_apic_id(v->cpu), 0xe0000000, 0x3000, false};
}

static const struct sc_exit_counters *counters_of(void *ctx, unsigned id)
{
    struct vcpu *v = ctx;
    return &v->partition->vcpus[id].counters;
}

static void console(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    (void)text;
    (void)len;
}

static void steady_begin(void *ctx)
{
    (void)ctx;
}

static uint64_t steady_end(void *ctx)
{
    (void)ctx;
    return 0;
}

static void guest_exit(void *ctx, int64_t status)
{
    struct vcpu *v = ctx;
    fake.exit_status = status;
    v->exit_status = status;
    __atomic_store_n(&v->state, VCPU_EXITED, __ATOMIC_RELEASE);
}

/* The real dispatcher (vmexit/hypercall.c) over the fake partition's RAM. */
static int64_t hypercall(struct vcpu *v, uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2)
{
    fake.hypercalls++;
    struct hc_context c = {
        .guest_base = fake.guest,
        .guest_size = sizeof(fake.guest),
        .vcpu_id = v->id,
        .vcpu_count = v->partition->nvcpus,
        .ctx = v,
        .counters_of = counters_of,
        .console = console,
        .steady_begin = steady_begin,
        .steady_end = steady_end,
        .exit = guest_exit,
    };
    return hypercall_dispatch(&c, op, a0, a1, a2);
}

static bool x2apic_mode(void)
{
    return fake.x2apic;
}

static void send_ipi(uint32_t apic, uint8_t vector)
{
    if (fake.ipis < FAKE_MAX_IPIS) {
        fake.ipi_apic[fake.ipis] = apic;
        fake.ipi_vector[fake.ipis] = vector;
    }
    fake.ipis++;
}

static int lapic_write(uint32_t msr, uint64_t value)
{
    if (msr == fake.lapic_missing_lvt)
        return -E_INVAL;
    fake.lapic_writes++;
    fake.lapic_msr = msr;
    fake.lapic_value = value;
    return 0;
}

static bool device_at(const struct vcpu *v, uint64_t gpa)
{
    (void)v;
    return fake.dev_base && gpa >= fake.dev_base && gpa - fake.dev_base < 0x1000;
}

static void device_access(uint64_t where, unsigned size, bool write, uint64_t *value)
{
    fake.dev_calls++;
    fake.dev_gpa = where;
    fake.dev_size = size;
    fake.dev_write = write;
    if (write)
        fake.dev_value = *value;
    else
        *value = fake.dev_value;
}

static void device_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *value)
{
    (void)v;
    device_access(gpa, size, write, value);
}

static bool device_port(struct vcpu *v, uint16_t port, unsigned size, bool write, uint32_t *value)
{
    (void)v;
    if (!fake.dev_port || port != fake.dev_port)
        return false;
    uint64_t wide = *value;
    device_access(port, size, write, &wide);
    *value = (uint32_t)wide;
    return true;
}

static void warn(const char *line)
{
    fake.warns++;
    snprintf(fake.warn, sizeof(fake.warn), "%s", line);
}

/* as vcpu_stop_partition: the partition stops, this vCPU is stopped */
static void stop(struct vcpu *v, const char *reason)
{
    fake.stops++;
    snprintf(fake.stop_reason, sizeof(fake.stop_reason), "%s", reason);
    (void)life_stop(&v->partition->life);
    __atomic_store_n(&v->state, VCPU_STOPPED, __ATOMIC_RELEASE);
}

static bool before_entry(struct vcpu *v)
{
    trace(fake.held ? "check" : "check-unheld");
    if (!fake.stop_before_entry)
        return false;
    __atomic_store_n(&v->state, VCPU_PARKED, __ATOMIC_RELEASE);
    return true;
}

static void mode_enter(struct vcpu *v)
{
    (void)v;
    trace(fake.held ? "in" : "in-unheld");
}

static void mode_exit(struct vcpu *v)
{
    (void)v;
    trace(fake.held ? "out" : "out-unheld");
}

const struct exit_hooks fake_hooks = {
    .host_cpuid = host_cpuid,
    .cpuid_view = cpuid_view,
    .hypercall = hypercall,
    .x2apic_mode = x2apic_mode,
    .apic_id = fake_apic_id,
    .send_ipi = send_ipi,
    .lapic_write = lapic_write,
    .device_at = device_at,
    .device_mmio = device_mmio,
    .device_port = device_port,
    .xsetbv = xsetbv_hook,
    .warn = warn,
    .stop = stop,
    .before_entry = before_entry,
    .guest_enter = mode_enter,
    .guest_exit = mode_exit,
};
