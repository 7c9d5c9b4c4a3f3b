/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Request rings between a guest vCPU and a side-core service: the wire format
 * (version 1), the opcodes, and the trap-path equivalent. MIT licensed so that
 * guests and a Linux patch can include it.
 *
 * One ring per (vCPU, service), single producer (the vCPU) and single consumer
 * (the side core that serves that service for that vCPU), no locks:
 *   - the guest fills slot[head % nslots], then publishes head + 1 (release);
 *   - the side core reads head (acquire) once per pass, copies each pending slot
 *     once, validates the copy, executes it, writes status and results back into
 *     the same slot, then publishes tail + 1 (release);
 *   - a request is complete when tail has passed its index (acquire). It may take effect
 *     before it completes: pt_unmap and a narrowing pt_protect complete only once the
 *     partition's vCPUs flushed; the requests after it on the same ring wait behind it,
 *     other rings do not.
 * head and tail are free-running 32-bit counters; 0 <= head - tail <= nslots,
 * anything else marks the ring broken (state = SC_RING_BROKEN) and the side
 * core stops serving it for good; a waiting guest should check state. The
 * trap path (SC_HC_RING_OP) still works. Completions come back in request order.
 * No service answers -ETIMEDOUT: that status comes only from a client's own spin limit
 * (ring_client.h, svc.h) and means "not complete yet"; the request still completes, in
 * order, with its own status. */
/* The ABI tables are aligned by hand, column by column. */
/* clang-format off */
#ifndef SIDECORE_RING_H
#define SIDECORE_RING_H

#ifdef __KERNEL__
#include <linux/types.h> /* a Linux guest patch includes this header as is */
#else
#include <stdint.h>
#endif

#define SC_RING_MAGIC 0x474e4952u /* "RING" */
#define SC_RING_VERSION 1
#define SC_RING_SLOTS 64 /* per ring; a power of two */
#define SC_RING_BYTES 8192 /* each ring occupies two pages of the window */

/* Services, in the order of the rings of one vCPU in the window. */
enum sc_service { SC_SERVICE_PT = 0, SC_SERVICE_IRQ = 1, SC_SERVICE_IO = 2, SC_SERVICES = 3 };

/* One request and, after completion, its result. arg[] carries the request's
 * arguments in and the results out (the opcode says which). */
struct sc_ring_slot {
    uint16_t opcode;
    uint16_t flags;  /* reserved: must be 0, else the request fails with -EINVAL */
    uint32_t tag;    /* chosen by the guest, returned unchanged */
    int64_t status;  /* written by the service: >= 0, or a negative errno */
    uint64_t arg[6];
};

enum sc_ring_state { SC_RING_OK = 0, SC_RING_BROKEN = 1 };

struct sc_ring {
    /* cache line 0: written by the hypervisor when it sets the window up */
    uint32_t magic;
    uint16_t version;
    uint16_t service; /* enum sc_service */
    uint32_t nslots;  /* informational: always SC_RING_SLOTS, which both sides use */
    uint32_t vcpu;
    uint8_t reserved0[48];
    /* cache line 1: written only by the guest */
    uint32_t head;
    uint8_t reserved1[60];
    /* cache line 2: written only by the side core */
    uint32_t tail;
    uint32_t state; /* enum sc_ring_state */
    uint8_t reserved2[56];
    uint8_t reserved3[64];
    struct sc_ring_slot slot[SC_RING_SLOTS];
};

_Static_assert(sizeof(struct sc_ring_slot) == 64, "one slot per cache line");
_Static_assert(__builtin_offsetof(struct sc_ring_slot, status) == 8, "slot layout");
_Static_assert(__builtin_offsetof(struct sc_ring_slot, arg) == 16, "slot layout");
_Static_assert(__builtin_offsetof(struct sc_ring, head) == 64, "head on its own line");
_Static_assert(__builtin_offsetof(struct sc_ring, tail) == 128, "tail on its own line");
_Static_assert(__builtin_offsetof(struct sc_ring, slot) == 256, "slots after the header");
_Static_assert(sizeof(struct sc_ring) <= SC_RING_BYTES, "ring fits its window share");
_Static_assert((SC_RING_SLOTS & (SC_RING_SLOTS - 1)) == 0, "power of two");

/* The ring of (vcpu, service) in the window (its GPA from CPUID 0x40000002 or
 * sc_boot_info.ring_window_gpa). */
#define SC_RING_OFFSET(vcpu, service) \
    (((uint64_t)(vcpu) * SC_SERVICES + (uint64_t)(service)) * SC_RING_BYTES)

/* ---- Opcodes. Common ones are valid on every ring. */
enum sc_opcode {
    SC_OP_NULL = 0x00,       /* no effect; status 0 (measures the transport) */
    SC_OP_CPUID_TABLE = 0x01, /* arg0 = GPA of struct sc_cpuid_entry[], arg1 = capacity;
                                 status = entries written: the whole virtual CPUID */
    SC_OP_EXIT_COUNTERS = 0x02, /* arg0 = GPA of a struct sc_exit_counters (abi.h), arg1 = a
                                   vCPU of the caller's partition: as SC_HC_EXIT_COUNTERS, the
                                   counters of a running core, read without stopping it (each
                                   counter whole; total and by_reason may be a count apart) */
    /* pt: second-level (nested) mappings of the caller's own RAM */
    SC_OP_PT_MAP = 0x10,     /* arg0 = GPA, arg1 = size, arg2 = SC_PT_* rights: map RAM back */
    SC_OP_PT_UNMAP = 0x11,   /* arg0 = GPA, arg1 = size: applied at once; completes (status
                                0) once every vCPU of the partition in guest mode flushed its
                                TLB, each kicked out of it by an NMI (one exit); a vCPU outside
                                its guest (in a trap, stopped) flushes before it enters again
                                and is not waited for. The trap returns at that point too. */
    SC_OP_PT_PROTECT = 0x12, /* arg0 = GPA, arg1 = size, arg2 = rights; when rights narrow,
                                flushed and completed like unmap */
    SC_OP_PT_QUERY = 0x13,   /* arg0 = GPA; out: arg0 = rights, arg1 = page size; -ENOENT
                                (arg[] unchanged) when unmapped */
    /* irq: interrupts inside the caller's partition */
    SC_OP_IPI = 0x20,        /* arg0 = vector (32..255), arg1 = vCPU bit set, arg2 = SC_IPI_ALL
                                for every vCPU; status = IPIs sent */
    SC_OP_VCPU_KICK = 0x21,  /* arg0 = vCPU: an NMI kick (one exit on that vCPU); completes when
                                the NMI is sent, the exit follows; kicks may merge */
    SC_OP_VCPU_STOP = 0x22,  /* arg0 = vCPU (not the caller), arg1 = status: it stops and waits
                                for SC_OP_VCPU_START (it counts as exited with that status) */
    SC_OP_VCPU_START = 0x23, /* arg0 = a stopped vCPU (not the caller), arg1 = entry GPA, arg2 =
                                stack GPA: it restarts there in 64-bit mode with the initial
                                page tables, interrupts off, rdi = its boot info; -EBUSY if it
                                is not stopped */
    /* io: the console and the block device */
    SC_OP_CONSOLE = 0x30,    /* arg0 = GPA of text, arg1 = length (<= SC_CONSOLE_MAX);
                                status = the length written */
    SC_OP_BLK_INFO = 0x31,   /* out: arg0 = capacity in 512-byte sectors; -ENODEV: no disk */
    SC_OP_BLK_SETUP = 0x32,  /* arg0/1/2 = GPA of the descriptor table, available ring and used
                                ring of a virtio split virtqueue in guest RAM, arg3 = queue size
                                (a power of two <= 256), arg4 = completion: 0 polled, else the
                                vector of an IPI to the vCPU. From then on the side core serving
                                this vCPU's io ring polls the queue: the guest never notifies. */
    SC_OP_BLK_KICK = 0x33,   /* process the queue now (the trap path's way to drive it);
                                status = requests completed */
    SC_OP_BLK_POLL = 0x34,   /* arg0 = 1 (the default): the io side core polls the caller's
                                queue and its used ring carries SC_VQ_USED_F_NO_NOTIFY; 0: the
                                side core leaves the queue alone, the used ring asks for
                                notifications and each one (SC_OP_BLK_KICK, or a write to the
                                virtio-pci device's notify register) serves the queue inside
                                that exit. The mode outlives a new setup of the queue. The
                                virtio-pci device's queue is vCPU 0's. -ENODEV: no disk */
};

/* The virtio split virtqueue (virtio 1.x, 2.7) and the virtio-blk request, as the
 * io service reads them from guest RAM. */
struct sc_vq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags; /* SC_VQ_DESC_F_* */
    uint16_t next;
};
#define SC_VQ_DESC_F_NEXT 1
#define SC_VQ_DESC_F_WRITE 2 /* device writes (a buffer the guest reads) */
#define SC_VQ_DESC_F_INDIRECT 4 /* not supported: the request fails */
struct sc_vq_used_elem {
    uint32_t id;
    uint32_t len;
};
/* avail: uint16_t flags, idx, ring[size]; used: uint16_t flags, idx, then
 * struct sc_vq_used_elem ring[size] (at offset 4). */
#define SC_VQ_USED_F_NO_NOTIFY 1 /* used.flags: the device polls, the driver need not notify */
struct sc_blk_req_header {
    uint32_t type; /* SC_BLK_T_* */
    uint32_t reserved;
    uint64_t sector;
};
#define SC_BLK_T_IN 0    /* read from the disk */
#define SC_BLK_T_OUT 1   /* write to the disk */
#define SC_BLK_T_FLUSH 4
#define SC_BLK_T_GET_ID 8
#define SC_BLK_S_OK 0
#define SC_BLK_S_IOERR 1
#define SC_BLK_S_UNSUPP 2
#define SC_BLK_SECTOR 512
#define SC_BLK_MAX_BYTES (1024u * 1024u) /* per request; larger ones complete with IOERR */
_Static_assert(sizeof(struct sc_vq_desc) == 16, "virtq descriptor");
_Static_assert(sizeof(struct sc_vq_used_elem) == 8, "virtq used element");
_Static_assert(sizeof(struct sc_blk_req_header) == 16, "virtio-blk request header");

#define SC_PT_READ 0x1u
#define SC_PT_WRITE 0x2u
#define SC_PT_EXEC 0x4u
#define SC_IPI_ALL 0x1u

struct sc_cpuid_entry {
    uint32_t leaf, subleaf, eax, ebx, ecx, edx;
};

/* The trap path: the same request, carried by a hypercall instead of a ring.
 * SC_HC_RING_OP (abi.h): rdi = enum sc_service, rsi = GPA of a struct sc_ring_slot
 * in guest RAM. The hypervisor copies the slot, runs the same handler the side
 * core runs, writes status and results back into it, and returns the status in rax. */

/* clang-format on */
#endif
