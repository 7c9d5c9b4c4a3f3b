/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The virtio-pci block device's registers, driven the way Linux's virtio_pci_modern and
 * virtio_blk drive them, and by a driver that writes anything anywhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sidecore/blk.h"
#include "sidecore/vpci.h"
#include "xorshift.h"

#define BAR 0xfe000000u
#define CAPACITY 0x123456789ull
#define DEVFN VPCI_DEVFN

static struct vpci_dev d;

static int setup(void **state)
{
    (void)state;
    vpci_init(&d, BAR, CAPACITY);
    return 0;
}

static uint32_t cfg(unsigned off, unsigned size)
{
    return vpci_config_read(&d, DEVFN, off, size);
}

static uint64_t bar(unsigned off, unsigned size)
{
    return vpci_bar_read(&d, off, size);
}

/* ---- PCI configuration space */
static void test_identity_and_empty_slots(void **state)
{
    (void)state;
    assert_int_equal(cfg(0, 4), 0x10421af4);
    assert_int_equal(cfg(0x08, 4) >> 8, 0x018000); /* class: other mass storage */
    assert_int_equal(cfg(0x08, 1), 1);             /* revision 1: modern only */
    assert_int_equal(cfg(0x06, 2) & 0x10, 0x10);   /* a capability list */
    assert_int_equal(cfg(0x3d, 1), 0);             /* no INTx pin */
    assert_int_equal(cfg(0x10, 4), BAR);
    for (unsigned devfn = 0; devfn < 256; devfn++) {
        if (devfn == DEVFN)
            continue;
        assert_int_equal(vpci_config_read(&d, devfn, 0, 4), 0xffffffffu);
        assert_int_equal(vpci_config_read(&d, devfn, 0, 2), 0xffff);
        assert_int_equal(vpci_config_write(&d, devfn, 0x04, 2, 0xffff), 0);
    }
    assert_int_equal(cfg(0x04, 2), 0); /* the writes to other functions went nowhere */
    assert_int_equal(cfg(0xfe, 4), 0); /* past the end */
    assert_int_equal(cfg(0x00, 3), 0); /* not a size */
}

/* Walks the capability list as Linux does; returns the offset of the virtio capability of
 * cfg_type, and checks the MSI-X one on the way. */
static unsigned find_virtio_cap(unsigned type, bool *saw_msix)
{
    unsigned found = 0, hops = 0;
    for (unsigned at = cfg(0x34, 1); at; at = cfg(at + 1, 1)) {
        assert_true(++hops < 48); /* no loop */
        assert_true(at >= 0x40 && at < 0x100);
        if (cfg(at, 1) == 0x11) {
            *saw_msix = true;
            assert_int_equal(cfg(at + 2, 2) & 0x7ff, VPCI_MSIX_ENTRIES - 1);
            assert_int_equal(cfg(at + 4, 4), VPCI_MSIX_TABLE_OFF); /* BIR 0 */
            assert_int_equal(cfg(at + 8, 4), VPCI_MSIX_PBA_OFF);
        } else if (cfg(at, 1) == 0x09 && cfg(at + 3, 1) == type) {
            found = at;
        }
    }
    return found;
}

static void test_virtio_capabilities(void **state)
{
    (void)state;
    static const struct {
        unsigned type, offset, min_len;
    } caps[] = {{1, VPCI_COMMON_OFF, 0x38},
                {2, VPCI_NOTIFY_OFF, 2},
                {3, VPCI_ISR_OFF, 1},
                {4, VPCI_DEVICE_OFF, 0x14}};
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        bool msix = false;
        unsigned at = find_virtio_cap(caps[i].type, &msix);
        assert_true(msix);
        assert_int_not_equal(at, 0);
        assert_int_equal(cfg(at + 4, 1), 0); /* BAR0 */
        assert_int_equal(cfg(at + 8, 4), caps[i].offset);
        assert_true(cfg(at + 12, 4) >= caps[i].min_len);
        assert_true(cfg(at + 8, 4) + cfg(at + 12, 4) <= VPCI_BAR_SIZE);
        if (caps[i].type == 2)
            assert_int_equal(cfg(at + 16, 4), 0); /* notify_off_multiplier */
    }
}

static void test_bar_sizing_and_fixed_address(void **state)
{
    (void)state;
    vpci_config_write(&d, DEVFN, 0x10, 4, 0xffffffff);
    assert_int_equal(cfg(0x10, 4), ~(VPCI_BAR_SIZE - 1));
    vpci_config_write(&d, DEVFN, 0x10, 4, BAR);
    assert_int_equal(cfg(0x10, 4), BAR);
    vpci_config_write(&d, DEVFN, 0x10, 4, 0x80000000); /* relocation: ignored */
    assert_int_equal(cfg(0x10, 4), BAR);
    vpci_config_write(&d, DEVFN, 0x14, 4, 0xffffffff); /* BAR1: not implemented */
    assert_int_equal(cfg(0x14, 4), 0);
    vpci_config_write(&d, DEVFN, 0x04, 2, 0xffff);
    assert_int_equal(cfg(0x04, 2), 0x0406); /* memory, bus master, INTx disable */
    vpci_config_write(&d, DEVFN, 0x05, 1, 0x00);
    assert_int_equal(cfg(0x04, 2), 0x0006); /* a byte write merges */
    vpci_config_write(&d, DEVFN, 0x00, 4, 0);
    assert_int_equal(cfg(0, 4), 0x10421af4); /* IDs are read-only */
}

/* ---- The driver's start, as virtio_pci_modern and virtio_blk do it */
static void status(uint8_t s)
{
    vpci_bar_write(&d, VPCI_COMMON_OFF + 0x14, 1, s);
}

static uint64_t features(void)
{
    vpci_bar_write(&d, 0x00, 4, 0);
    uint64_t lo = bar(0x04, 4);
    vpci_bar_write(&d, 0x00, 4, 1);
    return lo | bar(0x04, 4) << 32;
}

static void set_features(uint64_t f)
{
    vpci_bar_write(&d, 0x08, 4, 0);
    vpci_bar_write(&d, 0x0c, 4, (uint32_t)f);
    vpci_bar_write(&d, 0x08, 4, 1);
    vpci_bar_write(&d, 0x0c, 4, (uint32_t)(f >> 32));
}

static void test_feature_negotiation(void **state)
{
    (void)state;
    assert_int_equal(vpci_bar_write(&d, 0x14, 1, 0), VPCI_DO_RESET);
    assert_int_equal(bar(0x14, 1), 0);
    status(VPCI_S_ACKNOWLEDGE | VPCI_S_DRIVER);
    uint64_t f = features();
    assert_int_equal(f, (1ull << 32) | (1u << 9) | (1u << 2) | (1u << 1));
    vpci_bar_write(&d, 0x00, 4, 7);
    assert_int_equal(bar(0x04, 4), 0); /* no feature words past the second */
    /* a feature not offered (indirect descriptors): FEATURES_OK does not stick */
    set_features(f | (1u << 28));
    status(VPCI_S_ACKNOWLEDGE | VPCI_S_DRIVER | VPCI_S_FEATURES_OK);
    assert_int_equal(bar(0x14, 1) & VPCI_S_FEATURES_OK, 0);
    /* without VERSION_1 neither */
    set_features(f & ~(1ull << 32));
    status(VPCI_S_ACKNOWLEDGE | VPCI_S_DRIVER | VPCI_S_FEATURES_OK);
    assert_int_equal(bar(0x14, 1) & VPCI_S_FEATURES_OK, 0);
    set_features(f);
    status(VPCI_S_ACKNOWLEDGE | VPCI_S_DRIVER | VPCI_S_FEATURES_OK);
    assert_int_equal(bar(0x14, 1), VPCI_S_ACKNOWLEDGE | VPCI_S_DRIVER | VPCI_S_FEATURES_OK);
    set_features(0); /* after FEATURES_OK the features are fixed */
    vpci_bar_write(&d, 0x08, 4, 1);
    assert_int_equal(bar(0x0c, 4), 1);
}

static void test_device_configuration(void **state)
{
    (void)state;
    uint64_t capacity = bar(VPCI_DEVICE_OFF, 4) | bar(VPCI_DEVICE_OFF + 4, 4) << 32;
    assert_int_equal(capacity, CAPACITY);
    assert_int_equal(bar(VPCI_DEVICE_OFF, 8), CAPACITY);
    uint64_t size_max = bar(VPCI_DEVICE_OFF + 8, 4), seg_max = bar(VPCI_DEVICE_OFF + 12, 4);
    assert_true(seg_max * size_max <= SC_BLK_MAX_BYTES); /* a whole request is served */
    assert_true(seg_max + 2 <= BLK_QUEUE_MAX);
    vpci_bar_write(&d, VPCI_DEVICE_OFF, 8, 0);
    assert_int_equal(bar(VPCI_DEVICE_OFF, 8), CAPACITY); /* read-only */
    assert_int_equal(bar(0x12, 2), 1);                   /* num_queues */
}

static void test_queue_setup(void **state)
{
    (void)state;
    assert_int_equal(bar(0x18, 2), BLK_QUEUE_MAX);
    vpci_bar_write(&d, 0x16, 2, 1); /* queue 1: does not exist */
    assert_int_equal(bar(0x18, 2), 0);
    assert_int_equal(vpci_bar_write(&d, 0x1c, 2, 1), 0);
    vpci_bar_write(&d, 0x16, 2, 0);
    vpci_bar_write(&d, 0x18, 2, 128);
    vpci_bar_write(&d, 0x1a, 2, 1);
    assert_int_equal(bar(0x1a, 2), 1);
    vpci_bar_write(&d, 0x1a, 2, VPCI_MSIX_ENTRIES); /* no such entry: refused */
    assert_int_equal(bar(0x1a, 2), VPCI_NO_VECTOR);
    vpci_bar_write(&d, 0x1a, 2, 1);
    vpci_bar_write(&d, 0x10, 2, 0); /* msix_config */
    assert_int_equal(bar(0x10, 2), 0);
    vpci_bar_write(&d, 0x20, 4, 0x11000); /* desc, by halves */
    vpci_bar_write(&d, 0x24, 4, 0x1);
    vpci_bar_write(&d, 0x28, 8, 0x12000); /* driver (avail), whole */
    vpci_bar_write(&d, 0x30, 4, 0x13000); /* device (used) */
    vpci_bar_write(&d, 0x34, 4, 0);
    assert_int_equal(bar(0x20, 8), 0x100011000ull);
    assert_int_equal(bar(0x24, 4), 1);
    assert_int_equal(vpci_bar_write(&d, VPCI_NOTIFY_OFF, 2, 0), 0); /* not enabled yet */
    assert_int_equal(vpci_bar_write(&d, 0x1c, 2, 1), VPCI_DO_QUEUE_ENABLE);
    assert_int_equal(bar(0x1c, 2), 1);
    assert_int_equal(vpci_bar_write(&d, 0x1c, 2, 1), 0); /* once */
    uint64_t desc, avail, used;
    uint16_t size;
    vpci_queue_rings(&d, &desc, &avail, &used, &size);
    assert_int_equal(desc, 0x100011000ull);
    assert_int_equal(avail, 0x12000);
    assert_int_equal(used, 0x13000);
    assert_int_equal(size, 128);
    /* an enabled queue's addresses and size are fixed */
    vpci_bar_write(&d, 0x20, 8, 0x5000);
    vpci_bar_write(&d, 0x18, 2, 4);
    vpci_queue_rings(&d, &desc, &avail, &used, &size);
    assert_int_equal(desc, 0x100011000ull);
    assert_int_equal(size, 128);
    assert_int_equal(vpci_bar_write(&d, VPCI_NOTIFY_OFF, 2, 0), VPCI_DO_NOTIFY);
    /* a reset forgets the queue */
    assert_int_equal(vpci_bar_write(&d, 0x14, 1, 0), VPCI_DO_RESET);
    assert_int_equal(bar(0x1c, 2), 0);
    assert_int_equal(bar(0x20, 8), 0);
    assert_int_equal(bar(0x1a, 2), VPCI_NO_VECTOR);
    assert_int_equal(vpci_bar_write(&d, VPCI_NOTIFY_OFF, 2, 0), 0);
}

/* ---- Messages */
static void msix_entry(unsigned i, uint32_t addr, uint32_t data, uint32_t ctrl)
{
    unsigned at = VPCI_MSIX_TABLE_OFF + 16 * i;
    vpci_bar_write(&d, at, 4, addr);
    vpci_bar_write(&d, at + 4, 4, 0);
    vpci_bar_write(&d, at + 8, 4, data);
    vpci_bar_write(&d, at + 12, 4, ctrl);
}

static void test_msix_masks_and_pending(void **state)
{
    (void)state;
    struct vpci_msix_entry m;
    vpci_bar_write(&d, 0x1a, 2, 1); /* the queue's entry */
    /* MSI-X off: no message, the ISR says it (read to clear) */
    assert_false(vpci_raise(&d, true, &m));
    assert_int_equal(bar(VPCI_ISR_OFF, 1), 1);
    assert_int_equal(bar(VPCI_ISR_OFF, 1), 0);
    /* entries start masked: the message is held, its pending bit set */
    assert_int_equal(vpci_config_write(&d, DEVFN, 0x86, 2, 0x8000), 0);
    assert_int_equal(bar(VPCI_MSIX_TABLE_OFF + 16 + 12, 4), 1);
    assert_false(vpci_raise(&d, true, &m));
    assert_int_equal(bar(VPCI_MSIX_PBA_OFF, 8), 2);
    /* unmasking says so; the held message comes out once */
    msix_entry(0, 0xfee01000, 0x41, 1);
    unsigned at = VPCI_MSIX_TABLE_OFF + 16;
    vpci_bar_write(&d, at, 8, 0xfee02000ull); /* a qword write: address low and high */
    vpci_bar_write(&d, at + 8, 4, 0x42);
    assert_int_equal(vpci_bar_write(&d, at + 12, 4, 0), VPCI_DO_UNMASKED);
    assert_true(vpci_take_pending(&d, &m));
    assert_int_equal(m.addr_lo, 0xfee02000);
    assert_int_equal(m.data, 0x42);
    assert_false(vpci_take_pending(&d, &m));
    assert_int_equal(bar(VPCI_MSIX_PBA_OFF, 4), 0);
    /* deliverable now */
    assert_true(vpci_raise(&d, true, &m));
    assert_int_equal(m.data, 0x42);
    /* the function mask holds every entry */
    vpci_config_write(&d, DEVFN, 0x86, 2, 0xc000);
    assert_false(vpci_raise(&d, true, &m));
    assert_int_equal(vpci_config_write(&d, DEVFN, 0x86, 2, 0x8000), VPCI_DO_UNMASKED);
    assert_true(vpci_take_pending(&d, &m));
    /* no vector for configuration changes: only the ISR; then NEEDS_RESET with one */
    assert_false(vpci_needs_reset(&d, &m));
    assert_int_equal(bar(VPCI_ISR_OFF, 1), 2);
    assert_int_equal(bar(0x14, 1) & VPCI_S_NEEDS_RESET, VPCI_S_NEEDS_RESET);
    vpci_bar_write(&d, 0x10, 2, 0);
    msix_entry(0, 0xfee01000, 0x41, 0);
    assert_true(vpci_needs_reset(&d, &m));
    assert_int_equal(m.data, 0x41);
    status(VPCI_S_DRIVER); /* the driver cannot clear the device's bit */
    assert_int_equal(bar(0x14, 1), VPCI_S_DRIVER | VPCI_S_NEEDS_RESET);
    status(0);
    assert_int_equal(bar(0x14, 1), 0);
}

/* Configuration mechanism #1: the latch, the enable bit, bus 0 only, byte lanes. */
static void test_config_ports(void **state)
{
    (void)state;
    uint32_t latch = 0, v = 0;
    unsigned todo = 99;
    assert_true(vpci_port_write(&d, &latch, 0xcf8, 4, 0x80000800u, &todo)); /* 00:01.0, 0 */
    assert_int_equal(todo, 0);
    assert_true(vpci_port_read(&d, &latch, 0xcf8, 4, &v));
    assert_int_equal(v, 0x80000800u);
    assert_true(vpci_port_read(&d, &latch, 0xcfc, 4, &v));
    assert_int_equal(v, 0x10421af4);
    assert_true(vpci_port_read(&d, &latch, 0xcfe, 2, &v)); /* the upper half */
    assert_int_equal(v, 0x1042);
    assert_true(vpci_port_read(&d, &latch, 0xcfd, 1, &v));
    assert_int_equal(v, 0x1a);
    /* register 0x84, the MSI-X capability: its message control through port 0xcfe */
    latch = 0x80000884u;
    assert_true(vpci_port_write(&d, &latch, 0xcfe, 2, 0x8000, &todo));
    assert_int_equal(cfg(0x86, 2) & 0x8000, 0x8000);
    /* enable bit off, another bus, another device: nothing there */
    static const uint32_t nothing[] = {0x00000800u, 0x80010800u, 0x80001000u, 0x8000ff00u};
    for (size_t i = 0; i < sizeof(nothing) / sizeof(nothing[0]); i++) {
        latch = nothing[i];
        assert_true(vpci_port_read(&d, &latch, 0xcfc, 4, &v));
        assert_int_equal(v, 0xffffffffu);
        assert_true(vpci_port_write(&d, &latch, 0xcfc, 2, 0x0006, &todo));
        assert_int_equal(todo, 0);
    }
    assert_int_equal(cfg(0x04, 2), 0); /* none of those writes reached the command register */
    /* ports and sizes that are not the mechanism's */
    assert_false(vpci_port_read(&d, &latch, 0xcf8, 2, &v));
    assert_false(vpci_port_write(&d, &latch, 0xcf9, 1, 6, &todo)); /* the reset control */
    assert_false(vpci_port_read(&d, &latch, 0xcfb, 1, &v));
    assert_false(vpci_port_read(&d, &latch, 0xd00, 4, &v));
    assert_false(vpci_port_read(&d, &latch, 0xcfc, 8, &v));
    assert_int_equal(latch, nothing[3]); /* refused accesses leave the latch alone */
}

static void test_msi_decode(void **state)
{
    (void)state;
    static const struct {
        uint32_t addr_lo, addr_hi, data;
        uint32_t apic_id; /* ~0: refused */
        uint8_t vector;
    } cases[] = {
        {0xfee01000, 0, 0x0041, 1, 0x41},      /* fixed, APIC ID 1 */
        {0xfeeff000, 0, 0x01ff, 0xff, 0xff},   /* lowest priority, the last 8-bit ID */
        {0xfee00020, 0, 0x0020, 0x100, 0x20},  /* extended destination: bits 11:5 = 1 */
        {0xfee34fe0, 0, 0x0050, 0x7f34, 0x50}, /* the largest extended ID */
        {0xfee01000, 0, 0x001f, ~0u, 0},       /* vector 31: the hypervisor's */
        {0xfee01000, 0, 0x0002, ~0u, 0},       /* vector 2 */
        {0xfee01004, 0, 0x0041, ~0u, 0},       /* logical destination */
        {0xfee01010, 0, 0x0041, ~0u, 0},       /* remappable format */
        {0xfee01000, 0, 0x0441, ~0u, 0},       /* NMI */
        {0xfee01000, 0, 0x0541, ~0u, 0},       /* INIT */
        {0xfee01000, 0, 0x0241, ~0u, 0},       /* SMI */
        {0xfee01000, 0, 0x0741, ~0u, 0},       /* ExtINT */
        {0xfed01000, 0, 0x0041, ~0u, 0},       /* not 0xfee..... */
        {0xfee01000, 1, 0x0041, ~0u, 0},       /* above 4 GiB */
        {0x00000000, 0, 0x0000, ~0u, 0},       /* an entry never written */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vpci_msix_entry m = {cases[i].addr_lo, cases[i].addr_hi, cases[i].data, 0};
        uint32_t id = 0xdead;
        uint8_t vector = 0;
        const char *why = vpci_msi_decode(&m, &id, &vector);
        if (cases[i].apic_id == ~0u) {
            assert_non_null(why);
            assert_int_equal(id, 0xdead); /* nothing filled */
        } else {
            assert_null(why);
            assert_int_equal(id, cases[i].apic_id);
            assert_int_equal(vector, cases[i].vector);
        }
    }
}

/* Anything at any offset and size: no crash, and the invariants the hypervisor relies on
 * hold (vectors name an entry or none, the BAR stays where it is). */
static void test_random_accesses(void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (unsigned i = 0; i < 200000; i++) {
        uint64_t r = xorshift64(&seed), value = xorshift64(&seed);
        unsigned size = 1u << (r & 3), off = (unsigned)(r >> 8) % (VPCI_BAR_SIZE + 16);
        switch ((r >> 4) & 3) {
        case 0:
            (void)vpci_bar_read(&d, off, size);
            break;
        case 1:
            (void)vpci_bar_write(&d, off < 0x40 ? off : off % 0x40 + (r & 0x3f00), size, value);
            break;
        case 2:
            (void)vpci_config_write(&d, (r >> 30) & 1 ? DEVFN : (r >> 31) & 0xff, off & 0x1ff,
                                    size > 4 ? 4 : size, (uint32_t)value);
            break;
        default: {
            struct vpci_msix_entry m;
            (void)vpci_raise(&d, value & 1, &m);
            (void)vpci_take_pending(&d, &m);
        }
        }
        assert_true(d.queue_msix_vector < VPCI_MSIX_ENTRIES ||
                    d.queue_msix_vector == VPCI_NO_VECTOR);
        assert_true(d.msix_config < VPCI_MSIX_ENTRIES || d.msix_config == VPCI_NO_VECTOR);
        assert_true(cfg(0x10, 4) == BAR || cfg(0x10, 4) == ~(VPCI_BAR_SIZE - 1));
        assert_int_equal(d.pending >> VPCI_MSIX_ENTRIES, 0);
    }
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_identity_and_empty_slots),
        T(test_virtio_capabilities),
        T(test_bar_sizing_and_fixed_address),
        T(test_feature_negotiation),
        T(test_device_configuration),
        T(test_queue_setup),
        T(test_msix_masks_and_pending),
        T(test_msi_decode),
        T(test_config_ports),
        T(test_random_accesses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
