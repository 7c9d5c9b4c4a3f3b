/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: drives the DMA engine of QEMU's edu device, a PCI function its partition owns
 * (devices=). It finds the device on its own bus 0 (configuration mechanism #1), where the
 * BAR reads where it is mapped and MSI messages are the hypervisor's to check. DMA out of
 * and back into its own memory must match; DMA at addresses outside its memory must be
 * refused by the IOMMU (the hypervisor logs and counts each fault) and must leave the device
 * working; MSI messages aimed at another core, at an exception vector, as an NMI or in the
 * remapping format must raise nothing; its own message must arrive; the register accesses,
 * the DMA and the interrupts take no exit. */
#include "sidecore/guest.h"
#include "sidecore/pci.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_ID 0x00
#define EDU_LIVENESS 0x04
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_INTR_STATUS 0x24
#define EDU_INTR_ACK 0x64
#define EDU_CMD_START 1
#define EDU_CMD_TO_RAM 2 /* else from RAM into the device */
#define EDU_CMD_IRQ 4    /* an interrupt when done */
#define EDU_IRQ_DMA 0x100
#define MSI_VECTOR 0x61
#define QUIET_MS 300       /* after a transfer whose interrupt must not come */
#define EDU_BUFFER 0x40000 /* the device's own 4 KiB, as a DMA address on its side */
#define CHUNK 4096
#define DMA_TIMEOUT_MS 5000 /* edu completes a transfer 100 ms (virtual) after it starts */
#define STEADY_ROUNDS 4

static volatile uint8_t *regs;
static uint64_t tsc_hz;
static bool dma_irq;           /* transfers ask for an interrupt */
static volatile unsigned irqs; /* taken on MSI_VECTOR */
static volatile uint32_t irq_status;

static uint32_t rd32(unsigned off)
{
    return *(volatile uint32_t *)(regs + off);
}

static void wr32(unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(regs + off) = v;
}

static void wr64(unsigned off, uint64_t v)
{
    *(volatile uint64_t *)(regs + off) = v;
}

/* One transfer; false if the device did not finish it in time. */
static bool dma(uint64_t src, uint64_t dst, unsigned count, bool to_ram)
{
    wr64(EDU_DMA_SRC, src);
    wr64(EDU_DMA_DST, dst);
    wr64(EDU_DMA_COUNT, count);
    wr64(EDU_DMA_CMD, EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0) | (dma_irq ? EDU_CMD_IRQ : 0));
    uint64_t deadline = sc_rdtsc() + tsc_hz / 1000 * DMA_TIMEOUT_MS;
    while (rd32(EDU_DMA_CMD) & EDU_CMD_START)
        if (sc_rdtsc() > deadline)
            return false;
    return true;
}

static uint32_t checksum(const volatile uint8_t *p, unsigned n)
{
    uint32_t h = 2166136261u;
    for (unsigned i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Out of a into the device, then back into b; true if b now equals a. */
static bool round_trip(volatile uint8_t *a, volatile uint8_t *b, uint32_t seed)
{
    for (unsigned i = 0; i < CHUNK; i++) {
        seed = seed * 1103515245u + 12345u;
        a[i] = (uint8_t)(seed >> 16);
        b[i] = 0;
    }
    return dma((uint64_t)(uintptr_t)a, EDU_BUFFER, CHUNK, false) &&
           dma(EDU_BUFFER, (uint64_t)(uintptr_t)b, CHUNK, true) &&
           checksum(a, CHUNK) == checksum(b, CHUNK);
}

static int64_t pt_request(uint16_t op, uint64_t gpa, uint64_t rights)
{
    uint64_t args[6] = {gpa, CHUNK, rights};
    return sc_svc_client_call(sc_svc_self(), SC_SERVICE_PT, op, args, 0);
}

static bool holds(const volatile uint8_t *p, uint8_t v)
{
    for (unsigned i = 0; i < CHUNK; i++)
        if (p[i] != v)
            return false;
    return true;
}

/* The device's view follows the partition's own page-table requests: after pt_unmap, DMA
 * into the page is refused; after a pt_protect to read-only, DMA may read it but not write
 * it. c is a page of own memory; the device's buffer holds other bytes throughout. */
static int follows_page_tables(const struct sc_boot_info *bi, volatile uint8_t *c)
{
    if (sc_rings_init(bi)) {
        sc_fail("no request rings for the pt service");
        return 1;
    }
    int failures = 0;
    uint64_t gpa = (uint64_t)(uintptr_t)c;
    for (unsigned i = 0; i < CHUNK; i++)
        c[i] = 0x5a;
    int64_t st = pt_request(SC_OP_PT_UNMAP, gpa, 0);
    bool done = st == 0 && dma(EDU_BUFFER, gpa, CHUNK, true);
    st = st ? st : pt_request(SC_OP_PT_MAP, gpa, SC_PT_READ | SC_PT_WRITE);
    failures += !sc_check(done && st == 0 && holds(c, 0x5a),
                          "after pt_unmap of 0x%llx, DMA into it was refused: it still holds its "
                          "bytes once mapped back (status %lld)",
                          (unsigned long long)gpa, (long long)st);
    st = pt_request(SC_OP_PT_PROTECT, gpa, SC_PT_READ);
    done = st == 0 && dma(EDU_BUFFER, gpa, CHUNK, true) && holds(c, 0x5a);
    done = done && dma(gpa, EDU_BUFFER, CHUNK, false) &&
           dma(EDU_BUFFER, gpa + CHUNK, CHUNK, true) && holds(c + CHUNK, 0x5a);
    failures += !sc_check(done,
                          "after pt_protect of 0x%llx to read-only, DMA may read it but "
                          "not write it (status %lld)",
                          (unsigned long long)gpa, (long long)st);
    return failures;
}

/* A DMA write to 0xfee00000 is an interrupt request: here INIT to APIC ID 0, the boot CPU
 * (compatibility format: delivery mode 101b in data bits 10:8). The IOMMU must refuse it;
 * if it did not, the boot CPU would be reset and the run would end without a result. */
static int raise_interrupt(volatile uint8_t *a)
{
    const uint32_t init_to_apic0 = 5u << 8;
    for (unsigned i = 0; i < CHUNK; i++)
        a[i] = (uint8_t)(init_to_apic0 >> (8 * (i % 4)));
    sc_printf("dma: writing an INIT request to 0xfee00000\n");
    bool done = dma((uint64_t)(uintptr_t)a, EDU_BUFFER, CHUNK, false) &&
                dma(EDU_BUFFER, 0xfee00000ull, 4, true);
    return !sc_check(done, "the device finished the write to the interrupt address");
}

/* Whether word appears on its own in the command line. */
static bool arg_present(const char *cmdline, const char *word)
{
    unsigned wl = 0;
    while (word[wl])
        wl++;
    for (unsigned i = 0; i + wl <= 255 && cmdline[i]; i++) {
        if (i && cmdline[i - 1] != ' ')
            continue;
        unsigned k = 0;
        while (k < wl && cmdline[i + k] == word[k])
            k++;
        if (k == wl && (cmdline[i + k] == ' ' || cmdline[i + k] == 0))
            return true;
    }
    return false;
}

/* The value of key=0x... in the command line, or 0. */
static uint64_t arg_hex(const char *cmdline, const char *key)
{
    unsigned kl = 0;
    while (key[kl])
        kl++;
    for (unsigned i = 0; i < 255 && cmdline[i]; i++) {
        if ((i && cmdline[i - 1] != ' ') || i + kl + 3 > 255)
            continue;
        unsigned k = 0;
        while (k < kl && cmdline[i + k] == key[k])
            k++;
        if (k < kl || cmdline[i + k] != '=' || cmdline[i + k + 1] != '0' ||
            cmdline[i + k + 2] != 'x')
            continue;
        uint64_t v = 0;
        for (unsigned j = i + k + 3; j < 255 && cmdline[j] && cmdline[j] != ' '; j++) {
            char c = cmdline[j];
            v = v * 16 + (uint64_t)(c >= 'a' ? c - 'a' + 10 : c - '0');
        }
        return v;
    }
    return 0;
}

/* With debug dma_canaries=yes the hypervisor names a page of its own and one of another
 * partition: DMA aimed at their host addresses must reach neither (it checks them). */
static int aim_at_canaries(const struct sc_boot_info *bi)
{
    uint64_t hv = arg_hex(bi->cmdline, "canary_hv"), peer = arg_hex(bi->cmdline, "canary_peer");
    if (!hv && !peer)
        return 0;
    sc_printf("dma: writing to the hypervisor's canary at 0x%llx and another partition's at "
              "0x%llx\n",
              (unsigned long long)hv, (unsigned long long)peer);
    bool done =
        (!hv || dma(EDU_BUFFER, hv, CHUNK, true)) && (!peer || dma(EDU_BUFFER, peer, CHUNK, true));
    return !sc_check(done, "the device finished the transfers aimed at the canaries");
}

/* ---- its configuration space, on bus 0 of configuration mechanism #1 ---- */
static unsigned cfg_devfn;

static uint32_t cfg_read32(unsigned reg)
{
    return sc_pci_read32(cfg_devfn, reg);
}

static void cfg_write32(unsigned reg, uint32_t v)
{
    sc_pci_write32(cfg_devfn, reg, v);
}

static void cfg_write16(unsigned reg, uint16_t v)
{
    sc_pci_write16(cfg_devfn, reg, v);
}

/* The device as the guest finds it: its IDs, BAR0 where it is mapped, and sizing. */
static int probe(const struct sc_device *d)
{
    int failures = 0;
    uint32_t id = cfg_read32(0x00), bar = cfg_read32(0x10);
    failures += !sc_check(id == ((uint32_t)EDU_DEVICE << 16 | EDU_VENDOR),
                          "configuration space at 00:%02x.%u reads %08x", cfg_devfn >> 3,
                          cfg_devfn & 7, id);
    failures += !sc_check((bar & ~0xfu) == (uint32_t)d->bar_gpa[0],
                          "BAR0 reads 0x%08x, where it is mapped", bar);
    cfg_write32(0x10, 0xffffffffu);
    uint32_t mask = cfg_read32(0x10);
    cfg_write32(0x10, 0x12345000u); /* a move: ignored */
    failures += !sc_check((mask & ~0xfu) == (uint32_t) ~(d->bar_size[0] - 1) &&
                              cfg_read32(0x10) == bar && (rd32(EDU_ID) & 0xff) == 0xed,
                          "BAR0 sizes to %08x, stays put when moved, and still answers", mask);
    return failures;
}

static void on_msi(uint8_t vector)
{
    (void)vector;
    uint32_t st = rd32(EDU_INTR_STATUS);
    wr32(EDU_INTR_ACK, st);
    irq_status |= st;
    irqs++;
    lapic_eoi();
}

/* MSI on, with the message address (compatibility format unless told) and data. */
static void msi_program(unsigned at, uint32_t address, uint16_t data)
{
    uint32_t head = cfg_read32(at);
    bool is64 = (head >> 16) & 0x80;
    cfg_write16(at + 2, 0); /* off while it changes */
    cfg_write32(at + 4, address);
    if (is64)
        cfg_write32(at + 8, 0);
    cfg_write16(at + (is64 ? 12 : 8), data);
    cfg_write16(at + 2, 1);
}

/* One transfer asking for an interrupt; how many arrived within ms after it finished, or
 * NOT_DONE. */
#define NOT_DONE 1000u
static unsigned dma_with_irq(volatile uint8_t *a, unsigned ms)
{
    unsigned before = irqs;
    dma_irq = true;
    bool done = dma((uint64_t)(uintptr_t)a, EDU_BUFFER, CHUNK, false);
    dma_irq = false;
    uint64_t until = sc_rdtsc() + tsc_hz / 1000 * ms;
    while (done && irqs == before && sc_rdtsc() < until)
        sc_pause();
    return done ? irqs - before : NOT_DONE;
}

/* Messages the hypervisor must refuse raise nothing anywhere; the partition's own does. */
static int interrupts(const struct sc_boot_info *bi, volatile uint8_t *a)
{
    unsigned at = sc_pci_find_capability(cfg_devfn, 0x05);
    if (!sc_check(at != 0, "an MSI capability at 0x%02x", at))
        return 1;
    uint32_t self = bi->apic_ids[sc_vcpu_id()];
    static const struct {
        uint32_t apic;
        uint16_t data;
        bool remappable, self;
        const char *what;
    } hostile[] = {
        {0, MSI_VECTOR, false, false, "to APIC ID 0, the boot CPU"},
        {0, 0x0e, false, true, "to vector 14, an exception"},
        {0, 0x400 | MSI_VECTOR, false, true, "as an NMI"},
        {0, 0, true, true, "in the remapping format, entry 0"},
    };
    int failures = 0;
    lapic_init();
    sc_set_irq_handler(MSI_VECTOR, on_msi);
    sc_irq_enable();
    for (unsigned i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        uint32_t apic = hostile[i].self ? self : hostile[i].apic;
        uint32_t address = 0xfee00000u | (apic & 0xff) << 12 | (hostile[i].remappable ? 0x10 : 0);
        msi_program(at, address, hostile[i].data);
        unsigned got = dma_with_irq(a, QUIET_MS);
        failures += !sc_check(got == 0, "MSI %s (address %08x, data %04x): %u interrupts",
                              hostile[i].what, address, hostile[i].data, got);
    }
    msi_program(at, 0xfee00000u | (self & 0xff) << 12 | ((self >> 8) & 0x7f) << 5, MSI_VECTOR);
    irq_status = 0;
    unsigned got = dma_with_irq(a, DMA_TIMEOUT_MS);
    failures += !sc_check(got == 1 && (irq_status & EDU_IRQ_DMA),
                          "MSI to this core (APIC ID %u), vector 0x%x: %u interrupt, status %x",
                          self, MSI_VECTOR, got, irq_status);
    return failures;
}

static const struct sc_device *find_edu(const struct sc_boot_info *bi)
{
    for (unsigned i = 0; i < bi->ndevices && i < 8; i++)
        if (bi->devices[i].vendor == EDU_VENDOR && bi->devices[i].device == EDU_DEVICE)
            return &bi->devices[i];
    return 0;
}

int main(const struct sc_boot_info *bi)
{
    tsc_hz = bi->tsc_hz;
    const struct sc_device *d = find_edu(bi);
    if (!d || !d->bar_size[0]) {
        sc_fail("no edu device with a memory BAR0 among the %u devices of the boot info",
                bi->ndevices);
        return 1;
    }
    for (uint64_t off = 0; off < 0x1000; off += 0x1000)
        sc_map_identity(d->bar_gpa[0] + off, SC_PTE_PCD | SC_PTE_PWT);
    regs = (volatile uint8_t *)(uintptr_t)d->bar_gpa[0];
    cfg_devfn = d->cfg_devfn;
    int failures = probe(d);
    uint32_t id = rd32(EDU_ID);
    failures += !sc_check(
        (id & 0xff) == 0xed, "edu %02x:%02x.%u: BAR0 at 0x%llx (%llu KiB), identification 0x%08x",
        d->bdf >> 8, (d->bdf >> 3) & 31, d->bdf & 7, (unsigned long long)d->bar_gpa[0],
        (unsigned long long)(d->bar_size[0] >> 10), id);
    wr32(EDU_LIVENESS, 0x5a5aa5a5u);
    failures += !sc_check(rd32(EDU_LIVENESS) == ~0x5a5aa5a5u,
                          "edu answers through its BAR (liveness register inverted)");

    volatile uint8_t *a = (volatile uint8_t *)(uintptr_t)bi->free_gpa;
    volatile uint8_t *b = a + CHUNK;
    failures +=
        !sc_check(round_trip(a, b, 1),
                  "DMA of %u bytes out of own memory at 0x%llx "
                  "and back into 0x%llx: contents match",
                  CHUNK, (unsigned long long)(uintptr_t)a, (unsigned long long)(uintptr_t)b);

    /* Addresses this partition does not own: past its RAM, and the host's first 16 MiB
     * above it. The IOMMU refuses each; the hypervisor logs the device and address. */
    const uint64_t beyond = bi->memory_size + 0x100000;
    const uint64_t far = 0x100000000ull;
    sc_printf("dma: writing to 0x%llx and 0x%llx, reading from 0x%llx: each must be refused\n",
              (unsigned long long)beyond, (unsigned long long)far,
              (unsigned long long)(beyond + CHUNK));
    bool done = dma(EDU_BUFFER, beyond, CHUNK, true) && dma(EDU_BUFFER, far, CHUNK, true) &&
                dma(beyond + CHUNK, EDU_BUFFER, CHUNK, false);
    failures += !sc_check(done, "the device finished the three refused transfers");
    failures += aim_at_canaries(bi);
    if (arg_present(bi->cmdline, "interrupt_attack"))
        failures += raise_interrupt(a);
    failures += !sc_check(round_trip(a, b, 2), "DMA into own memory still matches after them");
    failures += interrupts(bi, a);

    /* the steady phase: device registers, DMA and its interrupts, no exit */
    unsigned before = irqs;
    dma_irq = true;
    sc_steady_begin();
    unsigned good = 0;
    for (unsigned r = 0; r < STEADY_ROUNDS; r++)
        good += round_trip(a, b, 3 + r);
    uint64_t until = sc_rdtsc() + tsc_hz / 1000 * DMA_TIMEOUT_MS;
    while (irqs - before < 2 * STEADY_ROUNDS && sc_rdtsc() < until)
        sc_pause();
    uint64_t exits = sc_steady_end();
    dma_irq = false;
    failures += !sc_check(good == STEADY_ROUNDS && exits == 0 && irqs - before == 2 * STEADY_ROUNDS,
                          "%u of %u DMA round trips matched, %u completion interrupts, with %llu "
                          "exits",
                          good, STEADY_ROUNDS, irqs - before, (unsigned long long)exits);
    failures += follows_page_tables(bi, b + CHUNK);
    return failures;
}
