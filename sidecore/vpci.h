/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The partition's disk as a virtio-pci (virtio 1.x "modern") block device, for a driver that
 * is not ours (Linux's virtio_pci and virtio_blk): its PCI configuration space and the
 * registers of its one memory BAR. Only the registers: the queue itself is served by
 * sidecore/blk.c, by polling, so the driver never has to notify it (the used ring says
 * so), and completions are MSI-X messages the io side core sends as IPIs.
 *
 * Portable (host-tested and fuzzed). Every access, of any offset, size and value, is
 * defined: reads of nothing give 0 (all ones for a function that does not exist), writes
 * to nothing are dropped. What the caller has to do about a write (start the queue, reset
 * it, serve it, deliver a message that was pending) comes back as VPCI_DO_* bits.
 *
 * The device: bus 0, device 1, function 0 (the only function on the bus); vendor 0x1af4,
 * device 0x1042 (virtio block, modern); no INTx. BAR0: 32-bit memory, VPCI_BAR_SIZE at the
 * address the caller gives (fixed: sizing works, relocation is ignored). Inside it: common
 * configuration, ISR, device configuration (struct virtio_blk_config), notify, and an
 * MSI-X table of VPCI_MSIX_ENTRIES with its pending bits. Features offered: VERSION_1,
 * SIZE_MAX, SEG_MAX, FLUSH; one queue of at most BLK_QUEUE_MAX entries. */
#ifndef SIDECORE_VPCI_H
#define SIDECORE_VPCI_H

#include <stdbool.h>
#include <stdint.h>

#define VPCI_DEVFN 0x08 /* 00:01.0 */
#define VPCI_BAR_SIZE 0x4000u
#define VPCI_MSIX_ENTRIES 2 /* configuration changes, the queue */
#define VPCI_NO_VECTOR 0xffffu

/* BAR0's layout */
#define VPCI_COMMON_OFF 0x0000u
#define VPCI_COMMON_LEN 0x38u
#define VPCI_ISR_OFF 0x1000u
#define VPCI_DEVICE_OFF 0x2000u
#define VPCI_DEVICE_LEN 0x40u
#define VPCI_NOTIFY_OFF 0x3000u
#define VPCI_MSIX_TABLE_OFF 0x3800u
#define VPCI_MSIX_PBA_OFF 0x3c00u

/* device_status bits (virtio 1.x, 2.1) */
#define VPCI_S_ACKNOWLEDGE 1u
#define VPCI_S_DRIVER 2u
#define VPCI_S_DRIVER_OK 4u
#define VPCI_S_FEATURES_OK 8u
#define VPCI_S_NEEDS_RESET 0x40u
#define VPCI_S_FAILED 0x80u

/* What a write asks of the caller. */
enum {
    VPCI_DO_QUEUE_ENABLE = 1, /* queue_enable was set: blk_setup with vpci_queue_rings */
    VPCI_DO_RESET = 2,        /* the driver reset the device: stop serving the queue */
    VPCI_DO_NOTIFY = 4,       /* a notification of the queue */
    VPCI_DO_UNMASKED = 8,     /* an MSI-X entry or the function may now deliver: see
                                 vpci_take_pending */
};

struct vpci_msix_entry {
    uint32_t addr_lo, addr_hi, data, ctrl; /* ctrl bit 0: masked */
};

struct vpci_dev {
    uint32_t bar0;     /* the BAR's fixed address */
    uint64_t capacity; /* in 512-byte sectors */
    /* PCI */
    uint16_t command;
    bool bar0_sizing;    /* all ones was written: the next read gives the size mask */
    uint16_t msix_flags; /* message control bits 15 (enable) and 14 (function mask) */
    /* virtio common configuration */
    uint32_t device_feature_select, driver_feature_select;
    uint64_t driver_features;
    uint16_t msix_config, queue_select;
    uint8_t status;
    uint16_t queue_size, queue_msix_vector;
    bool queue_enabled;
    uint64_t queue_desc, queue_driver, queue_device;
    /* MSI-X */
    struct vpci_msix_entry msix[VPCI_MSIX_ENTRIES];
    uint8_t pending; /* bit per entry: a message held back by a mask */
    uint8_t isr;
};

/* A device at bar0 (VPCI_BAR_SIZE-aligned, below 4 GiB) for a disk of capacity sectors. */
void vpci_init(struct vpci_dev *d, uint32_t bar0, uint64_t capacity);

/* Configuration space of bus 0, devfn, at offset (0..255), size 1, 2 or 4. */
uint32_t vpci_config_read(const struct vpci_dev *d, unsigned devfn, unsigned offset, unsigned size);
unsigned vpci_config_write(struct vpci_dev *d, unsigned devfn, unsigned offset, unsigned size,
                           uint32_t value);

/* Configuration mechanism #1: the address port 0xcf8 (32-bit accesses only; the latch is
 * the caller's, one per partition) and the data ports 0xcfc-0xcff, which reach bus 0 at the
 * latched devfn and register when its enable bit is set (anything else reads all ones).
 * false: not one of these ports, or not a size they take (the caller's "nothing there").
 * A write's VPCI_DO_* bits go to *todo. */
#define VPCI_PORT_ADDRESS 0xcf8
#define VPCI_PORT_DATA 0xcfc
enum vpci_port { VPCI_PORT_NONE, VPCI_PORT_LATCH, VPCI_PORT_CONFIG };
/* Which of the ports an access is; for the data ports, the devfn the latch selects on bus 0
 * (0x100, which no function has, when the enable bit is off or another bus is named) and
 * the register it reaches. */
enum vpci_port vpci_port_decode(uint32_t latch, uint16_t port, unsigned size, unsigned *devfn,
                                unsigned *offset);
/* d NULL: no virtio-pci function on the bus (its devfn reads all ones too). */
bool vpci_port_read(const struct vpci_dev *d, const uint32_t *latch, uint16_t port, unsigned size,
                    uint32_t *value);
bool vpci_port_write(struct vpci_dev *d, uint32_t *latch, uint16_t port, unsigned size,
                     uint32_t value, unsigned *todo);

/* BAR0 at offset (0..VPCI_BAR_SIZE-1), size 1, 2, 4 or 8. Reading ISR clears it. */
uint64_t vpci_bar_read(struct vpci_dev *d, uint64_t offset, unsigned size);
unsigned vpci_bar_write(struct vpci_dev *d, uint64_t offset, unsigned size, uint64_t value);

/* The queue's three parts and size as the driver gave them (after VPCI_DO_QUEUE_ENABLE). */
void vpci_queue_rings(const struct vpci_dev *d, uint64_t *desc, uint64_t *avail, uint64_t *used,
                      uint16_t *size);

/* The queue could not be set up or broke: NEEDS_RESET in device_status, and a
 * configuration-change message is due (returned like vpci_raise's). */
bool vpci_needs_reset(struct vpci_dev *d, struct vpci_msix_entry *msg);

/* An MSI-X message the device sends now: for the queue (queue = true) or a configuration
 * change. true and *msg when it is to be sent; false when there is none (MSI-X off, no
 * vector) or it is held back by a mask (then pending, sent by vpci_take_pending). */
bool vpci_raise(struct vpci_dev *d, bool queue, struct vpci_msix_entry *msg);

/* An MSI-X message as the hypervisor sends it: NULL with the destination APIC ID and the
 * vector, or why it is not sent. Only a fixed (or lowest-priority, taken as fixed) interrupt
 * in physical destination mode, in the compatibility format (not an interrupt-remapping
 * one), with a guest vector (32-255). The APIC ID is address bits 19:12, and bits 11:5 as
 * its bits 14:8 (the extended destination ID that hypervisors offer Linux for APIC IDs
 * above 255). Whether that APIC ID is the partition's is the caller's check. */
const char *vpci_msi_decode(const struct vpci_msix_entry *m, uint32_t *apic_id, uint8_t *vector);

/* After VPCI_DO_UNMASKED: the next pending message that may now be sent (clearing its
 * pending bit); false when none. */
bool vpci_take_pending(struct vpci_dev *d, struct vpci_msix_entry *msg);

#endif
