/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Device assignment checks (see assign.h). */
#include "iommu/assign.h"

#include "core/config_lex.h"
#include "core/klib.h"

#define PCI_CLASS_HOST_BRIDGE 0x0600
#define PCI_CLASS_IOMMU 0x0806

int assign_owner(const struct config *cfg, uint16_t segment, pci_bdf bdf)
{
    for (unsigned i = 0; i < cfg->npartitions; i++)
        for (unsigned d = 0; d < cfg->partitions[i].ndevices; d++)
            if (cfg->partitions[i].devices[d].segment == segment &&
                cfg->partitions[i].devices[d].bdf == bdf)
                return (int)i;
    return -1;
}

/* The requester ID DMA from f carries: an alias the IOMMU table gives, else the one the
 * bridges above it give it. */
static pci_bdf requester_of(const struct assign_machine *m, const struct pci_function *f)
{
    pci_bdf req = f->bdf;
    if (m->iommu->kind != IOMMU_NONE && iommu_unit_for(m->iommu, f->segment, f->bdf, &req) >= 0 &&
        req != f->bdf)
        return req;
    return pci_requester_id(m->pci, f);
}

/* Whether f can be handed over at all; an error (on line) if not. */
static bool assignable(const struct config *cfg, const struct assign_machine *m,
                       const struct cfg_partition *p, const struct pci_function *f,
                       const char *name, struct cfg_errors *errs)
{
    uint32_t class = f->class_rev >> 16;
    const char *why = NULL;
    if (f->layout != 0)
        why = "is a bridge: hand over the functions behind it instead";
    else if (class == PCI_CLASS_HOST_BRIDGE)
        why = "is a host bridge";
    else if (class == PCI_CLASS_IOMMU)
        why = "is an IOMMU";
    for (unsigned u = 0; !why && m->iommu->kind == IOMMU_AMDVI && u < m->iommu->nunits; u++)
        if (m->iommu->units[u].segment == f->segment && m->iommu->units[u].own_bdf == f->bdf)
            why = "is the AMD-Vi IOMMU itself";
    if (why) {
        cfg_error(errs, p->line, "partition '%s': PCI function %s %s", p->name, name, why);
        return false;
    }
    if (m->iommu->kind == IOMMU_NONE) {
        if (cfg->iommu_off)
            return true;
        cfg_error(errs, p->line,
                  "partition '%s': PCI function %s: no IOMMU (no usable DMAR or IVRS) to "
                  "confine its DMA; 'boot iommu=off' hands it over anyway",
                  p->name, name);
        return false;
    }
    if (iommu_unit_for(m->iommu, f->segment, f->bdf, NULL) < 0 && !cfg->iommu_off) {
        cfg_error(errs, p->line,
                  "partition '%s': PCI function %s is behind no IOMMU unit the firmware lists",
                  p->name, name);
        return false;
    }
    return true;
}

/* g is in f's group when their DMA carries one requester ID, or when they are functions of
 * one device (without ACS they may reach each other peer to peer, past the IOMMU). */
static const char *shared_with(const struct assign_machine *m, const struct pci_function *f,
                               const struct pci_function *g)
{
    if (f->segment != g->segment)
        return NULL;
    if (requester_of(m, f) == requester_of(m, g))
        return "its DMA carries the same requester ID as";
    if ((f->bdf & ~7u) == (g->bdf & ~7u))
        return "is a function of the same device as";
    return NULL;
}

/* The page of a memory BAR, or 0 for none (I/O, unimplemented, upper halves skipped). */
static uint64_t bar_page(const struct pci_function *f, unsigned i, bool *is64)
{
    uint32_t lo = f->bar[i];
    *is64 = !(lo & PCI_BAR_IO) && (lo & 6) == PCI_BAR_TYPE_64 && i + 1 < f->nbars;
    if (lo & PCI_BAR_IO)
        return 0;
    uint64_t base = (lo & ~0xfull) | (*is64 ? (uint64_t)f->bar[i + 1] << 32 : 0);
    return base & ~0xfffull;
}

/* Mapping a BAR maps whole pages: a BAR smaller than a page may share its page with a BAR
 * of another function, which the guest would then reach too. */
static const struct pci_function *bar_page_shared(const struct pci_inventory *inv,
                                                  const struct pci_function *f, unsigned *which)
{
    for (unsigned i = 0; i < f->nbars; i++) {
        bool is64;
        uint64_t page = bar_page(f, i, &is64);
        for (unsigned k = 0; page && k < inv->n; k++) {
            const struct pci_function *g = &inv->f[k];
            if (g == f || g->segment != f->segment)
                continue;
            for (unsigned j = 0; j < g->nbars; j++) {
                bool g64;
                if (bar_page(g, j, &g64) == page) {
                    *which = i;
                    return g;
                }
                j += g64;
            }
        }
        i += is64;
    }
    return NULL;
}

int assign_check(const struct config *cfg, const struct assign_machine *m, struct cfg_errors *errs)
{
    unsigned before = errs->count + errs->dropped;
    for (unsigned i = 0; i < cfg->npartitions; i++) {
        const struct cfg_partition *p = &cfg->partitions[i];
        for (unsigned d = 0; d < p->ndevices; d++) {
            char name[16];
            pci_bdf bdf = p->devices[d].bdf;
            uint16_t seg = p->devices[d].segment;
            pci_bdf_text(seg, bdf, name, sizeof(name));
            const struct pci_function *f = pci_find(m->pci, seg, bdf);
            if (!f) {
                cfg_error(errs, p->line,
                          "partition '%s': PCI function %s does not exist on this machine", p->name,
                          name);
                continue;
            }
            if (!assignable(cfg, m, p, f, name, errs))
                continue;
            unsigned bar = 0;
            const struct pci_function *neighbour = bar_page_shared(m->pci, f, &bar);
            if (neighbour) {
                char other[16];
                pci_bdf_text(neighbour->segment, neighbour->bdf, other, sizeof(other));
                cfg_error(errs, p->line,
                          "partition '%s': PCI function %s: BAR%u shares its page with a BAR of "
                          "%s",
                          p->name, name, bar, other);
                continue;
            }
            for (unsigned k = 0; k < m->pci->n; k++) {
                const struct pci_function *g = &m->pci->f[k];
                int owner = assign_owner(cfg, g->segment, g->bdf);
                const char *how = g == f ? NULL : shared_with(m, f, g);
                if (!how || owner >= (int)i)
                    continue; /* reported once: at the later of the two partitions */
                char other[16];
                pci_bdf_text(g->segment, g->bdf, other, sizeof(other));
                if (owner < 0) {
                    /* an unowned endpoint is harmless unless its DMA would be translated as
                     * this partition's: the same requester ID (a bridge forwards, it is
                     * not a DMA master of its own) */
                    if (g->layout == 0 && requester_of(m, f) == requester_of(m, g))
                        cfg_error(errs, p->line,
                                  "partition '%s': PCI function %s %s %s, which no partition "
                                  "owns: name both",
                                  p->name, name, how, other);
                    continue;
                }
                cfg_error(errs, p->line,
                          "partition '%s': PCI function %s %s %s of partition '%s' (line %u)",
                          p->name, name, how, other, cfg->partitions[owner].name,
                          cfg->partitions[owner].line);
            }
        }
    }
    return errs->count + errs->dropped > before ? -E_INVAL : 0;
}
