/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* A partition's own PCI function as its vCPUs reach it (sidecore/assigned.c): configuration
 * accesses by bus 0 devfn, the MSI-X table's trapped page, and which messages the guest may
 * have routed. The device is a fake configuration space and a page of host memory for its
 * BAR; the IOMMU glue is a fake router that records what it is asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/percpu.h"
#include "sidecore/assigned.h"
#include "sidecore/svc_env.h"
#include "vmexit/vcpu.h"

#define DEV PCI_BDF(0, 4, 0)
#define DEVFN 0x10 /* function 0 of slot 2: the first owned function */
#define MSI_AT 0x50
#define MSIX_AT 0x70
#define MSIX_DEVICE 40 /* entries the device has; 32 are shown */
#define APIC_BASE 4    /* vCPU i runs on APIC ID 4 + i */

/* ---- the hypervisor around it: the CPU (for the spinlock's owner check), APIC IDs, the
 * log ---- */
unsigned this_cpu_index(void)
{
    return 1;
}

uint32_t vcpu_apic(const struct vcpu *v)
{
    return APIC_BASE + v->id;
}

static char logged[4096];

void log_msg(enum log_level level, const char *fmt, ...)
{
    (void)level;
    va_list ap;
    va_start(ap, fmt);
    size_t used = strlen(logged);
    vsnprintf(logged + used, sizeof(logged) - used, fmt, ap);
    va_end(ap);
    strncat(logged, "\n", sizeof(logged) - strlen(logged) - 1);
}

/* ---- the device: configuration space and BAR0 (16 KiB of host memory, table at 0) ---- */
static uint32_t regs[64];
static uint32_t bar0[4096] __attribute__((aligned(4096)));

static uint32_t dev_read(void *ctx, uint16_t segment, pci_bdf bdf, uint16_t off)
{
    (void)ctx;
    assert_int_equal(segment, 0);
    assert_int_equal(bdf, DEV);
    return regs[off / 4];
}

static void dev_write(void *ctx, uint16_t segment, pci_bdf bdf, uint16_t off, uint32_t v)
{
    (void)ctx;
    assert_int_equal(segment, 0);
    assert_int_equal(bdf, DEV);
    regs[off / 4] = v;
}

static const struct pci_cfg pci = {NULL, dev_read, dev_write};

/* ---- the IOMMU glue: remembers the last route, answers with a message of its own ---- */
static struct {
    unsigned routes, unroutes, slot;
    struct iommu_irq irq;
} router_seen;

static int route(void *ctx, unsigned index, unsigned slot, const struct iommu_irq *irq,
                 struct iommu_msi_msg *msg, struct refusal *why)
{
    (void)ctx;
    (void)why;
    assert_int_equal(index, 0);
    router_seen.routes++;
    router_seen.slot = slot;
    router_seen.irq = *irq;
    *msg = (struct iommu_msi_msg){0xfee00010u | slot << 5, 0};
    return 0;
}

static void unroute(void *ctx, unsigned index, unsigned slot)
{
    (void)ctx;
    (void)slot;
    assert_int_equal(index, 0);
    router_seen.unroutes++;
}

static struct partition part;
static struct assigned_bus bus;

static int setup(void **state)
{
    (void)state;
    memset(regs, 0, sizeof(regs));
    memset(bar0, 0, sizeof(bar0));
    memset(&router_seen, 0, sizeof(router_seen));
    logged[0] = 0;
    uint64_t base = (uint64_t)(uintptr_t)bar0;
    regs[0] = 0x00101b36u;
    regs[1] = 0x00100006u; /* capability list; memory, bus master */
    regs[4] = (uint32_t)base | 4u;
    regs[5] = (uint32_t)(base >> 32);
    regs[0x34 / 4] = MSI_AT;
    regs[MSI_AT / 4] = 0x00807005u;                                  /* MSI, 64-bit -> MSI-X */
    regs[MSIX_AT / 4] = (uint32_t)(MSIX_DEVICE - 1) << 16 | 0x0011u; /* last */
    regs[(MSIX_AT + 4) / 4] = 0;                                     /* table: BAR0 + 0 */
    for (unsigned k = 0; k < MSIX_DEVICE; k++)
        bar0[4 * k + 3] = 1; /* masked, as after reset */
    const uint32_t bars[PCI_MAX_BARS] = {regs[4], regs[5]};
    const uint64_t sizes[PCI_MAX_BARS] = {sizeof(bar0)};
    memset(&part, 0, sizeof(part));
    part.name = "p";
    part.nvcpus = 2;
    for (unsigned i = 0; i < 2; i++) {
        part.vcpus[i].partition = &part;
        part.vcpus[i].id = i;
    }
    life_init(&part.life, 2);
    memset(&bus, 0, sizeof(bus));
    bus.pci = &pci;
    bus.router = (struct assigned_router){NULL, route, unroute};
    bus.n = 1;
    guest_cfg_init(&bus.fn[0].cfg, &pci, 0, DEV, bars, sizes);
    bus.fn[0].msix_table = bar0;
    bus.fn[0].trap_gpa = base;
    bus.fn[0].trap_len = 4096;
    part.assigned = &bus;
    return 0;
}

static uint32_t cfg_read(unsigned off, unsigned size)
{
    uint32_t v = 0;
    assert_true(assigned_config(&part.vcpus[0], DEVFN, off, size, false, &v));
    return v;
}

static void cfg_write(unsigned off, unsigned size, uint32_t v)
{
    assert_true(assigned_config(&part.vcpus[1], DEVFN, off, size, true, &v));
}

/* The guest's MSI: address (low, high), data, then enable. */
static void msi(uint32_t lo, uint32_t hi, uint16_t data)
{
    cfg_write(MSI_AT + 2, 2, 0);
    cfg_write(MSI_AT + 4, 4, lo);
    cfg_write(MSI_AT + 8, 4, hi);
    cfg_write(MSI_AT + 12, 2, data);
    cfg_write(MSI_AT + 2, 2, 1);
}

static void test_devfn(void **state)
{
    (void)state;
    uint32_t v = 0;
    assert_int_equal(cfg_read(0, 4), 0x00101b36u);
    assert_false(assigned_config(&part.vcpus[0], DEVFN + 1, 0, 4, false, &v)); /* function 1 */
    assert_false(assigned_config(&part.vcpus[0], DEVFN + 8, 0, 4, false, &v)); /* slot 3 */
    assert_false(assigned_config(&part.vcpus[0], 0x08, 0, 4, false, &v));      /* the disk's */
    assert_false(assigned_config(&part.vcpus[0], 0x100, 0, 4, false, &v));     /* not bus 0 */
    part.assigned = NULL;
    assert_false(assigned_config(&part.vcpus[0], DEVFN, 0, 4, false, &v));
}

static void test_msi_refused(void **state)
{
    (void)state;
    static const struct {
        uint32_t lo, hi;
        uint16_t data;
        const char *why;
    } bad[] = {
        {0xfee09000u, 0, 0x41, "the destination is not a core of the partition"},
        {0xfee00000u, 0, 0x41, "the destination is not a core of the partition"}, /* APIC 0 */
        {0xfee04000u, 0, 0x0e, "the vector is not a guest vector"},
        {0xfee04000u, 0, 0x441, "only fixed interrupts"},           /* NMI */
        {0xfee04000u, 0, 0x541, "only fixed interrupts"},           /* INIT */
        {0xfee04000u, 0, 0x241, "only fixed interrupts"},           /* SMI */
        {0xfee04004u, 0, 0x41, "only fixed interrupts"},            /* logical */
        {0xfee04010u, 0, 0x41, "an interrupt-remapping format"},    /* remappable */
        {0xfee04000u, 1, 0x41, "not an interrupt message address"}, /* above 4 GiB */
        {0xfed04000u, 0, 0x41, "not an interrupt message address"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        logged[0] = 0;
        bus.fn[0].msi_refusal_logged = false;
        msi(bad[i].lo, bad[i].hi, bad[i].data);
        assert_int_equal(router_seen.routes, 0);
        assert_int_equal(regs[MSI_AT / 4] >> 16 & 1, 0); /* the device's MSI stays off */
        assert_int_equal(regs[MSI_AT / 4 + 1], 0);       /* and has no address */
        assert_non_null(strstr(logged, bad[i].why));
        assert_int_equal(cfg_read(MSI_AT + 2, 2) & 1, 1); /* the guest sees its own shadow */
    }
    /* logged once per function */
    logged[0] = 0;
    msi(0xfee09000u, 0, 0x41);
    assert_null(strstr(logged, "refused"));
}

static void test_msi_routed(void **state)
{
    (void)state;
    msi(0xfee05000u, 0, 0x41); /* vCPU 1's core */
    assert_int_equal(router_seen.routes, 1);
    assert_int_equal(router_seen.irq.apic_id, APIC_BASE + 1);
    assert_int_equal(router_seen.irq.vector, 0x41);
    assert_int_equal(router_seen.slot, 32); /* after the 32 MSI-X entries shown */
    assert_int_equal(regs[MSI_AT / 4 + 1], 0xfee00010u | 32u << 5);
    assert_int_equal(regs[MSI_AT / 4 + 3], 0);
    assert_int_equal(regs[MSI_AT / 4] >> 16 & 1, 1);
    /* turned off: the entry goes, the device's MSI too */
    cfg_write(MSI_AT + 2, 2, 0);
    assert_int_equal(regs[MSI_AT / 4] >> 16 & 1, 0);
    assert_true(router_seen.unroutes > 0);
}

static void mmio(unsigned off, unsigned size, bool write, uint64_t *v)
{
    uint64_t gpa = (uint64_t)(uintptr_t)bar0 + off;
    assert_true(assigned_mmio_at(&part.vcpus[0], gpa));
    assert_true(assigned_mmio(&part.vcpus[0], gpa, size, write, v));
}

static void test_msix(void **state)
{
    (void)state;
    assert_int_equal(cfg_read(MSIX_AT + 2, 2), 31); /* 32 entries shown */
    /* entry 2: message, then unmask */
    uint64_t v = 0xfee04000u;
    mmio(2 * 16, 8, true, &v);
    v = 0x51;
    mmio(2 * 16 + 8, 4, true, &v);
    assert_int_equal(router_seen.routes, 0); /* masked: nothing yet */
    assert_int_equal(bar0[2 * 4], 0);
    v = 0;
    mmio(2 * 16 + 12, 4, true, &v);
    assert_int_equal(router_seen.routes, 1);
    assert_int_equal(router_seen.slot, 2);
    assert_int_equal(router_seen.irq.apic_id, APIC_BASE);
    assert_int_equal(router_seen.irq.vector, 0x51);
    assert_int_equal(bar0[2 * 4], 0xfee00010u | 2u << 5);
    assert_int_equal(bar0[2 * 4 + 2], 0);
    assert_int_equal(bar0[2 * 4 + 3], 0); /* unmasked on the device */
    mmio(2 * 16, 4, false, &v);
    assert_int_equal(v, 0xfee04000u); /* the guest reads its own */
    /* a live entry aimed at another core: masked on the device, no route */
    v = 0xfee07000u;
    mmio(2 * 16, 4, true, &v);
    assert_int_equal(router_seen.routes, 1);
    assert_int_equal(bar0[2 * 4 + 3], 1);
    assert_non_null(strstr(logged, "MSI-X entry 2 (address 0:fee07000, data 51) refused"));
    /* an entry the guest is not shown (35 of the device's 40): masked, takes nothing */
    v = 0xfee00000u | 7u << 12;
    mmio(35 * 16, 4, true, &v);
    v = 0x402;
    mmio(35 * 16 + 8, 4, true, &v);
    v = 0;
    mmio(35 * 16 + 12, 4, true, &v);
    assert_int_equal(bar0[35 * 4], 0);
    assert_int_equal(bar0[35 * 4 + 2], 0);
    assert_int_equal(bar0[35 * 4 + 3], 1);
    mmio(35 * 16 + 12, 4, false, &v);
    assert_int_equal(v, 1);
    /* past the device's table, in the trapped page: the device's own registers */
    v = 0x1234;
    mmio(MSIX_DEVICE * 16, 4, true, &v);
    assert_int_equal(bar0[MSIX_DEVICE * 4], 0x1234);
    bar0[MSIX_DEVICE * 4 + 1] = 0xabcd;
    mmio(MSIX_DEVICE * 16 + 4, 4, false, &v);
    assert_int_equal(v, 0xabcd);
    /* not in the trapped page */
    assert_false(assigned_mmio_at(&part.vcpus[0], (uint64_t)(uintptr_t)bar0 + 4096));
}

static void test_ended_partition(void **state)
{
    (void)state;
    /* a live entry before the end */
    uint64_t v = 0xfee04000u;
    mmio(2 * 16, 8, true, &v);
    v = 0x51;
    mmio(2 * 16 + 8, 4, true, &v);
    v = 0;
    mmio(2 * 16 + 12, 4, true, &v);
    assert_int_equal(router_seen.routes, 1);
    router_seen.routes = 0;
    assert_true(life_stop(&part.life));
    /* after it, a change of that entry and another register of the page change nothing */
    v = 0x52;
    mmio(2 * 16 + 8, 4, true, &v);
    assert_int_equal(router_seen.routes, 0);
    assert_int_equal(router_seen.unroutes, 0);
    assert_int_equal(bar0[2 * 4 + 2], 0); /* the device's message as routed (data 0) */
    v = 0x1234;
    mmio(MSIX_DEVICE * 16, 4, true, &v);
    assert_int_equal(bar0[MSIX_DEVICE * 4], 0);
    mmio(2 * 16 + 8, 4, false, &v);
    assert_int_equal(v, ~0ull);
    assert_int_equal(cfg_read(0, 4), 0xffffffffu);
    msi(0xfee05000u, 0, 0x41);
    cfg_write(0x04, 2, 0x0006);
    regs[1] = 0x00100000u;
    cfg_write(0x04, 2, 0x0006); /* bus mastering stays off */
    assert_int_equal(regs[1] & 0xffff, 0);
    v = 1;
    mmio(2 * 16 + 12, 4, true, &v); /* masking it: nothing either */
    assert_int_equal(router_seen.unroutes, 0);
    assert_int_equal(bar0[2 * 4 + 3], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_devfn, setup),
        cmocka_unit_test_setup(test_msi_refused, setup),
        cmocka_unit_test_setup(test_msi_routed, setup),
        cmocka_unit_test_setup(test_msix, setup),
        cmocka_unit_test_setup(test_ended_partition, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
