/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* PCI functions as the IOMMU code names them, and access to their configuration space
 * (PCIe ECAM, found through the MCFG table). Hardware-independent: the hypervisor reads
 * ECAM through its identity map, the host tests read a fake configuration space. */
#ifndef IOMMU_PCI_H
#define IOMMU_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/refusal.h"

/* A requester ID as the IOMMUs use it: bus << 8 | device << 3 | function. */
typedef uint16_t pci_bdf;
#define PCI_BDF(bus, dev, fn) ((pci_bdf)(((bus) << 8) | ((dev) << 3) | (fn)))
#define PCI_BUS(bdf) ((uint8_t)((bdf) >> 8))
#define PCI_DEV(bdf) ((uint8_t)(((bdf) >> 3) & 0x1f))
#define PCI_FN(bdf) ((uint8_t)((bdf)&7))

/* Configuration space registers (PCI Local Bus 3.0, chapter 6; PCI-to-PCI Bridge 1.2) */
#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_CLASS_REV 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SECONDARY_BUS 0x19
#define PCI_SUBORDINATE_BUS 0x1a
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_PTR 0x34
#define PCI_CAP_ID_EXP 0x10       /* PCI Express capability */
#define PCI_EXP_FLAGS 2           /* its capabilities register: port type in bits 7:4 */
#define PCI_EXP_TYPE_PCI_BRIDGE 7 /* PCI Express to PCI/PCI-X bridge */
#define PCI_NOT_EXPRESS 0xff
#define PCI_HEADER_MULTI_FUNCTION 0x80
#define PCI_HEADER_LAYOUT 0x7f
#define PCI_HEADER_BRIDGE 1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_BUS_MASTER 0x4
#define PCI_BAR_IO 0x1
#define PCI_BAR_TYPE_64 0x4 /* memory BAR, bits 2:1 = 10b: the next BAR holds the upper half */

/* 32-bit accesses to one segment's configuration space. A function that is absent reads as
 * all ones, as on hardware. off is 4-byte aligned and below 4096. write32 may be NULL for a
 * reader that only scans. */
struct pci_cfg {
    void *ctx;
    uint32_t (*read32)(void *ctx, uint16_t segment, pci_bdf bdf, uint16_t off);
    void (*write32)(void *ctx, uint16_t segment, pci_bdf bdf, uint16_t off, uint32_t v);
};

#define PCI_MAX_FUNCTIONS 1024 /* a large node has a few hundred */
#define PCI_MAX_BARS 6

/* One function found by pci_scan, as the firmware left it. */
struct pci_function {
    uint16_t segment;
    pci_bdf bdf;
    uint16_t vendor, device;
    uint32_t class_rev;             /* class code << 8 | revision */
    uint8_t layout;                 /* header layout: 0 endpoint, 1 PCI-to-PCI bridge */
    uint8_t secondary, subordinate; /* bridges: the buses behind them */
    uint8_t nbars;                  /* 6 for endpoints, 2 for bridges */
    uint8_t pcie_type;              /* device/port type, or PCI_NOT_EXPRESS */
    uint32_t bar[PCI_MAX_BARS];     /* the registers as read (no sizing writes) */
};

struct pci_inventory {
    unsigned n;
    unsigned dropped; /* functions beyond PCI_MAX_FUNCTIONS, counted */
    struct pci_function f[PCI_MAX_FUNCTIONS];
};

/* Adds every function present on buses bus_lo..bus_hi of segment to inv (in bus, device,
 * function order). Reads only: nothing is written to any device. */
void pci_scan(const struct pci_cfg *cfg, uint16_t segment, uint8_t bus_lo, uint8_t bus_hi,
              struct pci_inventory *inv);

/* The function at segment:bdf, or NULL. */
const struct pci_function *pci_find(const struct pci_inventory *inv, uint16_t segment, pci_bdf bdf);

/* The size of each memory BAR of f (0 for I/O BARs, unimplemented ones and the upper halves
 * of 64-bit BARs): all ones written and read back with memory decoding off, then the
 * registers and the command word restored. Needs cfg->write32. */
void pci_size_bars(const struct pci_cfg *cfg, const struct pci_function *f,
                   uint64_t size[PCI_MAX_BARS]);

/* The requester ID DMA from f carries once it reaches the root complex: its own, unless a
 * bridge on the way takes it over (PCI Express to PCI bridge: its secondary bus, device 0,
 * function 0; a conventional PCI bridge: its own ID), as the topology in inv shows. */
pci_bdf pci_requester_id(const struct pci_inventory *inv, const struct pci_function *f);

/* A short name for the class ("NVMe", "Ethernet", "PCI bridge", ...; "class 0x0b4000"). */
void pci_class_text(uint32_t class_rev, char *buf, unsigned size);

uint8_t pci_read8(const struct pci_cfg *cfg, uint16_t segment, pci_bdf bdf, uint16_t off);
uint16_t pci_read16(const struct pci_cfg *cfg, uint16_t segment, pci_bdf bdf, uint16_t off);

/* "0000:00:1f.2" into buf (at least 13 bytes). */
void pci_bdf_text(uint16_t segment, pci_bdf bdf, char *buf, unsigned size);

#endif
