/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Service requests: each vCPU's rings in the window (found through sc_local) and the trap path. */
#include "sidecore/guest.h"

#define TRAP_TAG 0x50415254u /* "TRAP": returned unchanged in the slot */

/* One client per vCPU, found through the vCPU's GS-based block without any exit. */
static struct sc_svc_client clients[SC_MAX_VCPUS];

int sc_rings_init(const struct sc_boot_info *bi)
{
    uint32_t r[4];
    uint32_t id = bi->vcpu_id;
    if (id >= SC_MAX_VCPUS || id >= bi->vcpu_count || id != sc_vcpu_id())
        return -SC_EINVAL;

    sc_cpuid(SC_CPUID_RINGS, 0, r);
    uint64_t cpuid_gpa = (uint64_t)r[1] << 32 | r[0], cpuid_size = r[2];
    uint64_t gpa = bi->ring_window_gpa, size = bi->ring_window_size;
    if (!gpa && !size) { /* an older boot info: the CPUID leaf alone */
        gpa = cpuid_gpa;
        size = cpuid_size;
    }
    if (!gpa || !size)
        return -SC_ENODEV;
    if (gpa != cpuid_gpa || size != cpuid_size || (gpa | size) & 0xfff || gpa + size < gpa ||
        gpa < bi->memory_size || size < (uint64_t)bi->vcpu_count * SC_SERVICES * SC_RING_BYTES)
        return -SC_EINVAL;

    struct sc_svc_client *c = &clients[id];
    struct sc_vcpu_local *self = sc_local();
    if (self->svc && self->svc != c)
        return -SC_EEXIST;
    int err = sc_svc_client_init(c, (void *)(uintptr_t)gpa, size, id);
    if (err)
        return err;
    self->svc = c;
    return 0;
}

struct sc_svc_client *sc_svc_self(void)
{
    return sc_local()->svc;
}

struct sc_ring *sc_svc_ring_of(enum sc_service s)
{
    struct sc_svc_client *c = sc_svc_self();
    return c && (unsigned)s < SC_SERVICES ? c->ring[s].ring : NULL;
}

int64_t sc_svc_ring(enum sc_service s, uint16_t op, const uint64_t args[6], uint64_t out[6])
{
    struct sc_svc_client *c = sc_svc_self();
    return c ? sc_svc_client_call(c, s, op, args, out) : -SC_ENODEV;
}

int64_t sc_svc_trap(enum sc_service s, uint16_t op, const uint64_t args[6], uint64_t out[6])
{
    struct sc_ring_slot slot; /* on the stack: identity-mapped, so its address is its GPA */
    sc_svc_slot_fill(&slot, op, TRAP_TAG, args);
    int64_t status = sc_hypercall(SC_HC_RING_OP, s, (long)(uintptr_t)&slot, 0);
    if (out)
        for (unsigned i = 0; i < 6; i++)
            out[i] = slot.arg[i];
    return status;
}

int sc_svc_batch_begin(struct sc_svc_batch *b, enum sc_service s)
{
    struct sc_svc_client *c = sc_svc_self();
    if (!c) {
        b->rc = NULL;
        return -SC_ENODEV;
    }
    sc_svc_batch_init(b, c, s);
    return b->rc ? 0 : -SC_EINVAL;
}

int64_t sc_svc_post(enum sc_service s, uint16_t op, const uint64_t args[6])
{
    struct sc_svc_client *c = sc_svc_self();
    return c ? sc_svc_client_post(c, s, op, args) : -SC_ENODEV;
}

int sc_svc_poll(int64_t seq, int64_t *status, uint64_t out[6])
{
    struct sc_svc_client *c = sc_svc_self();
    return c ? sc_svc_client_poll(c, seq, status, out) : -SC_ENODEV;
}
