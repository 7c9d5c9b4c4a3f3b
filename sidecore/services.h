/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The services pt, irq and io: decoding and validating a request, then acting
 * through an environment. The same function serves the ring (side core) and
 * the trap (guest core); only the environment differs. No hardware access here
 * (host-tested and fuzzed). */
#ifndef SIDECORE_SERVICES_H
#define SIDECORE_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest-stubs/include/sidecore/abi.h"
#include "guest-stubs/include/sidecore/ring.h"
#include "vmexit/cpuid.h"

#define SVC_CPUID_MAX_ENTRIES 128

/* What a request may act on: the caller's partition, through these hooks. */
struct svc_env {
    uint8_t *guest_base; /* host pointer of GPA 0 */
    uint64_t guest_size; /* RAM is GPA [0, guest_size) */
    unsigned vcpu;       /* the caller */
    unsigned nvcpus;
    void *ctx;
    int (*pt_map)(void *ctx, uint64_t gpa, uint64_t size, unsigned rights);
    int (*pt_unmap)(void *ctx, uint64_t gpa, uint64_t size);
    int (*pt_protect)(void *ctx, uint64_t gpa, uint64_t size, unsigned rights);
    int (*pt_query)(void *ctx, uint64_t gpa, unsigned *rights, uint64_t *page_size);
    int (*send_ipi)(void *ctx, unsigned vcpu, uint8_t vector);
    int (*kick)(void *ctx, unsigned vcpu);
    int (*stop_vcpu)(void *ctx, unsigned vcpu, int64_t status);
    int (*start_vcpu)(void *ctx, unsigned vcpu, uint64_t rip, uint64_t rsp);
    void (*console)(void *ctx, const char *text, size_t len);
    void (*cpuid)(void *ctx, uint32_t leaf, uint32_t subleaf, struct cpuid_values *out);
    /* a snapshot of vCPU vcpu's exit counters (vcpu < nvcpus) */
    void (*exit_counters)(void *ctx, unsigned vcpu, struct sc_exit_counters *out);
    int (*blk_info)(void *ctx, uint64_t *sectors);
    int (*blk_setup)(void *ctx, uint64_t desc, uint64_t avail, uint64_t used, uint64_t size,
                     uint64_t vector);
    int (*blk_kick)(void *ctx);
    /* poll: the side core serves the caller's queue; else the driver notifies (SC_OP_BLK_POLL) */
    int (*blk_poll_mode)(void *ctx, bool poll);
};

/* Execute one request (a private copy: guest memory is read once). Sets
 * req->status and the results in req->arg[]; opcode, flags and tag are left
 * as they came. */
void service_execute(const struct svc_env *env, enum sc_service service, struct sc_ring_slot *req);

/* The leaves the CPUID table holds, for a CPU whose highest basic and extended
 * leaves are given; returns how many (at most max). */
unsigned service_cpuid_leaves(uint32_t max_basic, uint32_t max_ext, struct sc_cpuid_entry *out,
                              unsigned max);

const char *service_opcode_name(uint16_t opcode);

#endif
