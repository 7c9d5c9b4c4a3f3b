/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* x2APIC ICR (Intel SDM vol. 3, 11.12.9): vector [7:0], delivery mode [10:8],
 * destination mode [11], shorthand [19:18], destination [63:32]. */
#include "vmexit/icr.h"

#include "core/klib.h"
#include "guest-stubs/include/sidecore/abi.h"
#include "vmexit/x86.h"

#define ICR_VECTOR(x) ((uint8_t)((x)&0xff))
#define ICR_DELIVERY(x) (((x) >> 8) & 7)
#define ICR_LOGICAL(x) (((x) >> 11) & 1)
#define ICR_SHORTHAND(x) (((x) >> 18) & 3)
#define ICR_DEST(x) ((uint32_t)((x) >> 32))

enum { SHORT_NONE, SHORT_SELF, SHORT_ALL_INCL, SHORT_ALL_EXCL };
enum { DELIVERY_FIXED = 0, DELIVERY_NMI = 4, DELIVERY_EXTINT = 7 };

/* The vectors a guest may raise: any but an exception vector (the hypervisor keeps none). */
_Static_assert(SC_VECTOR_MAX == 0xff, "every 8-bit vector from SC_VECTOR_MIN on");
static bool guest_vector(uint8_t v)
{
    return v >= SC_VECTOR_MIN;
}

int icr_validate(uint64_t icr, const struct icr_partition_view *p, struct icr_decision *out)
{
    out->ntargets = 0;
    out->vector = ICR_VECTOR(icr);
    if (ICR_DELIVERY(icr) != DELIVERY_FIXED)
        return -E_PERM;
    if (!guest_vector(out->vector))
        return -E_INVAL;
    switch (ICR_SHORTHAND(icr)) {
    case SHORT_SELF:
        out->targets[out->ntargets++] = p->apic_ids[p->self];
        return 0;
    case SHORT_ALL_INCL:
    case SHORT_ALL_EXCL:
        /* "all" means all of the partition, never the machine */
        for (unsigned i = 0; i < p->count && out->ntargets < ICR_MAX_TARGETS; i++)
            if (i != p->self || ICR_SHORTHAND(icr) == SHORT_ALL_INCL)
                out->targets[out->ntargets++] = p->apic_ids[i];
        return 0;
    default:
        break;
    }
    if (ICR_LOGICAL(icr))
        return -E_INVAL; /* logical destinations would need the guest's LDR view */
    for (unsigned i = 0; i < p->count; i++) {
        if (p->apic_ids[i] == ICR_DEST(icr)) {
            out->targets[out->ntargets++] = ICR_DEST(icr);
            return 0;
        }
    }
    return -E_PERM;
}

#define LVT_MASKED (1u << 16)

bool x2apic_write_exits(uint32_t msr)
{
    return msr == MSR_X2APIC_ICR || msr == MSR_X2APIC_SELF_IPI || msr == MSR_X2APIC_LVT_CMCI ||
           (msr >= MSR_X2APIC_LVT_TIMER && msr <= MSR_X2APIC_LVT_ERROR);
}

int self_ipi_validate(uint64_t value, uint8_t *vector)
{
    *vector = ICR_VECTOR(value);
    return (value >> 8) == 0 && guest_vector(*vector) ? 0 : -E_INVAL;
}

/* The bits software may set in each LVT (Intel SDM vol. 3, 11.5.1; AMD APM vol. 2, 16.4):
 * a write that sets any other bit of an x2APIC register raises #GP, and the hypervisor is
 * the one that writes it. */
#define LVT_VECTOR 0xffu
#define LVT_DELIVERY (7u << 8)
#define LVT_POLARITY (1u << 13)
#define LVT_TRIGGER (1u << 15)
#define LVT_TIMER_MODE (3u << 17) /* one-shot, periodic, TSC deadline; 3 is reserved */

static uint32_t lvt_writable(uint32_t msr)
{
    switch (msr) {
    case MSR_X2APIC_LVT_TIMER:
        return LVT_VECTOR | LVT_MASKED | LVT_TIMER_MODE;
    case MSR_X2APIC_LVT_LINT0:
    case MSR_X2APIC_LVT_LINT1:
        return LVT_VECTOR | LVT_DELIVERY | LVT_POLARITY | LVT_TRIGGER | LVT_MASKED;
    case MSR_X2APIC_LVT_ERROR:
        return LVT_VECTOR | LVT_MASKED;
    default: /* CMCI, thermal, performance counters */
        return LVT_VECTOR | LVT_DELIVERY | LVT_MASKED;
    }
}

static bool lint_delivery(uint64_t value)
{
    unsigned d = ICR_DELIVERY(value);
    return d == DELIVERY_FIXED || d == DELIVERY_NMI || d == DELIVERY_EXTINT;
}

int lvt_validate(uint32_t msr, uint64_t value, uint64_t *apply)
{
    *apply = value;
    if (value & ~(uint64_t)lvt_writable(msr))
        return -E_INVAL; /* a reserved bit (any of 63:32 included) */
    if (msr == MSR_X2APIC_LVT_TIMER && (value & LVT_TIMER_MODE) == LVT_TIMER_MODE)
        return -E_INVAL;
    if (msr == MSR_X2APIC_LVT_LINT0 || msr == MSR_X2APIC_LVT_LINT1) {
        if (!lint_delivery(value))
            return -E_PERM;
        *apply = value | LVT_MASKED; /* the pins are wired to the platform, not the partition */
        return 0;
    }
    if (value & LVT_MASKED)
        return 0; /* masked: raises nothing, whatever it says */
    if (ICR_DELIVERY(value) != DELIVERY_FIXED)
        return -E_PERM;
    return guest_vector(ICR_VECTOR(value)) ? 0 : -E_INVAL;
}
