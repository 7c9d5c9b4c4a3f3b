/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The machine's PCI functions and IOMMUs, found at boot, logged, and checked against the
 * devices the configuration hands to partitions. */
#ifndef BOOT_DEVICES_H
#define BOOT_DEVICES_H

#include "core/acpi.h"
#include "core/config.h"

/* Scans every ECAM range of the MCFG and parses the DMAR or IVRS. Reads only. */
void devices_discover(const struct acpi_info *acpi);

/* Appends an error (with the partition's line) for each devices= entry the machine refuses;
 * logs the device table with each function's owner. Returns 0 or -E_INVAL. */
int devices_check(const struct config *cfg, struct cfg_errors *errs);

struct pci_inventory;
struct iommu_info;
struct pci_cfg;
const struct pci_inventory *devices_inventory(void);
const struct iommu_info *devices_iommu(void);
const struct pci_cfg *devices_cfg(void); /* ECAM */
/* An IOMMU that could not be programmed confines nothing: devices= is then refused. */
void devices_forget_iommu(void);

#endif
