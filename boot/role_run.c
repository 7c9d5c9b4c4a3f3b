/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The role dispatch: what an acknowledged CPU runs. It sits above the services and the
 * vCPUs it starts; the platform's AP loop (core/smp.c) calls it through core/role.h. */
#include "core/hv.h"
#include "core/percpu.h"
#include "core/role.h"
#include "sidecore/sidecore.h"
#include "vmexit/partition.h"

void role_run(struct percpu *pc)
{
    enum cpu_role_kind kind = config_cpu_role(&hv.cfg, pc->index).kind;
    if (kind == ROLE_SIDECORE) {
        sidecore_run(pc);
        return;
    }
    if (kind != ROLE_GUEST)
        return;
    struct vcpu *v = partition_vcpu_of_cpu(pc->index);
    if (v)
        partition_run_vcpu(v);
}
