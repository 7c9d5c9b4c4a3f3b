/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* A partition's life as its vCPUs change it: exits, stops, restarts and the hypervisor's
 * stop. State and exited-vCPU count share one atomic word, so every transition is a single
 * compare-and-swap and no order of them can leave a partition FINISHED while one of its
 * vCPUs runs, or let a restart revive a partition that ended (host-tested). */
#ifndef VMEXIT_LIFECYCLE_H
#define VMEXIT_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

/* Life of a partition. */
enum partition_state {
    PARTITION_IDLE = 0, /* configured, no vCPU entered yet */
    PARTITION_RUNNING,  /* at least one vCPU entered; not all have exited */
    PARTITION_FINISHED, /* every vCPU exited (SC_HC_EXIT, or parked by SC_OP_VCPU_STOP) */
    PARTITION_STOPPED,  /* stopped by the hypervisor: fault, bad exit, time-out */
};

struct partition_life {
    uint64_t word;   /* state in bits 63:32, exited vCPUs in bits 31:0; atomic */
    uint32_t nvcpus; /* fixed once the partition is built */
};

void life_init(struct partition_life *l, uint32_t nvcpus);
enum partition_state life_state(const struct partition_life *l);
uint32_t life_exited(const struct partition_life *l);
/* IDLE -> RUNNING when a first vCPU enters; no change otherwise. */
void life_enter(struct partition_life *l);
/* A vCPU exited or parked: it counts as exited. true if it was the last, which made a
 * RUNNING partition FINISHED. */
bool life_vcpu_exited(struct partition_life *l);
/* A parked vCPU runs again: it no longer counts as exited. false, with nothing changed, if
 * the partition is no longer RUNNING (the restart is void). */
bool life_vcpu_resume(struct partition_life *l);
/* The hypervisor stops the partition: true if this call did it, false if it had stopped or
 * finished already. */
bool life_stop(struct partition_life *l);

#endif
