/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* RDMSR/WRMSR of an MSR that is not passed through. In x2APIC mode the ICR is the one a
 * partition may write: each write is validated (icr.c) and becomes fixed IPIs inside the
 * partition, or is refused and counted. Every other MSR gets #GP, as the CPU gives for an
 * MSR that does not exist: a partition owns no other. */
#include "vmexit/exit_handlers.h"
#include "vmexit/icr.h"
#include "vmexit/vcpu.h"
#include "vmexit/x86.h"

static void icr_write(const struct exit_ctx *c, uint64_t icr)
{
    struct vcpu *v = c->v;
    struct partition *p = v->partition;
    uint32_t ids[MAX_PARTITION_VCPUS];
    for (unsigned i = 0; i < p->nvcpus; i++)
        ids[i] = c->hooks->apic_id(p->vcpus[i].cpu);
    struct icr_partition_view view = {ids, p->nvcpus, v->id};
    struct icr_decision d;
    int rc = icr_validate(icr, &view, &d);
    if (rc) {
        if (__atomic_fetch_add(&p->refused_ipis, 1, __ATOMIC_RELAXED) == 0)
            exit_warn(c,
                      "partition '%s' vCPU %u: IPI refused (icr %llx, error %d); further "
                      "refusals are only counted",
                      p->name, v->id, (unsigned long long)icr, rc);
        return;
    }
    for (unsigned i = 0; i < d.ntargets; i++)
        c->hooks->send_ipi(d.targets[i], d.vector);
}

enum exit_action exit_msr(const struct exit_ctx *c, const struct vcpu_exit *e)
{
    bool write = e->reason == VCPU_EXIT_MSR_WRITE;
    vcpu_count_exit(c->v, write ? SC_EXIT_MSR_WRITE : SC_EXIT_MSR_READ);
    if (write && e->msr.index == MSR_X2APIC_ICR && c->hooks->x2apic_mode()) {
        icr_write(c, e->msr.value);
        c->be->skip_instruction(c->v, e->insn_len);
        return EXIT_RESUME;
    }
    exit_inject_gp(c);
    return EXIT_RESUME;
}
