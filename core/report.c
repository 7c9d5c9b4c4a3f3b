/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Human-readable boot reports. */
#include "core/report.h"

#include "core/apic.h"
#include "core/fmt.h"
#include "core/hv.h"
#include "core/klib.h"
#include "core/log.h"
#include "core/memory.h"
#include "core/percpu.h"
#include "core/role.h"

const char *cpu_state_name(unsigned state)
{
    switch (state) {
    case CPU_ABSENT:
        return "absent";
    case CPU_STARTING:
        return "starting";
    case CPU_ONLINE:
        return "online";
    case CPU_IN_ROLE:
        return "running";
    case CPU_PARKED:
        return "parked";
    case CPU_TIMED_OUT:
        return "timed-out";
    }
    return "?";
}

void report_cpu_table(void)
{
    log_info("CPU table (%u CPUs, %s mode):", cpu_count, apic_x2apic_mode() ? "x2APIC" : "xAPIC");
    log_info("  cpu  apic  state      role");
    for (unsigned i = 0; i < cpu_count; i++) {
        char role[96];
        role_describe(&hv.cfg, i, role, sizeof(role));
        uint32_t st = __atomic_load_n(&cpus[i].pub.state, __ATOMIC_ACQUIRE);
        log_info("  %3u  %4u  %-9s  %s%s%s", i, cpus[i].apic_id, cpu_state_name(st), role,
                 st == CPU_PARKED ? " -- " : "", st == CPU_PARKED ? cpus[i].pub.park_reason : "");
    }
}

void report_layout_line(const char *what, uint64_t base, uint64_t size, const char *note)
{
    char sz[16];
    fmt_size(sz, sizeof(sz), size);
    log_info("  %-22s %016llx-%016llx %7s  %s", what, (unsigned long long)base,
             (unsigned long long)(base + size), sz, note);
}

void report_memory_layout(void)
{
    const struct boot_info *bi = hv.boot;
    char sz[16], note[64];
    log_info("memory layout:");
    report_layout_line("hypervisor image", bi->image_base, bi->image_size, "");
    for (uint32_t i = 0; i < bi->nfiles; i++)
        report_layout_line("loaded file", bi->files[i].address, bi->files[i].size,
                           bi->files[i].name);
    report_layout_line("AP trampoline", hv.trampoline_page, PAGE_SIZE, "");
    fmt_size(sz, sizeof(sz), (uint64_t)hv.host_pt.tables * PAGE_SIZE);
    ksnprintf(note, sizeof(note), "page tables %s (%u pages), stacks ", sz, hv.host_pt.tables);
    fmt_size(sz, sizeof(sz), hv.stacks_bytes);
    log_info("  %-22s %s%s", "hypervisor heap", note, sz);
}

void report_memory_free(void)
{
    char sz[16];
    fmt_size(sz, sizeof(sz), palloc_free_bytes(&hv.mem));
    log_info("  %-22s %s in %u ranges", "free", sz, hv.mem.n);
}

static void dump_table(const char *sig, uint64_t addr, uint32_t len)
{
    const uint8_t *p = (const uint8_t *)(uintptr_t)addr;
    for (uint32_t off = 0; off < len; off += 32) {
        char hex[65];
        uint32_t n = len - off < 32 ? len - off : 32;
        for (uint32_t i = 0; i < n; i++)
            ksnprintf(hex + 2 * i, 3, "%02x", p[off + i]);
        log_raw("ACPIDUMP %s %llx %u %u %s", sig, (unsigned long long)addr, len, off, hex);
    }
}

void report_acpi_dump(void)
{
    static struct acpi_table_ref refs[ACPI_MAX_TABLES]; /* 1.5 KiB; boot CPU, once */
    int n = acpi_list_tables(&hv_acpi_mem, hv.boot->rsdp, refs, ACPI_MAX_TABLES);
    for (int i = 0; i < n; i++) {
        const char *s = refs[i].signature;
        /* the tables the parser reads; the DSDT and the rest would only bloat the log */
        if (!strcmp(s, "RSDP") || !strcmp(s, "XSDT") || !strcmp(s, "RSDT") || !strcmp(s, "APIC") ||
            !strcmp(s, "FACP") || !strcmp(s, "MCFG") || !strcmp(s, "DMAR") || !strcmp(s, "IVRS"))
            dump_table(s, refs[i].address, refs[i].length);
    }
}
