/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Every CPU's stacks, each with an unmapped guard page below it. */
#ifndef CORE_STACKS_H
#define CORE_STACKS_H

#include <stdint.h>

struct palloc;
struct percpu;
struct pt;

#define IST_STACKS 3 /* NMI, double fault, machine check (core/desc.h IST_*) */

/* One block per CPU (the boot CPU too), -E_NOMEM if memory runs out. */
int stacks_alloc(struct palloc *pa);
/* Top of the main stack in cpu's block (an AP may run on another CPU's: core/smp.c). */
uint64_t stacks_main_top(unsigned cpu);
/* Tops of cpu's IST stacks, IST1 first. */
void stacks_ist_tops(unsigned cpu, uint64_t top[IST_STACKS]);
/* Note which main stack pc runs on: the one ending at top, or the boot stack (top 0). */
void stacks_set_main(struct percpu *pc, uint64_t top);
/* Unmap every guard page in the hypervisor's tables, then reload CR3 (boot CPU, before
 * the APs start: nothing else walks the tables yet). 0 or -E_NOMEM. */
int stacks_unmap_guards(struct pt *host);
/* If addr lies in a guard page of pc's stacks: which stack it guards ("main", "NMI",
 * "double-fault", "machine-check"); else NULL. */
const char *stacks_guard_hit(const struct percpu *pc, uint64_t addr);
uint64_t stacks_bytes(void);

#endif
