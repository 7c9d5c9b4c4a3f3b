/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* DMA remapping (see dma.h): the glue between the portable drivers (iommu/vtd.c,
 * iommu/amdvi.c) and the machine: register mappings, frames for their tables, partitions
 * and their nested tables. */
#include "boot/dma.h"

#include "boot/devices.h"
#include "core/cpu.h"
#include "core/fmt.h"
#include "core/hv.h"
#include "core/klib.h"
#include "core/log.h"
#include "core/memory.h"
#include "core/palloc.h"
#include "core/spinlock.h"
#include "core/pgtable.h"
#include "core/time.h"
#include "iommu/amdvi.h"
#include "iommu/assign.h"
#include "iommu/guest_cfg.h"
#include "iommu/iommu_acpi.h"
#include "iommu/pci.h"
#include "iommu/vtd.h"
#include "sidecore/assigned.h"
#include "vmexit/npt_retire.h"
#include "vmexit/partition.h"

#define FAULTS_LOGGED_PER_PARTITION 16
_Static_assert(sizeof(((struct sc_boot_info *)0)->devices) / sizeof(struct sc_device) ==
                   CONFIG_MAX_DEVICES,
               "the boot info lists every function a partition may own");
#define FAULT_POLL_US 10000
#define FOUR_GIB 0x100000000ull

#define AMDVI_REGISTER_SPAN 0x4000 /* through the ring pointers and status at 0x2020 */

struct dma_unit {
    uint64_t base;
    struct spinlock lock; /* one command at a time: side cores of several partitions flush */
    bool coherent;        /* walks snoop the CPU caches; else tables are written back first */
    struct iommu_mmio mmio;
    union {
        struct vtd vtd;
        struct amdvi amdvi;
    };
    bool on;
    unsigned irtes_used; /* VT-d: entries given to functions so far */
};

/* What differs between the vendors; the rest of this file is one path for both. */
struct unit_ops {
    const char *name;
    const struct pt_format *table_format; /* of the domains' DMA tables */
    int (*init)(struct dma_unit *du, const struct iommu_unit *iu, struct refusal *why);
    int (*attach)(struct dma_unit *du, pci_bdf source, const struct iommu_domain *d,
                  struct refusal *why);
    unsigned (*faults)(struct dma_unit *du, struct iommu_fault *out, unsigned max);
    int (*flush)(struct dma_unit *du, uint16_t domain, struct refusal *why);
    /* interrupt remapping entries: numbered per unit (VT-d) or per requester (AMD-Vi) */
    int (*irte_set)(struct dma_unit *du, pci_bdf source, unsigned index,
                    const struct iommu_irq *irq, struct iommu_msi_msg *msg, struct refusal *why);
    int (*irte_clear)(struct dma_unit *du, pci_bdf source, unsigned index, struct refusal *why);
    bool irte_per_requester;
    unsigned irtes; /* entries per table */
};
static const struct unit_ops *ops;
static enum pt_page_size domain_page = PT_2M; /* the largest page every unit walks */

static struct dma_unit units[IOMMU_MAX_UNITS];
/* An owned function as the IOMMU knows it. */
struct dma_function {
    int unit; /* -1: no IOMMU (iommu=off) */
    pci_bdf requester;
    unsigned irte, irtes; /* its remapping entries: MSI, or MSI-X entry k, at irte + k */
};

/* A partition's DMA view: its RAM, as its nested tables map it, for its devices. */
struct dma_domain {
    struct partition *p;
    struct pt pt;
    struct npt_mem mem; /* table pages freed by a change wait for its invalidation */
    uint32_t units;     /* bit u: attached through unit u */
    uint32_t changes, invalidations;
    bool blocked; /* could not follow a change: bus mastering off on its functions */
    struct dma_function fn[CONFIG_MAX_DEVICES];
    struct assigned_bus bus; /* the functions as the guest reaches them */
    bool quiesced;           /* its partition ended: DMA and messages off */
};
static struct dma_domain domains[CONFIG_MAX_PARTITIONS];
static uint64_t next_poll_tsc;
/* The requester IDs attached, and their partitions: a fault names its owner in one pass. */
struct requester {
    uint16_t segment;
    pci_bdf id;
    int partition;
    unsigned irtes; /* remapping entries its function took */
};
static struct requester requesters[CONFIG_MAX_PARTITIONS * CONFIG_MAX_DEVICES];
static unsigned nrequesters;
/* debug dma_canaries=yes: a hypervisor page and a page of a partition without devices */
static uint64_t canary_hv, canary_peer;
static const struct partition *canary_peer_owner;
static uint32_t unowned_faults;

static uint32_t reg_read32(void *ctx, uint32_t off)
{
    return *(volatile const uint32_t *)(uintptr_t)(((struct dma_unit *)ctx)->base + off);
}

static uint64_t reg_read64(void *ctx, uint32_t off)
{
    return *(volatile const uint64_t *)(uintptr_t)(((struct dma_unit *)ctx)->base + off);
}

static void reg_write32(void *ctx, uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)(((struct dma_unit *)ctx)->base + off) = v;
}

static void reg_write64(void *ctx, uint32_t off, uint64_t v)
{
    *(volatile uint64_t *)(uintptr_t)(((struct dma_unit *)ctx)->base + off) = v;
}

static int frames_alloc(void *ctx, unsigned order, uint64_t *pa)
{
    (void)ctx;
    uint64_t size = (uint64_t)PAGE_SIZE << order;
    if (palloc_alloc(&hv.mem, size, size, 0, pa))
        return -E_NOMEM;
    memset((void *)(uintptr_t)*pa, 0, size);
    return 0;
}

static void *frames_va(void *ctx, uint64_t pa)
{
    (void)ctx;
    return (void *)(uintptr_t)pa; /* identity map */
}

static void frames_clean(void *ctx, const void *va, unsigned len)
{
    (void)ctx;
    for (uintptr_t a = (uintptr_t)va & ~63ull; a < (uintptr_t)va + len; a += 64)
        __asm__ volatile("clflush (%0)" ::"r"(a) : "memory");
    __asm__ volatile("mfence" ::: "memory");
}

static const struct iommu_pages frames = {NULL, frames_alloc, frames_va, frames_clean};

static int map_registers(struct dma_unit *du, const struct iommu_unit *iu, uint32_t span,
                         struct refusal *why)
{
    du->base = iu->base;
    du->mmio = (struct iommu_mmio){du, reg_read32, reg_read64, reg_write32, reg_write64};
    if (memory_map_mmio(&hv.host_pt, iu->base, span))
        return refuse(why, E_NOMEM, "cannot map its registers");
    return 0;
}

static int vtd_unit_init(struct dma_unit *du, const struct iommu_unit *iu, struct refusal *why)
{
    if (map_registers(du, iu, PAGE_SIZE, why))
        return -E_NOMEM;
    uint32_t span = vtd_register_span(reg_read64(du, VTD_CAP), reg_read64(du, VTD_ECAP));
    uint32_t listed = PAGE_SIZE << iu->reg_size;
    if (span > listed)
        return refuse(why, E_INVAL, "its registers reach %#x, past the %#x the DMAR lists", span,
                      listed);
    if (memory_map_mmio(&hv.host_pt, iu->base, span))
        return refuse(why, E_NOMEM, "cannot map its registers");
    return vtd_init(&du->vtd, &du->mmio, &frames, why);
}

static int vtd_unit_attach(struct dma_unit *du, pci_bdf source, const struct iommu_domain *d,
                           struct refusal *why)
{
    return vtd_attach(&du->vtd, source, d, why);
}

static unsigned vtd_unit_faults(struct dma_unit *du, struct iommu_fault *out, unsigned max)
{
    return vtd_faults(&du->vtd, out, max);
}

static int vtd_unit_flush(struct dma_unit *du, uint16_t domain, struct refusal *why)
{
    return vtd_flush_domain(&du->vtd, domain, why);
}

static int amdvi_unit_init(struct dma_unit *du, const struct iommu_unit *iu, struct refusal *why)
{
    if (map_registers(du, iu, AMDVI_REGISTER_SPAN, why))
        return -E_NOMEM;
    return amdvi_init(&du->amdvi, &du->mmio, &frames, why);
}

static int amdvi_unit_attach(struct dma_unit *du, pci_bdf source, const struct iommu_domain *d,
                             struct refusal *why)
{
    return amdvi_attach(&du->amdvi, source, d, why);
}

static unsigned amdvi_unit_faults(struct dma_unit *du, struct iommu_fault *out, unsigned max)
{
    return amdvi_faults(&du->amdvi, out, max);
}

static int amdvi_unit_flush(struct dma_unit *du, uint16_t domain, struct refusal *why)
{
    return amdvi_flush_domain(&du->amdvi, domain, why);
}

static int vtd_unit_irte_set(struct dma_unit *du, pci_bdf source, unsigned index,
                             const struct iommu_irq *irq, struct iommu_msi_msg *msg,
                             struct refusal *why)
{
    return vtd_irte_set(&du->vtd, index, source, irq, msg, why);
}

static int vtd_unit_irte_clear(struct dma_unit *du, pci_bdf source, unsigned index,
                               struct refusal *why)
{
    (void)source;
    return vtd_irte_clear(&du->vtd, index, why);
}

static int amdvi_unit_irte_set(struct dma_unit *du, pci_bdf source, unsigned index,
                               const struct iommu_irq *irq, struct iommu_msi_msg *msg,
                               struct refusal *why)
{
    return amdvi_irte_set(&du->amdvi, source, index, irq, msg, why);
}

static int amdvi_unit_irte_clear(struct dma_unit *du, pci_bdf source, unsigned index,
                                 struct refusal *why)
{
    return amdvi_irte_clear(&du->amdvi, source, index, why);
}

static const struct unit_ops vtd_ops = {
    .name = "VT-d",
    .table_format = &pt_format_ept,
    .init = vtd_unit_init,
    .attach = vtd_unit_attach,
    .faults = vtd_unit_faults,
    .flush = vtd_unit_flush,
    .irte_set = vtd_unit_irte_set,
    .irte_clear = vtd_unit_irte_clear,
    .irte_per_requester = false,
    .irtes = VTD_IRT_ENTRIES,
};
static const struct unit_ops amdvi_ops = {
    .name = "AMD-Vi",
    .table_format = &pt_format_amdvi,
    .init = amdvi_unit_init,
    .attach = amdvi_unit_attach,
    .faults = amdvi_unit_faults,
    .flush = amdvi_unit_flush,
    .irte_set = amdvi_unit_irte_set,
    .irte_clear = amdvi_unit_irte_clear,
    .irte_per_requester = true,
    .irtes = AMDVI_IRT_ENTRIES,
};

void dma_setup_units(void)
{
    const struct iommu_info *io = devices_iommu();
    if (io->kind == IOMMU_NONE)
        return;
    ops = io->kind == IOMMU_VTD ? &vtd_ops : &amdvi_ops;
    for (unsigned i = 0; i < io->nunits; i++) {
        struct refusal why = {""};
        int rc = ops->init(&units[i], &io->units[i], &why);
        if (rc) {
            log_error("IOMMU unit %u at %llx: %s; no device can be handed over", i,
                      (unsigned long long)io->units[i].base, why.text);
            devices_forget_iommu();
            return;
        }
        units[i].on = true;
        units[i].coherent = io->kind == IOMMU_AMDVI || (units[i].vtd.ecap & VTD_ECAP_C);
        if (io->kind == IOMMU_VTD && !(units[i].vtd.cap & VTD_CAP_SLLPS_2M))
            domain_page = PT_4K;
        bool wide = io->kind == IOMMU_VTD && units[i].vtd.eim;
        log_info("IOMMU unit %u (%s): translation on, every DMA refused until attached; "
                 "interrupt remapping on, %s destinations",
                 i, ops->name, wide ? "32-bit (extended interrupt mode)" : "8-bit");
    }
}

/* The device-side stop for a domain whose view could not follow: no function of the
 * partition may master the bus any more. */
/* Bus mastering off on the domain's functions, for good: the guest's command writes no
 * longer turn it on (under the bus lock: order pt_lock, bus lock, unit lock). */
static void block_domain(struct dma_domain *d, const char *why)
{
    const struct cfg_partition *c = d->p->cfg;
    const struct pci_cfg *cfg = devices_cfg();
    spin_lock(&d->bus.lock);
    for (unsigned i = 0; i < c->ndevices; i++) {
        uint32_t cmd = cfg->read32(cfg->ctx, c->devices[i].segment, c->devices[i].bdf, PCI_COMMAND);
        cfg->write32(cfg->ctx, c->devices[i].segment, c->devices[i].bdf, PCI_COMMAND,
                     cmd & 0xffff & ~(uint32_t)PCI_COMMAND_BUS_MASTER);
        d->bus.fn[i].cfg.bus_master_off = true;
    }
    spin_unlock(&d->bus.lock);
    d->blocked = true;
    log_error("partition '%s': its DMA view could not follow a page-table change (%s); bus "
              "mastering is off for its %u PCI functions",
              d->p->name, why, c->ndevices);
}

/* Every unit the domain is attached through drops what it cached of the domain, and has
 * done so when this returns; then the table pages the change freed may be reused. */
static int invalidate(struct dma_domain *d, struct refusal *why)
{
    struct npt_retired freed = npt_retired_take(&d->mem);
    for (unsigned u = 0; u < IOMMU_MAX_UNITS; u++) {
        if (!(d->units & (1u << u)))
            continue;
        if (!units[u].coherent)
            __asm__ volatile("wbinvd" ::: "memory"); /* the changed table entries, to memory */
        spin_lock(&units[u].lock);
        int rc = ops->flush(&units[u], (uint16_t)(d->p->index + 1), why);
        spin_unlock(&units[u].lock);
        if (rc) {
            npt_retired_return(&d->mem, &freed); /* never reused: the unit may hold them */
            return rc;
        }
        d->invalidations++;
    }
    npt_retired_release(&d->mem, &freed);
    return 0;
}

/* stage2_follower: the DMA view made the same as the nested tables for [gpa, gpa+size).
 * Unmapping first makes a map or protect correct whatever the view held before; DMA has
 * no use for execute rights. Runs on the side core serving the request, under pt_lock. */
static void follow_stage2(void *ctx, enum stage2_change what, uint64_t gpa, uint64_t size,
                          unsigned rights)
{
    struct dma_domain *d = ctx;
    if (d->blocked)
        return;
    d->changes++;
    unsigned dma_rights = rights & (PT_READ | PT_WRITE);
    int rc = pt_unmap(&d->pt, gpa, size);
    if (!rc && what != STAGE2_UNMAP && (dma_rights & PT_READ))
        rc = pt_map(&d->pt, gpa, d->p->base + gpa, size, dma_rights);
    struct refusal why = {""};
    if (rc)
        refuse(&why, -rc, "table change failed (%d)", rc);
    else
        rc = invalidate(d, &why);
    if (rc)
        block_domain(d, why.text);
}

/* Memory BARs of f into the partition's nested tables at their host address. */
static uint64_t bar_base(const struct pci_function *f, unsigned b)
{
    uint64_t base = f->bar[b] & ~0xfull;
    if ((f->bar[b] & 6) == PCI_BAR_TYPE_64 && b + 1 < PCI_MAX_BARS)
        base |= (uint64_t)f->bar[b + 1] << 32;
    return base;
}

/* Each memory BAR lies where the guest may have it at the same address: page-aligned, below
 * the partition's fixed regions (ring window .. 4 GiB) or above 4 GiB, and not over its
 * RAM. Checked before anything is written through a BAR. */
static int check_bars(const struct partition *p, const struct pci_function *f,
                      const uint64_t size[PCI_MAX_BARS], struct refusal *why)
{
    for (unsigned b = 0; b < PCI_MAX_BARS; b++) {
        if (!size[b])
            continue;
        uint64_t base = bar_base(f, b), span = ALIGN_UP(size[b], PAGE_SIZE);
        bool low = base + span <= SC_GPA_RING_WINDOW, high = base >= FOUR_GIB;
        if (base < p->size || (base & (PAGE_SIZE - 1)) || !(low || high) || base + span < base ||
            base + span > (1ull << PT_VA_BITS))
            return refuse(why, E_RANGE,
                          "BAR%u at %llx+%llx overlaps the partition's RAM or its fixed "
                          "regions",
                          b, (unsigned long long)base, (unsigned long long)size[b]);
    }
    return 0;
}

/* The checked BARs into the nested tables, but for the MSI-X table's pages. */
static int map_bars(struct partition *p, const struct pci_function *f, struct sc_device *out,
                    const uint64_t size[PCI_MAX_BARS], const struct assigned_function *af,
                    struct refusal *why)
{
    for (unsigned b = 0; b < PCI_MAX_BARS; b++) {
        if (!size[b])
            continue;
        uint64_t base = bar_base(f, b), span = ALIGN_UP(size[b], PAGE_SIZE);
        /* all of it but the MSI-X table's pages, when they are in this BAR */
        uint64_t hole = base, hole_end = base;
        if (af->trap_len && af->trap_gpa >= base && af->trap_gpa < base + span) {
            hole = af->trap_gpa;
            hole_end = af->trap_gpa + af->trap_len;
        }
        int rc = hole > base
                     ? pt_map(&p->npt, base, base, hole - base, PT_READ | PT_WRITE | PT_UNCACHED)
                     : 0;
        if (!rc && base + span > hole_end)
            rc = pt_map(&p->npt, hole_end, hole_end, base + span - hole_end,
                        PT_READ | PT_WRITE | PT_UNCACHED);
        if (rc)
            return refuse(why, -rc, "BAR%u at %llx: nested mapping failed (%d)", b,
                          (unsigned long long)base, rc);
        out->bar_gpa[b] = base;
        out->bar_size[b] = size[b];
    }
    return 0;
}

/* count remapping entries for a function's messages: a unit's entries are handed out in
 * order (VT-d: one table per unit), or per requester ID (AMD-Vi: a table per requester;
 * functions behind one bridge share it). Called before the function joins requesters[]. */
static int take_irtes(unsigned unit, uint16_t segment, pci_bdf requester, unsigned count,
                      unsigned *first)
{
    unsigned n = units[unit].irtes_used;
    if (ops->irte_per_requester) {
        n = 0;
        for (unsigned i = 0; i < nrequesters; i++)
            if (requesters[i].segment == segment && requesters[i].id == requester)
                n += requesters[i].irtes;
    }
    if (count > ops->irtes || n > ops->irtes - count)
        return -E_NOSPC;
    *first = n;
    if (!ops->irte_per_requester)
        units[unit].irtes_used += count;
    return 0;
}

/* Memory BARs into the nested tables, but for the MSI-X table's pages (trapped); those the
 * hypervisor maps for itself. */
static int trap_msix_table(struct assigned_function *af, struct refusal *why)
{
    uint64_t table, len;
    if (!guest_cfg_msix_table(&af->cfg, &table, &len))
        return 0;
    af->trap_gpa = ALIGN_DOWN(table, PAGE_SIZE);
    af->trap_len = ALIGN_UP(table + len, PAGE_SIZE) - af->trap_gpa;
    if (memory_map_mmio(&hv.host_pt, af->trap_gpa, af->trap_len))
        return refuse(why, E_NOMEM, "cannot map its MSI-X table");
    af->msix_table = (volatile uint32_t *)(uintptr_t)table;
    for (unsigned k = 0; k < af->cfg.msix.n_device; k++) /* those not shown too */
        guest_cfg_msix_program(af->msix_table, k, NULL);
    return 0;
}

static int attach_function(struct partition *p, unsigned index, unsigned fi,
                           const struct cfg_pci_function *c, struct sc_device *out,
                           struct refusal *why)
{
    const struct iommu_info *io = devices_iommu();
    const struct pci_function *f = pci_find(devices_inventory(), c->segment, c->bdf);
    struct dma_function *df = &domains[index].fn[fi];
    df->unit = -1;
    if (!f)
        return refuse(why, E_NODEV, "gone since the check");
    *out = (struct sc_device){.segment = f->segment,
                              .bdf = f->bdf,
                              .vendor = f->vendor,
                              .device = f->device,
                              .class_rev = f->class_rev,
                              .cfg_devfn = (uint8_t)assigned_devfn(fi)};
    uint64_t size[PCI_MAX_BARS];
    const struct pci_cfg *cfg = devices_cfg();
    struct assigned_function *af = &domains[index].bus.fn[fi];
    pci_size_bars(cfg, f, size);
    int rc = check_bars(p, f, size, why);
    if (rc)
        return rc;
    guest_cfg_init(&af->cfg, cfg, f->segment, f->bdf, f->bar, size);
    guest_cfg_quiet(&af->cfg, cfg); /* no message until the guest's are checked */
    uint32_t cmd = cfg->read32(cfg->ctx, f->segment, f->bdf, PCI_COMMAND);
    cfg->write32(cfg->ctx, f->segment, f->bdf, PCI_COMMAND,
                 (cmd & 0xffff) | PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
    rc = trap_msix_table(af, why); /* its mask bits need memory decoding on */
    if (!rc)
        rc = map_bars(p, f, out, size, af, why);
    if (rc)
        return rc;
    if (io->kind != IOMMU_NONE) {
        pci_bdf req = f->bdf;
        int u = iommu_unit_for(io, f->segment, f->bdf, &req);
        if (req == f->bdf)
            req = pci_requester_id(devices_inventory(), f);
        if (u < 0 || !units[u].on)
            return refuse(why, E_NODEV, "no IOMMU unit to attach it to");
        struct iommu_domain d = {(uint16_t)(index + 1), domains[index].pt.root};
        if (!units[u].coherent)
            __asm__ volatile("wbinvd" ::: "memory"); /* the domain's tables, to memory */
        spin_lock(&units[u].lock);
        rc = ops->attach(&units[u], req, &d, why);
        spin_unlock(&units[u].lock);
        if (rc)
            return rc;
        df->irtes = af->cfg.msix.n + 1; /* the MSI-X entries shown, then MSI */
        if (take_irtes((unsigned)u, f->segment, req, df->irtes, &df->irte))
            return refuse(why, E_NOSPC, "no %u interrupt remapping entries left on IOMMU unit %d",
                          df->irtes, u);
        df->unit = u;
        df->requester = req;
        domains[index].units |= 1u << u;
        if (nrequesters < ARRAY_SIZE(requesters))
            requesters[nrequesters++] = (struct requester){f->segment, req, (int)index, df->irtes};
        log_info("partition '%s': %04x:%02x:%02x.%u attached to IOMMU unit %d, domain %u "
                 "(requester %02x:%02x.%u), as 00:%02x.0 to the guest",
                 p->name, f->segment, PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), u, d.id,
                 PCI_BUS(req), PCI_DEV(req), PCI_FN(req), assigned_devfn(fi) >> 3);
    }
    cmd = cfg->read32(cfg->ctx, f->segment, f->bdf, PCI_COMMAND) & 0xffff;
    cfg->write32(cfg->ctx, f->segment, f->bdf, PCI_COMMAND, cmd | PCI_COMMAND_BUS_MASTER);
    return 0;
}

/* assigned_router: message slot of function fi of the domain's partition goes through its
 * remapping entry to irq; with no IOMMU (iommu=off, trusted), the validated message itself
 * in the compatibility format. */
static int route_msi(void *ctx, unsigned fi, unsigned slot, const struct iommu_irq *irq,
                     struct iommu_msi_msg *msg, struct refusal *why)
{
    struct dma_domain *d = ctx;
    const struct dma_function *df = &d->fn[fi];
    if (df->unit < 0) {
        /* hardware reads 8 destination bits here; 0xff is the broadcast */
        if (irq->apic_id >= 0xff)
            return refuse(why, E_RANGE, "APIC ID %u needs interrupt remapping", irq->apic_id);
        msg->address = 0xfee00000u | irq->apic_id << 12;
        msg->data = irq->vector;
        return 0;
    }
    if (slot >= df->irtes)
        return refuse(why, E_RANGE, "message %u past the function's %u", slot, df->irtes);
    struct dma_unit *du = &units[df->unit];
    spin_lock(&du->lock);
    int rc = ops->irte_set(du, df->requester, df->irte + slot, irq, msg, why);
    spin_unlock(&du->lock);
    return rc;
}

static void unroute_msi(void *ctx, unsigned fi, unsigned slot)
{
    struct dma_domain *d = ctx;
    const struct dma_function *df = &d->fn[fi];
    if (df->unit < 0 || slot >= df->irtes)
        return;
    struct dma_unit *du = &units[df->unit];
    struct refusal why = {""};
    spin_lock(&du->lock);
    int rc = ops->irte_clear(du, df->requester, df->irte + slot, &why);
    spin_unlock(&du->lock);
    if (rc)
        log_error("partition '%s': PCI function %u's remapping entry not cleared: %s", d->p->name,
                  fi, why.text);
}

/* Appends " canary_hv=0x... canary_peer=0x..." to the command line of every vCPU of p. */
static void offer_canaries(struct partition *p)
{
    for (unsigned v = 0; v < p->nvcpus; v++) {
        struct sc_boot_info *bi = (struct sc_boot_info *)(uintptr_t)(p->base + SC_GPA_BOOT_INFO(v));
        size_t used = 0;
        while (used + 1 < sizeof(bi->cmdline) && bi->cmdline[used])
            used++;
        ksnprintf(bi->cmdline + used, sizeof(bi->cmdline) - used,
                  " canary_hv=0x%llx canary_peer=0x%llx", (unsigned long long)canary_hv,
                  (unsigned long long)canary_peer);
    }
}

/* QEMU's edu test device: DMA engine registers in BAR0 (QEMU docs/specs/edu.rst) */
#define EDU_ID 0x11e81234u /* device << 16 | vendor */
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_TO_RAM 3 /* start, device to RAM */
#define EDU_BUFFER 0x40000
#define EDU_WAIT_MS 2000

/* Every edu no partition owns is made to DMA into the hypervisor's canary: with nothing
 * attached for it, the IOMMU must refuse it (checked with the canary at the end). */
static void probe_unowned_edus(void)
{
    const struct pci_inventory *inv = devices_inventory();
    const struct pci_cfg *cfg = devices_cfg();
    for (unsigned i = 0; i < inv->n && canary_hv; i++) {
        const struct pci_function *f = &inv->f[i];
        uint64_t bar = f->bar[0] & ~0xfull;
        if (((uint32_t)f->device << 16 | f->vendor) != EDU_ID ||
            assign_owner(&hv.cfg, f->segment, f->bdf) >= 0 || !bar || (f->bar[0] & 1) ||
            memory_map_mmio(&hv.host_pt, bar, PAGE_SIZE))
            continue;
        uint32_t cmd = cfg->read32(cfg->ctx, f->segment, f->bdf, PCI_COMMAND);
        cfg->write32(cfg->ctx, f->segment, f->bdf, PCI_COMMAND,
                     cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_BUS_MASTER);
        volatile uint64_t *r = (volatile uint64_t *)(uintptr_t)bar;
        r[EDU_DMA_SRC / 8] = EDU_BUFFER;
        r[EDU_DMA_DST / 8] = canary_hv;
        r[EDU_DMA_COUNT / 8] = PAGE_SIZE;
        r[EDU_DMA_CMD / 8] = EDU_DMA_TO_RAM;
        uint64_t deadline = rdtsc() + time_tsc_hz() / 1000 * EDU_WAIT_MS;
        while ((r[EDU_DMA_CMD / 8] & 1) && rdtsc() < deadline)
            cpu_relax();
        cfg->write32(cfg->ctx, f->segment, f->bdf, PCI_COMMAND, cmd);
        log_info("debug: unowned %04x:%02x:%02x.%u (edu) made to DMA into the hypervisor's "
                 "canary",
                 f->segment, PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf));
    }
}

static void place_canaries(void)
{
    for (unsigned i = 0; i < partition_count && !canary_peer_owner; i++) {
        if (!partitions[i].cfg->ndevices) {
            canary_peer_owner = &partitions[i];
            /* the middle of its RAM: zeroed when it was built, untouched by a small guest */
            canary_peer = partitions[i].base + ALIGN_DOWN(partitions[i].size / 2, PAGE_SIZE);
        }
    }
    if (palloc_alloc(&hv.mem, PAGE_SIZE, PAGE_SIZE, 0, &canary_hv))
        canary_hv = 0;
    else
        memset((void *)(uintptr_t)canary_hv, 0, PAGE_SIZE);
    log_info("debug: DMA canaries at %llx (hypervisor) and %llx (partition '%s')",
             (unsigned long long)canary_hv, (unsigned long long)canary_peer,
             canary_peer_owner ? canary_peer_owner->name : "-");
    probe_unowned_edus();
}

static void check_canary(const char *whose, uint64_t pa)
{
    if (!pa)
        return;
    const volatile uint64_t *q = (const volatile uint64_t *)(uintptr_t)pa;
    unsigned changed = 0;
    for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
        changed += q[i] != 0;
    if (changed)
        log_error("debug: DMA canary of %s at %llx CHANGED (%u of 512 words)", whose,
                  (unsigned long long)pa, changed);
    else
        log_info("debug: DMA canary of %s at %llx intact", whose, (unsigned long long)pa);
}

bool dma_attach_partitions(void)
{
    if (hv.cfg.dma_canaries)
        place_canaries();
    for (unsigned i = 0; i < partition_count; i++) {
        struct partition *p = &partitions[i];
        const struct cfg_partition *c = p->cfg;
        if (!c->ndevices)
            continue;
        struct refusal why = {""};
        struct dma_domain *dd = &domains[i];
        dd->p = p;
        npt_mem_init(&dd->mem, memory_table_mem());
        int rc = ops ? pt_init(&dd->pt, ops->table_format, &dd->mem.mem, domain_page) : 0;
        /* what the nested tables map of its RAM: page 0 only for a Linux image */
        uint64_t from = p->linux_boot ? 0 : PAGE_SIZE;
        if (!rc && ops)
            rc = pt_map(&dd->pt, from, p->base + from, p->size - from, PT_READ | PT_WRITE);
        if (rc) {
            log_error("partition '%s': no memory for its DMA tables (%d)", p->name, rc);
            return false;
        }
        static struct sc_device devs[CONFIG_MAX_DEVICES]; /* boot CPU only; 900 bytes */
        for (unsigned d = 0; d < c->ndevices; d++) {
            if (attach_function(p, i, d, &c->devices[d], &devs[d], &why)) {
                log_error("%s:%u: partition '%s': PCI function %04x:%02x:%02x.%u: %s",
                          hv.boot->config_source, c->line, p->name, c->devices[d].segment,
                          PCI_BUS(c->devices[d].bdf), PCI_DEV(c->devices[d].bdf),
                          PCI_FN(c->devices[d].bdf), why.text);
                return false;
            }
        }
        for (unsigned v = 0; v < p->nvcpus; v++) {
            struct sc_boot_info *bi =
                (struct sc_boot_info *)(uintptr_t)(p->base + SC_GPA_BOOT_INFO(v));
            bi->ndevices = c->ndevices;
            memcpy(bi->devices, devs, sizeof(devs[0]) * c->ndevices);
        }
        if (ops)
            p->follower = (struct stage2_follower){dd, follow_stage2};
        dd->bus.pci = devices_cfg();
        dd->bus.router = (struct assigned_router){dd, route_msi, unroute_msi};
        dd->bus.n = c->ndevices;
        p->assigned = &dd->bus;
        if (hv.cfg.dma_canaries)
            offer_canaries(p);
    }
    return true;
}

void dma_poll_faults(void)
{
    if (rdtsc() >= next_poll_tsc)
        dma_poll_faults_now();
}

/* A partition that finished or was stopped never runs again: its functions stop DMA and
 * send no message (their remapping entries cleared), so nothing reaches its former cores. */
static void quiesce_ended(struct dma_domain *d)
{
    struct assigned_bus *b = &d->bus;
    const struct pci_cfg *cfg = devices_cfg();
    spin_lock(&b->lock); /* a vCPU's configuration access ends in bounded time */
    for (unsigned i = 0; i < b->n; i++) {
        struct assigned_function *af = &b->fn[i];
        uint32_t cmd = cfg->read32(cfg->ctx, af->cfg.segment, af->cfg.bdf, PCI_COMMAND);
        cfg->write32(cfg->ctx, af->cfg.segment, af->cfg.bdf, PCI_COMMAND,
                     (cmd & 0xffff & ~(uint32_t)PCI_COMMAND_BUS_MASTER) | PCI_COMMAND_INTX_DISABLE);
        af->cfg.bus_master_off = true;
        guest_cfg_quiet(&af->cfg, cfg);
        for (unsigned k = 0; af->msix_table && k < af->cfg.msix.n_device; k++)
            guest_cfg_msix_program(af->msix_table, k, NULL);
        for (unsigned k = 0; k < d->fn[i].irtes; k++)
            unroute_msi(d, i, k);
    }
    spin_unlock(&b->lock);
    d->quiesced = true;
    log_info("partition '%s' %s: its %u PCI function%s quiesced (bus mastering and messages "
             "off)",
             d->p->name, partition_state_name(life_state(&d->p->life)), b->n, b->n == 1 ? "" : "s");
}

void dma_poll_faults_now(void)
{
    next_poll_tsc = rdtsc() + time_tsc_hz() / 1000000 * FAULT_POLL_US;
    for (unsigned i = 0; i < partition_count; i++)
        if (domains[i].p && !domains[i].quiesced &&
            life_state(&domains[i].p->life) >= PARTITION_FINISHED)
            quiesce_ended(&domains[i]);
    const struct iommu_info *io = devices_iommu();
    for (unsigned u = 0; u < io->nunits && u < IOMMU_MAX_UNITS; u++) {
        if (!units[u].on)
            continue;
        struct iommu_fault f[8];
        spin_lock(&units[u].lock);
        unsigned n = ops->faults(&units[u], f, ARRAY_SIZE(f));
        spin_unlock(&units[u].lock);
        for (unsigned k = 0; k < n; k++) {
            int owner = -1;
            for (unsigned r = 0; owner < 0 && r < nrequesters; r++)
                if (requesters[r].id == f[k].source &&
                    requesters[r].segment == io->units[u].segment)
                    owner = requesters[r].partition;
            uint32_t count = owner >= 0 ? ++partitions[owner].dma_faults : ++unowned_faults;
            if (count > FAULTS_LOGGED_PER_PARTITION)
                continue;
            log_warn("IOMMU unit %u: DMA %s %llx by %02x:%02x.%u (%s%s%s) refused, reason %u%s", u,
                     f[k].write ? "write to" : "read of", (unsigned long long)f[k].addr,
                     PCI_BUS(f[k].source), PCI_DEV(f[k].source), PCI_FN(f[k].source),
                     owner >= 0 ? "partition '" : "no owner",
                     owner >= 0 ? partitions[owner].name : "", owner >= 0 ? "'" : "", f[k].reason,
                     count == FAULTS_LOGGED_PER_PARTITION ? "; further faults only counted" : "");
        }
    }
}

void dma_report(void)
{
    dma_poll_faults_now();
    if (hv.cfg.dma_canaries) {
        check_canary("the hypervisor", canary_hv);
        if (canary_peer_owner) {
            char whose[48];
            ksnprintf(whose, sizeof(whose), "partition '%s'", canary_peer_owner->name);
            check_canary(whose, canary_peer);
        }
    }
    for (unsigned i = 0; i < partition_count; i++) {
        const struct dma_domain *d = &domains[i];
        if (!d->p || !partitions[i].cfg->ndevices)
            continue;
        log_info("partition '%s': %u DMA faults; its DMA view followed %u page-table changes "
                 "with %u IOTLB invalidations%s",
                 d->p->name, d->p->dma_faults, d->changes, d->invalidations,
                 d->blocked ? " (then blocked)" : "");
    }
}
