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

enum exit_action exit_xsetbv(const struct exit_ctx *c, const struct vcpu_exit *e)
{
    vcpu_count_exit(c->v, SC_EXIT_OTHER);
    struct cpuid_values d;
    c->hooks->host_cpuid(0xd, 0, &d);
    uint64_t supported = d.eax | (uint64_t)d.edx << 32;
    if (e->cpl != 0 || e->msr.index != 0 || !xcr0_valid(e->msr.value, supported)) {
        exit_inject_gp(c);
        return EXIT_RESUME;
    }
    c->hooks->xsetbv(e->msr.value);
    c->be->skip_instruction(c->v, e->insn_len);
    return EXIT_RESUME;
}
