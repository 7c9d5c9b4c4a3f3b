/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Configuration and MSI-X table accesses to a partition's own PCI functions (see
 * assigned.h). They exit and are served on the guest's core, under the bus lock; a new
 * message waits there for the IOMMU's invalidation (bounded by IOMMU_POLL_LIMIT), which only
 * probe-time code does. */
#include "sidecore/assigned.h"

#include "core/fmt.h"
#include "core/log.h"
#include "sidecore/svc_env.h"
#include "sidecore/vpci.h"
#include "vmexit/vcpu.h"

#define ROUTES_LOGGED 4 /* per function: a guest re-routing its messages does not flood the log */

/* The interrupt the guest's message asks for, if it may have it. */
static const char *guest_irq(const struct partition *p, const struct guest_msi *m,
                             struct iommu_irq *irq)
{
    struct vpci_msix_entry e = {.addr_lo = m->addr_lo, .addr_hi = m->addr_hi, .data = m->data};
    const char *why = vpci_msi_decode(&e, &irq->apic_id, &irq->vector);
    if (why)
        return why;
    for (unsigned i = 0; i < p->nvcpus; i++)
        if (vcpu_apic(&p->vcpus[i]) == irq->apic_id)
            return NULL;
    return "the destination is not a core of the partition";
}

/* Message slot of function i (what: its name for the log) routed as the guest's m asks
 * (m->enabled), or not at all; true with *msg when the device may send it. */
static bool route(const struct partition *p, struct assigned_bus *b, unsigned i, unsigned slot,
                  const char *what, const struct guest_msi *m, struct iommu_msi_msg *msg)
{
    struct assigned_function *f = &b->fn[i];
    if (!m->enabled) {
        b->router.unroute(b->router.ctx, i, slot);
        return false;
    }
    struct iommu_irq irq = {0};
    struct refusal why = {""};
    const char *bad = guest_irq(p, m, &irq);
    if (!bad && b->router.route(b->router.ctx, i, slot, &irq, msg, &why) == 0) {
        if (f->routes++ < ROUTES_LOGGED)
            log_info("partition '%s': PCI function %u's %s to APIC ID %u, vector %u (device "
                     "sends address %llx, data %x)",
                     p->name, i, what, irq.apic_id, irq.vector, (unsigned long long)msg->address,
                     msg->data);
        return true;
    }
    b->router.unroute(b->router.ctx, i, slot);
    if (!__atomic_exchange_n(&f->msi_refusal_logged, true, __ATOMIC_RELAXED))
        log_warn("partition '%s': PCI function %u's %s (address %x:%x, data %x) refused: %s; "
                 "the device does not send it (logged once)",
                 p->name, i, what, m->addr_hi, m->addr_lo, m->data, bad ? bad : why.text);
    return false;
}

/* A partition that finished or was stopped has its functions quiesced (boot/dma.c) under
 * the bus lock: a vCPU still on its way out must not turn them on again. */
static bool ended(const struct partition *p)
{
    return life_state(&p->life) >= PARTITION_FINISHED;
}

bool assigned_config(struct vcpu *v, unsigned devfn, unsigned offset, unsigned size, bool write,
                     uint32_t *value)
{
    struct partition *p = v->partition;
    struct assigned_bus *b = p->assigned;
    if (!b || (devfn & 7) || devfn < assigned_devfn(0) || devfn >= assigned_devfn(b->n))
        return false;
    unsigned i = (devfn >> 3) - ASSIGNED_FIRST_SLOT;
    struct assigned_function *f = &b->fn[i];
    spin_lock(&b->lock);
    if (ended(p)) {
        if (!write)
            *value = 0xffffffffu;
    } else if (!write) {
        *value = guest_cfg_read(&f->cfg, b->pci, offset, size);
    } else if (guest_cfg_write(&f->cfg, b->pci, offset, size, *value) & GUEST_CFG_MSI_CHANGED) {
        struct iommu_msi_msg msg;
        guest_cfg_msi_program(&f->cfg, b->pci, NULL); /* nothing sent while it changes */
        if (route(p, b, i, f->cfg.msix.n, "MSI", &f->cfg.msi, &msg))
            guest_cfg_msi_program(&f->cfg, b->pci, &msg);
    }
    spin_unlock(&b->lock);
    return true;
}

/* The function whose trapped pages hold gpa, or NULL. */
static struct assigned_function *trapped_at(struct assigned_bus *b, uint64_t gpa, unsigned *index)
{
    for (unsigned i = 0; b && i < b->n; i++) {
        struct assigned_function *f = &b->fn[i];
        if (f->trap_len && gpa >= f->trap_gpa && gpa - f->trap_gpa < f->trap_len) {
            *index = i;
            return f;
        }
    }
    return NULL;
}

bool assigned_mmio_at(const struct vcpu *v, uint64_t gpa)
{
    unsigned i;
    return trapped_at(v->partition->assigned, gpa, &i) != NULL;
}

/* Another register in the trapped pages: the same access on the device (guest-physical =
 * host-physical, mapped uncached by the hypervisor). */
static void forward(uint64_t pa, unsigned size, bool write, uint64_t *value)
{
    volatile void *r = (volatile void *)(uintptr_t)pa;
    switch (size) {
    case 1:
        if (write)
            *(volatile uint8_t *)r = (uint8_t)*value;
        else
            *value = *(volatile uint8_t *)r;
        break;
    case 2:
        if (write)
            *(volatile uint16_t *)r = (uint16_t)*value;
        else
            *value = *(volatile uint16_t *)r;
        break;
    case 4:
        if (write)
            *(volatile uint32_t *)r = (uint32_t)*value;
        else
            *value = *(volatile uint32_t *)r;
        break;
    default:
        if (write)
            *(volatile uint64_t *)r = *value;
        else
            *value = *(volatile uint64_t *)r;
        break;
    }
}

bool assigned_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *value)
{
    struct partition *p = v->partition;
    struct assigned_bus *b = p->assigned;
    unsigned i = 0;
    struct assigned_function *f = trapped_at(b, gpa, &i);
    if (!f)
        return false;
    uint64_t table, len;
    (void)guest_cfg_msix_table(&f->cfg, &table, &len);
    spin_lock(&b->lock);
    if (ended(p)) {
        if (!write)
            *value = ~0ull;
    } else if (gpa < table || gpa - table >= len) {
        if ((gpa & (size - 1)) == 0 && (size == 1 || size == 2 || size == 4 || size == 8))
            forward(gpa, size, write, value);
        else if (!write)
            *value = ~0ull;
    } else if (!write) {
        *value = guest_cfg_msix_read(&f->cfg, gpa - table, size);
    } else {
        int k = guest_cfg_msix_write(&f->cfg, gpa - table, size, *value);
        struct guest_msi m;
        struct iommu_msi_msg msg;
        if (k >= 0) {
            char what[24];
            ksnprintf(what, sizeof(what), "MSI-X entry %d", k);
            (void)guest_cfg_msix_entry(&f->cfg, (unsigned)k, &m);
            guest_cfg_msix_program(f->msix_table, (unsigned)k, NULL);
            if (route(p, b, i, (unsigned)k, what, &m, &msg))
                guest_cfg_msix_program(f->msix_table, (unsigned)k, &msg);
        }
    }
    spin_unlock(&b->lock);
    return true;
}
