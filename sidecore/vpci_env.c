/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The virtio-pci disk on the hypervisor: PCI configuration mechanism #1 (ports 0xcf8 and
 * 0xcfc-0xcff) and BAR0 at SC_GPA_VIRTIO_BLK reach the register model (sidecore/vpci.c)
 * from any vCPU's exit; what a write asks for (starting, resetting or serving the queue,
 * messages a mask held back) is done here. The device, its queue and the address latch
 * are vCPU 0's, under its blk_lock, which the io side core takes too (a bounded hold by
 * hypervisor code on either side). */
#include "sidecore/vpci_env.h"

#include "core/apic.h"
#include "core/log.h"
#include "core/spinlock.h"
#include "guest-stubs/include/sidecore/abi.h"
#include "sidecore/assigned.h"
#include "sidecore/svc_env.h"
#include "sidecore/vcpu_services.h"
#include "vmexit/dev_trap.h"
#include "vmexit/vcpu.h"

/* The device of v's partition, or NULL: vCPU 0's services hold it. */
static struct vcpu_services *device_of(const struct vcpu *v)
{
    struct vcpu_services *s = v->partition->vcpus[0].svc;
    return s && s->has_vpci ? s : NULL;
}

static bool virtio_bar_at(const struct vcpu *v, uint64_t gpa)
{
    return device_of(v) && gpa >= SC_GPA_VIRTIO_BLK && gpa - SC_GPA_VIRTIO_BLK < VPCI_BAR_SIZE;
}

bool dev_trap_at(const struct vcpu *v, uint64_t gpa)
{
    return virtio_bar_at(v, gpa) || assigned_mmio_at(v, gpa);
}

void vpci_env_refused(struct vcpu *v, const struct vpci_msix_entry *m, const char *why)
{
    struct vcpu_services *s = device_of(v);
    if (!s || __atomic_exchange_n(&s->msi_refused_logged, true, __ATOMIC_RELAXED))
        return;
    log_warn("partition '%s': virtio-pci MSI-X message (address %x:%x, data %x) not sent: %s "
             "(logged once)",
             v->partition->name, m->addr_hi, m->addr_lo, m->data, why);
}

const char *vpci_env_send(const struct vcpu *v, const struct vpci_msix_entry *m)
{
    uint32_t dest;
    uint8_t vector;
    const char *why = vpci_msi_decode(m, &dest, &vector);
    if (why)
        return why;
    const struct partition *p = v->partition;
    for (unsigned i = 0; i < p->nvcpus; i++) {
        if (vcpu_apic(&p->vcpus[i]) == dest) {
            apic_send_fixed(dest, vector);
            return NULL;
        }
    }
    return "the destination is not a core of the partition";
}

/* What a write asked for, done under the lock (messages sent there too); what is left for
 * once it is released: a refused message to log, the queue to serve. */
struct todo {
    struct vpci_msix_entry refused;
    const char *why;
    bool serve;
    int setup_rc;
};

static void send(const struct vcpu *v0, const struct vpci_msix_entry *m, struct todo *t)
{
    const char *why = vpci_env_send(v0, m);
    if (why && !t->why) {
        t->why = why;
        t->refused = *m;
    }
}

static void apply(struct vcpu *v0, struct vcpu_services *s, unsigned what, struct todo *t)
{
    if ((what & VPCI_DO_RESET) && s->queue_is_vpci) { /* not a queue of the ring API */
        s->blkq.ready = false; /* served no more; the notification mode stays */
        s->blkq.broken = false;
    }
    if (what & VPCI_DO_QUEUE_ENABLE) {
        uint64_t desc, avail, used;
        uint16_t size;
        vpci_queue_rings(&s->vpci, &desc, &avail, &used, &size);
        struct blk_backend b = svc_blk_backend(v0);
        t->setup_rc = blk_setup(&s->blkq, &b, desc, avail, used, size, 0);
        struct vpci_msix_entry m;
        if (t->setup_rc == 0)
            s->queue_is_vpci = true;
        else if (vpci_needs_reset(&s->vpci, &m))
            send(v0, &m, t);
    }
    struct vpci_msix_entry m;
    if (what & VPCI_DO_UNMASKED) /* at most one per entry: taking clears its pending bit */
        while (vpci_take_pending(&s->vpci, &m))
            send(v0, &m, t);
    if (what & VPCI_DO_NOTIFY) /* polled, the side core serves it: nothing to do here */
        t->serve = s->queue_is_vpci && s->blkq.notify;
}

static void finish(struct vcpu *v, struct vcpu_services *s, const struct todo *t)
{
    if (t->setup_rc && !__atomic_exchange_n(&s->queue_refusal_logged, true, __ATOMIC_RELAXED))
        log_warn("partition '%s': virtio-pci queue refused (error %d: rings outside the "
                 "partition's RAM, misaligned or a bad size): device needs reset (logged once)",
                 v->partition->name, t->setup_rc);
    if (t->why)
        vpci_env_refused(v, &t->refused, t->why);
    if (t->serve) /* in notification mode this is the one way in */
        (void)svc_blk_poll(&v->partition->vcpus[0], BLK_TRAP);
}

void dev_trap_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *value)
{
    struct vcpu_services *s = device_of(v);
    if (assigned_mmio(v, gpa, size, write, value))
        return;
    if (!s || !virtio_bar_at(v, gpa)) {
        if (!write)
            *value = 0;
        return;
    }
    uint64_t offset = gpa - SC_GPA_VIRTIO_BLK;
    struct todo t = {0};
    spin_lock(&s->blk_lock);
    if (write)
        apply(&v->partition->vcpus[0], s, vpci_bar_write(&s->vpci, offset, size, *value), &t);
    else
        *value = vpci_bar_read(&s->vpci, offset, size);
    spin_unlock(&s->blk_lock);
    finish(v, s, &t);
}

/* Bus 0 of configuration mechanism #1: the virtio-pci disk (00:01.0) and the partition's own
 * PCI functions (sidecore/assigned.h) share the address latch, vCPU 0's. */
bool dev_trap_port(struct vcpu *v, uint16_t port, unsigned size, bool write, uint32_t *value)
{
    struct partition *p = v->partition;
    struct vcpu_services *s0 = p->vcpus[0].svc, *s = device_of(v);
    if (!s0 || (!s && !p->assigned))
        return false;
    unsigned devfn = 0, offset = 0;
    spin_lock(&s0->blk_lock);
    enum vpci_port kind = vpci_port_decode(s0->pci_address, port, size, &devfn, &offset);
    spin_unlock(&s0->blk_lock);
    if (kind == VPCI_PORT_CONFIG && assigned_config(v, devfn, offset, size, write, value))
        return true;
    struct todo t = {0};
    unsigned what = 0;
    struct vpci_dev *d = s ? &s->vpci : NULL;
    spin_lock(&s0->blk_lock);
    bool ours = write ? vpci_port_write(d, &s0->pci_address, port, size, *value, &what)
                      : vpci_port_read(d, &s0->pci_address, port, size, value);
    if (s)
        apply(&p->vcpus[0], s, what, &t);
    spin_unlock(&s0->blk_lock);
    if (s)
        finish(v, s, &t);
    return ours;
}
