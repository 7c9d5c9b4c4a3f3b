/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* INVD and WBINVD are no-ops. A partition has no device that reads memory around the
 * caches, so nothing it owns needs writing back; executing them would write back and
 * invalidate caches other partitions and side cores share (a guest looping on WBINVD would
 * slow them all), and INVD would drop their dirty lines. What INVD discards is undefined
 * anyway, so keeping everything is a valid INVD. */
#include "vmexit/exit_handlers.h"
#include "vmexit/vcpu.h"

enum exit_action exit_cache_flush(const struct exit_ctx *c, const struct vcpu_exit *e)
{
    vcpu_count_exit(c->v, SC_EXIT_OTHER);
    if (e->cpl != 0) { /* privileged: the CPU's #GP, in case the exit came first */
        exit_inject_gp(c);
        return EXIT_RESUME;
    }
    c->be->skip_instruction(c->v, e->insn_len);
    return EXIT_RESUME;
}
