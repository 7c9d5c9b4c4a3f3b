/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The virtio-pci registers under any sequence of accesses a guest can make: configuration
 * ports, BAR0 reads and writes of every size, messages raised and taken. Invariants: the
 * BAR stays where the hypervisor put it, vectors name an entry or none, pending bits only
 * for entries that exist, a queue is only enabled through VPCI_DO_QUEUE_ENABLE, and every
 * message that decodes is a guest vector to an APIC ID of at most 15 bits. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz_input.h"
#include "sidecore/vpci.h"

#define BAR 0xfe000000u

static void check_message(const struct vpci_msix_entry *m)
{
    uint32_t id = 0;
    uint8_t vector = 0;
    if (!vpci_msi_decode(m, &id, &vector))
        CHECK(vector >= 32 && id <= 0x7fff && (m->addr_lo & 0xfff00004u) == 0xfee00000u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vpci_dev d;
    vpci_init(&d, BAR, 8192);
    uint32_t latch = 0;
    bool enabled = false;
    struct input in = {data, size};
    while (in.left) {
        uint8_t op = u8(&in);
        unsigned sz = 1u << (op >> 6);
        uint16_t off = u16(&in);
        uint32_t lo = u32(&in), hi = (op & 8) ? u32(&in) : 0;
        uint64_t value = lo | (uint64_t)hi << 32;
        unsigned todo = 0;
        struct vpci_msix_entry m;
        switch (op & 7) {
        case 0:
            (void)vpci_bar_read(&d, off, sz);
            break;
        case 1:
            todo = vpci_bar_write(&d, off, sz, value);
            break;
        case 2: {
            uint32_t v;
            (void)vpci_port_read(&d, &latch, (uint16_t)(0xcf8 + (off & 7)), sz, &v);
            break;
        }
        case 3:
            (void)vpci_port_write(&d, &latch, (uint16_t)(0xcf8 + (off & 7)), sz, lo, &todo);
            break;
        case 4:
            todo = vpci_config_write(&d, off >> 8, off & 0xff, sz > 4 ? 4 : sz, lo);
            break;
        case 5:
            if (vpci_raise(&d, off & 1, &m))
                check_message(&m);
            break;
        case 6:
            while (vpci_take_pending(&d, &m))
                check_message(&m);
            break;
        default:
            if (vpci_needs_reset(&d, &m))
                check_message(&m);
            break;
        }
        if (todo & VPCI_DO_QUEUE_ENABLE) {
            CHECK(!enabled && d.queue_enabled);
            enabled = true;
        }
        if (todo & VPCI_DO_RESET) {
            CHECK(!d.queue_enabled && d.status == 0);
            enabled = false;
        }
        CHECK(d.queue_enabled == enabled);
        CHECK(d.queue_msix_vector < VPCI_MSIX_ENTRIES || d.queue_msix_vector == VPCI_NO_VECTOR);
        CHECK(d.msix_config < VPCI_MSIX_ENTRIES || d.msix_config == VPCI_NO_VECTOR);
        CHECK((d.pending >> VPCI_MSIX_ENTRIES) == 0);
        uint32_t bar = vpci_config_read(&d, VPCI_DEVFN, 0x10, 4);
        CHECK(bar == BAR || bar == ~(VPCI_BAR_SIZE - 1));
    }
    return 0;
}
