/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The PCI functions a partition owns, as its guest finds them: on bus 0 of configuration
 * mechanism #1, function 0 of slots 2, 3, ... in the order of its devices= list, each
 * behind the filter of iommu/guest_cfg.h; their MSI-X tables are trapped pages of their
 * BARs. A message the guest programs (MSI, or an unmasked MSI-X entry) is validated (fixed
 * or lowest priority, physical, a guest vector, one of the partition's own cores) and
 * handed to the IOMMU glue, which gives the device a remapped message of its own; a refused
 * one leaves that message off on the device (MSI disabled, the MSI-X entry masked) and is
 * logged once per function. */
#ifndef SIDECORE_ASSIGNED_H
#define SIDECORE_ASSIGNED_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/refusal.h"
#include "core/spinlock.h"
#include "iommu/guest_cfg.h"

struct vcpu;

#define ASSIGNED_FIRST_SLOT 2 /* 00:01.0 is the virtio-pci disk */

/* What the IOMMU glue (boot/dma.c) does for the bus. */
struct assigned_router {
    void *ctx;
    /* Message slot of function index (k for MSI-X entry k, the one after the last MSI-X
     * entry for MSI) delivers irq from now on; msg: what the device must send. */
    int (*route)(void *ctx, unsigned index, unsigned slot, const struct iommu_irq *irq,
                 struct iommu_msi_msg *msg, struct refusal *why);
    /* That slot delivers nothing (its remapping entry cleared). */
    void (*unroute)(void *ctx, unsigned index, unsigned slot);
};

struct assigned_function {
    struct guest_cfg cfg;
    volatile uint32_t *msix_table; /* the device's, through the hypervisor's mapping */
    uint64_t trap_gpa, trap_len;   /* the table's pages, left out of the nested tables */
    bool msi_refusal_logged;
    unsigned routes; /* MSI routes made, for the log */
};

/* One per partition with devices; all of it under lock (any vCPU's exit reaches it). */
struct assigned_bus {
    struct spinlock lock;
    const struct pci_cfg *pci; /* the real configuration space (ECAM) */
    struct assigned_router router;
    unsigned n;
    struct assigned_function fn[CONFIG_MAX_DEVICES];
};

/* The devfn on bus 0 where the guest finds function index. */
static inline unsigned assigned_devfn(unsigned index)
{
    return (ASSIGNED_FIRST_SLOT + index) << 3;
}

/* A configuration access by v to bus 0, devfn; false: no owned function there. */
bool assigned_config(struct vcpu *v, unsigned devfn, unsigned offset, unsigned size, bool write,
                     uint32_t *value);

/* Whether gpa is in a trapped page of an owned function (its MSI-X table). */
bool assigned_mmio_at(const struct vcpu *v, uint64_t gpa);

/* An access there: the table's entries are the guest's shadow; the rest of those pages
 * (other registers, the pending bits) is the device's, reached through the hypervisor.
 * false: gpa is not there (nothing done). */
bool assigned_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *value);

#endif
