/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* IN/OUT on a port. The ports of an emulated device (PCI configuration mechanism #1, for a
 * partition with a virtio-pci disk) go to it. Partitions own no other port: reads give all
 * ones and writes are dropped, like a bus with nothing on it; string I/O (INS/OUTS, with or
 * without REP) is not emulated: it gets #GP, the fault for a port the guest may not use,
 * and the guest goes on. The first exit of a partition on a port nothing has is logged. */
#include "vmexit/exit_handlers.h"
#include "vmexit/vcpu.h"

/* What IN does to rax: a 32-bit load zero-extends, 8- and 16-bit ones keep the other bytes. */
static uint64_t in_result(uint64_t rax, unsigned size, uint32_t value)
{
    if (size == 4)
        return value;
    uint64_t mask = (1ull << (8 * size)) - 1;
    return (rax & ~mask) | (value & mask);
}

enum exit_action exit_io(const struct exit_ctx *c, const struct vcpu_exit *e)
{
    struct vcpu *v = c->v;
    struct partition *p = v->partition;
    vcpu_count_exit(v, SC_EXIT_IO);
    uint32_t value = (uint32_t)v->regs.rax;
    if (!e->io.string && c->hooks->device_port(v, e->io.port, e->io.size, !e->io.in, &value)) {
        if (e->io.in)
            v->regs.rax = in_result(v->regs.rax, e->io.size, value);
        c->be->skip_instruction(v, e->insn_len);
        return EXIT_RESUME;
    }
    if (__atomic_fetch_add(&p->io_exits_logged, 1, __ATOMIC_RELAXED) == 0)
        exit_warn(c,
                  "partition '%s' vCPU %u: %s%s port 0x%x, not owned: reads give all ones, "
                  "writes are dropped, string I/O gets #GP (logged once)",
                  p->name, v->id, e->io.string ? "string " : "", e->io.in ? "in from" : "out to",
                  e->io.port);
    if (e->io.string) {
        exit_inject_gp(c);
        return EXIT_RESUME;
    }
    if (e->io.in)
        v->regs.rax = in_result(v->regs.rax, e->io.size, 0xffffffffu); /* nothing there */
    c->be->skip_instruction(v, e->insn_len);
    return EXIT_RESUME;
}
