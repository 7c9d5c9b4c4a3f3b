/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Local APIC: ID, EOI and the IPIs the boot CPU needs (Intel SDM vol. 3, ch. 11). */
#include "core/apic.h"

#include "core/cpu.h"
#include "core/klib.h"
#include "core/time.h"
#include "core/trap.h"

#define APIC_BASE_EXTD (1ull << 10) /* x2APIC mode */
#define APIC_BASE_EN (1ull << 11)

/* xAPIC register offsets; the x2APIC MSR is 0x800 + offset / 16. */
#define APIC_ID 0x20
#define APIC_EOI 0xb0
#define APIC_VERSION 0x30 /* bits 23:16: the highest LVT entry this LAPIC has */
#define APIC_TPR 0x80
#define APIC_SVR 0xf0
#define APIC_ISR 0x100 /* eight 32-bit registers, 0x10 apart */
#define APIC_LVT_CMCI 0x2f0
#define APIC_LVT_THERMAL 0x330
#define APIC_LVT_PERF 0x340
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE 0x3e0
#define TIMER_DIVIDE_16 0x3
#define LVT_MASKED (1u << 16)
#define X2APIC_MSR(off) (0x800u + (off) / 16)

#define SVR_ENABLE (1u << 8)
#define ICR_FIXED (0u << 8)
#define ICR_NMI (4u << 8)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_PENDING (1u << 12) /* xAPIC only: delivery status */
#define ICR_ASSERT (1u << 14)

static bool x2apic;
static volatile uint32_t *mmio;
static uint64_t mmio_phys;
static uint64_t timer_ticks_per_ms; /* at divide-by-16, measured against the TSC */

/* The legacy 8259 PICs' interrupt masks (OCW1) */
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_DATA 0xa1

void apic_init_bsp(uint64_t mmio_base)
{
    /* every interrupt comes through the LAPICs: a BIOS leaves the 8259's timer (IRQ 0)
     * unmasked, and it would arrive as an ExtINT on vector 8, an exception vector (UEFI
     * firmware masks it already) */
    outb(PIC_SLAVE_DATA, 0xff);
    outb(PIC_MASTER_DATA, 0xff);
    x2apic = (cpuid(1, 0).ecx & CPUID_1_ECX_X2APIC) != 0;
    mmio = (volatile uint32_t *)(uintptr_t)mmio_base;
    mmio_phys = mmio_base;
}

uint64_t apic_mmio_base(void)
{
    return mmio_phys;
}

bool apic_x2apic_mode(void)
{
    return x2apic;
}

static uint32_t reg_read(uint32_t off)
{
    return x2apic ? (uint32_t)rdmsr(X2APIC_MSR(off)) : mmio[off / 4];
}

static void reg_write(uint32_t off, uint32_t v)
{
    if (x2apic)
        wrmsr(X2APIC_MSR(off), v);
    else
        mmio[off / 4] = v;
}

void apic_init_cpu(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE) | APIC_BASE_EN;
    if (x2apic)
        base |= APIC_BASE_EXTD;
    wrmsr(MSR_APIC_BASE, base);
    reg_write(APIC_SVR, SVR_ENABLE | VECTOR_SPURIOUS);
}

uint32_t apic_read_id(void)
{
    return x2apic ? reg_read(APIC_ID) : reg_read(APIC_ID) >> 24;
}

void apic_eoi(void)
{
    reg_write(APIC_EOI, 0);
}

static int send_ipi(uint32_t apic_id, uint32_t low)
{
    if (x2apic) {
        /* WRMSR to the x2APIC ICR is not serializing: without the fence the IPI can
         * overtake the mailbox store it announces (Intel SDM vol. 3, 11.12.3) */
        __asm__ volatile("mfence; lfence" ::: "memory");
        wrmsr(X2APIC_MSR(APIC_ICR_LOW), ((uint64_t)apic_id << 32) | low);
        return 0;
    }
    mmio[APIC_ICR_HIGH / 4] = apic_id << 24;
    mmio[APIC_ICR_LOW / 4] = low;
    for (int i = 0; i < 1000; i++) {
        if (!(mmio[APIC_ICR_LOW / 4] & ICR_PENDING))
            return 0;
        udelay(1);
    }
    return -E_TIMEDOUT;
}

int apic_send_init(uint32_t apic_id)
{
    return send_ipi(apic_id, ICR_INIT | ICR_ASSERT);
}

int apic_send_sipi(uint32_t apic_id, uint8_t page)
{
    return send_ipi(apic_id, ICR_STARTUP | ICR_ASSERT | page);
}

int apic_send_fixed(uint32_t apic_id, uint8_t vector)
{
    return send_ipi(apic_id, ICR_FIXED | ICR_ASSERT | vector);
}

int apic_send_nmi(uint32_t apic_id)
{
    return send_ipi(apic_id, ICR_NMI | ICR_ASSERT);
}

void apic_timer_calibrate(void)
{
    reg_write(APIC_TIMER_DIVIDE, TIMER_DIVIDE_16);
    reg_write(APIC_LVT_TIMER, LVT_MASKED | VECTOR_WAKEUP);
    reg_write(APIC_TIMER_INITIAL, 0xffffffffu);
    udelay(10000);
    uint32_t left = reg_read(APIC_TIMER_CURRENT);
    reg_write(APIC_TIMER_INITIAL, 0);
    timer_ticks_per_ms = (0xffffffffu - left) / 10;
    if (timer_ticks_per_ms == 0)
        timer_ticks_per_ms = 1;
}

uint64_t apic_timer_hz(void)
{
    return timer_ticks_per_ms * 16 * 1000; /* measured at divide-by-16 */
}

/* Halt until the one-shot timer or any wake-up IPI arrives: a waiting boot CPU
 * costs an emulator nothing, unlike a PAUSE loop. */
void apic_sleep_us(uint64_t us)
{
    uint64_t ticks = us * timer_ticks_per_ms / 1000;
    if (!timer_ticks_per_ms) {
        udelay(us);
        return;
    }
    reg_write(APIC_TIMER_DIVIDE, TIMER_DIVIDE_16);
    reg_write(APIC_LVT_TIMER, VECTOR_WAKEUP); /* one-shot, unmasked */
    reg_write(APIC_TIMER_INITIAL,
              ticks > 0xffffffffu ? 0xffffffffu : (uint32_t)(ticks ? ticks : 1));
    irq_enable_and_halt();
    reg_write(APIC_TIMER_INITIAL, 0);
}

void apic_timer_stop(void)
{
    reg_write(APIC_LVT_TIMER, LVT_MASKED | VECTOR_WAKEUP);
    reg_write(APIC_TIMER_INITIAL, 0);
}

bool apic_in_service(uint8_t vector)
{
    return reg_read(APIC_ISR + (uint32_t)(vector / 32) * 0x10) & (1u << (vector % 32));
}

static bool any_in_service(void)
{
    for (uint32_t i = 0; i < 8; i++)
        if (reg_read(APIC_ISR + i * 0x10))
            return true;
    return false;
}

/* LVT entries in the order of their index (the version register's max LVT entry): the
 * timer, thermal, performance counters, LINT0, LINT1, error, CMCI. An LVT beyond it does not
 * exist, and touching it in x2APIC mode is a #GP. */
static const uint32_t lvt_by_entry[] = {APIC_LVT_TIMER, APIC_LVT_THERMAL, APIC_LVT_PERF,
                                        APIC_LVT_LINT0, APIC_LVT_LINT1,   APIC_LVT_ERROR,
                                        APIC_LVT_CMCI};

static bool lvt_present(uint32_t off)
{
    unsigned max = (reg_read(APIC_VERSION) >> 16) & 0xff;
    for (unsigned i = 0; i <= max && i < ARRAY_SIZE(lvt_by_entry); i++)
        if (lvt_by_entry[i] == off)
            return true;
    return false;
}

int apic_write_guest_lvt(uint32_t msr, uint32_t value)
{
    if (!x2apic || msr < 0x800 || msr > 0x8ff || !lvt_present((msr - 0x800) * 16))
        return -E_INVAL;
    wrmsr(msr, value);
    return 0;
}

void apic_reclaim_from_guest(void)
{
    reg_write(APIC_TPR, 0);
    reg_write(APIC_SVR, SVR_ENABLE | VECTOR_SPURIOUS);
    for (unsigned i = 1; i < ARRAY_SIZE(lvt_by_entry); i++) /* the timer just below */
        if (lvt_present(lvt_by_entry[i]))
            reg_write(lvt_by_entry[i], LVT_MASKED | VECTOR_SPURIOUS);
    apic_timer_stop();
    /* each EOI ends the highest-priority one in service: at most 256 */
    for (unsigned n = 0; n < 256 && any_in_service(); n++)
        apic_eoi();
}
