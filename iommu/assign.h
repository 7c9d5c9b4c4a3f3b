/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Checking the PCI functions a configuration hands to partitions against the machine: they
 * exist, they are endpoints the hypervisor can give away, an IOMMU confines their DMA, and no
 * two partitions share a requester ID or a multi-function device. Run before any core starts;
 * every refusal carries the partition's line. */
#ifndef IOMMU_ASSIGN_H
#define IOMMU_ASSIGN_H

#include "core/config.h"
#include "iommu/iommu_acpi.h"
#include "iommu/pci.h"

struct assign_machine {
    const struct pci_inventory *pci;
    const struct iommu_info *iommu; /* kind IOMMU_NONE: the firmware describes none */
};

/* Appends one error per problem to errs; returns 0 or -E_INVAL. */
int assign_check(const struct config *cfg, const struct assign_machine *m, struct cfg_errors *errs);

/* The partition (index) that owns segment:bdf, or -1. */
int assign_owner(const struct config *cfg, uint16_t segment, pci_bdf bdf);

#endif
