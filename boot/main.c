/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The boot CPU's path: configuration, ACPI, memory, APs, roles, report, shutdown. */
#include "boot/devices.h"
#include "boot/dma.h"
#include "core/apic.h"
#include "core/core.h"
#include "core/cpu.h"
#include "core/cpu_work.h"
#include "core/fmt.h"
#include "core/hv.h"
#include "core/klib.h"
#include "core/log.h"
#include "core/memory.h"
#include "core/percpu.h"
#include "core/refusal.h"
#include "core/report.h"
#include "core/role.h"
#include "core/serial.h"
#include "core/shutdown.h"
#include "core/smp.h"
#include "core/stacks.h"
#include "core/time.h"
#include "sidecore/sidecore.h"
#include "vmexit/partition.h"

#define DEFAULT_CONSOLE_PORT 0x3f8
/* Role acknowledgements share one deadline that grows with the machine: under an
 * emulator with hundreds of vCPUs on two host cores an AP can wait seconds for a turn. */
#define ROLE_ACK_TIMEOUT_MS 2000
#define ROLE_ACK_PER_CPU_MS 50

static struct cfg_errors cfg_errs;

static __attribute__((noreturn)) void fail(const char *reason)
{
    log_raw("RESULT status=fail reason=%s cpus=%u online=%u", reason, cpu_count, cpu_count ? 1 : 0);
    machine_shutdown(false);
}

static void print_config_errors(void)
{
    for (unsigned i = 0; i < cfg_errs.count; i++)
        log_error("%s:%u: %s", hv.boot->config_source, cfg_errs.e[i].line, cfg_errs.e[i].msg);
    if (cfg_errs.dropped)
        log_error("%s: %u more errors not shown", hv.boot->config_source, cfg_errs.dropped);
    log_error("configuration refused (%u errors); no CPU was started",
              cfg_errs.count + cfg_errs.dropped);
}

/* The MADT's enabled CPUs in index order, the boot CPU first; cpus[] is made from it
 * once memory can be allocated. */
static uint32_t cpu_order[MAX_CPUS];

static void enumerate_cpus(void)
{
    uint32_t bsp = cpu_apic_id_from_cpuid();
    cpu_count = 1;
    cpu_order[0] = bsp;
    for (unsigned i = 0; i < hv.acpi.ncpus && cpu_count < MAX_CPUS; i++)
        if (hv.acpi.cpus[i].apic_id != bsp)
            cpu_order[cpu_count++] = hv.acpi.cpus[i].apic_id;
}

static void load_config(void)
{
    const struct boot_info *bi = hv.boot;
    config_defaults(&hv.cfg);
    int rc =
        config_parse((const char *)(uintptr_t)bi->config_text, bi->config_len, &hv.cfg, &cfg_errs);
    if (rc == 0 && hv.cfg.console_port != DEFAULT_CONSOLE_PORT)
        serial_init(hv.cfg.console_port);
    if (rc == 0)
        log_set_level(hv.cfg.log_level);
    log_info("configuration: %s (%llu bytes, %u lines)", bi->config_source,
             (unsigned long long)bi->config_len, hv.cfg.last_line);
}

static void read_acpi(void)
{
    struct refusal why;
    int rc = acpi_parse(&hv_acpi_mem, hv.boot->rsdp, &hv.acpi, &why);
    if (rc) {
        log_error("ACPI: %s (error %d)", why.text, rc);
        fail("acpi");
    }
    log_info("ACPI: %s, OEM '%s', %u enabled CPUs (%u disabled, %u empty slots), %u I/O APICs, "
             "LAPIC at %llx",
             hv.acpi.uses_xsdt ? "XSDT" : "RSDT", hv.acpi.oem_id, hv.acpi.ncpus,
             hv.acpi.disabled_cpus, hv.acpi.placeholder_slots, hv.acpi.nioapics,
             (unsigned long long)hv.acpi.lapic_address);
    if (hv.acpi.dropped_ioapics)
        log_warn("ACPI: %u I/O APICs beyond the supported %u are ignored", hv.acpi.dropped_ioapics,
                 ACPI_MAX_IOAPICS);
    if (hv.acpi.dropped_cpus)
        log_warn("ACPI: %u CPUs beyond the supported %u are ignored", hv.acpi.dropped_cpus,
                 ACPI_MAX_CPUS);
}

/* Trampoline, stacks and page tables: what the hypervisor itself needs. */
static void setup_memory(void)
{
    if (read_cr4() & CR4_LA57) {
        /* the host tables are 4-level: switching to them from 5-level paging would fault */
        log_error("the firmware handed over with 5-level paging (CR4.LA57), which the "
                  "hypervisor does not support yet");
        fail("memory");
    }
    if (memory_init(&hv.mem, hv.boot)) {
        log_error("memory map has more ranges than the allocator holds");
        fail("memory");
    }
    if (percpu_create(&hv.mem, cpu_order, cpu_count)) {
        log_error("not enough memory for %u per-CPU structures", cpu_count);
        fail("memory");
    }
    if (palloc_alloc(&hv.mem, PAGE_SIZE, PAGE_SIZE, 1 * MiB, &hv.trampoline_page)) {
        log_error("no free page below 1 MiB for the AP trampoline");
        fail("memory");
    }
    if (stacks_alloc(&hv.mem)) {
        log_error("not enough memory for %u CPU stacks", cpu_count);
        fail("memory");
    }
    hv.stacks_bytes = stacks_bytes();
    int rc = memory_build_host_tables(&hv.host_pt, &hv.mem, hv.boot, &hv.acpi);
    if (!rc)
        rc = stacks_unmap_guards(&hv.host_pt);
    if (rc) {
        log_error("building the hypervisor page tables failed (%d)", rc);
        fail("memory");
    }
}

static void validate_config(void)
{
    struct machine_facts facts = {cpu_count, palloc_free_bytes(&hv.mem)};
    if (cfg_errs.count == 0)
        config_validate(&hv.cfg, &facts, &cfg_errs);
    if (cfg_errs.count == 0)
        devices_check(&hv.cfg, &cfg_errs);
    if (cfg_errs.count || cfg_errs.dropped) {
        print_config_errors();
        fail("config");
    }
}

/* Each partition gets one contiguous 2 MiB-aligned block; 0 on failure, after the error. */
static uint64_t reserve_memory(const struct cfg_partition *p)
{
    uint64_t base;
    if (!palloc_alloc(&hv.mem, p->memory, 2 * MiB, 0, &base))
        return base;
    char want[16], largest[16];
    fmt_size(want, sizeof(want), p->memory);
    fmt_size(largest, sizeof(largest), palloc_largest(&hv.mem, 2 * MiB));
    log_error("%s:%u: partition '%s': no contiguous 2M-aligned block of %s (largest is %s)",
              hv.boot->config_source, p->line, p->name, want, largest);
    fail("config");
}

/* The loaded file of that name, or NULL (a configuration that names none: NULL too). */
static const struct boot_file *loaded_file(const char *name, unsigned line, const char *what)
{
    if (!name[0])
        return NULL;
    for (uint32_t f = 0; f < hv.boot->nfiles; f++)
        if (!strcmp(hv.boot->files[f].name, name))
            return &hv.boot->files[f];
    log_error("%s:%u: %s '%s' was not loaded", hv.boot->config_source, line, what, name);
    fail("image");
}

static bool any_image(void)
{
    for (unsigned i = 0; i < hv.cfg.npartitions; i++)
        if (hv.cfg.partitions[i].image[0])
            return true;
    return false;
}

/* Every partition gets its memory and files, and is checked with its image, before any AP
 * starts: a bad image refuses the whole configuration, like any other error. */
static void check_partitions(void)
{
    if (any_image()) {
        struct refusal why;
        if (vcpu_backend_select(&why)) {
            log_error("cannot run guests: %s", why.text);
            fail("virtualization");
        }
    }
    for (unsigned i = 0; i < hv.cfg.npartitions; i++) {
        const struct cfg_partition *c = &hv.cfg.partitions[i];
        uint64_t base = reserve_memory(c);
        char what[96];
        struct partition_files files;
        ksnprintf(what, sizeof(what), "partition '%s': image", c->name);
        files.image = loaded_file(c->image, c->line, what);
        ksnprintf(what, sizeof(what), "partition '%s': disk", c->name);
        files.disk = loaded_file(c->disk, c->line, what);
        ksnprintf(what, sizeof(what), "partition '%s': initrd", c->name);
        files.initrd = loaded_file(c->initrd, c->line, what);
        if (files.image && !apic_x2apic_mode() && !c->lapic_passthrough) {
            log_error("%s:%u: partition '%s': this CPU has no x2APIC, so the guest would write "
                      "its LAPIC's ICR directly (raw IPIs, INIT to any core); add "
                      "lapic=passthrough to accept that for this partition",
                      hv.boot->config_source, c->line, c->name);
            fail("config");
        }
        if (files.image && !apic_x2apic_mode())
            log_warn("partition '%s': xAPIC passthrough: its IPIs are not validated (trusted "
                     "by lapic=passthrough)",
                     c->name);
        struct refusal why;
        if (partition_check(i, c, base, &files, &why)) {
            log_error("%s:%u: partition '%s': %s", hv.boot->config_source, c->line, c->name,
                      why.text);
            fail("image");
        }
    }
    partition_count = hv.cfg.npartitions;
}

static void load_partitions(void)
{
    for (unsigned i = 0; i < partition_count; i++) {
        struct refusal why;
        if (partition_build(i, &hv.mem, &why)) {
            log_error("partition '%s': %s", hv.cfg.partitions[i].name, why.text);
            fail("memory");
        }
    }
}

/* A CPU that did not come up may not hold a role. */
static unsigned check_missing_cpus(void)
{
    unsigned missing = 0;
    for (unsigned i = 1; i < cpu_count; i++) {
        if (__atomic_load_n(&cpus[i].pub.state, __ATOMIC_ACQUIRE) != CPU_TIMED_OUT)
            continue;
        missing++;
        struct cpu_role r = config_cpu_role(&hv.cfg, i);
        if (r.kind == ROLE_UNUSED)
            continue;
        char what[96];
        role_describe(&hv.cfg, i, what, sizeof(what));
        log_error("%s:%u: core %u (APIC ID %u) did not come up; refusing its role (%s)",
                  hv.boot->config_source, r.line, i, cpus[i].apic_id, what);
    }
    return missing;
}

/* Returns how many CPUs did not acknowledge their role: each is named, and fails the run. */
static unsigned assign_roles(void)
{
    unsigned unacked = 0;
    for (unsigned i = 1; i < cpu_count; i++)
        cpu_work_set_wake(i, config_cpu_role(&hv.cfg, i).kind == ROLE_GUEST);
    for (unsigned i = 1; i < cpu_count; i++)
        if (__atomic_load_n(&cpus[i].pub.state, __ATOMIC_ACQUIRE) == CPU_ONLINE)
            smp_post(i, CPU_CMD_TAKE_ROLE);
    uint64_t deadline =
        rdtsc() +
        (ROLE_ACK_TIMEOUT_MS + (uint64_t)cpu_count * ROLE_ACK_PER_CPU_MS) * (time_tsc_hz() / 1000);
    for (unsigned i = 1; i < cpu_count; i++) {
        if (__atomic_load_n(&cpus[i].pub.command, __ATOMIC_ACQUIRE) != CPU_CMD_TAKE_ROLE)
            continue;
        uint64_t now = rdtsc();
        uint32_t left_ms =
            now < deadline ? (uint32_t)((deadline - now) / (time_tsc_hz() / 1000)) : 0;
        if (smp_wait_ack(i, CPU_CMD_TAKE_ROLE, left_ms ? left_ms : 1) == 0)
            continue;
        char what[96];
        role_describe(&hv.cfg, i, what, sizeof(what));
        log_error("cpu %u (APIC ID %u) did not acknowledge its role (%s; state %s, command %u, "
                  "acked %u)",
                  i, cpus[i].apic_id, what, cpu_state_name(cpus[i].pub.state), cpus[i].pub.command,
                  cpus[i].pub.acked);
        unacked++;
    }
    /* each AP logs its role after acknowledging it, then is in role: wait for that (not
     * counted against it), so that the CPU table and the guests come after */
    for (unsigned i = 1; i < cpu_count; i++)
        while (__atomic_load_n(&cpus[i].pub.acked, __ATOMIC_ACQUIRE) == CPU_CMD_TAKE_ROLE &&
               __atomic_load_n(&cpus[i].pub.state, __ATOMIC_ACQUIRE) == CPU_ONLINE &&
               rdtsc() < deadline)
            cpu_relax();
    return unacked;
}

/* Guest cores enter their guests only after the boot report is out. */
static void start_guests(void)
{
    for (unsigned i = 1; i < cpu_count; i++) {
        enum cpu_role_kind kind = config_cpu_role(&hv.cfg, i).kind;
        if (__atomic_load_n(&cpus[i].pub.state, __ATOMIC_ACQUIRE) == CPU_IN_ROLE &&
            (kind == ROLE_GUEST || kind == ROLE_SIDECORE))
            smp_post(i, CPU_CMD_RUN);
    }
}

/* While the guests run, the boot CPU serves its own rings if it is a side core. */
static void boot_cpu_idle(void)
{
    dma_poll_faults();
    if (config_cpu_role(&hv.cfg, 0).kind == ROLE_SIDECORE)
        sidecore_step(0);
    else if (!cpu_work_take(&cpus[0].pub.work, CPU_WORK_COORDINATOR))
        apic_sleep_us(10000); /* or until a guest core reports a change (interrupts are
                                 off since the take: a wake-up sent after it ends the sleep) */
}

static unsigned count_role(enum cpu_role_kind kind)
{
    unsigned n = 0;
    for (unsigned i = 0; i < cpu_count; i++)
        n += config_cpu_role(&hv.cfg, i).kind == kind;
    return n;
}

void core_main(const struct boot_info *bi)
{
    hv.boot = bi;
    time_init(bi->tsc_hz, bi->handoff_tsc);
    serial_init(DEFAULT_CONSOLE_PORT);
    if (bi->magic != BOOT_INFO_MAGIC || bi->version != BOOT_INFO_VERSION) {
        log_error("boot_info magic/version mismatch: loader and core are from different builds");
        fail("boot-info");
    }
    log_info("sidecore hypervisor: core entered from the %s loader; TSC %llu MHz",
             bi->loader == BOOT_LOADER_UEFI ? "UEFI" : "Multiboot2",
             (unsigned long long)(time_tsc_hz() / 1000000));

    load_config();
    read_acpi();
    enumerate_cpus();
    apic_init_bsp(hv.acpi.lapic_address);
    log_info("local APIC mode: %s", apic_x2apic_mode() ? "x2APIC" : "xAPIC");
    shutdown_configure(hv.cfg.shutdown, &hv.acpi);
    if (hv.cfg.dump_acpi)
        report_acpi_dump();
    setup_memory();
    smp_init_bsp();
    if (memory_reclaim_boot_services(&hv.mem, hv.boot)) {
        log_error("memory map has more ranges than the allocator holds");
        fail("memory");
    }
    devices_discover(&hv.acpi);
    dma_setup_units();
    validate_config();
    check_partitions();

    struct smp_params sp = {hv.trampoline_page, hv.host_pt.root, hv.cfg.ap_timeout_ms,
                            hv.cfg.offline_cpu};
    struct smp_report sr;
    log_info("starting %u application processors (trampoline at %llx, time-out %u ms)",
             cpu_count - 1, (unsigned long long)hv.trampoline_page, hv.cfg.ap_timeout_ms);
    smp_start_aps(&sp, &sr);
    log_info("%u of %u CPUs online, %llu us from the first INIT to the last arrival", sr.online,
             cpu_count, (unsigned long long)sr.elapsed_us);
    uint64_t online_us = time_since_handoff_us();
    apic_timer_calibrate();
    load_partitions();
    if (!dma_attach_partitions())
        fail("iommu");
    int rc = sidecore_setup(&hv.cfg, &hv.mem);
    if (rc == -E_NOMEM) {
        log_error("out of memory for the side cores' and vCPUs' service state");
        fail("memory");
    }
    if (rc)
        fail("config"); /* validation guarantees every service has a side core */

    unsigned missing = check_missing_cpus();
    unsigned unacked = missing ? 0 : assign_roles();
    __atomic_store_n(&cpus[0].pub.state, CPU_IN_ROLE, __ATOMIC_RELEASE);
    report_cpu_table();
    report_memory_layout();
    partition_report_memory();
    report_memory_free();
    if (!missing && !unacked) {
        start_guests();
        partition_wait_all(hv.cfg.run_timeout_ms, boot_cpu_idle);
    }
    dma_report();
    sidecore_report();
    bool partitions_ok = partition_report();

    /* CPUs may park later than role assignment (a side core faulting while serving) */
    unsigned parked = 0;
    for (unsigned i = 0; i < cpu_count; i++)
        parked += __atomic_load_n(&cpus[i].pub.state, __ATOMIC_ACQUIRE) == CPU_PARKED;
    bool ok = missing == 0 && unacked == 0 && parked == 0 && partitions_ok;
    log_raw("RESULT status=%s cpus=%u online=%u missing=%u unacked=%u parked=%u sidecores=%u "
            "guest_cores=%u partitions=%u ap_boot_us=%llu online_us=%llu",
            ok ? "ok" : "fail", cpu_count, sr.online, missing, unacked, parked,
            count_role(ROLE_SIDECORE), count_role(ROLE_GUEST), hv.cfg.npartitions,
            (unsigned long long)sr.elapsed_us, (unsigned long long)online_us);
    for (unsigned i = 1; i < cpu_count; i++)
        if (__atomic_load_n(&cpus[i].pub.state, __ATOMIC_ACQUIRE) == CPU_IN_ROLE)
            smp_post(i, CPU_CMD_HALT);
    machine_shutdown(ok);
}
