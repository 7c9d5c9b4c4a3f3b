/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* IN/OUT on a port. The ports of an emulated device (PCI configuration mechanism #1, for a
 * partition with a virtio-pci disk) go to it. Partitions own no other port: reads give all
 * ones and writes are dropped, like a bus with nothing on it; string I/O (INS/OUTS, with or
 * without REP) is not emulated: it gets #GP, the fault for a port the guest may not use,
 * and the guest goes on. The first exit of a partition on a port nothing has is logged. */
#include "vmexit/exit_handlers.h"
#include "vmexit/vcpu.h"

enum exit_action exit_io(const struct exit_ctx *c, const struct vcpu_exit *e)
{
    struct vcpu *v = c->v;
    struct partition *p = v->partition;
    vcpu_count_exit(v, SC_EXIT_IO);
    if (!e->io.string) {
        uint32_t value = (uint32_t)v->regs.rax;
        if (c->hooks->device_port(v, e->io.port, e->io.size, !e->io.in, &value)) {
            if (e->io.in) /* as IN: a 32-bit load zero-extends, smaller ones merge */
                v->regs.rax = e->io.size == 4 ? value
                                              : (v->regs.rax & ~((1ull << (8 * e->io.size)) - 1)) |
                                                    (value & ((1u << (8 * e->io.size)) - 1));
            c->be->skip_instruction(v, e->insn_len);
            return EXIT_RESUME;
        }
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
    if (e->io.in) {
        if (e->io.size == 1)
            v->regs.rax |= 0xff; /* the other bytes of rax are kept */
        else if (e->io.size == 2)
            v->regs.rax |= 0xffff;
        else
            v->regs.rax = 0xffffffff; /* a 32-bit register write zero-extends */
    }
    c->be->skip_instruction(v, e->insn_len);
    return EXIT_RESUME;
}
