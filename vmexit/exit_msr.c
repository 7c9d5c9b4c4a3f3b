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

/* The first few MSRs a partition is refused are named in the log, for whoever brings up a
 * new guest kernel; the rest only counted (the exits). */
#define MSR_REFUSALS_LOGGED 16

static void refuse_msr(const struct exit_ctx *c, const struct vcpu_exit *e, bool write)
{
    struct partition *p = c->v->partition;
    if (__atomic_fetch_add(&p->msr_refusals_logged, 1, __ATOMIC_RELAXED) < MSR_REFUSALS_LOGGED)
        exit_warn(c,
                  "partition '%s' vCPU %u: %s of MSR %#x refused with #GP (the first %d are "
                  "logged)",
                  p->name, c->v->id, write ? "write" : "read", e->msr.index, MSR_REFUSALS_LOGGED);
    exit_inject_gp(c);
}

/* IA32_APIC_BASE as a guest core's own LAPIC has it: enabled at the architectural base, in
 * x2APIC mode when the host's is, vCPU 0 the bootstrap processor. Read-only: a write of
 * the same value is accepted, any change refused. */
uint64_t msr_apic_base(bool x2apic, unsigned vcpu_id)
{
    return APIC_BASE_DEFAULT | APIC_BASE_ENABLE | (x2apic ? APIC_BASE_X2APIC : 0) |
           (vcpu_id == 0 ? APIC_BASE_BSP : 0);
}

static void complete_read(const struct exit_ctx *c, const struct vcpu_exit *e, uint64_t value)
{
    c->v->regs.rax = (uint32_t)value;
    c->v->regs.rdx = value >> 32;
    c->be->skip_instruction(c->v, e->insn_len);
}

enum exit_action exit_msr(const struct exit_ctx *c, const struct vcpu_exit *e)
{
    bool write = e->reason == VCPU_EXIT_MSR_WRITE;
    vcpu_count_exit(c->v, write ? SC_EXIT_MSR_WRITE : SC_EXIT_MSR_READ);
    if (e->msr.index == MSR_APIC_BASE) {
        uint64_t base = msr_apic_base(c->hooks->x2apic_mode(), c->v->id);
        if (!write)
            complete_read(c, e, base);
        else if (e->msr.value == base)
            c->be->skip_instruction(c->v, e->insn_len);
        else
            refuse_msr(c, e, write);
        return EXIT_RESUME;
    }
    if (!write || !c->hooks->x2apic_mode() || !x2apic_write_exits(e->msr.index)) {
        refuse_msr(c, e, write);
        return EXIT_RESUME;
    }
    uint8_t vector;
    uint64_t lvt;
    int rc;
    if (e->msr.index == MSR_X2APIC_ICR) {
        icr_write(c, e->msr.value);
    } else if (e->msr.index == MSR_X2APIC_SELF_IPI) {
        if ((rc = self_ipi_validate(e->msr.value, &vector)) == 0)
            c->hooks->send_ipi(c->hooks->apic_id(c->v->cpu), vector);
        else
            refused(c, "self-IPI", e->msr.value, rc);
    } else if ((rc = lvt_validate(e->msr.index, e->msr.value, &lvt)) == 0) {
        if (c->hooks->lapic_write(e->msr.index, lvt)) {
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
