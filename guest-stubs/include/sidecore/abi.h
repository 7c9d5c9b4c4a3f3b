/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The guest ABI of the sidecore hypervisor: CPUID leaves, trap-path hypercalls,
 * the boot information every vCPU receives, the guest-physical layout, and the
 * exit counters. MIT licensed so that guests and a Linux patch can include it. */
/* The ABI tables are aligned by hand, column by column. */
/* clang-format off */
#ifndef SIDECORE_ABI_H
#define SIDECORE_ABI_H

#ifdef __KERNEL__
#include <linux/types.h> /* a Linux guest patch includes this header as is */
#else
#include <stdint.h>
#endif

#define SC_ABI_VERSION 2

/* ---- CPUID: hypervisor leaves (the guest's CPUID exits and is answered by the hypervisor) */
#define SC_CPUID_SIGNATURE 0x40000000u /* eax: highest leaf; ebx,ecx,edx: "SidecoreHypv" */
#define SC_CPUID_VCPU 0x40000001u      /* eax: vCPU id, ebx: vCPU count, ecx: ABI version */
#define SC_CPUID_RINGS 0x40000002u     /* eax: ring window GPA low, ebx: high, ecx: size (0: none) */
#define SC_CPUID_MAX SC_CPUID_RINGS
#define SC_SIGNATURE_EBX 0x65646953u /* "Side" */
#define SC_SIGNATURE_ECX 0x65726f63u /* "core" */
#define SC_SIGNATURE_EDX 0x76707948u /* "Hypv" */

/* ---- Trap-path hypercalls: VMMCALL (AMD) / VMCALL (Intel).
 * In: rax = opcode, rdi, rsi, rdx = arguments. Out: rax = result (>= 0) or a
 * negative errno; every other register is preserved. Guest-physical addresses
 * must lie inside the caller's partition RAM. Each hypercall is one VM exit and
 * is counted as SC_EXIT_HYPERCALL before it runs, so SC_HC_EXIT_COUNTERS sees
 * itself; SC_HC_STEADY_BEGIN/END are brackets and not counted in `steady`. */
enum sc_hypercall {
    SC_HC_NULL = 0,           /* does nothing; returns 0 (measures the trap itself) */
    SC_HC_CONSOLE_WRITE = 1,  /* rdi = GPA of text, rsi = length (<= SC_CONSOLE_MAX); returns length */
    SC_HC_EXIT = 2,           /* rdi = status (0 = pass); this vCPU stops for good */
    SC_HC_EXIT_COUNTERS = 3,  /* rdi = GPA of struct sc_exit_counters, rsi = vCPU id; returns 0 */
    SC_HC_STEADY_BEGIN = 4,   /* this vCPU starts its steady phase (exits counted apart) */
    SC_HC_STEADY_END = 5,     /* ends it; returns the exits taken during the phase */
    SC_HC_RING_OP = 6,        /* rdi = service, rsi = GPA of a ring slot: see ring.h */
    SC_HC_COUNT
};

/* A console request (this hypercall or the ring's SC_OP_CONSOLE) is printed line by line,
 * at most 4 lines per request and 64 lines/s per partition (bursts of 1024); lines beyond
 * are dropped, counted by the hypervisor, and the request still returns its length. */
#define SC_CONSOLE_MAX 4096
/* Vectors a guest may have sent to its vCPUs: SC_VECTOR_MIN..SC_VECTOR_MAX, every vector
 * that is not an exception. The hypervisor keeps none for itself on a guest's cores (it
 * wakes them by NMI), so a kernel may place its system vectors anywhere up to 0xff. */
#define SC_VECTOR_MIN 32
#define SC_VECTOR_MAX 0xff
#define SC_EPERM 1
#define SC_ENOMEM 12
#define SC_EFAULT 14
#define SC_EINVAL 22
#define SC_ENOSYS 38
#define SC_ENOENT 2
#define SC_ENODEV 19
#define SC_EPIPE 32 /* a request ring is broken: only the trap path is left */
#define SC_EEXIST 17
#define SC_EBUSY 16
#define SC_ETIMEDOUT 110
#define SC_EIO 5
#define SC_ENOSPC 28
#define SC_ERANGE 34
#define SC_EBADMSG 74
#define SC_EOVERFLOW 75

/* ---- Exit reasons, the same on SVM and VMX. */
enum sc_exit_reason {
    SC_EXIT_CPUID,
    SC_EXIT_HYPERCALL,
    SC_EXIT_MSR_READ,
    SC_EXIT_MSR_WRITE, /* includes ICR writes (IPIs) */
    SC_EXIT_IO,
    SC_EXIT_NPF,       /* nested page fault / EPT violation */
    SC_EXIT_NMI,
    SC_EXIT_INTR,      /* physical interrupt (never, by construction) */
    SC_EXIT_VINTR,
    SC_EXIT_HLT,
    SC_EXIT_SHUTDOWN,  /* triple fault */
    SC_EXIT_EXCEPTION,
    SC_EXIT_OTHER,
    SC_EXIT_REASONS
};

struct sc_exit_counters {
    uint64_t total;
    uint64_t steady; /* exits since SC_HC_STEADY_BEGIN (while in the phase) */
    uint64_t by_reason[SC_EXIT_REASONS];
};

/* ---- What each vCPU finds in rdi at its entry point (64-bit mode, paging on,
 * an identity map of the partition's RAM, interrupts off, rsp = its stack). */
#define SC_BOOT_MAGIC 0x746f6f6265646973ull /* "sideboot" */
#define SC_BOOT_X2APIC (1u << 0) /* the LAPIC is in x2APIC mode: MSRs 0x800-0x8ff, no page */
#define SC_BOOT_VMCALL (1u << 1) /* hypercalls are VMCALL (Intel VMX), not VMMCALL (AMD SVM) */
struct sc_boot_info {
    uint64_t magic;
    uint32_t version;
    uint32_t vcpu_id;
    uint32_t vcpu_count;
    uint32_t flags;            /* SC_BOOT_* */
    uint64_t memory_size;      /* RAM is GPA [0, memory_size) */
    uint64_t ring_window_gpa;  /* 0 until request rings exist */
    uint64_t ring_window_size;
    uint64_t tsc_hz;           /* 0 if the hypervisor could not calibrate the TSC */
    uint64_t free_gpa;         /* first GPA after the image, 4 KiB aligned */
    uint64_t stacks_gpa;       /* the initial stacks occupy [stacks_gpa, memory_size) */
    char partition[32];        /* NUL-terminated */
    char cmdline[256];         /* NUL-terminated: the partition's args="..." */
    /* For a kernel that sets itself up from here (no ACPI, no PIT to calibrate against): */
    uint64_t lapic_timer_hz;   /* the local APIC timer's input clock (divide by 1); 0: unknown */
    uint32_t apic_ids[256];    /* APIC ID of each vCPU [0, vcpu_count) (SC_MAX_VCPUS room) */
    /* The PCI functions the partition owns (devices=), in the configuration's order. */
    uint32_t ndevices;
    uint32_t reserved;
    struct sc_device {
        uint16_t segment, bdf;     /* bdf: bus << 8 | device << 3 | function */
        uint16_t vendor, device;
        uint32_t class_rev;        /* class code << 8 | revision */
        uint8_t cfg_devfn;         /* where the guest finds it: bus 0 of port 0xcf8 */
        uint8_t reserved[3];
        /* Memory BARs, mapped in the nested tables at the address the firmware gave them
         * (guest-physical = host-physical; no exit on access); size 0: none, or I/O */
        uint64_t bar_gpa[6];
        uint64_t bar_size[6];
    } devices[8];
};

/* ---- Guest-physical layout of a partition.
 *   [0, 4K)             not mapped: a NULL dereference is a nested page fault (a Linux
 *                       image's partition maps it, zeros: the kernel reads its BIOS data)
 *   0x1000              GDT the vCPUs start with: 0x10 64-bit code, 0x18 data (the
 *                       selectors of Linux's 64-bit boot protocol, used for every image)
 *   0x7000              Linux images: the zero page (struct boot_params), rsi at entry
 *   0x8000              Linux images: the kernel command line (4 KiB)
 *   0x10000 + 4K * id   struct sc_boot_info of vCPU id (up to 256 vCPUs)
 *   0x110000 ..         the initial page tables (identity map, 2 MiB pages)
 *   0x200000 ..         the guest image (its PT_LOAD segments must lie above this)
 *   stacks_gpa ..       16 KiB initial stack per vCPU, at the top of RAM
 *   0xe0000000          the request-ring window: SC_SERVICES rings of SC_RING_BYTES per
 *                       vCPU, vCPU-major (ring.h), shared with the side cores
 *   0xfe000000          a partition with a disk: BAR0 of its virtio-pci block device
 *                       (16 KiB of device registers, emulated: every access exits; PCI
 *                       bus 0 is reached through ports 0xcf8/0xcfc)
 *   0xfee00000          xAPIC mode only: the local APIC page of the vCPU's own core
 *                       (timer, EOI natively). In x2APIC mode (SC_BOOT_X2APIC) the
 *                       LAPIC is reached through its MSRs, all passed through except
 *                       the ICR, and this page is not mapped.
 * The initial page tables map RAM, the ring window and (xAPIC) the LAPIC page; the
 * nested tables map the same and nothing else: touching any other address stops the
 * partition with the address. RAM therefore ends below the ring window (at most
 * 3584 MiB for now).
 * A partition has at most 64 vCPUs in this hypervisor (SC_MAX_VCPUS is the ABI's
 * room for growth). */
#define SC_GPA_GDT 0x1000ull
#define SC_GDT_CODE 0x10
#define SC_GDT_DATA 0x18
#define SC_GPA_ZERO_PAGE 0x7000ull
#define SC_GPA_CMDLINE 0x8000ull
#define SC_GPA_BOOT_INFO(id) (0x10000ull + 0x1000ull * (id))
#define SC_GPA_PAGE_TABLES 0x110000ull
#define SC_GPA_IMAGE_MIN 0x200000ull
#define SC_STACK_SIZE 0x4000ull
#define SC_GPA_RING_WINDOW 0xe0000000ull
#define SC_GPA_VIRTIO_BLK 0xfe000000ull
#define SC_GPA_LAPIC 0xfee00000ull
#define SC_MAX_VCPUS 256

_Static_assert(sizeof(struct sc_device) == 16 + 96, "device layout is ABI");
_Static_assert(sizeof(struct sc_boot_info) == 72 + 32 + 256 + 8 + 4 * SC_MAX_VCPUS + 8 +
                                                  8 * sizeof(struct sc_device),
               "boot info layout is ABI");
_Static_assert(sizeof(struct sc_boot_info) <= 0x1000, "one page per vCPU (SC_GPA_BOOT_INFO)");
_Static_assert(sizeof(struct sc_exit_counters) == 8 * (2 + SC_EXIT_REASONS), "counters ABI");

/* clang-format on */
#endif
