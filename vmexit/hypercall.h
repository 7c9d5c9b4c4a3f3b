/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The trap-path hypercall dispatcher: argument validation and guest-memory
 * access, independent of the vendor and of the hardware (host-tested). */
#ifndef VMEXIT_HYPERCALL_H
#define VMEXIT_HYPERCALL_H

#include <stddef.h>
#include <stdint.h>

#include "guest-stubs/include/sidecore/abi.h"
#include "guest-stubs/include/sidecore/ring.h"

/* What a hypercall may touch: the caller's own partition and a few services. */
struct hc_context {
    uint8_t *guest_base; /* host pointer of GPA 0 */
    uint64_t guest_size; /* RAM is GPA [0, guest_size) */
    unsigned vcpu_id;
    unsigned vcpu_count;
    void *ctx;
    const struct sc_exit_counters *(*counters_of)(void *ctx, unsigned vcpu);
    void (*console)(void *ctx, const char *text, size_t len);
    void (*steady_begin)(void *ctx);
    uint64_t (*steady_end)(void *ctx);
    void (*exit)(void *ctx, int64_t status);
    /* SC_HC_RING_OP: run a ring request (a private copy) through the trap path */
    int64_t (*ring_op)(void *ctx, unsigned service, struct sc_ring_slot *slot);
};

/* Copy between the hypervisor and guest RAM; -E_FAULT unless the whole range
 * lies inside the partition. Guest memory is read once: callers validate the copy. */
int guest_copy_from(const struct hc_context *c, void *dst, uint64_t gpa, uint64_t len);
int guest_copy_to(const struct hc_context *c, uint64_t gpa, const void *src, uint64_t len);

/* Returns the value for the guest's rax: >= 0, or a negative errno. */
int64_t hypercall_dispatch(const struct hc_context *c, uint64_t op, uint64_t a0, uint64_t a1,
                           uint64_t a2);

#endif
