/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Side cores: which rings each serves, the poll loop and its idle policy,
 * per-ring counters. */
#ifndef SIDECORE_SIDECORE_H
#define SIDECORE_SIDECORE_H

#include <stdbool.h>

struct percpu;
struct config;
struct palloc;

/* Boot CPU, after the partitions are built: create the services' per-vCPU and per-side-core
 * state, place every ring on a side core and log the placement. 0 or a negative errno. */
int sidecore_setup(const struct config *cfg, struct palloc *pa);
/* One pass over this side core's rings, then its idle policy if nothing was
 * pending. Returns true if it served a request. */
bool sidecore_step(unsigned cpu);
/* An application processor's side-core role: step until told to halt. */
void sidecore_run(struct percpu *pc);
/* Per-ring counters (requests, errors, largest batch) and broken rings. */
void sidecore_report(void);

#endif
