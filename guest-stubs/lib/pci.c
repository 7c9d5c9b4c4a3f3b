/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Configuration mechanism #1 on bus 0 (see sidecore/pci.h). */
#include "sidecore/pci.h"

#include "core/cpu.h"

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA 0xcfc
#define CAP_LIST 0x34
#define CAP_HOPS 48 /* (256 - 64) / 4: more is a loop */

static void select(unsigned devfn, unsigned reg)
{
    outl(CONFIG_ADDRESS, 0x80000000u | (devfn & 0xff) << 8 | (reg & 0xfc));
}

uint32_t sc_pci_read32(unsigned devfn, unsigned reg)
{
    select(devfn, reg);
    return inl(CONFIG_DATA);
}

void sc_pci_write32(unsigned devfn, unsigned reg, uint32_t v)
{
    select(devfn, reg);
    outl(CONFIG_DATA, v);
}

void sc_pci_write16(unsigned devfn, unsigned reg, uint16_t v)
{
    select(devfn, reg);
    outw((uint16_t)(CONFIG_DATA + (reg & 2)), v);
}

unsigned sc_pci_find_capability(unsigned devfn, uint8_t id)
{
    unsigned at = sc_pci_read32(devfn, CAP_LIST) & 0xfc;
    for (unsigned hops = 0; at >= 0x40 && hops < CAP_HOPS; hops++) {
        uint32_t head = sc_pci_read32(devfn, at);
        if ((head & 0xff) == id)
            return at;
        at = (head >> 8) & 0xfc;
    }
    return 0;
}
