/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* RDMSR/WRMSR of an MSR that is not passed through. In x2APIC mode the ICR, the self-IPI
 * register and the LVTs are the ones a partition may write, each validated (icr.c): the ICR
 * and self-IPI become fixed IPIs inside the partition or are refused and counted; an LVT is
 * written as asked or refused with #GP. Every other MSR gets #GP, as the CPU gives for an
 * MSR that does not exist: a partition owns no other. */
#include "vmexit/exit_handlers.h"
#include "vmexit/icr.h"
#include "vmexit/vcpu.h"
#include "vmexit/x86.h"

static void refused(const struct exit_ctx *c, const char *what, uint64_t value, int rc)
{
    struct vcpu *v = c->v;
    struct partition *p = v->partition;
    if (__atomic_fetch_add(&p->refused_ipis, 1, __ATOMIC_RELAXED) == 0)
        exit_warn(c,
                  "partition '%s' vCPU %u: %s refused (%llx, error %d); further refusals are "
                  "only counted",
                  p->name, v->id, what, (unsigned long long)value, rc);
}

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
        refused(c, "IPI (ICR write)", icr, rc);
        return;
    }
    for (unsigned i = 0; i < d.ntargets; i++)
        c->hooks->send_ipi(d.targets[i], d.vector);
}

enum exit_action exit_msr(const struct exit_ctx *c, const struct vcpu_exit *e)
{
    bool write = e->reason == VCPU_EXIT_MSR_WRITE;
    vcpu_count_exit(c->v, write ? SC_EXIT_MSR_WRITE : SC_EXIT_MSR_READ);
    if (!write || !c->hooks->x2apic_mode() || !x2apic_write_exits(e->msr.index)) {
        exit_inject_gp(c);
        return EXIT_RESUME;
    }
    uint8_t vector;
    int rc;
    if (e->msr.index == MSR_X2APIC_ICR) {
        icr_write(c, e->msr.value);
    } else if (e->msr.index == MSR_X2APIC_SELF_IPI) {
        if ((rc = self_ipi_validate(e->msr.value, &vector)) == 0)
            c->hooks->send_ipi(c->hooks->apic_id(c->v->cpu), vector);
        else
            refused(c, "self-IPI", e->msr.value, rc);
    } else if ((rc = lvt_validate(e->msr.value)) == 0) {
        if (c->hooks->lapic_write(e->msr.index, e->msr.value)) {
            exit_inject_gp(c); /* an LVT this core does not have: as the CPU would */
            return EXIT_RESUME;
        }
    } else {
        refused(c, "LVT write", e->msr.value, rc);
        exit_inject_gp(c); /* before the write: rip stays on the WRMSR */
        return EXIT_RESUME;
    }
    c->be->skip_instruction(c->v, e->insn_len);
    return EXIT_RESUME;
}
