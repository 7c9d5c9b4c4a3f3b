/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Building, running, watching and reporting partitions. */
#include "vmexit/partition.h"

#include "core/apic.h"
#include "core/boot_info.h"
#include "core/config.h"
#include "core/cpu.h"
#include "core/cpu_work.h"
#include "core/elf.h"
#include "core/fmt.h"
#include "core/klib.h"
#include "core/log.h"
#include "core/memory.h"
#include "core/palloc.h"
#include "core/percpu.h"
#include "core/report.h"
#include "core/refusal.h"
#include "core/time.h"
#include "vmexit/exit.h"
#include "vmexit/linux_boot.h"
#include "vmexit/npt.h"

struct partition partitions[CONFIG_MAX_PARTITIONS];
unsigned partition_count;

/* Guest-physical layout facts (abi.h) the builder relies on. */
_Static_assert(SC_GPA_BOOT_INFO(SC_MAX_VCPUS) <= SC_GPA_PAGE_TABLES, "boot infos below tables");
_Static_assert(MAX_PARTITION_VCPUS <= SC_MAX_VCPUS, "vCPU limit within the ABI");

#define STOP_GRACE_MS 1000     /* for vCPUs to leave their guests after a time-out's stop */
#define NPT_RUNTIME_TABLES 256 /* 1 MiB of table pages for pt_map/unmap/protect splits */
#define GDT_CODE64 0x00af9a000000ffffull
#define GDT_DATA 0x00cf92000000ffffull

const char *partition_state_name(uint32_t state)
{
    switch (state) {
    case PARTITION_IDLE:
        return "idle";
    case PARTITION_RUNNING:
        return "running";
    case PARTITION_FINISHED:
        return "finished";
    case PARTITION_STOPPED:
        return "stopped";
    }
    return "?";
}

/* The guest's own page tables live in its RAM at [SC_GPA_PAGE_TABLES, SC_GPA_IMAGE_MIN). */
struct guest_table_alloc {
    struct partition *p;
    uint64_t next;
};

static int guest_table_page(void *ctx, uint64_t *gpa)
{
    struct guest_table_alloc *a = ctx;
    if (a->next >= SC_GPA_IMAGE_MIN)
        return -E_NOMEM;
    *gpa = a->next;
    a->next += PAGE_SIZE;
    memset((void *)(uintptr_t)(a->p->base + *gpa), 0, PAGE_SIZE);
    return 0;
}

static void *guest_table_virt(void *ctx, uint64_t gpa)
{
    struct guest_table_alloc *a = ctx;
    return (void *)(uintptr_t)(a->p->base + gpa);
}

/* The identity map is built once and never unmapped: a page an undone map gives back is
 * simply left unused. */
static void guest_table_free(void *ctx, uint64_t gpa)
{
    (void)ctx;
    (void)gpa;
}

static int build_guest_identity_map(struct partition *p)
{
    struct guest_table_alloc a = {p, SC_GPA_PAGE_TABLES};
    struct pt_mem mem = {&a, guest_table_page, guest_table_virt, guest_table_free};
    struct pt gpt;
    const unsigned rwx = PT_READ | PT_WRITE | PT_EXEC;
    int rc = pt_init(&gpt, &pt_format_x86, &mem, PT_2M);
    if (!rc && gpt.root != SC_GPA_PAGE_TABLES)
        rc = -E_INVAL;
    if (!rc)
        rc = pt_map(&gpt, 0, 0, p->size, rwx);
    if (!rc)
        /* no NX here: the guest runs without EFER.NXE; the nested tables deny execution */
        rc = pt_map(&gpt, SC_GPA_RING_WINDOW, SC_GPA_RING_WINDOW, p->window_size, rwx);
    if (!rc && !apic_x2apic_mode()) /* x2APIC: MSRs only, no page to reach */
        rc = pt_map(&gpt, SC_GPA_LAPIC, SC_GPA_LAPIC, PAGE_SIZE, rwx | PT_UNCACHED);
    return rc;
}

static int build_nested_tables(struct partition *p)
{
    npt_mem_init(&p->npt_mem, memory_table_mem());
    int rc = pt_init(&p->npt, vcpu_backend->stage2_format, &p->npt_mem.mem,
                     vcpu_backend->stage2_largest_page());
    if (!rc)
        rc = npt_map_partition(&p->npt, p->base, p->size, SC_GPA_LAPIC,
                               apic_x2apic_mode() ? 0 : apic_mmio_base());
    if (!rc)
        rc = pt_map(&p->npt, SC_GPA_RING_WINDOW, p->window_hpa, p->window_size, PT_READ | PT_WRITE);
    /* a Linux kernel reads the BIOS data area in page 0 before its platform code runs: it
     * finds zeros there (the page is its own RAM, reserved in its e820 map) */
    if (!rc && p->linux_boot)
        rc = pt_map(&p->npt, 0, p->base, PAGE_SIZE, PT_READ | PT_WRITE);
    return rc;
}

static void write_boot_info(struct partition *p, const struct cfg_partition *cfg, unsigned id)
{
    struct sc_boot_info *bi = (struct sc_boot_info *)(uintptr_t)(p->base + SC_GPA_BOOT_INFO(id));
    *bi = (struct sc_boot_info){
        .magic = SC_BOOT_MAGIC,
        .version = SC_ABI_VERSION,
        .vcpu_id = id,
        .vcpu_count = p->nvcpus,
        .flags = (apic_x2apic_mode() ? SC_BOOT_X2APIC : 0) | vcpu_backend->boot_flags,
        .memory_size = p->size,
        .tsc_hz = time_tsc_hz(),
        .free_gpa = p->free_gpa,
        .stacks_gpa = p->stacks_gpa,
        .ring_window_gpa = SC_GPA_RING_WINDOW,
        .ring_window_size = p->window_size,
    };
    memcpy(bi->partition, cfg->name, sizeof(bi->partition));
    memcpy(bi->cmdline, cfg->args, sizeof(bi->cmdline));
    bi->lapic_timer_hz = apic_timer_hz();
    for (unsigned i = 0; i < p->nvcpus; i++)
        bi->apic_ids[i] = cpus[p->vcpus[i].cpu].apic_id;
}

/* Checks only: nothing is written to the partition yet. */
static int check_image(struct partition *p, struct refusal *why)
{
    if (linux_boot_detect(p))
        return linux_boot_check(p, why);
    if (p->initrd)
        return refuse(why, E_INVAL, "initrd '%s' given, but image '%s' is not a Linux bzImage",
                      p->initrd->name, p->image->name);
    struct refusal elf_why;
    const void *file = (const void *)(uintptr_t)p->image->address;
    int rc = elf_parse(file, p->image->size, SC_GPA_IMAGE_MIN, p->stacks_gpa, &p->elf, &elf_why);
    if (rc)
        return refuse(why, -rc, "image '%s' refused: %s", p->image->name, elf_why.text);
    p->entry = p->elf.entry;
    p->free_gpa = ALIGN_UP(p->elf.highest, PAGE_SIZE);
    p->has_image = true;
    return 0;
}

int partition_check(unsigned index, const struct cfg_partition *cfg, uint64_t base,
                    const struct partition_files *files, struct refusal *why)
{
    struct partition *p = &partitions[index];
    memset(p, 0, sizeof(*p));
    p->index = index;
    p->cfg = cfg;
    p->name = cfg->name;
    p->base = base;
    p->size = cfg->memory;
    p->image = files->image;
    p->disk = files->disk;
    p->initrd = files->initrd;
    console_bucket_init(&p->console, time_tsc_hz(), CONSOLE_LINES_PER_SECOND, CONSOLE_BURST_LINES,
                        CONSOLE_NOTICE_SECONDS);
    for (unsigned cpu = 0; cpu < CONFIG_MAX_CPUS; cpu++) {
        if (!cpu_set_has(&cfg->cpus, cpu))
            continue;
        if (p->nvcpus == MAX_PARTITION_VCPUS)
            return refuse(why, E_INVAL, "more than %d vCPUs", MAX_PARTITION_VCPUS);
        p->vcpus[p->nvcpus] = (struct vcpu){.partition = p, .id = p->nvcpus, .cpu = cpu};
        p->nvcpus++;
    }
    life_init(&p->life, p->nvcpus);
    p->stacks_gpa = p->size - (uint64_t)p->nvcpus * SC_STACK_SIZE;
    p->free_gpa = SC_GPA_IMAGE_MIN;
    if (!p->image)
        return 0; /* nothing to run: its cores stay idle */
    if (p->size > SC_GPA_RING_WINDOW)
        return refuse(why, E_INVAL, "memory above %lluM would overlap the ring window at %llx",
                      (unsigned long long)(SC_GPA_RING_WINDOW / MiB),
                      (unsigned long long)SC_GPA_RING_WINDOW);
    if (p->stacks_gpa <= SC_GPA_IMAGE_MIN)
        return refuse(why, E_INVAL, "memory too small for an image and %u stacks", p->nvcpus);
    return check_image(p, why);
}

/* A Linux kernel starts its other CPUs itself (SC_OP_VCPU_START). Until then they are
 * parked, counted as exited with status 0 as a vCPU SC_OP_VCPU_STOP parked, from the build
 * on: the kernel may start one before its core has even taken its role. */
static bool starts_parked(const struct vcpu *v)
{
    return v->partition->linux_boot && v->id != 0;
}

static void park_until_started(struct vcpu *v)
{
    v->exit_status = 0;
    life_vcpu_exited(&v->partition->life);
    __atomic_store_n(&v->state, VCPU_PARKED, __ATOMIC_RELEASE);
}

int partition_build(unsigned index, struct palloc *pa, struct refusal *why)
{
    struct partition *p = &partitions[index];
    if (!p->has_image)
        return 0;
    memset((void *)(uintptr_t)p->base, 0, p->size); /* no data from earlier owners */
    p->window_size = (uint64_t)p->nvcpus * SC_SERVICES * SC_RING_BYTES;
    if (palloc_alloc(pa, p->window_size, PAGE_SIZE, 0, &p->window_hpa))
        return refuse(why, E_NOMEM, "out of memory for the request-ring window");
    memset((void *)(uintptr_t)p->window_hpa, 0, p->window_size);
    int rc;
    if (p->linux_boot) {
        if ((rc = linux_boot_load(p, why)))
            return rc;
    } else {
        elf_load((const void *)(uintptr_t)p->image->address, &p->elf,
                 (uint8_t *)(uintptr_t)p->base);
    }
    uint64_t *gdt = (uint64_t *)(uintptr_t)(p->base + SC_GPA_GDT);
    gdt[SC_GDT_CODE / 8] = GDT_CODE64;
    gdt[SC_GDT_DATA / 8] = GDT_DATA;
    if ((rc = build_guest_identity_map(p)) || (rc = build_nested_tables(p)))
        return refuse(why, -rc, "building page tables failed (%d)", rc);
    p->npt_table_limit = p->npt.tables + NPT_RUNTIME_TABLES;
    for (unsigned i = 0; i < p->nvcpus; i++) {
        write_boot_info(p, p->cfg, i);
        if ((rc = vcpu_backend->vcpu_prepare(&p->vcpus[i], pa)))
            return refuse(why, -rc, "vCPU %u: out of memory for its control structures", i);
    }
    if (p->linux_boot)
        p->vcpus[0].regs.rsi = SC_GPA_ZERO_PAGE; /* the 64-bit boot protocol's boot_params */
    for (unsigned i = 0; i < p->nvcpus; i++)
        if (starts_parked(&p->vcpus[i]))
            park_until_started(&p->vcpus[i]);
    return 0;
}

struct vcpu *partition_vcpu_of_cpu(unsigned cpu)
{
    for (unsigned i = 0; i < partition_count; i++)
        for (unsigned v = 0; v < partitions[i].nvcpus; v++)
            if (partitions[i].vcpus[v].cpu == cpu)
                return &partitions[i].vcpus[v];
    return NULL;
}

void partition_notify_coordinator(void)
{
    cpu_work_post(0, CPU_WORK_COORDINATOR);
}

/* A vCPU parked by SC_OP_VCPU_STOP waits, halted, until SC_OP_VCPU_START or the end
 * of its partition. true = reset and run it again. */
static bool wait_for_start(struct vcpu *v)
{
    struct partition *p = v->partition;
    struct cpu_mailbox *mb = &cpus[v->cpu].pub.work;
    while (__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VCPU_PARKED) {
        irq_disable();
        enum partition_state s = life_state(&p->life);
        if (s == PARTITION_FINISHED || s == PARTITION_STOPPED)
            return false; /* ended meanwhile: a late start is void */
        if (cpu_work_take(mb, CPU_WORK_VCPU_START)) {
            /* one step with the partition's state: a last exit racing this start either
             * lands first (the start is void) or counts this vCPU as running again */
            if (!life_vcpu_resume(&p->life))
                return false;
            kassert(__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VCPU_PARKED);
            vcpu_backend->vcpu_reset(v, v->start_rip, v->start_rsp);
            /* a stop asked for before this start is stale: it must not park the new run */
            cpu_work_take(mb, CPU_WORK_VCPU_STOP);
            __atomic_store_n(&v->state, VCPU_RUNNING, __ATOMIC_RELEASE);
            __atomic_store_n(&v->start_claim, 0, __ATOMIC_RELEASE);
            return true;
        }
        /* woken by a start, its partition's stop, or the boot CPU's halt at the end */
        cpu_work_sleep(mb, CPU_WORK_VCPU_START | CPU_WORK_PARTITION_STOP | CPU_WORK_COMMAND);
    }
    return false;
}

void partition_run_vcpu(struct vcpu *v)
{
    struct partition *p = v->partition;
    if (!p->has_image) {
        log_info("partition '%s' has no image: core stays idle", p->name);
        return;
    }
    bool run = !starts_parked(v);
    if (run) {
        life_enter(&p->life);
        __atomic_store_n(&v->state, VCPU_RUNNING, __ATOMIC_RELEASE);
        log_info("entering partition '%s' vCPU %u at %llx (%s)", p->name, v->id,
                 (unsigned long long)p->entry, vcpu_backend->name);
    } else {
        log_info("partition '%s' vCPU %u waits to be started by its kernel", p->name, v->id);
    }
    for (bool ran = false;; ran = true) {
        if (run) {
            vcpu_run(v, vcpu_backend, &vcpu_exit_hooks);
            apic_reclaim_from_guest(); /* its timer, TPR, LVTs and in-service interrupts */
        }
        if (!wait_for_start(v))
            break;
        log_info("partition '%s' vCPU %u started %sat %llx", p->name, v->id,
                 run || ran ? "again " : "", (unsigned long long)v->start_rip);
        run = true;
    }
    if (__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VCPU_EXITED)
        log_info("partition '%s' vCPU %u exited with status %lld after %llu exits", p->name, v->id,
                 (long long)v->exit_status, (unsigned long long)v->counters.total);
    else
        log_info("partition '%s' vCPU %u stopped after %llu exits", p->name, v->id,
                 (unsigned long long)v->counters.total);
}

static bool partition_active(const struct partition *p)
{
    enum partition_state s = life_state(&p->life);
    return p->has_image && (s == PARTITION_IDLE || s == PARTITION_RUNNING);
}

static bool vcpus_settled(const struct partition *p)
{
    for (unsigned i = 0; i < p->nvcpus; i++) {
        uint32_t s = __atomic_load_n(&p->vcpus[i].state, __ATOMIC_ACQUIRE);
        if (s == VCPU_RUNNING)
            return false;
    }
    return true;
}

static bool vcpus_settled_cb(void *arg)
{
    return vcpus_settled(arg);
}

/* The stop's wakes again, to the vCPUs still in their guests. */
static void rewake_running(void *arg)
{
    const struct partition *p = arg;
    for (unsigned v = 0; v < p->nvcpus; v++)
        if (__atomic_load_n(&p->vcpus[v].state, __ATOMIC_ACQUIRE) == VCPU_RUNNING)
            cpu_work_resend(p->vcpus[v].cpu);
}

bool partition_stop(struct partition *p, const char *reason, int except_vcpu)
{
    if (!life_stop(&p->life))
        return false; /* someone stopped it first, or it ended on its own */
    ksnprintf(p->stop_reason, sizeof(p->stop_reason), "%s", reason);
    for (unsigned i = 0; i < p->nvcpus; i++)
        if ((int)i != except_vcpu)
            cpu_work_post(p->vcpus[i].cpu, CPU_WORK_PARTITION_STOP);
    return true;
}

static void stop_for_timeout(struct partition *p, uint32_t timeout_ms)
{
    char reason[64];
    ksnprintf(reason, sizeof(reason), "still running after the %u ms time-out", timeout_ms);
    if (partition_stop(p, reason, -1))
        log_error("partition '%s' %s: stopping it", p->name, reason);
}

void partition_wait_all(uint32_t timeout_ms, void (*idle)(void))
{
    uint64_t deadline = rdtsc() + (uint64_t)timeout_ms * (time_tsc_hz() / 1000);
    for (;;) {
        bool active = false;
        for (unsigned i = 0; i < partition_count; i++)
            active |= partition_active(&partitions[i]) || !vcpus_settled(&partitions[i]);
        if (!active)
            return;
        if (rdtsc() >= deadline)
            break;
        idle();
    }
    for (unsigned i = 0; i < partition_count; i++)
        stop_for_timeout(&partitions[i], timeout_ms);
    /* one grace period for all: a vCPU that cannot be woken costs it once */
    uint64_t grace_end = cpu_work_now_us() + STOP_GRACE_MS * 1000ull;
    for (unsigned i = 0; i < partition_count; i++) {
        uint64_t now = cpu_work_now_us();
        (void)cpu_work_wait(vcpus_settled_cb, rewake_running, &partitions[i],
                            now < grace_end ? grace_end - now : 0);
    }
}

static void report_vcpu(const struct partition *p, const struct vcpu *v)
{
    char line[256];
    int n = ksnprintf(line, sizeof(line), "partition '%s' vCPU %u (cpu %u): %llu exits", p->name,
                      v->id, v->cpu, (unsigned long long)v->counters.total);
    for (unsigned r = 0; r < SC_EXIT_REASONS && (size_t)n < sizeof(line); r++)
        if (v->counters.by_reason[r])
            n += ksnprintf(line + n, sizeof(line) - (size_t)n, " %s=%llu", exit_reason_name(r),
                           (unsigned long long)v->counters.by_reason[r]);
    if (v->steady_seen && (size_t)n < sizeof(line))
        ksnprintf(line + n, sizeof(line) - (size_t)n, "; steady phase: %llu exits",
                  (unsigned long long)v->steady_exits);
    log_info("%s", line);
}

bool partition_report(void)
{
    bool all_ok = true;
    for (unsigned i = 0; i < partition_count; i++) {
        const struct partition *p = &partitions[i];
        uint64_t exits = 0, steady = 0;
        bool steady_seen = false, pass = true;
        for (unsigned v = 0; v < p->nvcpus; v++) {
            const struct vcpu *vc = &p->vcpus[v];
            exits += vc->counters.total;
            steady += vc->steady_exits;
            steady_seen |= vc->steady_seen;
            pass &= vc->exit_status == 0;
            if (p->has_image)
                report_vcpu(p, vc);
        }
        enum partition_state state = life_state(&p->life);
        const char *status = !p->has_image                 ? "idle"
                             : state == PARTITION_STOPPED  ? "stopped"
                             : state != PARTITION_FINISHED ? "fail"
                             : pass                        ? "pass"
                                                           : "fail";
        if (state == PARTITION_STOPPED)
            log_info("partition '%s' was stopped: %s", p->name, p->stop_reason);
        uint32_t refused = __atomic_load_n(&p->refused_ipis, __ATOMIC_RELAXED);
        if (refused)
            log_info("partition '%s': %u local interrupts refused (ICR, self-IPI or LVT writes "
                     "outside its rights)",
                     p->name, refused);
        all_ok &= !strcmp(status, "pass") || !strcmp(status, "idle");
        char steady_field[40] = "";
        if (steady_seen)
            ksnprintf(steady_field, sizeof(steady_field), " steady_exits=%llu",
                      (unsigned long long)steady);
        uint64_t dropped = __atomic_load_n(&p->console.dropped, __ATOMIC_RELAXED);
        if (dropped)
            log_info("partition '%s': %llu console lines dropped (bounds: %d lines per request, "
                     "%d lines/s, bursts of %d)",
                     p->name, (unsigned long long)dropped, CONSOLE_LINES_PER_REQUEST,
                     CONSOLE_LINES_PER_SECOND, CONSOLE_BURST_LINES);
        log_raw("RESULT partition=%s status=%s vcpus=%u exits=%llu%s console_dropped=%llu "
                "dma_faults=%u",
                p->name, status, p->nvcpus, (unsigned long long)exits, steady_field,
                (unsigned long long)dropped, p->dma_faults);
    }
    return all_ok;
}

void partition_report_memory(void)
{
    for (unsigned i = 0; i < partition_count; i++) {
        const struct partition *p = &partitions[i];
        char what[48], note[64];
        ksnprintf(what, sizeof(what), "partition '%s'", p->name);
        ksnprintf(note, sizeof(note), "%u cores%s%s", p->nvcpus, p->image ? ", image " : "",
                  p->image ? p->image->name : "");
        report_layout_line(what, p->base, p->size, note);
    }
}
