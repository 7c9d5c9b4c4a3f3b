/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* INVD and WBINVD. INVD would drop dirty cache lines, the hypervisor's and other
 * partitions' among them: it is executed as WBINVD instead, a valid INVD as far as the
 * guest can tell (what INVD discards is undefined anyway). WBINVD (and WBNOINVD) is
 * executed as asked. */
#include "vmexit/exit_handlers.h"
#include "vmexit/vcpu.h"

enum exit_action exit_cache_flush(const struct exit_ctx *c, const struct vcpu_exit *e)
{
    vcpu_count_exit(c->v, SC_EXIT_OTHER);
    if (e->cpl != 0) { /* privileged: the CPU's #GP, in case the exit came first */
        exit_inject_gp(c);
        return EXIT_RESUME;
    }
    c->hooks->wbinvd();
    c->be->skip_instruction(c->v, e->insn_len);
    return EXIT_RESUME;
}
