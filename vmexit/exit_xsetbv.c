/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* XSETBV: the guest sets which extended state XSAVE manages (XCR0). XCR0 is in no control
 * block, and the hypervisor uses no extended state, so a value the CPU would accept is loaded
 * into the guest's own core; anything the CPU would refuse gets the #GP it would raise
 * (SDM vol. 2, XSETBV): CPL above 0, another register than XCR0, x87 off, AVX without SSE,
 * the AVX-512 states not all together or without AVX, the MPX or AMX pairs split, or a
 * state the CPU does not have (CPUID 0xd). */
#include "vmexit/exit_handlers.h"
#include "vmexit/vcpu.h"
#include "vmexit/x86.h"

#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)
#define XCR0_MPX (3ull << 3)    /* BNDREGS, BNDCSR */
#define XCR0_AVX512 (7ull << 5) /* opmask, ZMM_Hi256, Hi16_ZMM */
#define XCR0_AMX (3ull << 17)   /* TILECFG, TILEDATA */

static bool both_or_neither(uint64_t x, uint64_t bits)
{
    return (x & bits) == 0 || (x & bits) == bits;
}

static bool xcr0_valid(uint64_t x, uint64_t supported)
{
    if (!(x & XCR0_X87) || (x & ~supported))
        return false;
    if ((x & XCR0_AVX) && !(x & XCR0_SSE))
        return false;
    if ((x & XCR0_AVX512) && !(x & XCR0_AVX))
        return false;
    return both_or_neither(x, XCR0_AVX512) && both_or_neither(x, XCR0_MPX) &&
           both_or_neither(x, XCR0_AMX);
}

/* The XCR0 bits this CPU supports (CPUID 0xd.0), or 0 without XSAVE: a CPU that does not
 * have leaf 0xd answers another leaf's values for it. */
static uint64_t supported_xcr0(const struct exit_ctx *c)
{
    struct cpuid_values r;
    c->hooks->host_cpuid(0, 0, &r);
    uint32_t max_leaf = r.eax;
    c->hooks->host_cpuid(1, 0, &r);
    if (max_leaf < 0xd || !(r.ecx & CPUID_1_ECX_XSAVE))
        return 0;
    c->hooks->host_cpuid(0xd, 0, &r);
    return r.eax | (uint64_t)r.edx << 32;
}

enum exit_action exit_xsetbv(const struct exit_ctx *c, const struct vcpu_exit *e)
{
    vcpu_count_exit(c->v, SC_EXIT_OTHER);
    uint64_t supported = supported_xcr0(c);
    if (!supported) { /* no XSAVE here: the #UD the instruction raises on such a CPU */
        c->be->inject_exception(c->v, X86_UD, false, 0);
        return EXIT_RESUME;
    }
    if (e->cpl != 0 || e->msr.index != 0 || !xcr0_valid(e->msr.value, supported)) {
        exit_inject_gp(c);
        return EXIT_RESUME;
    }
    if (c->hooks->xsetbv(e->msr.value)) {
        c->be->inject_exception(c->v, X86_UD, false, 0);
        return EXIT_RESUME;
    }
    c->be->skip_instruction(c->v, e->insn_len);
    return EXIT_RESUME;
}
