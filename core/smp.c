/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* INIT-SIPI-SIPI bring-up (Intel SDM vol. 3, 9.4.4) and the per-CPU mailbox. */
#include "core/smp.h"

#include "core/apic.h"
#include "core/cpu.h"
#include "core/cpu_work.h"
#include "core/desc.h"
#include "core/klib.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/percpu.h"
#include "core/role.h"
#include "core/stacks.h"
#include "core/time.h"
#include "core/trap.h"

extern const uint8_t trampoline_start[], trampoline_end[];
extern const uint64_t trampoline_offsets[8];
enum { OFF_GDTR_BASE, OFF_GDT, OFF_FAR64, OFF_LONG_MODE, OFF_CR3, OFF_ENTRY, OFF_STACKS, OFF_SLOT };

/* The trampoline's stacks, one per AP started, taken in arrival order (an AP learns which
 * CPU it is only once it runs C): indexed by slot, not by CPU, so not per-CPU data. */
static uint64_t slot_stack_top[MAX_CPUS];

uint32_t cpu_apic_id_from_cpuid(void)
{
    if (cpuid(0, 0).eax >= 0xb && cpuid(0xb, 0).ebx != 0)
        return cpuid(0xb, 0).edx; /* x2APIC ID, valid in either APIC mode */
    return cpuid(1, 0).ebx >> 24;
}

static void init_this_cpu(struct percpu *pc)
{
    uint64_t ist[IST_STACKS];
    stacks_ist_tops(pc->index, ist);
    percpu_activate(pc);
    /* NX in nested tables (non-executable ring windows) needs EFER.NXE on the host */
    if (cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_NX)
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    desc_init_cpu(pc, ist);
    apic_init_cpu();
}

void smp_init_bsp(void)
{
    stacks_set_main(&cpus[0], 0); /* it stays on the boot stack */
    idt_build();
    init_this_cpu(&cpus[0]);
    __atomic_store_n(&cpus[0].pub.state, CPU_ONLINE, __ATOMIC_RELEASE);
}

static void patch64(uint8_t *page, unsigned field, uint64_t v)
{
    memcpy(page + trampoline_offsets[field], &v, sizeof(v));
}

static void patch32(uint8_t *page, unsigned field, uint32_t v)
{
    memcpy(page + trampoline_offsets[field], &v, sizeof(v));
}

static void prepare_trampoline(const struct smp_params *p)
{
    uint8_t *page = (uint8_t *)(uintptr_t)p->trampoline_page;
    memcpy(page, trampoline_start, (size_t)(trampoline_end - trampoline_start));
    patch32(page, OFF_GDTR_BASE, (uint32_t)(p->trampoline_page + trampoline_offsets[OFF_GDT]));
    patch32(page, OFF_FAR64, (uint32_t)(p->trampoline_page + trampoline_offsets[OFF_LONG_MODE]));
    patch64(page, OFF_CR3, p->cr3);
    patch64(page, OFF_ENTRY, (uint64_t)(uintptr_t)ap_entry);
    patch64(page, OFF_STACKS, (uint64_t)(uintptr_t)slot_stack_top);
    patch32(page, OFF_SLOT, 0);
}

static bool cpu_has_state(unsigned i, uint32_t state)
{
    return __atomic_load_n(&cpus[i].pub.state, __ATOMIC_ACQUIRE) == state;
}

void smp_start_aps(const struct smp_params *p, struct smp_report *out)
{
    memset(out, 0, sizeof(*out));
    out->online = 1;
    prepare_trampoline(p);

    unsigned slots = 0;
    for (unsigned i = 1; i < cpu_count; i++) {
        if ((int)i == p->skip_cpu)
            continue;
        slot_stack_top[slots++] = stacks_main_top(i);
    }

    uint64_t t0 = rdtsc();
    for (unsigned i = 1; i < cpu_count; i++) {
        __atomic_store_n(&cpus[i].pub.state, CPU_STARTING, __ATOMIC_RELEASE);
        if ((int)i == p->skip_cpu) {
            /* simulates a dead CPU: it goes through the same time-out path */
            log_warn("cpu %u (APIC ID %u): not sent INIT/SIPI ('debug offline_cpu')", i,
                     cpus[i].apic_id);
            continue;
        }
        if (apic_send_init(cpus[i].apic_id))
            log_warn("cpu %u: INIT IPI not accepted by the local APIC", i);
        out->started++;
    }
    udelay(10000); /* INIT settle time the SDM asks for */
    for (int round = 0; round < 2; round++) {
        for (unsigned i = 1; i < cpu_count; i++)
            if (cpu_has_state(i, CPU_STARTING) && (int)i != p->skip_cpu)
                apic_send_sipi(cpus[i].apic_id, (uint8_t)(p->trampoline_page >> 12));
        udelay(200);
    }

    uint64_t deadline = t0 + (uint64_t)p->timeout_ms * (time_tsc_hz() / 1000);
    for (;;) {
        unsigned waiting = 0;
        for (unsigned i = 1; i < cpu_count; i++)
            waiting += cpu_has_state(i, CPU_STARTING);
        if (!waiting || rdtsc() > deadline)
            break;
        udelay(50);
    }
    uint64_t last = t0;
    for (unsigned i = 1; i < cpu_count; i++) {
        uint32_t expected = CPU_STARTING;
        /* a late AP that loses this race halts instead of running */
        if (__atomic_compare_exchange_n(&cpus[i].pub.state, &expected, CPU_TIMED_OUT, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            log_error("cpu %u (APIC ID %u) did not come up within %u ms", i, cpus[i].apic_id,
                      p->timeout_ms);
            continue;
        }
        if (cpu_has_state(i, CPU_ONLINE)) {
            out->online++;
            if (cpus[i].pub.arrival_tsc > last)
                last = cpus[i].pub.arrival_tsc;
        }
    }
    out->elapsed_us = tsc_to_us(last - t0);
}

void smp_post(unsigned cpu, uint32_t command)
{
    __atomic_store_n(&cpus[cpu].pub.command, command, __ATOMIC_RELEASE);
    cpu_work_post(cpu, CPU_WORK_COMMAND);
}

struct ack_wait {
    unsigned cpu;
    uint32_t command;
};

static bool acked_or_parked(void *arg)
{
    const struct ack_wait *w = arg;
    return __atomic_load_n(&cpus[w->cpu].pub.acked, __ATOMIC_ACQUIRE) == w->command ||
           cpu_has_state(w->cpu, CPU_PARKED);
}

static void rewake(void *arg)
{
    cpu_work_resend(((const struct ack_wait *)arg)->cpu);
}

int smp_wait_ack(unsigned cpu, uint32_t command, uint32_t timeout_ms)
{
    struct ack_wait w = {cpu, command};
    return cpu_work_wait(acked_or_parked, rewake, &w, (uint64_t)timeout_ms * 1000);
}

/* Wait for commands with the CPU halted: idle APs cost an emulator nothing. */
static __attribute__((noreturn)) void ap_command_loop(struct percpu *pc)
{
    uint32_t done = CPU_CMD_NONE;
    for (;;) {
        irq_disable();
        /* the bit first: a command posted after this look sets it again and ends the sleep */
        cpu_work_take(&pc->pub.work, CPU_WORK_COMMAND);
        uint32_t cmd = __atomic_load_n(&pc->pub.command, __ATOMIC_ACQUIRE);
        if (cmd == done) {
            cpu_work_sleep(&pc->pub.work, CPU_WORK_COMMAND);
            continue;
        }
        if (cmd == CPU_CMD_TAKE_ROLE)
            role_enter(pc);
        done = cmd;
        __atomic_store_n(&pc->pub.acked, cmd, __ATOMIC_RELEASE);
        if (cmd == CPU_CMD_TAKE_ROLE)
            role_announce(pc);
        if (cmd == CPU_CMD_RUN)
            role_run(pc);
        if (cmd == CPU_CMD_HALT)
            for (;;)
                halt(); /* interrupts stay off */
    }
}

/* Slots are handed out in arrival order, so an AP may run on the main stack of
 * another CPU's block; each slot is taken once, so no two CPUs share a stack. */
void ap_entry(uint32_t slot)
{
    int index = percpu_find_apic_id(cpu_apic_id_from_cpuid());
    if (index < 0 || slot >= MAX_CPUS)
        for (;;)
            halt(); /* not a CPU of the MADT: stay out of the way */
    struct percpu *pc = &cpus[index];
    stacks_set_main(pc, slot_stack_top[slot]);
    init_this_cpu(pc);
    pc->pub.arrival_tsc = rdtsc();
    uint32_t expected = CPU_STARTING;
    if (!__atomic_compare_exchange_n(&pc->pub.state, &expected, CPU_ONLINE, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        for (;;)
            halt(); /* reported as timed out already: stay out of the way */
    ap_command_loop(pc);
}
