/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The side-core poll loop. Fairness: at most SIDECORE_BATCH requests per ring
 * per pass, so a flooding guest delays the others by one batch at most; a ring
 * whose indices are corrupted is marked broken and skipped from then on. A side
 * core never waits on a guest core: a request whose completion depends on one
 * (a TLB flush) is deferred, holding only its own ring. */
#include "sidecore/sidecore.h"

#include "core/apic.h"
#include "core/config.h"
#include "core/cpu.h"
#include "core/cpu_work.h"
#include "core/fmt.h"
#include "core/klib.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/percpu.h"
#include "core/time.h"
#include "sidecore/placement.h"
#include "sidecore/services.h"
#include "sidecore/svc_env.h"
#include "sidecore/vcpu_services.h"
#include "vmexit/partition.h"

#define SIDECORE_BATCH 8
#define MAX_RINGS (CONFIG_MAX_PARTITIONS * MAX_PARTITION_VCPUS * SC_SERVICES)

struct served_ring {
    struct svc_ring_ctx ctx; /* the vCPU and service */
    unsigned cpu;            /* the side core serving it */
};

/* The longest single service call of each side core: how long it could not serve any other
 * ring. Written by that side core only, read at the report. */
struct longest_call {
    uint64_t cycles;
    const struct served_ring *ring;
    uint16_t opcode;
};

/* A side core's own state (percpu->sidecore): written by that CPU only once it serves, read
 * by the boot CPU's report after the guests ended. */
struct sidecore_cpu {
    const struct cfg_sidecore *policy;
    unsigned first, count; /* its rings: rings[first .. first + count) */
    unsigned idle_passes;
    struct longest_call longest;
};

/* Rings grouped by serving CPU. */
static struct served_ring rings[MAX_RINGS];
static bool broken_logged[MAX_RINGS];

static struct sidecore_cpu *side(unsigned cpu)
{
    return cpus[cpu].sidecore;
}

static unsigned total_vcpus(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < partition_count; i++)
        n += partitions[i].has_image ? partitions[i].nvcpus : 0;
    return n;
}

static void log_placement(unsigned cpu)
{
    const struct sidecore_cpu *sc = side(cpu);
    char line[200];
    int n = ksnprintf(line, sizeof(line), "side core %u (poll %s) serves %u rings:", cpu,
                      poll_policy_name(sc->policy->poll), sc->count);
    for (unsigned i = 0; i < sc->count && (size_t)n < sizeof(line) - 24; i++) {
        const struct svc_ring_ctx *c = &rings[sc->first + i].ctx;
        n += ksnprintf(line + n, sizeof(line) - (size_t)n, " %s.%u/%s", c->v->partition->name,
                       c->v->id, service_name((enum service)c->service));
        if (i + 1 < sc->count && (size_t)n >= sizeof(line) - 24)
            ksnprintf(line + n, sizeof(line) - (size_t)n, " ...");
    }
    log_info("%s", line);
}

/* Every vCPU's service state, and every side core's. */
static int create_state(const struct config *cfg, struct palloc *pa)
{
    for (unsigned p = 0; p < partition_count; p++)
        for (unsigned v = 0; partitions[p].has_image && v < partitions[p].nvcpus; v++)
            if (vcpu_services_create(&partitions[p].vcpus[v], pa))
                return -E_NOMEM;
    for (unsigned i = 0; i < cfg->nsidecores; i++) {
        uint64_t at;
        if (palloc_alloc(pa, ALIGN_UP(sizeof(struct sidecore_cpu), PAGE_SIZE), PAGE_SIZE, 0, &at))
            return -E_NOMEM;
        struct sidecore_cpu *sc = (struct sidecore_cpu *)(uintptr_t)at;
        *sc = (struct sidecore_cpu){.policy = &cfg->sidecores[i]};
        cpus[cfg->sidecores[i].cpu].sidecore = sc;
    }
    return 0;
}

int sidecore_setup(const struct config *cfg, struct palloc *pa)
{
    static uint16_t serving[CONFIG_MAX_PARTITIONS * MAX_PARTITION_VCPUS][SC_SERVICES];
    unsigned nv = total_vcpus();
    int rc = placement_compute(cfg, nv, serving);
    if (rc)
        return rc;
    if ((rc = create_state(cfg, pa)))
        return rc;
    /* count, then lay the rings out grouped by CPU */
    unsigned k = 0;
    for (unsigned p = 0; p < partition_count; p++)
        for (unsigned v = 0; partitions[p].has_image && v < partitions[p].nvcpus; v++, k++)
            for (unsigned s = 0; s < SC_SERVICES; s++)
                side(serving[k][s])->count++;
    unsigned next = 0;
    for (unsigned i = 0; i < cfg->nsidecores; i++) {
        struct sidecore_cpu *sc = side(cfg->sidecores[i].cpu);
        sc->first = next;
        next += sc->count;
        sc->count = 0;
    }
    k = 0;
    for (unsigned p = 0; p < partition_count; p++) {
        for (unsigned v = 0; partitions[p].has_image && v < partitions[p].nvcpus; v++, k++) {
            struct vcpu *vc = &partitions[p].vcpus[v];
            for (unsigned s = 0; s < SC_SERVICES; s++) {
                unsigned cpu = serving[k][s];
                struct sidecore_cpu *sc = side(cpu);
                vc->svc->served_by[s] = (uint16_t)cpu;
                rings[sc->first + sc->count++] =
                    (struct served_ring){(struct svc_ring_ctx){.v = vc, .service = s}, cpu};
            }
        }
    }
    for (unsigned i = 0; i < cfg->nsidecores; i++)
        log_placement(cfg->sidecores[i].cpu);
    return 0;
}

static enum ring_outcome timed_handler(void *ctx, struct sc_ring_slot *req, uint64_t *wait)
{
    struct served_ring *r = ctx;
    uint16_t opcode = req->opcode;
    uint64_t t0 = rdtsc();
    enum ring_outcome out = svc_ring_handler(&r->ctx, req, wait);
    uint64_t cycles = rdtsc() - t0;
    struct longest_call *l = &side(r->cpu)->longest;
    if (cycles > l->cycles)
        *l = (struct longest_call){cycles, r, opcode};
    return out;
}

static bool ready(void *ctx, uint64_t wait, struct sc_ring_slot *req)
{
    return svc_ring_ready(&((struct served_ring *)ctx)->ctx, wait, req);
}

static const struct ring_ops served_ops = {timed_handler, ready};

static bool pass(const struct sidecore_cpu *sc)
{
    bool served = false;
    for (unsigned i = sc->first; i < sc->first + sc->count; i++) {
        struct svc_ring_ctx *c = &rings[i].ctx;
        struct ring_consumer *rc = &c->v->svc->rings[c->service];
        if (rc->broken && !rc->deferred)
            continue; /* a broken ring with a deferred request is polled until it settles */
        int n = ring_consumer_poll(rc, SIDECORE_BATCH, &served_ops, &rings[i]);
        /* a held completion is work due shortly: no dozing off before it */
        if (n > 0 || rc->deferred)
            served = true;
        /* the block queue rides with the io ring: no notify needed (unless the guest asked
         * for notifications: then they serve it) */
        if (c->service == SC_SERVICE_IO && svc_blk_poll(c->v, BLK_PASS) > 0)
            served = true;
        if (n < 0 && !broken_logged[i]) {
            broken_logged[i] = true;
            log_warn("ring %s.%u/%s: corrupted indices (head %u, tail %u): marked broken, no "
                     "longer served",
                     c->v->partition->name, c->v->id, service_name((enum service)c->service),
                     rc->ring->head, rc->tail);
        }
    }
    return served;
}

bool sidecore_step(unsigned cpu)
{
    struct sidecore_cpu *sc = side(cpu);
    if (pass(sc)) {
        sc->idle_passes = 0;
        return true;
    }
    const struct cfg_sidecore *pol = sc->policy;
    if (pol->poll == POLL_ADAPTIVE && ++sc->idle_passes >= pol->spin_iterations) {
        sc->idle_passes = 0;
        apic_sleep_us(pol->sleep_us); /* bounded: the timer wakes us */
    } else {
        cpu_relax();
    }
    return false;
}

/* The service loop's look at its mailbox: only the boot CPU's halt ends it. */
static bool halt_posted(struct percpu *pc)
{
    return cpu_work_take(&pc->pub.work, CPU_WORK_COMMAND) &&
           __atomic_load_n(&pc->pub.command, __ATOMIC_ACQUIRE) == CPU_CMD_HALT;
}

void sidecore_run(struct percpu *pc)
{
    while (!halt_posted(pc))
        sidecore_step(pc->index);
}

static void report_side_core(unsigned cpu)
{
    const struct longest_call *l = &side(cpu)->longest;
    if (!l->ring) {
        log_info("side core %u: no service call", cpu);
        return;
    }
    const struct svc_ring_ctx *c = &l->ring->ctx;
    log_info("side core %u: longest service call %llu us (%s on ring %s.%u/%s)", cpu,
             (unsigned long long)tsc_to_us(l->cycles), service_opcode_name(l->opcode),
             c->v->partition->name, c->v->id, service_name((enum service)c->service));
}

void sidecore_report(void)
{
    for (unsigned cpu = 0; cpu < cpu_count; cpu++) {
        const struct sidecore_cpu *sc = side(cpu);
        if (!sc)
            continue;
        for (unsigned i = sc->first; i < sc->first + sc->count; i++) {
            const struct svc_ring_ctx *c = &rings[i].ctx;
            const struct ring_consumer *rc = &c->v->svc->rings[c->service];
            const struct blk_queue *q = &c->v->svc->blkq;
            if (c->service == SC_SERVICE_IO && (q->ready || q->completed))
                log_info("block queue %s.%u on side core %u%s: %llu requests, %llu errors%s%s",
                         c->v->partition->name, c->v->id, cpu,
                         c->v->svc->queue_is_vpci ? " (virtio-pci)" : "",
                         (unsigned long long)q->completed, (unsigned long long)q->errors,
                         q->broken ? ", BROKEN" : "", q->ready ? "" : ", reset by the driver");
            if (!rc->requests && !rc->broken && !rc->deferred)
                continue;
            char deferred[64] = "";
            if (rc->deferrals)
                ksnprintf(deferred, sizeof(deferred), ", %llu deferred%s",
                          (unsigned long long)rc->deferrals, rc->deferred ? " (one pending)" : "");
            log_info("ring %s.%u/%s on side core %u: %llu requests, %llu errors, largest batch "
                     "%llu%s%s",
                     c->v->partition->name, c->v->id, service_name((enum service)c->service), cpu,
                     (unsigned long long)rc->requests, (unsigned long long)rc->errors,
                     (unsigned long long)rc->largest_batch, deferred, rc->broken ? ", BROKEN" : "");
        }
        report_side_core(cpu);
    }
}
