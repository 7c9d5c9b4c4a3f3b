/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The Multiboot2 loader's C half, in long mode on entry.S's identity map: the boot
 * information to struct boot_info (core/multiboot2.c), the hypervisor's own image set apart
 * in the memory map, the TSC measured against the PIT, then the core. */
#include <stdarg.h>

#include "core/boot_mem.h"
#include "core/core.h"
#include "core/cpu.h"
#include "core/fmt.h"
#include "core/klib.h"
#include "core/multiboot2.h"
#include "core/serial.h"

#define COM1 0x3f8
/* PIT channel 2, gated through port 0x61 (no speaker), counting down once (mode 0) */
#define PIT_HZ 1193182u
#define PIT_CH2 0x42
#define PIT_MODE 0x43
#define PIT_CH2_LOHI_MODE0 0xb0
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_OUT2 0x20
#define CALIBRATION_COUNT 11932u /* 10 ms */
#define CALIBRATION_MAX_POLLS 50000000u
/* the boot information is at most this large (GRUB's is a few KiB) */
#define MB2_INFO_MAX (1u << 20)

void mb2_main(uint32_t magic, uint64_t info_pa);
extern char mb2_image_start[], mb2_image_end[]; /* mb2.ld */

static struct boot_info boot;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[256];
    int n = ksnprintf(line, sizeof(line), "sidecore-mb2: ");
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    line[len] = '\n';
    serial_write(line, len + 1);
}

/* "sidecore-mb2: error: ..." (tools/sidecore watches for it); nothing to return to. */
static __attribute__((noreturn)) void stop(void)
{
    say("error: the hypervisor did not start; halting");
    for (;;)
        halt();
}

/* TSC ticks in CALIBRATION_COUNT PIT periods; 0 if the PIT's output never rises (a board
 * without a working 8254 gate). */
static uint64_t tsc_hz_from_pit(void)
{
    uint8_t port_b = inb(PORT_B);
    outb(PORT_B, (uint8_t)((port_b & ~PORT_B_SPEAKER) & ~PORT_B_GATE2));
    outb(PIT_MODE, PIT_CH2_LOHI_MODE0);
    outb(PIT_CH2, CALIBRATION_COUNT & 0xff);
    outb(PIT_CH2, CALIBRATION_COUNT >> 8);
    outb(PORT_B, (uint8_t)((port_b & ~PORT_B_SPEAKER) | PORT_B_GATE2)); /* counting starts */
    uint64_t t0 = rdtsc();
    uint32_t polls = 0;
    while (!(inb(PORT_B) & PORT_B_OUT2))
        if (++polls == CALIBRATION_MAX_POLLS)
            break;
    uint64_t ticks = rdtsc() - t0;
    outb(PORT_B, port_b);
    return polls == CALIBRATION_MAX_POLLS ? 0 : ticks * PIT_HZ / CALIBRATION_COUNT;
}

void mb2_main(uint32_t magic, uint64_t info_pa)
{
    serial_init(COM1);
    say("sidecore Multiboot2 loader at %llx-%llx", (unsigned long long)(uintptr_t)mb2_image_start,
        (unsigned long long)(uintptr_t)mb2_image_end);
    if (magic != MB2_BOOTLOADER_MAGIC) {
        say("error: started with magic %x, not a Multiboot2 loader's %x", magic,
            MB2_BOOTLOADER_MAGIC);
        stop();
    }
    const uint8_t *info = (const uint8_t *)(uintptr_t)info_pa;
    uint32_t total;
    memcpy(&total, info, sizeof(total));
    struct refusal why;
    if (mb2_boot_info(info, total < MB2_INFO_MAX ? total : MB2_INFO_MAX, info_pa, &boot, &why)) {
        say("error: boot information at %llx: %s", (unsigned long long)info_pa, why.text);
        stop();
    }
    boot.image_base = (uint64_t)(uintptr_t)mb2_image_start;
    boot.image_size = (uint64_t)(mb2_image_end - mb2_image_start);
    if (boot_mem_carve(&boot, boot.image_base, boot.image_size, BOOT_MEM_HYPERVISOR)) {
        say("error: the memory map has more than %u ranges", BOOT_MAX_MEM_RANGES);
        stop();
    }
    say("configuration: module %s (%llu bytes); %u other modules; %u memory ranges",
        boot.config_source, (unsigned long long)boot.config_len, boot.nfiles, boot.nmem);
    for (uint32_t i = 0; i < boot.nfiles; i++)
        say("module %s (%llu bytes) at %llx", boot.files[i].name,
            (unsigned long long)boot.files[i].size, (unsigned long long)boot.files[i].address);
    if (!boot.rsdp) {
        say("error: the loader passed no ACPI RSDP; the hypervisor needs the MADT to find "
            "the CPUs");
        stop();
    }
    boot.tsc_hz = tsc_hz_from_pit();
    say("ACPI RSDP at %llx; TSC %llu MHz (PIT)", (unsigned long long)boot.rsdp,
        (unsigned long long)(boot.tsc_hz / 1000000));
    serial_drain(); /* the core sets the UART up again: nothing may be left in its FIFO */
    boot.handoff_tsc = rdtsc();
    core_start(&boot);
}
