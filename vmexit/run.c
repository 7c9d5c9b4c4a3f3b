/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The run loop, one for every backend: the checks before each entry with events held,
 * the entry, the exit decoded and handed to the policy. */
#include "core/refusal.h"
#include "vmexit/exit.h"
#include "vmexit/vcpu.h"

bool vcpu_should_stop(const struct vcpu *v)
{
    return life_state(&v->partition->life) == PARTITION_STOPPED;
}

void vcpu_run(struct vcpu *v, const struct vcpu_backend *be, const struct exit_hooks *hooks)
{
    const struct exit_ctx c = {v, be, hooks};
    struct refusal why;
    if (be->cpu_enable(v, &why)) {
        hooks->stop(v, why.text);
        return;
    }
    for (;;) {
        /* held before looking for work: a kick sent after these checks is not lost but
         * makes the coming entry exit at once */
        be->hold_events(v);
        if (vcpu_should_stop(v)) {
            be->release_events(v);
            __atomic_store_n(&v->state, VCPU_STOPPED, __ATOMIC_RELEASE);
            return;
        }
        if (hooks->before_entry(v)) { /* a pending flush applied, or parked by request */
            be->release_events(v);
            return;
        }
        /* every check is done and events are held: in guest mode from here to the exit */
        hooks->guest_enter(v);
        be->enter(v);
        hooks->guest_exit(v);
        be->release_events(v);
        struct vcpu_exit e;
        be->decode_exit(v, &e);
        if (exit_dispatch(&c, &e) == EXIT_LEAVE)
            return;
    }
}
