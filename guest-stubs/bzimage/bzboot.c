/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest, wrapped as a bzImage (make_bzimage.py): it checks what the hypervisor's Linux
 * loader handed it, as a kernel would read it. vCPU 0 enters at the 64-bit entry with rsi at
 * the zero page and the boot protocol's selectors; the command line, the initrd and the e820
 * map are where the zero page says; vCPU 1 runs only once vCPU 0 starts it. */
#include "sidecore/guest.h"

#define ZP_E820_ENTRIES 0x1e8
#define ZP_E820_TABLE 0x2d0
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_CMD_LINE_PTR 0x228
#define HDR_PREF_ADDRESS 0x258
#define ZP_EXT_CMD_LINE_PTR 0x0c8
#define E820_RAM 1
#define E820_RESERVED 2
#define MiB (1024ull * 1024)

/* What the CPU held at the entry, before any C code ran. */
uint64_t bz_rsi;
uint16_t bz_cs, bz_ss;
extern char bz_entry[], __image_end[];

__asm__(".section .text.bzentry, \"ax\", @progbits\n"
        ".globl bz_entry\n"
        "bz_entry:\n"
        "    movq %rsi, bz_rsi(%rip)\n"
        "    movw %cs, bz_cs(%rip)\n"
        "    movw %ss, bz_ss(%rip)\n"
        "    jmp _start\n"
        ".previous\n");

static uint32_t vcpu1_ran, vcpu1_started;
static uint8_t stack1[16384] __attribute__((aligned(16)));

static uint32_t zp32(const uint8_t *zp, unsigned at)
{
    uint32_t v;
    __builtin_memcpy(&v, zp + at, sizeof(v));
    return v;
}

static uint64_t zp64(const uint8_t *zp, unsigned at)
{
    uint64_t v;
    __builtin_memcpy(&v, zp + at, sizeof(v));
    return v;
}

static bool e820_is(const uint8_t *zp, unsigned i, uint64_t addr, uint64_t size, uint32_t type)
{
    unsigned at = ZP_E820_TABLE + i * 20;
    return zp64(zp, at) == addr && zp64(zp, at + 8) == size && zp32(zp, at + 16) == type;
}

static int check_entry(const uint8_t *zp)
{
    int failures = 0;
    failures += !sc_check(
        bz_rsi == SC_GPA_ZERO_PAGE && bz_cs == SC_GDT_CODE && bz_ss == SC_GDT_DATA,
        "vCPU 0: entered at 0x%llx with rsi 0x%llx (zero page), cs 0x%x, ss 0x%x",
        (unsigned long long)(uintptr_t)bz_entry, (unsigned long long)bz_rsi, bz_cs, bz_ss);
    failures +=
        !sc_check(zp32(zp, HDR_MAGIC) == 0x53726448 && zp[HDR_VERSION] == 0x0f &&
                      zp[HDR_TYPE_OF_LOADER] == 0xff && zp64(zp, HDR_PREF_ADDRESS) == 16 * MiB,
                  "vCPU 0: zero page holds the setup header (HdrS 2.15, loader 0xff)");
    return failures;
}

/* What a kernel needs of the boot information to set itself up without firmware tables. */
static int check_boot_info(const struct sc_boot_info *bi)
{
    return !sc_check(bi->vcpu_count == 2 && bi->apic_ids[0] == lapic_id() &&
                         bi->apic_ids[1] != bi->apic_ids[0] && bi->lapic_timer_hz > 0,
                     "vCPU 0: boot info lists APIC IDs %u (its own) and %u, a LAPIC timer "
                     "clock of %llu kHz",
                     bi->apic_ids[0], bi->apic_ids[1],
                     (unsigned long long)(bi->lapic_timer_hz / 1000));
}

static int check_cmdline(const uint8_t *zp, const struct sc_boot_info *bi)
{
    uint64_t at = zp32(zp, HDR_CMD_LINE_PTR) | (uint64_t)zp32(zp, ZP_EXT_CMD_LINE_PTR) << 32;
    const char *line = (const char *)(uintptr_t)at;
    return !sc_check(at == SC_GPA_CMDLINE && __builtin_strcmp(line, bi->cmdline) == 0,
                     "vCPU 0: command line at 0x%llx: \"%s\"", (unsigned long long)at, line);
}

static int check_e820(const uint8_t *zp, const struct sc_boot_info *bi)
{
    unsigned n = zp[ZP_E820_ENTRIES];
    const uint64_t low = SC_GPA_BOOT_INFO(64), ebda = 0x9f000;
    bool ok = n == 6 && e820_is(zp, 0, 0, low, E820_RESERVED) &&
              e820_is(zp, 1, low, ebda - low, E820_RAM) &&
              e820_is(zp, 2, ebda, SC_GPA_IMAGE_MIN - ebda, E820_RESERVED) &&
              e820_is(zp, 3, SC_GPA_IMAGE_MIN, bi->stacks_gpa - SC_GPA_IMAGE_MIN, E820_RAM) &&
              e820_is(zp, 4, bi->stacks_gpa, bi->memory_size - bi->stacks_gpa, E820_RESERVED) &&
              e820_is(zp, 5, bi->ring_window_gpa, bi->ring_window_size, E820_RESERVED);
    return !sc_check(ok,
                     "vCPU 0: e820 has %u entries: RAM 0x%llx-0x%llx and 0x%llx-0x%llx; the boot "
                     "structures, the page tables, the stacks and the ring window reserved",
                     n, (unsigned long long)low, (unsigned long long)ebda,
                     (unsigned long long)SC_GPA_IMAGE_MIN, (unsigned long long)bi->stacks_gpa);
}

static int check_initrd(const uint8_t *zp, const struct sc_boot_info *bi)
{
    uint64_t at = zp32(zp, HDR_RAMDISK_IMAGE), size = zp32(zp, HDR_RAMDISK_SIZE);
    const uint8_t *rd = (const uint8_t *)(uintptr_t)at;
    uint64_t kernel_end = (uint64_t)(uintptr_t)__image_end;
    bool placed = at % 4096 == 0 && at >= kernel_end && at + size <= bi->stacks_gpa && size > 16;
    bool content = placed && __builtin_memcmp(rd, "SCINITRD", 8) == 0 && zp64(rd, 8) == size;
    for (uint64_t i = 16; content && i < size; i++)
        content = rd[i] == (uint8_t)(i * 31 + 7);
    return !sc_check(placed && content,
                     "vCPU 0: initrd of %llu bytes at 0x%llx, above the kernel (ends 0x%llx), "
                     "its pattern intact",
                     (unsigned long long)size, (unsigned long long)at,
                     (unsigned long long)kernel_end);
}

/* Where vCPU 1 first runs: fresh stack, rdi = its boot information. */
static __attribute__((noreturn, used)) void vcpu1_entry(const struct sc_boot_info *bi)
{
    sc_vcpu_setup(bi);
    __atomic_store_n(&vcpu1_started, 1, __ATOMIC_RELEASE);
    bool own = bi->apic_ids[bi->vcpu_id] == lapic_id();
    sc_check(own, "vCPU %u: first run, started by vCPU 0, on the APIC ID its boot info gives",
             bi->vcpu_id);
    sc_exit(own ? 0 : 1);
}

static int start_vcpu1(void)
{
    if (__atomic_load_n(&vcpu1_ran, __ATOMIC_ACQUIRE)) {
        sc_fail("vCPU 0: vCPU 1 ran before it was started");
        return 1;
    }
    const uint64_t args[6] = {1, (uint64_t)(uintptr_t)vcpu1_entry,
                              (uint64_t)(uintptr_t)(stack1 + sizeof(stack1)) - 8};
    int64_t rc = sc_svc_ring(SC_SERVICE_IRQ, SC_OP_VCPU_START, args, NULL);
    for (unsigned i = 0; rc == 0 && !__atomic_load_n(&vcpu1_started, __ATOMIC_ACQUIRE); i++)
        if (i > 100000000u)
            break;
        else
            __builtin_ia32_pause();
    return !sc_check(rc == 0 && __atomic_load_n(&vcpu1_started, __ATOMIC_ACQUIRE),
                     "vCPU 0: vCPU 1 waited parked until started through the irq ring (%lld)",
                     (long long)rc);
}

int main(const struct sc_boot_info *bi)
{
    if (bi->vcpu_id != 0) {
        __atomic_store_n(&vcpu1_ran, 1, __ATOMIC_RELEASE); /* the loader should not do this */
        return 1;
    }
    const uint8_t *zp = (const uint8_t *)(uintptr_t)SC_GPA_ZERO_PAGE;
    int failures = check_entry(zp) + check_boot_info(bi) + check_cmdline(zp, bi) +
                   check_e820(zp, bi) + check_initrd(zp, bi);
    if (sc_rings_init(bi)) {
        sc_fail("vCPU 0: no request rings");
        return 1;
    }
    return failures + start_vcpu1();
}
