/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Intercepted exceptions. #DB and #AC are intercepted only to be handed back: an
 * exception whose delivery raises it again loops inside the CPU with no instruction
 * boundary for the kick NMI (CVE-2015-5307, CVE-2015-8104); intercepted, each one is an
 * exit, and the core stays stoppable. They go back as the CPU raised them: #AC with its
 * error code and RF set in the rflags it pushes, as for any fault; #DB with DR6 as the CPU
 * left it and DR7.GD cleared, as its delivery does. The injection replaces an event whose
 * delivery the exception interrupted: an interrupted exception comes again when the
 * instruction runs again; an interrupted interrupt is not delivered again (only a guest
 * whose own IDT or stack faults gets there, and delivering it again would fault again).
 * Any other vector was not meant to be intercepted: the partition is stopped. */
#include "vmexit/exit_handlers.h"
#include "vmexit/vcpu.h"
#include "vmexit/x86.h"

enum exit_action exit_exception(const struct exit_ctx *c, const struct vcpu_exit *e)
{
    struct vcpu *v = c->v;
    const struct vcpu_backend *be = c->be;
    unsigned vector = e->exception.vector;
    vcpu_count_exit(v, SC_EXIT_EXCEPTION);
    if (vector == X86_AC)
        be->write_reg(v, VCPU_REG_RFLAGS, be->read_reg(v, VCPU_REG_RFLAGS) | RFLAGS_RF);
    else if (vector == X86_DB)
        be->write_reg(v, VCPU_REG_DR7, be->read_reg(v, VCPU_REG_DR7) & ~DR7_GD);
    else
        return exit_unexpected(c, e);
    be->inject_exception(v, vector, e->exception.has_error, e->exception.error);
    return EXIT_RESUME;
}
