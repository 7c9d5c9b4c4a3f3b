/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* DMA remapping at boot and run time: the IOMMUs programmed so that no device reaches memory
 * until it is attached, then each partition's PCI functions attached to a domain that maps
 * exactly its RAM, their BARs mapped into its nested tables, and faults read and counted. */
#ifndef BOOT_DMA_H
#define BOOT_DMA_H

#include <stdbool.h>

/* Boot CPU, before the APs start: every unit on, every DMA refused. A unit that fails is
 * logged and the IOMMU is forgotten (devices= is then refused by devices_check). */
void dma_setup_units(void);

/* Boot CPU, after the partitions are built and before any guest runs: domains, BARs, the
 * devices in the boot info, bus mastering on. false (logged) on failure. */
bool dma_attach_partitions(void);

/* Reads the units' fault records (at most every 10 ms); logs and counts each against the
 * partition owning the device. Never waits. */
void dma_poll_faults(void);
/* The same without the rate limit. */
void dma_poll_faults_now(void);

/* End of the run: the last faults, then each partition's faults and how its DMA view
 * followed its page-table changes. */
void dma_report(void);

#endif
