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

#endif
