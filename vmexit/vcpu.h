/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The vendor-neutral vCPU and partition. The backend interface that SVM (and later VMX)
 * implement is backend.h; the exit policy and the run loop are exit.h. */
#ifndef VMEXIT_VCPU_H
#define VMEXIT_VCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/bzimage.h"
#include "core/elf.h"
#include "core/pgtable.h"
#include "core/spinlock.h"
#include "guest-stubs/include/sidecore/ring.h"
#include "vmexit/backend.h"
#include "vmexit/console_limit.h"
#include "vmexit/cpuid.h"
#include "vmexit/lifecycle.h"
#include "vmexit/npt_retire.h"
#include "vmexit/tlb_sync.h"
#include "guest-stubs/include/sidecore/abi.h"

#define MAX_PARTITION_VCPUS CONFIG_MAX_PARTITION_CPUS

/* The general-purpose registers other than rsp, as the exit policy reads and writes them; rsp
 * and rip live in the VMCB (SVM) or VMCS (VMX). rbx..r15: layout shared with the SVM
 * world switch (.S), which leaves rax to the VMCB: the backend copies it in and out
 * around each entry. rax comes last so the world switch's offsets stay put. */
struct guest_regs {
    uint64_t rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rax;
};

/* A snapshot of the architectural state, for dumps, independent of the vendor. */
struct guest_state {
    uint64_t rsp, rip, rflags, cr0, cr2, cr3, cr4, efer;
    uint16_t cs, ss;
    uint8_t code_bits; /* 16, 32 or 64: the code size CS gives (64: long mode, CS.L) */
    struct guest_regs regs;
};

/* Life of a vCPU. */
enum vcpu_state {
    VCPU_CREATED = 0, /* structures built, not entered */
    VCPU_RUNNING,     /* in its guest/exit loop */
    VCPU_EXITED,      /* the guest called SC_HC_EXIT; exit_status holds its status */
    VCPU_STOPPED,     /* stopped with its partition */
    VCPU_PARKED,      /* stopped by SC_OP_VCPU_STOP: counts as exited, may be started again */
};

struct partition;
struct palloc;
struct vcpu_services;
struct assigned_bus;
struct cfg_partition;
struct boot_file;

struct vcpu {
    struct partition *partition;
    unsigned id;    /* vCPU id inside the partition */
    unsigned cpu;   /* physical CPU index it is pinned to */
    uint32_t state; /* enum vcpu_state, atomic */
    int64_t exit_status;
    struct guest_regs regs;
    void *arch; /* backend data (struct svm_cpu for SVM) */
    uint64_t arch_pa;
    /* Exit accounting: only this vCPU's core writes; others read. */
    struct sc_exit_counters counters;
    bool in_steady;
    uint64_t steady_start_total;
    uint64_t steady_exits; /* exits counted during the last completed steady phase */
    bool steady_seen;
    struct console_stream console_trap; /* console output by hypercall, on this core */
    struct vcpu_services *svc;          /* the services' state for it (sidecore/vcpu_services.h) */
    /* Payloads of cross-core work (core/cpu_work.h), taken before every entry into the guest
     * and while parked. */
    struct tlb_vcpu tlb;  /* guest mode and the flush generation acknowledged (tlb_sync.h) */
    int64_t stop_status;  /* CPU_WORK_VCPU_STOP: leave with this status (atomic) */
    uint32_t start_claim; /* taken by the one starter, released when the vCPU runs again */
    uint64_t start_rip, start_rsp; /* CPU_WORK_VCPU_START while parked: restart here */
};

/* A second view of a partition's RAM that follows every change the pt service makes to its
 * nested tables (the IOMMU's DMA tables, boot/dma.c). Called under pt_lock once the change
 * is in the nested tables; returns only when the other view holds no more than they do
 * (its caches invalidated). A view that cannot follow makes itself block everything. */
enum stage2_change { STAGE2_MAP, STAGE2_UNMAP, STAGE2_PROTECT };
struct stage2_follower {
    void *ctx;
    void (*changed)(void *ctx, enum stage2_change what, uint64_t gpa, uint64_t size,
                    unsigned rights);
};

struct partition {
    unsigned index;
    const char *name;
    uint64_t base; /* host physical = host virtual (identity map) of GPA 0 */
    uint64_t size;
    uint64_t entry;
    uint64_t free_gpa;
    uint64_t stacks_gpa;
    bool has_image;
    const struct cfg_partition *cfg;
    const struct boot_file *image;
    const struct boot_file *disk;   /* the io service's block device, or NULL */
    const struct boot_file *initrd; /* a Linux image's initial RAM disk, or NULL */
    bool linux_boot;                /* the image is a bzImage (vmexit/linux_boot.h) */
    struct elf_image elf;
    struct bzimage bz;      /* a Linux image: where its kernel goes */
    uint64_t initrd_gpa;    /* and its initrd */
    struct pt npt;          /* nested tables, shared by the partition's vCPUs */
    struct npt_mem npt_mem; /* their pages; freed ones wait for a flush (under pt_lock) */
    unsigned nvcpus;
    struct vcpu vcpus[MAX_PARTITION_VCPUS];
    struct partition_life life; /* its state and how many vCPUs exited */
    char stop_reason[96];
    uint32_t refused_ipis;
    uint32_t io_exits_logged;
    uint32_t msr_refusals_logged;
    struct console_bucket console; /* console lines of all its vCPUs and transports */
    struct spinlock console_lock;
    uint64_t window_hpa; /* the request-ring window (SC_GPA_RING_WINDOW in the guest) */
    uint64_t window_size;
    struct spinlock pt_lock;         /* the nested tables change from side cores and guest cores */
    struct tlb_sync tlb;             /* guest TLB flushes after the nested tables narrowed */
    unsigned npt_table_limit;        /* table pages the nested tables may grow to at run time */
    uint32_t dma_faults;             /* DMA of its devices the IOMMU refused (boot/dma.c counts) */
    struct stage2_follower follower; /* changed NULL: none */
    struct assigned_bus *assigned;   /* its PCI functions (sidecore/assigned.h), or NULL */
};

/* One exit of this vCPU, by reason (exit.c; only the vCPU's own core counts). */
void vcpu_count_exit(struct vcpu *v, enum sc_exit_reason reason);
/* Stop the whole partition (this vCPU dumps its state first); other vCPUs
 * of the partition are kicked out of their guests by NMI. */
void vcpu_stop_partition(struct vcpu *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* True when the vCPU must leave its run loop (its partition stopped; run.c). */
bool vcpu_should_stop(const struct vcpu *v);
void vcpu_dump(const struct vcpu *v);
/* Mark this vCPU exited with a guest-chosen status. */
void vcpu_exit_guest(struct vcpu *v, int64_t status);
/* The trap-path hypercall, with this vCPU's environment. */
int64_t vcpu_hypercall(struct vcpu *v, uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2);
const char *exit_reason_name(unsigned reason);
/* One console request of the guest (hypercall or ring): printed line by line with the vCPU's
 * prefix, within the partition's bounds (console_limit.h); the rest is dropped and counted. */
void vcpu_console_put(struct vcpu *v, struct console_stream *s, const char *text, size_t n);
/* Before each entry, interrupts (GIF) off: apply a pending stop request. true = leave the
 * guest loop. */
bool vcpu_before_entry(struct vcpu *v);
/* Right before VMRUN, after vcpu_before_entry, interrupts (GIF) off: the vCPU is in guest mode
 * from now on, and a flush requested until now is applied at this entry. */
void vcpu_guest_enter(struct vcpu *v);
/* Right after the exit: a flush no longer waits for this vCPU (it flushes at its next entry). */
void vcpu_guest_exit(struct vcpu *v);
/* What CPUID tells this vCPU about itself (both the CPUID exit and the ring's table). */
struct cpuid_guest_view vcpu_cpuid_view(const struct vcpu *v);

#endif
