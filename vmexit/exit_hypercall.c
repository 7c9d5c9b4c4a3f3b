/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The trap-path hypercall: opcode in rax, arguments in rdi, rsi, rdx, result in rax
 * (abi.h); only the guest kernel (CPL 0) speaks to the hypervisor. */
#include "core/klib.h"
#include "vmexit/exit_handlers.h"
#include "vmexit/vcpu.h"

enum exit_action exit_hypercall(const struct exit_ctx *c, const struct vcpu_exit *e)
{
    struct vcpu *v = c->v;
    /* counted before it runs, so that SC_HC_EXIT_COUNTERS sees itself (abi.h) */
    vcpu_count_exit(v, SC_EXIT_HYPERCALL);
    c->be->skip_instruction(v, e->insn_len);
    if (e->cpl != 0) {
        v->regs.rax = (uint64_t)-E_PERM;
        return EXIT_RESUME;
    }
    v->regs.rax =
        (uint64_t)c->hooks->hypercall(v, v->regs.rax, v->regs.rdi, v->regs.rsi, v->regs.rdx);
    return __atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VCPU_EXITED ? EXIT_LEAVE : EXIT_RESUME;
}
