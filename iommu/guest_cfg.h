/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* A partition's view of the configuration space of a PCI function it owns: the 256 bytes
 * that configuration mechanism #1 reaches. The guest probes its device through it (each
 * access an exit, at probe time only); the hypervisor keeps what would reach beyond the
 * partition:
 * - the BARs read as where the hypervisor mapped them (guest-physical = host-physical);
 *   sizing works, relocation is ignored, no I/O BARs, no expansion ROM;
 * - the command register passes memory decoding and bus mastering (DMA is confined by the
 *   IOMMU from boot on) and keeps INTx off and I/O decoding off;
 * - the capability list shows MSI, MSI-X and PCI Express only; other capabilities read
 *   as zeros and are skipped by the list;
 * - MSI is a shadow: the guest's address and data are only read by the hypervisor, which
 *   validates them and programs the device with a remapped message of its own;
 * - so is the MSI-X table (its pages are left out of the nested tables, so every access
 *   exits): an entry reaches the device only unmasked and routed; the capability's enable
 *   and function mask bits are the guest's;
 * - the PCI Express capability reads through and takes no write (no function-level reset,
 *   no link control);
 * - everything else reads as zeros and drops writes.
 * Hardware-independent: the device is reached through struct pci_cfg. */
#ifndef IOMMU_GUEST_CFG_H
#define IOMMU_GUEST_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/pci.h"
#include "iommu/remap.h"

#define GUEST_CFG_SIZE 256u
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_MSIX 0x11
#define PCI_MSI_FLAGS 2 /* the message control word, from the capability's start */
#define PCI_MSI_FLAGS_ENABLE 0x0001u
#define PCI_MSI_FLAGS_QMASK 0x000eu /* multiple message capable */
#define PCI_MSI_FLAGS_QSIZE 0x0070u /* multiple message enable */
#define PCI_MSI_FLAGS_64BIT 0x0080u
#define PCI_MSI_FLAGS_MASKBIT 0x0100u
#define PCI_MSIX_FLAGS_QSIZE 0x07ffu /* table size - 1 */
#define PCI_MSIX_FLAGS_MASKALL 0x4000u
#define PCI_MSIX_FLAGS_ENABLE 0x8000u
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 1u
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_INTX_DISABLE 0x400
#define GUEST_CFG_MAX_CAPS 4
#define GUEST_CFG_MAX_IRQ_CAPS 8 /* MSI and MSI-X capabilities found, shown or not */

/* The message the guest wrote into its MSI capability. */
struct guest_msi {
    bool enabled;
    uint32_t addr_lo, addr_hi;
    uint16_t data;
};

/* The MSI-X table as the guest wrote it. */
#define GUEST_MSIX_MAX 32 /* entries shown: each takes a remapping entry */
struct guest_msix_entry {
    uint32_t addr_lo, addr_hi, data, ctrl;
};
_Static_assert(sizeof(struct guest_msix_entry) == PCI_MSIX_ENTRY_SIZE, "an MSI-X table entry");

struct guest_msix {
    uint8_t at;         /* the capability; 0: none */
    uint8_t bar;        /* the BAR holding the table */
    uint32_t table_off; /* its offset in that BAR */
    unsigned n;         /* entries shown: the device's, at most GUEST_MSIX_MAX */
    unsigned n_device;  /* the device's: the rest read masked and take no write */
    struct guest_msix_entry e[GUEST_MSIX_MAX];
};

struct guest_cfg {
    uint16_t segment;
    pci_bdf bdf;
    /* the capabilities shown, in the device's order: offset and ID */
    unsigned ncaps;
    uint8_t cap_at[GUEST_CFG_MAX_CAPS], cap_id[GUEST_CFG_MAX_CAPS], cap_len[GUEST_CFG_MAX_CAPS];
    uint8_t msi_at;     /* 0: none */
    uint16_t msi_flags; /* the device's control word, as found (64-bit, per-vector masking) */
    struct guest_msi msi;
    struct guest_msix msix;
    /* BARs: where they are mapped, and which ones the guest is sizing (all ones written) */
    uint64_t bar_addr[PCI_MAX_BARS], bar_size[PCI_MAX_BARS];
    uint32_t bar_flags[PCI_MAX_BARS]; /* the type bits 3:0 as the device has them */
    uint8_t bar_upper;                /* bit i: BAR i is the upper half of a 64-bit BAR */
    uint8_t sizing;                   /* bit i: the guest wrote all ones to BAR i */
    uint8_t interrupt_line;           /* scratch for the guest; no INTx is ever raised */
    bool bus_master_off;              /* the guest may no longer turn bus mastering on */
    /* every MSI and MSI-X capability of the device, for guest_cfg_quiet */
    unsigned nirq_caps;
    uint8_t irq_cap_at[GUEST_CFG_MAX_IRQ_CAPS];
};

/* Reads the function's header and capability list (bounded: a list that loops or leaves
 * the space ends there). size[]: the sizes of its memory BARs (pci_size_bars). */
void guest_cfg_init(struct guest_cfg *g, const struct pci_cfg *cfg, uint16_t segment, pci_bdf bdf,
                    const uint32_t bar[PCI_MAX_BARS], const uint64_t size[PCI_MAX_BARS]);

/* A read of size 1, 2 or 4 at offset (inside one dword); other sizes read all ones. */
uint32_t guest_cfg_read(const struct guest_cfg *g, const struct pci_cfg *cfg, unsigned offset,
                        unsigned size);

/* What a write leaves for the caller. */
#define GUEST_CFG_MSI_CHANGED 1u /* enable, address or data changed: route it again */

/* A write of size 1, 2 or 4 at offset (inside one dword); returns GUEST_CFG_* bits. */
unsigned guest_cfg_write(struct guest_cfg *g, const struct pci_cfg *cfg, unsigned offset,
                         unsigned size, uint32_t value);

/* The MSI-X table's guest-physical range (where its BAR is mapped): all of the device's
 * entries, those past the ones shown included; false: none. */
bool guest_cfg_msix_table(const struct guest_cfg *g, uint64_t *gpa, uint64_t *len);

/* An access to the table, at offset from its start, size 4 or 8 (naturally aligned);
 * reads of anything else give all ones, and entries past the ones shown read masked and
 * empty. A write returns the entry it changed when that entry must be routed again (it is
 * or was unmasked and its message or mask changed), or -1. */
uint64_t guest_cfg_msix_read(const struct guest_cfg *g, uint64_t offset, unsigned size);
int guest_cfg_msix_write(struct guest_cfg *g, uint64_t offset, unsigned size, uint64_t value);

/* Entry k as the guest left it: true if unmasked, with its message in *m. */
bool guest_cfg_msix_entry(const struct guest_cfg *g, unsigned k, struct guest_msi *m);

/* The device's own table (mapped by the caller): entry k masked, then, with msg, given
 * msg and unmasked. */
void guest_cfg_msix_program(volatile uint32_t *table, unsigned k, const struct iommu_msi_msg *msg);

/* The device sends no message: MSI and MSI-X off in every such capability it has, shown to
 * the guest or not. */
void guest_cfg_quiet(const struct guest_cfg *g, const struct pci_cfg *cfg);

/* The device sends msg as its MSI from now on (single message, MSI enabled), or, with msg
 * NULL, sends none (MSI disabled on the device). */
void guest_cfg_msi_program(const struct guest_cfg *g, const struct pci_cfg *cfg,
                           const struct iommu_msi_msg *msg);

#endif
