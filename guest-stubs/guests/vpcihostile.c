/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: a hostile driver of the partition's virtio-pci disk (PCI 00:01.0, BAR0 at
 * SC_GPA_VIRTIO_BLK). It finds the device through configuration mechanism #1, then:
 *   - gives it a queue outside the partition's RAM: refused, DEVICE_NEEDS_RESET;
 *   - after a reset, a good queue: the used ring says NO_NOTIFY, a read of sector 0 returns
 *     the image's bytes with 0 exits, its completion the MSI-X message's vector;
 *   - a data buffer outside the partition's RAM: that request fails with an I/O error and the
 *     next one completes;
 *   - a chain that loops: the queue breaks, DEVICE_NEEDS_RESET, nothing completes, the ISR
 *     says "configuration change" (no vector for it);
 *   - after a reset, an MSI-X entry aimed at an APIC ID outside the partition: the request
 *     still completes, and no interrupt arrives.
 * The disk's sector 0 must hold the bytes (i * 7 + 1) & 0xff. One vCPU. */
#include "sidecore/guest.h"
#include "sidecore/pci.h"
#include "sidecore/ring.h"

#define BAR SC_GPA_VIRTIO_BLK
#define DEVFN 0x08 /* 00:01.0 */
#define VECTOR 0x60
#define QSIZE 8
/* BAR0 registers (virtio 1.x common configuration, ISR, MSI-X table of this device) */
#define STATUS 0x14
#define GF_SELECT 0x08
#define GF 0x0c
#define Q_SELECT 0x16
#define Q_SIZE 0x18
#define Q_MSIX 0x1a
#define Q_ENABLE 0x1c
#define Q_DESC 0x20
#define Q_DRIVER 0x28
#define Q_DEVICE 0x30
#define ISR 0x1000
#define MSIX_ENTRY1 0x3810
#define S_NEEDS_RESET 0x40
#define S_FEATURES_OK 8

static uint32_t cfg_read32(unsigned reg)
{
    return sc_pci_read32(DEVFN, reg);
}

static void cfg_write16(unsigned reg, uint16_t v)
{
    sc_pci_write16(DEVFN, reg, v);
}

/* BAR0's registers, each access one MOV (sidecore/pci.h) */
static void w8(unsigned off, uint8_t v)
{
    sc_mmio_write8(BAR + off, v);
}
static void w16(unsigned off, uint16_t v)
{
    sc_mmio_write16(BAR + off, v);
}
static void w32(unsigned off, uint32_t v)
{
    sc_mmio_write32(BAR + off, v);
}
static uint8_t r8(unsigned off)
{
    return sc_mmio_read8(BAR + off);
}

static struct sc_vq_desc desc[QSIZE] __attribute__((aligned(16)));
static struct {
    uint16_t flags, idx, ring[QSIZE];
} avail __attribute__((aligned(4)));
static struct {
    uint16_t flags, idx;
    struct sc_vq_used_elem ring[QSIZE];
} used __attribute__((aligned(4)));
static struct sc_blk_req_header hdr;
static uint8_t data[512];
static volatile uint8_t status_byte;
static volatile unsigned irqs;

static void on_completion(uint8_t vector)
{
    (void)vector;
    irqs++;
    lapic_eoi();
}

static void set_u64(unsigned off, uint64_t v)
{
    w32(off, (uint32_t)v);
    w32(off + 4, (uint32_t)(v >> 32));
}

/* Reset, features (VERSION_1 only), the queue at the given rings, DRIVER_OK; the status. */
static uint8_t start_device(uint64_t d, uint64_t a, uint64_t u)
{
    w8(STATUS, 0);
    w8(STATUS, 1 | 2);
    w32(GF_SELECT, 1);
    w32(GF, 1); /* VERSION_1: feature bit 32 */
    w32(GF_SELECT, 0);
    w32(GF, 0);
    w8(STATUS, 1 | 2 | S_FEATURES_OK);
    w16(Q_SELECT, 0);
    w16(Q_SIZE, QSIZE);
    w16(Q_MSIX, 1);
    set_u64(Q_DESC, d);
    set_u64(Q_DRIVER, a);
    set_u64(Q_DEVICE, u);
    w16(Q_ENABLE, 1);
    w8(STATUS, 1 | 2 | S_FEATURES_OK | 4);
    return r8(STATUS);
}

static void msix_entry1(uint32_t apic_id, uint32_t vector)
{
    w32(MSIX_ENTRY1, 0xfee00000u | (apic_id & 0xff) << 12);
    w32(MSIX_ENTRY1 + 4, 0);
    w32(MSIX_ENTRY1 + 8, vector);
    w32(MSIX_ENTRY1 + 12, 0); /* unmasked */
}

/* Posts a read of sector 0 at head: descriptors head (header), head+1 (data at buf), head+2
 * (status); loop: the data descriptor links back to the header instead. */
static void post_to(uint16_t head, bool loop, uint64_t buf)
{
    hdr = (struct sc_blk_req_header){.type = SC_BLK_T_IN, .sector = 0};
    status_byte = 0xff;
    desc[head] = (struct sc_vq_desc){(uint64_t)(uintptr_t)&hdr, sizeof(hdr), SC_VQ_DESC_F_NEXT,
                                     (uint16_t)(head + 1)};
    desc[head + 1] = (struct sc_vq_desc){buf, sizeof(data), SC_VQ_DESC_F_WRITE | SC_VQ_DESC_F_NEXT,
                                         (uint16_t)(loop ? head : head + 2)};
    desc[head + 2] =
        (struct sc_vq_desc){(uint64_t)(uintptr_t)&status_byte, 1, SC_VQ_DESC_F_WRITE, 0};
    avail.ring[avail.idx % QSIZE] = head;
    __atomic_store_n(&avail.idx, (uint16_t)(avail.idx + 1), __ATOMIC_RELEASE);
}

static void post(uint16_t head, bool loop)
{
    post_to(head, loop, (uint64_t)(uintptr_t)data);
}

/* Waits up to ms for used->idx to reach want (and, if irq_too, an interrupt); true if so. */
static bool wait_used(uint16_t want, bool irq_too, unsigned before, uint64_t tsc_hz, unsigned ms)
{
    uint64_t end = sc_rdtsc() + tsc_hz / 1000 * ms;
    while (sc_rdtsc() < end) {
        if (__atomic_load_n(&used.idx, __ATOMIC_ACQUIRE) == want && (!irq_too || irqs > before))
            return true;
        sc_pause();
    }
    return false;
}

static uint64_t exits_now(void)
{
    struct sc_exit_counters c;
    return sc_exit_counters(0, &c) == 0 ? c.total : 0;
}

int main(const struct sc_boot_info *bi)
{
    if (bi->vcpu_id != 0)
        return 0;
    uint64_t hz = bi->tsc_hz ? bi->tsc_hz : 2000000000ull;
    bool ok = true;
    ok &= sc_check(cfg_read32(0) == 0x10421af4u, "vpci: 00:01.0 is 1af4:1042 (read %x)",
                   cfg_read32(0));
    ok &= sc_check(sc_pci_read32(0x10, 0) == 0xffffffffu, /* 00:02.0: nothing */
                   "vpci: 00:02.0 reads all ones");
    ok &= sc_check(cfg_read32(0x10) == BAR, "vpci: BAR0 at 0x%x", cfg_read32(0x10));
    for (unsigned i = 0; i < 4; i++)
        if (sc_map_identity(BAR + i * 4096ull, SC_PTE_W | SC_PTE_PCD)) {
            sc_fail("vpci: cannot map BAR0 in the guest page tables");
            return 1;
        }
    lapic_init();
    sc_set_irq_handler(VECTOR, on_completion);
    cfg_write16(0x86, 0x8000); /* MSI-X on (capability at 0x84) */

    /* a queue outside the partition's RAM */
    uint64_t outside = bi->memory_size + 0x10000;
    uint8_t st = start_device(outside, outside + 0x1000, outside + 0x2000);
    ok &= sc_check(st & S_NEEDS_RESET,
                   "vpci: a queue outside the partition's RAM: refused, "
                   "DEVICE_NEEDS_RESET (status 0x%x)",
                   st);
    w8(STATUS, 0);
    ok &= sc_check(r8(STATUS) == 0, "vpci: reset clears the status");

    /* a good queue: polled, a read with 0 exits, completion by MSI-X */
    msix_entry1(bi->apic_ids[0], VECTOR);
    st = start_device((uintptr_t)desc, (uintptr_t)&avail, (uintptr_t)&used);
    ok &= sc_check(st == 0x0f && used.flags == SC_VQ_USED_F_NO_NOTIFY,
                   "vpci: queue started (status 0x%x), the used ring says NO_NOTIFY", st);
    unsigned before = irqs;
    uint64_t exits = exits_now();
    sc_irq_enable();
    post(0, false);
    bool done = wait_used(1, true, before, hz, 5000);
    sc_irq_disable();
    exits = exits_now() - exits - 1; /* the second count's own exit */
    bool same = true;
    for (unsigned i = 0; i < sizeof(data); i++)
        same &= data[i] == (uint8_t)(i * 7 + 1);
    ok &= sc_check(done && status_byte == SC_BLK_S_OK && same && used.ring[0].len == 513 &&
                       exits == 0,
                   "vpci: sector 0 read through the device with %llu exits, completion by "
                   "MSI-X vector 0x%x (%u interrupt%s), the image's bytes",
                   (unsigned long long)exits, VECTOR, irqs - before, irqs - before == 1 ? "" : "s");

    /* a data buffer outside the partition: an I/O error for that request, the queue goes on */
    post_to(0, false, bi->memory_size + 0x1000);
    done = wait_used(2, false, 0, hz, 5000);
    ok &= sc_check(done && status_byte == SC_BLK_S_IOERR && used.ring[1].len == 1,
                   "vpci: a data buffer outside the partition's RAM: the request failed with "
                   "an I/O error (status %u)",
                   status_byte);
    post(0, false);
    done = wait_used(3, false, 0, hz, 5000);
    ok &= sc_check(done && status_byte == SC_BLK_S_OK,
                   "vpci: the next request completes normally (status %u)", status_byte);

    /* a chain that loops */
    post(3, true);
    uint64_t end = sc_rdtsc() + hz * 5;
    while (!(r8(STATUS) & S_NEEDS_RESET) && sc_rdtsc() < end)
        sc_pause();
    st = r8(STATUS);
    uint8_t isr = r8(ISR);
    ok &= sc_check((st & S_NEEDS_RESET) && used.idx == 3 && isr == 2,
                   "vpci: a looping chain: DEVICE_NEEDS_RESET (status 0x%x), nothing completed "
                   "(used idx %u), ISR 0x%x (configuration change)",
                   st, used.idx, isr);

    /* an MSI-X entry aimed outside the partition */
    avail.idx = 0;
    used.idx = 0;
    w8(STATUS, 0);
    msix_entry1((bi->apic_ids[0] + 0x40) & 0xff, VECTOR);
    start_device((uintptr_t)desc, (uintptr_t)&avail, (uintptr_t)&used);
    sc_irq_enable(); /* the completions above interrupted with interrupts off: take them */
    sc_wait_until(sc_rdtsc() + hz / 100);
    before = irqs;
    post(0, false);
    done = wait_used(1, false, before, hz, 5000);
    sc_wait_until(sc_rdtsc() + hz / 20); /* 50 ms for a stray interrupt to show */
    sc_irq_disable();
    ok &= sc_check(done && status_byte == SC_BLK_S_OK && irqs == before,
                   "vpci: an MSI-X entry aimed outside the partition: the request completed, "
                   "no interrupt arrived (%u)",
                   irqs - before);
    w8(STATUS, 0);
    return ok ? 0 : 1;
}
