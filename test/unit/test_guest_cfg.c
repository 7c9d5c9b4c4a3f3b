/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* A partition's view of an owned function's configuration space (iommu/guest_cfg.c), on a
 * fake device: what reads through, what is shadowed, and that nothing the guest must not
 * change reaches the device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iommu/guest_cfg.h"

#define DEV PCI_BDF(0, 3, 0)

/* ---- the device: 256 bytes of registers, and a log of the dwords written ---- */
static uint32_t regs[64];
static struct {
    uint16_t off;
    uint32_t v;
} wrote[64];
static unsigned nwrote;

static uint32_t dev_read(void *ctx, uint16_t segment, pci_bdf bdf, uint16_t off)
{
    (void)ctx;
    assert_int_equal(segment, 0);
    assert_int_equal(bdf, DEV);
    assert_int_equal(off & 3, 0);
    assert_true(off < 256);
    return regs[off / 4];
}

static void dev_write(void *ctx, uint16_t segment, pci_bdf bdf, uint16_t off, uint32_t v)
{
    (void)ctx;
    assert_int_equal(segment, 0);
    assert_int_equal(bdf, DEV);
    assert_int_equal(off & 3, 0);
    assert_true(nwrote < 64);
    wrote[nwrote].off = off;
    wrote[nwrote++].v = v;
    regs[off / 4] = v;
}

static const struct pci_cfg cfg = {NULL, dev_read, dev_write};

static bool wrote_between(unsigned from, unsigned to)
{
    for (unsigned i = 0; i < nwrote; i++)
        if (wrote[i].off >= from && wrote[i].off < to)
            return true;
    return false;
}

static void put8(unsigned off, uint8_t v)
{
    regs[off / 4] = (regs[off / 4] & ~(0xffu << 8 * (off & 3))) | (uint32_t)v << 8 * (off & 3);
}

/* An NVMe-like function: BAR0 64-bit 16 KiB at 0x8_1000_0000, BAR2 32-bit 4 KiB, BAR4 I/O;
 * capabilities PM at 0x40 -> MSI (64-bit, per-vector masking) at 0x50 -> MSI-X (8 entries,
 * table at BAR0 + 0x2000) at 0x70 -> PCI Express at 0x80. */
static const uint32_t bars[PCI_MAX_BARS] = {0x10000004u, 0x8u, 0xfe001000u, 0, 0xc001u, 0};
static const uint64_t sizes[PCI_MAX_BARS] = {0x4000, 0, 0x1000, 0, 0, 0};

static int setup(void **state)
{
    (void)state;
    memset(regs, 0, sizeof(regs));
    regs[0] = 0x11e81234u;           /* device << 16 | vendor */
    regs[1] = 0x00100000u | 0x0006u; /* status: capability list; command: MEM|BME */
    regs[2] = 0x01080201u;           /* NVMe, revision 1 */
    regs[3] = 0x80800010u;           /* BIST 0x80, multi-function, cache line 0x10 */
    for (unsigned i = 0; i < PCI_MAX_BARS; i++)
        regs[4 + i] = bars[i];
    regs[11] = 0xabcd8086u; /* subsystem */
    regs[12] = 0xfffe0001u; /* expansion ROM, enabled */
    put8(0x34, 0x40);
    regs[15] = 0x0000010bu;       /* pin A, line 11 */
    regs[0x40 / 4] = 0x00035001u; /* PM -> 0x50 */
    regs[0x50 / 4] = 0x01867005u; /* MSI -> 0x70; 64-bit, mask, 8 messages capable */
    regs[0x70 / 4] = 0x00078011u; /* MSI-X -> 0x80: 8 entries */
    regs[0x74 / 4] = 0x00002000u; /* its table: BAR0 + 0x2000 */
    regs[0x78 / 4] = 0x00003000u; /* its pending bits: BAR0 + 0x3000 */
    regs[0x80 / 4] = 0x00020010u; /* PCI Express, last */
    regs[0x88 / 4] = 0x00002810u; /* device control */
    nwrote = 0;
    return 0;
}

static void init(struct guest_cfg *g)
{
    guest_cfg_init(g, &cfg, 0, DEV, bars, sizes);
    nwrote = 0; /* only what the guest's accesses write counts */
}

static void test_header(void **state)
{
    (void)state;
    struct guest_cfg g;
    init(&g);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x00, 4), 0x11e81234u);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x02, 2), 0x11e8);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x08, 4), 0x01080201u);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x2c, 4), 0xabcd8086u);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x0e, 1), 0x00); /* one function, endpoint */
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x0f, 1), 0x00); /* no BIST to start */
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x0c, 1), 0x10);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x30, 4), 0); /* no expansion ROM */
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x3d, 1), 0); /* no INTx pin */
    guest_cfg_write(&g, &cfg, 0x3c, 1, 0x42);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x3c, 4), 0x42);
    guest_cfg_write(&g, &cfg, 0x30, 4, 0xffffffffu);
    guest_cfg_write(&g, &cfg, 0x0f, 1, 0x40); /* start BIST */
    guest_cfg_write(&g, &cfg, 0x00, 4, 0);
    guest_cfg_write(&g, &cfg, 0x2c, 4, 0);
    assert_int_equal(nwrote, 0);
    /* accesses that are not 1, 2 or 4 bytes inside one dword of the 256 */
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x02, 4), 0xffffffffu);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x00, 3), 0xffffffffu);
    assert_int_equal(guest_cfg_read(&g, &cfg, 256, 1), 0xffffffffu);
    assert_int_equal(guest_cfg_write(&g, &cfg, 0x04, 8, 0), 0);
    assert_int_equal(guest_cfg_write(&g, &cfg, 0x03, 2, 0), 0);
    assert_int_equal(nwrote, 0);
}

static void test_bars_sized_not_moved(void **state)
{
    (void)state;
    struct guest_cfg g;
    init(&g);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x10, 4), 0x10000004u);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x14, 4), 0x8u);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x18, 4), 0xfe001000u);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x20, 4), 0); /* the I/O BAR is not offered */
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x1c, 4), 0); /* unimplemented */
    /* sizing, the 64-bit BAR by halves */
    guest_cfg_write(&g, &cfg, 0x10, 4, 0xffffffffu);
    guest_cfg_write(&g, &cfg, 0x14, 4, 0xffffffffu);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x10, 4), 0xffffc004u);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x14, 4), 0xffffffffu);
    guest_cfg_write(&g, &cfg, 0x18, 4, 0xffffffffu);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x18, 4), 0xfffff000u);
    /* restoring, or relocating: the BARs read where they are mapped */
    guest_cfg_write(&g, &cfg, 0x10, 4, 0x20000000u);
    guest_cfg_write(&g, &cfg, 0x14, 4, 0);
    guest_cfg_write(&g, &cfg, 0x18, 4, 0xfe002000u);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x10, 4), 0x10000004u);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x14, 4), 0x8u);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x18, 4), 0xfe001000u);
    assert_false(wrote_between(0x10, 0x28)); /* the device's BARs never change */
    assert_int_equal(regs[4], bars[0]);
}

static void test_command(void **state)
{
    (void)state;
    struct guest_cfg g;
    init(&g);
    regs[1] |= 0x0100u | 0x80000000u; /* SERR# enable; status: detected parity error */
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x04, 2), 0x0406); /* INTx shown disabled */
    guest_cfg_write(&g, &cfg, 0x04, 2, 0x0001);                  /* I/O only */
    assert_int_equal(regs[1] & 0xffff, 0x0500);      /* MEM, BME off; no I/O; INTx off; SERR kept */
    assert_int_equal(regs[1] >> 16, 0);              /* no 1 written to a status bit */
    guest_cfg_write(&g, &cfg, 0x04, 4, 0xffff0007u); /* all status bits 1: write-1-to-clear */
    assert_int_equal(wrote[nwrote - 1].v, 0x00000506u);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x06, 2) & 0x10, 0x10);
    nwrote = 0;
    guest_cfg_write(&g, &cfg, 0x06, 2, 0xffff); /* the status half alone */
    assert_int_equal(nwrote, 0);
}

static void test_capability_list(void **state)
{
    (void)state;
    struct guest_cfg g;
    init(&g);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x34, 1), 0x50);        /* PM hidden */
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x50, 2), 0x7005);      /* MSI -> MSI-X */
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x70, 4), 0x00078011u); /* -> PCI Express */
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x74, 4), 0x2000);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x78, 4), 0x3000);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x80, 2), 0x0010); /* last */
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x82, 2), 0x0002);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x40, 4), 0); /* PM */
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x88, 4), 0x2810);
    /* a single message, 64-bit, maskable, disabled */
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x52, 2), 0x0180);
    /* PCI Express takes no write: a function-level reset is not the guest's */
    guest_cfg_write(&g, &cfg, 0x88, 2, 0xa810);
    guest_cfg_write(&g, &cfg, 0x40, 4, 0x3);    /* power state D3 */
    guest_cfg_write(&g, &cfg, 0x74, 4, 0x1000); /* moving the MSI-X table */
    assert_int_equal(nwrote, 0);
    /* MSI-X enable and function mask are the guest's; the table size is not */
    guest_cfg_write(&g, &cfg, 0x72, 2, 0xc7ff);
    assert_int_equal(regs[0x70 / 4], 0xc0078011u);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x72, 2), 0xc007);
    guest_cfg_write(&g, &cfg, 0x70, 4, 0);
    assert_int_equal(regs[0x70 / 4], 0x00078011u);
    assert_int_equal(regs[0x74 / 4], 0x2000);

    /* a device whose list loops on itself, and one without a list */
    regs[0x40 / 4] = 0x00034005u; /* MSI (32-bit) -> itself */
    guest_cfg_init(&g, &cfg, 0, DEV, bars, sizes);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x34, 1), 0x40);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x41, 1), 0); /* shown once, last */
    regs[1] &= ~0x00100000u;
    guest_cfg_init(&g, &cfg, 0, DEV, bars, sizes);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x34, 1), 0);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x06, 2) & 0x10, 0);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x40, 4), 0);
    /* a capability that would run past 256 bytes is not shown */
    regs[1] |= 0x00100000u;
    put8(0x34, 0xf0);
    regs[0xf0 / 4] = 0x01800005u; /* MSI 64-bit with masks: 24 bytes from 0xf0 */
    guest_cfg_init(&g, &cfg, 0, DEV, bars, sizes);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x34, 1), 0);
}

/* A capability's extent: PCI Express by its version; overlapping ones are not shown. */
static void test_capability_extents(void **state)
{
    (void)state;
    struct guest_cfg g;
    put8(0x34, 0x80);
    regs[0x80 / 4] = 0x0001a410u; /* PCI Express version 1 (0x24 bytes) -> 0xa4 */
    regs[0xa4 / 4] = 0x00000005u; /* MSI, 32-bit, last */
    guest_cfg_init(&g, &cfg, 0, DEV, bars, sizes);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x81, 1), 0xa4);
    assert_int_equal(guest_cfg_write(&g, &cfg, 0xa6, 2, 1), GUEST_CFG_MSI_CHANGED);
    /* version 2 runs to 0xbc: an MSI at 0xa4 would share its bytes, so it is not shown */
    regs[0x80 / 4] = 0x0002a410u;
    guest_cfg_init(&g, &cfg, 0, DEV, bars, sizes);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x81, 1), 0);
    assert_int_equal(g.msi_at, 0);
    assert_int_equal(guest_cfg_write(&g, &cfg, 0xa6, 2, 1), 0);
}

/* Capabilities that share bytes are neither shown: a write to one could reach the other. The
 * device's messages are turned off in every MSI and MSI-X capability, shown or not. */
static void test_overlapping_messages_hidden_and_quiet(void **state)
{
    (void)state;
    struct guest_cfg g;
    put8(0x34, 0x40);
    regs[0x40 / 4] = 0x01815005u; /* MSI, 64-bit, masks: 0x40-0x57; enabled -> 0x50 */
    regs[0x50 / 4] = 0x80070011u; /* MSI-X at 0x50, enabled, last */
    regs[0x54 / 4] = 0x00002000u;
    guest_cfg_init(&g, &cfg, 0, DEV, bars, sizes);
    nwrote = 0;
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x34, 1), 0);
    assert_int_equal(g.msi_at, 0);
    assert_int_equal(g.msix.at, 0);
    /* the MSI mask dword is MSI-X's header here: no write reaches it */
    assert_int_equal(guest_cfg_write(&g, &cfg, 0x50, 4, 0xc0000000u), 0);
    assert_int_equal(nwrote, 0);
    assert_int_equal(g.nirq_caps, 2);
    guest_cfg_quiet(&g, &cfg);
    assert_int_equal(regs[0x40 / 4], 0x01805005u); /* MSI off */
    assert_int_equal(regs[0x50 / 4], 0x00070011u); /* MSI-X off */
}

/* After the DMA view failed, the guest cannot turn bus mastering back on. */
static void test_bus_master_off(void **state)
{
    (void)state;
    struct guest_cfg g;
    init(&g);
    g.bus_master_off = true;
    guest_cfg_write(&g, &cfg, 0x04, 2, 0x0006);
    assert_int_equal(regs[1] & 0xffff, 0x0402); /* memory decoding only */
}

static void test_msi_shadowed(void **state)
{
    (void)state;
    struct guest_cfg g;
    init(&g);
    /* address and data while disabled: kept, nothing to route, nothing on the device */
    assert_int_equal(guest_cfg_write(&g, &cfg, 0x54, 4, 0xfee01000u), 0);
    assert_int_equal(guest_cfg_write(&g, &cfg, 0x58, 4, 0), 0);
    assert_int_equal(guest_cfg_write(&g, &cfg, 0x5c, 2, 0x0041), 0);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x54, 4), 0xfee01000u);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x5c, 4), 0x41);
    /* enabling asks for a route; the guest sees it enabled, the device does not */
    assert_int_equal(guest_cfg_write(&g, &cfg, 0x52, 2, 0x0071), GUEST_CFG_MSI_CHANGED);
    assert_true(g.msi.enabled);
    assert_int_equal(g.msi.addr_lo, 0xfee01000u);
    assert_int_equal(g.msi.data, 0x41);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x52, 2), 0x0181); /* no multiple messages */
    assert_int_equal(nwrote, 0);
    /* a new vector while enabled: route again; the same one again: nothing */
    assert_int_equal(guest_cfg_write(&g, &cfg, 0x5c, 2, 0x0042), GUEST_CFG_MSI_CHANGED);
    assert_int_equal(guest_cfg_write(&g, &cfg, 0x5c, 2, 0x0042), 0);
    assert_int_equal(guest_cfg_write(&g, &cfg, 0x58, 4, 1), GUEST_CFG_MSI_CHANGED);
    assert_int_equal(g.msi.addr_hi, 1);
    /* the mask bits are the device's */
    guest_cfg_write(&g, &cfg, 0x60, 4, 1);
    assert_int_equal(regs[0x60 / 4], 1);
    assert_int_equal(nwrote, 1);
    /* disabling: route again (to nothing) */
    assert_int_equal(guest_cfg_write(&g, &cfg, 0x50, 4, 0), GUEST_CFG_MSI_CHANGED);
    assert_false(g.msi.enabled);
    assert_int_equal(guest_cfg_write(&g, &cfg, 0x5c, 2, 0x0043), 0);
    assert_int_equal(regs[0x54 / 4], 0); /* the device's message never was the guest's */
    assert_int_equal(regs[0x5c / 4], 0);
}

static void test_msi_programmed(void **state)
{
    (void)state;
    struct guest_cfg g;
    init(&g);
    regs[0x50 / 4] |= 0x00200000u; /* firmware left 4 messages enabled */
    struct iommu_msi_msg m = {0xfee00010u | (5u << 5), 0};
    guest_cfg_msi_program(&g, &cfg, &m);
    assert_int_equal(regs[0x54 / 4], m.address);
    assert_int_equal(regs[0x58 / 4], 0);
    assert_int_equal(regs[0x5c / 4], 0);
    assert_int_equal(regs[0x50 / 4] >> 16, 0x0187); /* enabled, one message */
    assert_int_equal(wrote[nwrote - 1].off, 0x50);  /* enabled last */
    assert_int_equal(wrote[0].off, 0x50);           /* and disabled first */
    assert_int_equal(wrote[0].v & 0x10000, 0);
    guest_cfg_msi_program(&g, &cfg, NULL);
    assert_int_equal(regs[0x50 / 4] & 0x10000, 0);
    /* a 32-bit capability: the data right after the address */
    regs[0x50 / 4] = 0x00007005u;
    guest_cfg_init(&g, &cfg, 0, DEV, bars, sizes);
    assert_int_equal(guest_cfg_write(&g, &cfg, 0x58, 2, 0x55), 0);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x58, 2), 0x55);
    regs[0x5c / 4] = 0xdeadbeefu; /* past the capability */
    m = (struct iommu_msi_msg){0xfee00000u, 7};
    guest_cfg_msi_program(&g, &cfg, &m);
    assert_int_equal(regs[0x54 / 4], 0xfee00000u);
    assert_int_equal(regs[0x58 / 4], 7);
    assert_int_equal(regs[0x5c / 4], 0xdeadbeefu); /* no upper address written past it */
}

static void test_msix_table(void **state)
{
    (void)state;
    struct guest_cfg g;
    init(&g);
    uint64_t gpa = 0, len = 0;
    assert_true(guest_cfg_msix_table(&g, &gpa, &len));
    assert_int_equal(gpa, 0x810002000ull);
    assert_int_equal(len, 8 * 16);
    /* entries start masked; a masked entry's message needs no route */
    assert_int_equal(guest_cfg_msix_read(&g, 3 * 16 + 12, 4), 1);
    assert_int_equal(guest_cfg_msix_write(&g, 3 * 16, 8, 0x00000000fee01003ull), -1);
    assert_int_equal(guest_cfg_msix_write(&g, 3 * 16 + 8, 4, 0x41), -1);
    assert_int_equal(guest_cfg_msix_read(&g, 3 * 16, 8), 0xfee01000ull);
    struct guest_msi m;
    assert_false(guest_cfg_msix_entry(&g, 3, &m));
    /* unmasking routes it; so does a change while unmasked, and masking again */
    assert_int_equal(guest_cfg_msix_write(&g, 3 * 16 + 12, 4, 0xfffffffeu), 3);
    assert_int_equal(guest_cfg_msix_read(&g, 3 * 16 + 12, 4), 0); /* reserved bits dropped */
    assert_true(guest_cfg_msix_entry(&g, 3, &m));
    assert_int_equal(m.addr_lo, 0xfee01000u);
    assert_int_equal(m.data, 0x41);
    assert_int_equal(guest_cfg_msix_write(&g, 3 * 16 + 8, 4, 0x42), 3);
    assert_int_equal(guest_cfg_msix_write(&g, 3 * 16 + 8, 4, 0x42), -1);
    assert_int_equal(guest_cfg_msix_write(&g, 3 * 16 + 12, 4, 1), 3);
    assert_int_equal(guest_cfg_msix_write(&g, 3 * 16 + 8, 4, 0x43), -1);
    /* past the table, misaligned, or not 4 or 8 bytes */
    assert_int_equal(guest_cfg_msix_write(&g, 8 * 16, 4, 0), -1);
    assert_int_equal(guest_cfg_msix_write(&g, 2, 4, 0), -1);
    assert_int_equal(guest_cfg_msix_write(&g, 4, 8, 0), -1);
    assert_int_equal(guest_cfg_msix_write(&g, 0, 2, 0), -1);
    assert_int_equal(guest_cfg_msix_read(&g, 8 * 16, 4), ~0ull);
    assert_false(guest_cfg_msix_entry(&g, 8, &m));
    assert_int_equal(nwrote, 0); /* none of it reached the configuration space */

    /* a device with more entries than are shown */
    regs[0x70 / 4] = 0x00408011u; /* 65 entries */
    guest_cfg_init(&g, &cfg, 0, DEV, bars, sizes);
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x72, 2), GUEST_MSIX_MAX - 1);
    assert_true(guest_cfg_msix_table(&g, &gpa, &len));
    assert_int_equal(len, 65 * 16); /* the device's whole table is trapped */
    assert_int_equal(guest_cfg_msix_write(&g, GUEST_MSIX_MAX * 16 + 12, 4, 0), -1);
    assert_int_equal(guest_cfg_msix_write(&g, 64 * 16, 8, 0xfee00000u), -1);
    assert_int_equal(guest_cfg_msix_read(&g, 40 * 16 + 12, 4), 1); /* masked */
    assert_int_equal(guest_cfg_msix_read(&g, 40 * 16 + 8, 8), 1ull << 32);
    assert_int_equal(guest_cfg_msix_read(&g, 40 * 16, 8), 0);
    assert_int_equal(guest_cfg_msix_read(&g, 65 * 16, 4), ~0ull); /* past the table */
    /* a table that does not fit its BAR is not offered: no MSI-X at all */
    regs[0x74 / 4] = 0x00003fc0u; /* 65 entries from 0x3fc0 run past 16 KiB */
    guest_cfg_init(&g, &cfg, 0, DEV, bars, sizes);
    assert_false(guest_cfg_msix_table(&g, &gpa, &len));
    assert_int_equal(guest_cfg_read(&g, &cfg, 0x50, 2), 0x8005); /* MSI -> PCI Express */
    regs[0x74 / 4] = 0x00002001u; /* in BAR1, the upper half of BAR0 */
    guest_cfg_init(&g, &cfg, 0, DEV, bars, sizes);
    assert_false(guest_cfg_msix_table(&g, &gpa, &len));
}

static void test_msix_programmed(void **state)
{
    (void)state;
    uint32_t table[8 * 4];
    memset(table, 0xa5, sizeof(table));
    struct iommu_msi_msg m = {0xfee00010u, 0};
    guest_cfg_msix_program(table, 2, &m);
    assert_int_equal(table[8], 0xfee00010u);
    assert_int_equal(table[9], 0);
    assert_int_equal(table[10], 0);
    assert_int_equal(table[11], 0); /* unmasked */
    assert_int_equal(table[7], 0xa5a5a5a5u);
    assert_int_equal(table[12], 0xa5a5a5a5u);
    guest_cfg_msix_program(table, 2, NULL);
    assert_int_equal(table[11], 1); /* masked, the message left */
    assert_int_equal(table[8], 0xfee00010u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_header, setup),
        cmocka_unit_test_setup(test_bars_sized_not_moved, setup),
        cmocka_unit_test_setup(test_command, setup),
        cmocka_unit_test_setup(test_capability_list, setup),
        cmocka_unit_test_setup(test_capability_extents, setup),
        cmocka_unit_test_setup(test_overlapping_messages_hidden_and_quiet, setup),
        cmocka_unit_test_setup(test_bus_master_off, setup),
        cmocka_unit_test_setup(test_msi_shadowed, setup),
        cmocka_unit_test_setup(test_msi_programmed, setup),
        cmocka_unit_test_setup(test_msix_table, setup),
        cmocka_unit_test_setup(test_msix_programmed, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
