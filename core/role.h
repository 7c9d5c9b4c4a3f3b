/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* What a CPU does once the configuration gave it a role. */
#ifndef CORE_ROLE_H
#define CORE_ROLE_H

#include "core/config.h"

struct percpu;

/* Run on the CPU itself when the boot CPU posts CPU_CMD_TAKE_ROLE. */
void role_enter(struct percpu *pc);
/* Its "role: ..." log line once the role is acknowledged, then CPU_IN_ROLE: waiting for the
 * console (hundreds of CPUs take their roles at once) never delays the acknowledgement. */
void role_announce(struct percpu *pc);
/* After the role is acknowledged: a side core serves its rings here, a guest core runs
 * its vCPU until the vCPU exits or is stopped; other roles return at once. Defined above
 * this layer (boot/role_run.c), which knows the services and the vCPUs. */
void role_run(struct percpu *pc);
/* "side core: pt irq io (poll spin)", "guest core: partition 'demo' vCPU 1", "unused". */
void role_describe(const struct config *cfg, unsigned cpu, char *buf, unsigned size);

#endif
