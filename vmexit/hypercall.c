/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Trap-path hypercalls. Arguments come from guest registers and are untrusted:
 * every address is bounds-checked against the caller's partition. */
#include "vmexit/hypercall.h"

#include "core/klib.h"
#include "guest-stubs/include/sidecore/abi.h"

/* Every errno the hypervisor can hand a guest (a hypercall's rax, a ring slot's status) is
 * the value the guest ABI promises under the same name. */
_Static_assert(E_PERM == SC_EPERM && E_NOENT == SC_ENOENT && E_IO == SC_EIO, "errno ABI");
_Static_assert(E_NOMEM == SC_ENOMEM && E_FAULT == SC_EFAULT && E_BUSY == SC_EBUSY, "errno ABI");
_Static_assert(E_EXIST == SC_EEXIST && E_NODEV == SC_ENODEV && E_INVAL == SC_EINVAL, "errno ABI");
_Static_assert(E_NOSPC == SC_ENOSPC && E_RANGE == SC_ERANGE && E_NOSYS == SC_ENOSYS, "errno ABI");
_Static_assert(E_BADMSG == SC_EBADMSG && E_OVERFLOW == SC_EOVERFLOW, "errno ABI");
_Static_assert(E_TIMEDOUT == SC_ETIMEDOUT, "errno ABI");

static int guest_range_ok(const struct hc_context *c, uint64_t gpa, uint64_t len)
{
    return gpa <= c->guest_size && len <= c->guest_size - gpa;
}

int guest_copy_from(const struct hc_context *c, void *dst, uint64_t gpa, uint64_t len)
{
    if (!guest_range_ok(c, gpa, len))
        return -E_FAULT;
    memcpy(dst, c->guest_base + gpa, (size_t)len);
    return 0;
}

int guest_copy_to(const struct hc_context *c, uint64_t gpa, const void *src, uint64_t len)
{
    if (!guest_range_ok(c, gpa, len))
        return -E_FAULT;
    memcpy(c->guest_base + gpa, src, (size_t)len);
    return 0;
}

/* The text goes out in pieces through a small copy: a whole SC_CONSOLE_MAX buffer would
 * be 4 KiB of the trap path's stack (the hook assembles lines across calls anyway). */
#define CONSOLE_PIECE 256

static int64_t hc_console_write(const struct hc_context *c, uint64_t gpa, uint64_t len)
{
    char text[CONSOLE_PIECE];
    if (len > SC_CONSOLE_MAX)
        return -E_INVAL;
    if (!guest_range_ok(c, gpa, len))
        return -E_FAULT;
    for (uint64_t off = 0; off < len; off += CONSOLE_PIECE) {
        uint64_t n = len - off < CONSOLE_PIECE ? len - off : CONSOLE_PIECE;
        (void)guest_copy_from(c, text, gpa + off, n); /* inside the range checked above */
        c->console(c->ctx, text, (size_t)n);
    }
    return (int64_t)len;
}

static int64_t hc_exit_counters(const struct hc_context *c, uint64_t gpa, uint64_t vcpu)
{
    if (vcpu >= c->vcpu_count)
        return -E_INVAL;
    const struct sc_exit_counters *src = c->counters_of(c->ctx, (unsigned)vcpu);
    if (!src)
        return -E_INVAL;
    struct sc_exit_counters snapshot = *src; /* the other vCPU's core keeps counting */
    return guest_copy_to(c, gpa, &snapshot, sizeof(snapshot));
}

/* The slot is copied in once, executed on the copy, copied back whole. */
static int64_t hc_ring_op(const struct hc_context *c, uint64_t service, uint64_t gpa)
{
    struct sc_ring_slot slot;
    if (!c->ring_op)
        return -E_NOSYS; /* an environment without services */
    if (service >= SC_SERVICES)
        return -E_INVAL;
    if (guest_copy_from(c, &slot, gpa, sizeof(slot)))
        return -E_FAULT;
    int64_t status = c->ring_op(c->ctx, (unsigned)service, &slot);
    slot.status = status;
    if (guest_copy_to(c, gpa, &slot, sizeof(slot)))
        return -E_FAULT;
    return status;
}

int64_t hypercall_dispatch(const struct hc_context *c, uint64_t op, uint64_t a0, uint64_t a1,
                           uint64_t a2)
{
    (void)a2;
    switch (op) {
    case SC_HC_NULL:
        return 0;
    case SC_HC_CONSOLE_WRITE:
        return hc_console_write(c, a0, a1);
    case SC_HC_EXIT:
        c->exit(c->ctx, (int64_t)a0);
        return 0;
    case SC_HC_EXIT_COUNTERS:
        return hc_exit_counters(c, a0, a1);
    case SC_HC_STEADY_BEGIN:
        c->steady_begin(c->ctx);
        return 0;
    case SC_HC_STEADY_END:
        return (int64_t)c->steady_end(c->ctx);
    case SC_HC_RING_OP:
        return hc_ring_op(c, a0, a1);
    default:
        return -E_NOSYS;
    }
}
