/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: a hostile driver of the MSI-X table of an NVMe controller its partition owns
 * (devices=; QEMU's nvme, whose table is in its own page of BAR0, trapped by the hypervisor).
 * It brings up the admin queues and sends Identify commands, each completed with an
 * interrupt on MSI-X entry 0:
 *   - entry 0 aimed at APIC ID 0 (the boot CPU), at an exception vector, as an NMI, and in
 *     the remapping format, each unmasked: the command completes, no interrupt arrives;
 *   - an entry past those the hypervisor shows (40 of the device's 65): it reads masked and
 *     empty after the guest wrote it;
 *   - entry 0 aimed at this core: the interrupt arrives, and a steady phase of commands and
 *     their interrupts takes no exit.
 * The Identify data (the controller's PCI vendor ID) shows the DMA reached the guest. */
#include "sidecore/guest.h"
#include "sidecore/pci.h"

#define NVME_CLASS 0x010802u /* mass storage, NVM, NVMe */
/* Controller registers (NVMe 1.4, section 3.1) */
#define CAP 0x00
#define CC 0x14
#define CSTS 0x1c
#define AQA 0x24
#define ASQ 0x28
#define ACQ 0x30
#define SQ0TDBL 0x1000
#define CC_EN 1u
#define CC_ENTRY_SIZES (6u << 16 | 4u << 20) /* 64-byte submission, 16-byte completion */
#define CSTS_RDY 1u
#define QSIZE 8
#define OP_IDENTIFY 0x06
#define CNS_CONTROLLER 1
/* MSI-X table entries (PCI 3.0, 6.8.2) */
#define ENTRY(k) (16ull * (k))
#define VECTOR 0x62
#define QUIET_MS 100
#define WAIT_MS 5000
#define STEADY_COMMANDS 8

struct sqe {
    uint8_t opcode, flags;
    uint16_t cid;
    uint32_t nsid;
    uint64_t reserved, mptr, prp1, prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct sqe) == 64, "an NVMe submission queue entry");

struct cqe {
    uint32_t result, reserved;
    uint16_t sq_head, sq_id, cid, status; /* status bit 0: the phase tag */
};
_Static_assert(sizeof(struct cqe) == 16, "an NVMe completion queue entry");

static struct sqe sq[QSIZE] __attribute__((aligned(4096)));
static volatile struct cqe cq[QSIZE] __attribute__((aligned(4096)));
static volatile uint8_t identify[4096] __attribute__((aligned(4096)));
static uint64_t bar, table, tsc_hz;
static unsigned sq_tail, cq_head, cq_phase = 1, doorbell_stride;
static volatile unsigned irqs;

static void on_interrupt(uint8_t vector)
{
    (void)vector;
    irqs++;
    lapic_eoi();
}

static bool wait_ms(bool (*done)(void), unsigned ms)
{
    uint64_t until = sc_rdtsc() + tsc_hz / 1000 * ms;
    while (!done())
        if (sc_rdtsc() > until)
            return false;
    return true;
}

static bool ready(void)
{
    return sc_mmio_read32(bar + CSTS) & CSTS_RDY;
}

static bool completed(void)
{
    return (cq[cq_head].status & 1) == cq_phase;
}

static bool enable(void)
{
    sc_mmio_write32(bar + CC, 0);
    uint64_t until = sc_rdtsc() + tsc_hz / 1000 * WAIT_MS;
    while ((sc_mmio_read32(bar + CSTS) & CSTS_RDY) && sc_rdtsc() < until)
        sc_pause();
    sc_mmio_write32(bar + AQA, (QSIZE - 1) << 16 | (QSIZE - 1));
    sc_mmio_write64(bar + ASQ, (uint64_t)(uintptr_t)sq);
    sc_mmio_write64(bar + ACQ, (uint64_t)(uintptr_t)cq);
    sc_mmio_write32(bar + CC, CC_ENTRY_SIZES | CC_EN);
    return wait_ms(ready, WAIT_MS);
}

/* One Identify (controller) command; true once its completion is in the queue. */
static bool identify_controller(void)
{
    uint16_t cid = (uint16_t)(sq_tail + 1);
    sq[sq_tail] = (struct sqe){.opcode = OP_IDENTIFY,
                               .cid = cid,
                               .prp1 = (uint64_t)(uintptr_t)identify,
                               .cdw10 = CNS_CONTROLLER};
    sq_tail = (sq_tail + 1) % QSIZE;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    sc_mmio_write32(bar + SQ0TDBL, sq_tail);
    if (!wait_ms(completed, WAIT_MS))
        return false;
    bool ok = cq[cq_head].cid == cid && (cq[cq_head].status >> 1) == 0;
    cq_head = (cq_head + 1) % QSIZE;
    if (cq_head == 0)
        cq_phase ^= 1;
    sc_mmio_write32(bar + SQ0TDBL + doorbell_stride, cq_head); /* the completion queue's */
    return ok;
}

static void entry_set(unsigned k, uint32_t address, uint32_t data, bool masked)
{
    sc_mmio_write32(table + ENTRY(k) + 12, 1);
    sc_mmio_write32(table + ENTRY(k), address);
    sc_mmio_write32(table + ENTRY(k) + 4, 0);
    sc_mmio_write32(table + ENTRY(k) + 8, data);
    sc_mmio_write32(table + ENTRY(k) + 12, masked ? 1 : 0);
}

/* Interrupts that arrive during one command and QUIET_MS after it; ~0u if it failed. */
static unsigned command_interrupts(unsigned ms)
{
    unsigned before = irqs;
    if (!identify_controller())
        return ~0u;
    uint64_t until = sc_rdtsc() + tsc_hz / 1000 * ms;
    while (irqs == before && sc_rdtsc() < until)
        sc_pause();
    return irqs - before;
}

static const struct sc_device *find_nvme(const struct sc_boot_info *bi)
{
    for (unsigned i = 0; i < bi->ndevices && i < 8; i++)
        if (bi->devices[i].class_rev >> 8 == NVME_CLASS)
            return &bi->devices[i];
    return 0;
}

int main(const struct sc_boot_info *bi)
{
    tsc_hz = bi->tsc_hz;
    const struct sc_device *d = find_nvme(bi);
    if (!d || d->bar_size[0] < 0x4000) {
        sc_fail("no NVMe controller with a 16 KiB BAR0 among the %u devices", bi->ndevices);
        return 1;
    }
    bar = d->bar_gpa[0];
    for (uint64_t off = 0; off < d->bar_size[0]; off += 4096)
        sc_map_identity(bar + off, SC_PTE_PCD | SC_PTE_PWT);
    unsigned devfn = d->cfg_devfn, at = sc_pci_find_capability(devfn, 0x11);
    uint32_t where = at ? sc_pci_read32(devfn, at + 4) : 0;
    unsigned shown = at ? ((sc_pci_read32(devfn, at) >> 16) & 0x7ff) + 1 : 0;
    int failures = !sc_check(at && (where & 7) == 0 && shown == 32,
                             "MSI-X capability at 0x%02x: %u entries shown, table at BAR0 + "
                             "0x%x",
                             at, shown, where & ~7u);
    if (failures)
        return failures;
    table = bar + (where & ~7u);
    doorbell_stride = 4u << (sc_mmio_read32(bar + CAP + 4) & 0xf); /* CAP.DSTRD */
    sc_pci_write16(devfn, at + 2, 0x8000);                         /* MSI-X on, function unmasked */
    lapic_init();
    sc_set_irq_handler(VECTOR, on_interrupt);
    sc_irq_enable();
    failures += !sc_check(enable(), "controller enabled with an admin queue pair");

    uint32_t self = bi->apic_ids[sc_vcpu_id()];
    static const struct {
        bool self;
        uint32_t address_bits, data;
        const char *what;
    } hostile[] = {
        {false, 0, VECTOR, "to APIC ID 0, the boot CPU"},
        {true, 0, 0x0e, "to vector 14, an exception"},
        {true, 0, 0x400 | VECTOR, "as an NMI"},
        {true, 0x10, 0, "in the remapping format, entry 0"},
    };
    for (unsigned i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        uint32_t address =
            0xfee00000u | (hostile[i].self ? (self & 0xff) << 12 : 0) | hostile[i].address_bits;
        entry_set(0, address, hostile[i].data, false);
        unsigned got = command_interrupts(QUIET_MS);
        failures += !sc_check(got == 0,
                              "MSI-X entry 0 %s (address %08x, data %04x): the command "
                              "completed, %u interrupts",
                              hostile[i].what, address, hostile[i].data, got);
    }
    entry_set(40, 0xfee00000u | (self & 0xff) << 12, VECTOR, false);
    uint32_t hidden_ctrl = sc_mmio_read32(table + ENTRY(40) + 12);
    uint32_t hidden_data = sc_mmio_read32(table + ENTRY(40) + 8);
    failures += !sc_check(hidden_ctrl == 1 && hidden_data == 0,
                          "MSI-X entry 40, past the 32 shown, reads masked and empty after a "
                          "write (control %x, data %x)",
                          hidden_ctrl, hidden_data);

    /* the device holds the refused commands' message as pending and sends it once the
     * entry is unmasked: let it come before counting */
    entry_set(0, 0xfee00000u | (self & 0xff) << 12, VECTOR, false);
    sc_wait_until(sc_rdtsc() + tsc_hz / 1000 * QUIET_MS);
    unsigned got = command_interrupts(WAIT_MS);
    failures += !sc_check(got == 1 && identify[0] == 0x36 && identify[1] == 0x1b,
                          "MSI-X entry 0 to this core (APIC ID %u), vector 0x%x: %u interrupt; "
                          "Identify names PCI vendor %02x%02x",
                          self, VECTOR, got, identify[1], identify[0]);

    unsigned before = irqs, done = 0;
    sc_steady_begin();
    for (unsigned i = 0; i < STEADY_COMMANDS; i++) {
        unsigned want = irqs + 1;
        done += identify_controller();
        uint64_t until = sc_rdtsc() + tsc_hz / 1000 * WAIT_MS;
        while (irqs < want && sc_rdtsc() < until)
            sc_pause();
    }
    uint64_t exits = sc_steady_end();
    failures += !sc_check(done == STEADY_COMMANDS && irqs - before == STEADY_COMMANDS && exits == 0,
                          "%u of %u commands completed, %u interrupts, with %llu exits", done,
                          STEADY_COMMANDS, irqs - before, (unsigned long long)exits);
    return failures;
}
