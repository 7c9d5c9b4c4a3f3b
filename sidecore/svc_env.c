/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Service hooks over a real partition. Removing or narrowing mappings is applied at once;
 * every vCPU of the partition in guest mode is then kicked out of it by an NMI and flushes
 * its guest TLB on the way back in (the others flush before they next enter, whenever that
 * is: nobody waits for them, tlb_sync.h). The trap caller waits for those flushes on its own
 * core; the ring completes the request only after them (deferred), while its side core goes
 * on serving every other ring. */
#include "sidecore/svc_env.h"

#include "core/apic.h"
#include "core/boot_info.h"
#include "core/config.h"
#include "core/cpu.h"
#include "core/cpu_work.h"
#include "core/klib.h"
#include "core/log.h"
#include "core/percpu.h"
#include "core/spinlock.h"
#include "sidecore/services.h"
#include "sidecore/vcpu_services.h"
#include "sidecore/vpci_env.h"
#include "vmexit/svc_trap.h"
#include "vmexit/vcpu.h"

_Static_assert(SC_PT_READ == PT_READ && SC_PT_WRITE == PT_WRITE && SC_PT_EXEC == PT_EXEC,
               "ring rights are the page-table builder's flags");

struct svc_call {
    struct vcpu *v;
    bool trap;          /* running on the caller's own core, in its exit handler */
    bool flush_pending; /* ring path: the request's completion waits for flush_gen */
    uint32_t flush_gen;
    struct npt_retired freed; /* table pages the unmap freed: reusable once flush_gen is done */
};

uint32_t vcpu_apic(const struct vcpu *v)
{
    return cpus[v->cpu].apic_id;
}

static bool vcpu_running(const struct vcpu *v)
{
    return __atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VCPU_RUNNING;
}

/* A new flush generation; each vCPU in guest mode is kicked out of it. The trap caller is in
 * its exit handler, so never kicked. */
static uint32_t flush_begin(struct partition *p)
{
    uint32_t gen = tlb_sync_begin(&p->tlb);
    for (unsigned i = 0; i < p->nvcpus; i++)
        if (tlb_sync_in_guest(&p->vcpus[i].tlb))
            cpu_work_post(p->vcpus[i].cpu, CPU_WORK_TLB_FLUSH);
    return gen;
}

static bool flush_complete(const struct partition *p, uint32_t gen)
{
    for (unsigned i = 0; i < p->nvcpus; i++)
        if (!tlb_sync_flushed(&p->vcpus[i].tlb, gen))
            return false;
    return true;
}

static bool flushed_or_stopped(void *arg)
{
    const struct svc_call *c = arg;
    return flush_complete(c->v->partition, c->flush_gen) || vcpu_should_stop(c->v);
}

/* The flush's wake again, to the vCPUs that still owe it (cpu_work.h: a wake can be lost
 * under an emulator, and a post finding the bit pending sends none). */
static void rewake_unflushed_of(const struct partition *p, uint32_t gen)
{
    for (unsigned i = 0; i < p->nvcpus; i++)
        if (!tlb_sync_flushed(&p->vcpus[i].tlb, gen))
            cpu_work_resend(p->vcpus[i].cpu);
}

static void rewake_unflushed(void *arg)
{
    const struct svc_call *c = arg;
    rewake_unflushed_of(c->v->partition, c->flush_gen);
}

/* After the tables narrowed. The trap caller waits here for the vCPUs that were in guest mode
 * to leave it (a kick's exit: short), and only ever gives up when its partition stops, after
 * which no vCPU runs guest code again; either way the status is the operation's own. The
 * ring path does not wait: svc_ring_ready completes the request once flush_complete. */
static int flush_partition(struct svc_call *c)
{
    struct partition *p = c->v->partition;
    c->flush_gen = flush_begin(p);
    if (!c->trap) {
        c->flush_pending = true;
        return 0;
    }
    (void)cpu_work_wait(flushed_or_stopped, rewake_unflushed, c, CPU_WORK_FOREVER);
    return 0;
}

/* Table pages an unmap freed go back to the shared allocator only once no guest core can
 * walk them any more (the flush is done); otherwise they wait for a later flush. */
static void settle_freed(struct partition *p, struct npt_retired *freed, bool flushed)
{
    if (flushed) {
        npt_retired_release(&p->npt_mem, freed);
        return;
    }
    spin_lock(&p->pt_lock);
    npt_retired_return(&p->npt_mem, freed);
    spin_unlock(&p->pt_lock);
}

/* Table pages a partition may hold at run time (splits, re-maps), those waiting for a
 * flush included: the allocator is shared, so one guest cannot take it all. */
static bool over_table_budget(const struct partition *p)
{
    return p->npt.tables + p->npt_mem.retired.count >= p->npt_table_limit;
}

/* Under pt_lock, after a successful change of the nested tables. */
static void follow(struct partition *p, enum stage2_change what, uint64_t gpa, uint64_t size,
                   unsigned rights)
{
    if (p->follower.changed)
        p->follower.changed(p->follower.ctx, what, gpa, size, rights);
}

static int env_pt_map(void *ctx, uint64_t gpa, uint64_t size, unsigned rights)
{
    struct partition *p = ((struct svc_call *)ctx)->v->partition;
    if (over_table_budget(p))
        return -E_NOMEM;
    spin_lock(&p->pt_lock);
    int rc = pt_map(&p->npt, gpa, p->base + gpa, size, rights);
    if (!rc)
        follow(p, STAGE2_MAP, gpa, size, rights);
    spin_unlock(&p->pt_lock);
    return rc; /* a new mapping needs no flush */
}

static int env_pt_unmap(void *ctx, uint64_t gpa, uint64_t size)
{
    struct svc_call *c = ctx;
    struct partition *p = c->v->partition;
    if (over_table_budget(p))
        return -E_NOMEM;
    struct npt_retired freed = {0, 0};
    spin_lock(&p->pt_lock);
    int rc = pt_unmap(&p->npt, gpa, size);
    if (!rc) {
        freed = npt_retired_take(&p->npt_mem); /* what the flush below covers */
        follow(p, STAGE2_UNMAP, gpa, size, 0);
    }
    spin_unlock(&p->pt_lock);
    if (rc)
        return rc;
    flush_partition(c);
    if (c->flush_pending)
        c->freed = freed; /* settled by svc_ring_ready with the deferred completion */
    else
        settle_freed(p, &freed, flush_complete(p, c->flush_gen));
    return 0;
}

/* True if some page of the range has a right that `rights` lacks. Under pt_lock: the answer
 * must hold for the protect that follows. */
static bool narrows(const struct partition *p, uint64_t gpa, uint64_t size, unsigned rights)
{
    spin_assert_held(&p->pt_lock);
    const struct pt *npt = &p->npt;
    for (uint64_t off = 0; off < size;) {
        uint64_t pa;
        unsigned flags;
        enum pt_page_size ps;
        if (pt_lookup(npt, gpa + off, &pa, &flags, &ps))
            return false; /* pt_protect refuses unmapped ranges */
        if (flags & (PT_READ | PT_WRITE | PT_EXEC) & ~rights)
            return true;
        uint64_t step = ps == PT_1G ? GiB : ps == PT_2M ? 2 * MiB : PAGE_SIZE;
        off += step - ((gpa + off) & (step - 1));
    }
    return false;
}

static int env_pt_protect(void *ctx, uint64_t gpa, uint64_t size, unsigned rights)
{
    struct partition *p = ((struct svc_call *)ctx)->v->partition;
    if (over_table_budget(p))
        return -E_NOMEM;
    spin_lock(&p->pt_lock);
    bool flush = narrows(p, gpa, size, rights);
    int rc = pt_protect(&p->npt, gpa, size, rights);
    if (!rc)
        follow(p, STAGE2_PROTECT, gpa, size, rights);
    spin_unlock(&p->pt_lock);
    return rc || !flush ? rc : flush_partition(ctx);
}

static int env_pt_query(void *ctx, uint64_t gpa, unsigned *rights, uint64_t *page_size)
{
    struct partition *p = ((struct svc_call *)ctx)->v->partition;
    uint64_t pa;
    unsigned flags;
    enum pt_page_size ps;
    spin_lock(&p->pt_lock);
    int rc = pt_lookup(&p->npt, gpa, &pa, &flags, &ps);
    spin_unlock(&p->pt_lock);
    if (rc)
        return rc;
    *rights = flags & (PT_READ | PT_WRITE | PT_EXEC);
    *page_size = ps == PT_1G ? GiB : ps == PT_2M ? 2 * MiB : PAGE_SIZE;
    return 0;
}

static int env_send_ipi(void *ctx, unsigned vcpu, uint8_t vector)
{
    struct partition *p = ((struct svc_call *)ctx)->v->partition;
    return apic_send_fixed(vcpu_apic(&p->vcpus[vcpu]), vector);
}

static int env_kick(void *ctx, unsigned vcpu)
{
    struct partition *p = ((struct svc_call *)ctx)->v->partition;
    cpu_work_post(p->vcpus[vcpu].cpu, CPU_WORK_VCPU_KICK);
    return 0;
}

static int env_stop_vcpu(void *ctx, unsigned vcpu, int64_t status)
{
    struct vcpu *u = &((struct svc_call *)ctx)->v->partition->vcpus[vcpu];
    if (!vcpu_running(u))
        return -E_INVAL;
    __atomic_store_n(&u->stop_status, status, __ATOMIC_RELAXED); /* published by the post */
    cpu_work_post(u->cpu, CPU_WORK_VCPU_STOP);
    return 0;
}

static int env_start_vcpu(void *ctx, unsigned vcpu, uint64_t rip, uint64_t rsp)
{
    struct vcpu *u = &((struct svc_call *)ctx)->v->partition->vcpus[vcpu];
    if (__atomic_load_n(&u->state, __ATOMIC_ACQUIRE) != VCPU_PARKED)
        return -E_BUSY;
    /* claim: of two starters (trap and ring at once) exactly one sets the entry */
    uint32_t free_slot = 0;
    if (!__atomic_compare_exchange_n(&u->start_claim, &free_slot, 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return -E_BUSY;
    /* another starter may have run it and released the claim since our first look: the
     * vCPU sets RUNNING before it releases the claim, so this sees it */
    if (__atomic_load_n(&u->state, __ATOMIC_ACQUIRE) != VCPU_PARKED) {
        __atomic_store_n(&u->start_claim, 0, __ATOMIC_RELEASE);
        return -E_BUSY;
    }
    u->start_rip = rip;
    u->start_rsp = rsp;
    cpu_work_post(u->cpu, CPU_WORK_VCPU_START);
    return 0;
}

static void env_console(void *ctx, const char *text, size_t len)
{
    struct svc_call *c = ctx;
    struct vcpu *v = c->v;
    vcpu_console_put(v, c->trap ? &v->console_trap : &v->svc->console_ring, text, len);
}

static void env_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, struct cpuid_values *out)
{
    struct vcpu *v = ((struct svc_call *)ctx)->v;
    struct cpuid_regs h = cpuid(leaf, subleaf);
    struct cpuid_values host = {h.eax, h.ebx, h.ecx, h.edx};
    struct cpuid_guest_view g = vcpu_cpuid_view(v);
    cpuid_virtualize(leaf, subleaf, &host, &g, out);
}

/* The owner's core keeps counting: each counter is read once, whole (8-byte loads). */
static void env_exit_counters(void *ctx, unsigned id, struct sc_exit_counters *out)
{
    const struct sc_exit_counters *c = &((struct svc_call *)ctx)->v->partition->vcpus[id].counters;
    out->total = __atomic_load_n(&c->total, __ATOMIC_RELAXED);
    out->steady = __atomic_load_n(&c->steady, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < SC_EXIT_REASONS; i++)
        out->by_reason[i] = __atomic_load_n(&c->by_reason[i], __ATOMIC_RELAXED);
}

struct blk_backend svc_blk_backend(const struct vcpu *v)
{
    const struct partition *p = v->partition;
    return (struct blk_backend){(uint8_t *)(uintptr_t)p->base, p->size,
                                p->disk ? (uint8_t *)(uintptr_t)p->disk->address : NULL,
                                p->disk ? p->disk->size : 0, v->svc->blk_chain};
}

static int env_blk_info(void *ctx, uint64_t *sectors)
{
    const struct partition *p = ((struct svc_call *)ctx)->v->partition;
    if (!p->disk)
        return -E_NODEV;
    *sectors = p->disk->size / SC_BLK_SECTOR;
    return 0;
}

/* The queue's lock: waited for on the caller's own core, only tried on a side core. */
static bool blk_lock_take(struct vcpu_services *s, bool may_wait)
{
    if (!may_wait)
        return spin_trylock(&s->blk_lock);
    spin_lock(&s->blk_lock);
    return true;
}

/* The caller's queue, locked for a request: 0, -E_NODEV (no disk) or -E_BUSY (the guest's
 * own trap is serving the queue and a side core does not wait: try again). */
static int blk_request_lock(const struct svc_call *call, struct blk_backend *b)
{
    if (!call->v->partition->disk)
        return -E_NODEV;
    *b = svc_blk_backend(call->v);
    return blk_lock_take(call->v->svc, call->trap) ? 0 : -E_BUSY;
}

static int env_blk_setup(void *ctx, uint64_t desc, uint64_t avail, uint64_t used, uint64_t size,
                         uint64_t vector)
{
    struct vcpu *v = ((struct svc_call *)ctx)->v;
    struct blk_backend b;
    int rc = blk_request_lock(ctx, &b);
    if (rc)
        return rc;
    rc = blk_setup(&v->svc->blkq, &b, desc, avail, used, size, vector);
    if (rc == 0)
        v->svc->queue_is_vpci = false; /* the ring API's queue now, completions by vector */
    spin_unlock(&v->svc->blk_lock);
    return rc;
}

int svc_blk_poll(struct vcpu *v, enum blk_server who)
{
    struct vcpu_services *s = v->svc;
    if (!s->blk_chain)
        return 0; /* no disk: no queue */
    if (!blk_lock_take(s, who == BLK_TRAP))
        return 0;
    if (!s->blkq.ready || s->blkq.broken || (who == BLK_PASS && s->blkq.notify)) {
        int rc = s->blkq.ready ? 0 : -E_INVAL;
        spin_unlock(&s->blk_lock);
        return rc;
    }
    struct blk_backend b = svc_blk_backend(v);
    struct vpci_msix_entry msg;
    const char *refused = NULL;
    int n = blk_poll(&s->blkq, &b, who == BLK_TRAP ? BLK_QUEUE_MAX : BLK_BATCH);
    /* the queue was not broken on entry: -E_BADMSG means it broke in this call */
    bool log_broken = n == -E_BADMSG && !s->blk_broken_logged; /* once per vCPU, ever */
    s->blk_broken_logged |= s->blkq.broken;
    bool vpci = s->queue_is_vpci; /* copied under the lock: a setup may change them */
    uint8_t vector = s->blkq.vector;
    /* the message goes out under the lock: no mask or reset can come in between */
    if (vpci && n > 0 && vpci_raise(&s->vpci, true, &msg))
        refused = vpci_env_send(v, &msg);
    else if (vpci && n == -E_BADMSG && vpci_needs_reset(&s->vpci, &msg))
        refused = vpci_env_send(v, &msg); /* the driver learns it from the status */
    spin_unlock(&s->blk_lock);
    if (log_broken)
        log_warn("block queue of %s.%u is corrupted: marked broken, no longer served%s",
                 v->partition->name, v->id, vpci ? " (virtio-pci device: NEEDS_RESET)" : "");
    if (refused)
        vpci_env_refused(v, &msg, refused);
    else if (n > 0 && !vpci && vector)
        apic_send_fixed(vcpu_apic(v), vector); /* completion by interrupt */
    return n;
}

static int env_blk_kick(void *ctx)
{
    struct svc_call *call = ctx;
    if (!call->v->svc->blk_chain)
        return -E_INVAL; /* no disk: never set up */
    return svc_blk_poll(call->v, call->trap ? BLK_TRAP : BLK_RING_KICK);
}

static int env_blk_poll_mode(void *ctx, bool poll)
{
    struct svc_call *call = ctx;
    struct vcpu *v = call->v;
    struct blk_backend b;
    int rc = blk_request_lock(call, &b);
    if (rc)
        return rc;
    blk_set_notify(&v->svc->blkq, &b, !poll);
    spin_unlock(&v->svc->blk_lock);
    /* a request published before the driver saw the flag change was not notified: look at
     * the queue once now (the side core its batch, a trap all of it) */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!poll)
        (void)svc_blk_poll(v, call->trap ? BLK_TRAP : BLK_RING_KICK);
    return 0;
}

static void execute(struct svc_call *c, unsigned service, struct sc_ring_slot *slot)
{
    struct partition *p = c->v->partition;
    struct svc_env env = {
        .guest_base = (uint8_t *)(uintptr_t)p->base,
        .guest_size = p->size,
        .vcpu = c->v->id,
        .nvcpus = p->nvcpus,
        .ctx = c,
        .pt_map = env_pt_map,
        .pt_unmap = env_pt_unmap,
        .pt_protect = env_pt_protect,
        .pt_query = env_pt_query,
        .send_ipi = env_send_ipi,
        .kick = env_kick,
        .stop_vcpu = env_stop_vcpu,
        .start_vcpu = env_start_vcpu,
        .console = env_console,
        .cpuid = env_cpuid,
        .exit_counters = env_exit_counters,
        .blk_info = env_blk_info,
        .blk_setup = env_blk_setup,
        .blk_kick = env_blk_kick,
        .blk_poll_mode = env_blk_poll_mode,
    };
    service_execute(&env, (enum sc_service)service, slot);
}

int64_t svc_execute_trap(struct vcpu *v, unsigned service, struct sc_ring_slot *slot)
{
    struct svc_call c = {.v = v, .trap = true};
    execute(&c, service, slot);
    return slot->status;
}

enum ring_outcome svc_ring_handler(void *ctx, struct sc_ring_slot *slot, uint64_t *wait)
{
    struct svc_ring_ctx *r = ctx;
    struct svc_call c = {.v = r->v};
    execute(&c, r->service, slot);
    if (slot->status < 0 && !r->v->svc->ring_error_logged[r->service]) {
        /* rate limit: the first error of each ring is logged, all are counted */
        r->v->svc->ring_error_logged[r->service] = true;
        log_warn("ring %s.%u/%s: %s request refused (%lld); further errors are only counted",
                 r->v->partition->name, r->v->id, service_name((enum service)r->service),
                 service_opcode_name(slot->opcode), (long long)slot->status);
    }
    if (!c.flush_pending)
        return RING_COMPLETE;
    *wait = c.flush_gen;
    r->held = c.freed;
    r->woken_us = cpu_work_now_us();
    return RING_DEFERRED; /* applied; complete once the flush is */
}

bool svc_ring_ready(void *ctx, uint64_t wait, struct sc_ring_slot *slot)
{
    struct svc_ring_ctx *r = ctx;
    struct partition *p = r->v->partition;
    (void)slot;
    bool flushed = flush_complete(p, (uint32_t)wait);
    /* a partition that finished or was stopped is owed no completion wait; its freed table
     * pages still wait for a flush before anyone may reuse them */
    if (!flushed && life_state(&p->life) == PARTITION_RUNNING) {
        uint64_t now = cpu_work_now_us(); /* the waiters' schedule, without waiting */
        if (now - r->woken_us >= CPU_WORK_RESEND_US) {
            rewake_unflushed_of(p, (uint32_t)wait);
            r->woken_us = now;
        }
        return false;
    }
    settle_freed(p, &r->held, flushed);
    return true;
}
