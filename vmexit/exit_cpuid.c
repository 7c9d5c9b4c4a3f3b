/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* CPUID: the one virtual CPUID (cpuid.c) over what the physical CPU answers. */
#include "vmexit/exit_handlers.h"
#include "vmexit/vcpu.h"

enum exit_action exit_cpuid(const struct exit_ctx *c, const struct vcpu_exit *e)
{
    struct vcpu *v = c->v;
    uint32_t leaf = (uint32_t)v->regs.rax, sub = (uint32_t)v->regs.rcx;
    struct cpuid_values host, out;
    vcpu_count_exit(v, SC_EXIT_CPUID);
    c->hooks->host_cpuid(leaf, sub, &host);
    struct cpuid_guest_view g = c->hooks->cpuid_view(v);
    if (leaf == 1) { /* OSXSAVE mirrors CR4: the guest's, not the hypervisor's */
        struct guest_state st;
        c->be->vcpu_state(v, &st);
        g.osxsave = (st.cr4 & X86_CR4_OSXSAVE) != 0;
    }
    cpuid_virtualize(leaf, sub, &host, &g, &out);
    /* 32-bit results: the upper halves are cleared, as CPUID does */
    v->regs.rax = out.eax;
    v->regs.rbx = out.ebx;
    v->regs.rcx = out.ecx;
    v->regs.rdx = out.edx;
    c->be->skip_instruction(v, e->insn_len);
    return EXIT_RESUME;
}
