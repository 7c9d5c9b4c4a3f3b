/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* A nested page fault: the guest touched a guest-physical address its nested tables do not
 * map. Only an emulated device's registers are there on purpose (the virtio-pci disk's
 * BAR): the access is decoded from the instruction at rip (fetched through the guest's own
 * page tables), done on the device, and rip moves past it. Anything else stops the
 * partition with the address, as an access outside the partition. */
#include "core/klib.h"
#include "vmexit/exit_handlers.h"
#include "vmexit/guest_walk.h"
#include "vmexit/mmio_insn.h"
#include "vmexit/partition.h"
#include "vmexit/vcpu.h"

enum { REG_RSP = 4 };

static const char *access_name(enum vcpu_access a)
{
    return a == VCPU_ACCESS_WRITE ? "write" : a == VCPU_ACCESS_FETCH ? "fetch" : "read";
}

/* The general register by its number in the instruction encoding; rsp is the backend's. */
static uint64_t *gpr(struct vcpu *v, unsigned reg)
{
    struct guest_regs *r = &v->regs;
    uint64_t *const by_number[16] = {&r->rax, &r->rcx, &r->rdx, &r->rbx, NULL,    &r->rbp,
                                     &r->rsi, &r->rdi, &r->r8,  &r->r9,  &r->r10, &r->r11,
                                     &r->r12, &r->r13, &r->r14, &r->r15};
    return by_number[reg & 15];
}

static uint64_t reg_get(const struct exit_ctx *c, unsigned reg)
{
    uint64_t *p = gpr(c->v, reg);
    return p ? *p : c->be->read_reg(c->v, VCPU_REG_RSP);
}

static void reg_set(const struct exit_ctx *c, unsigned reg, uint64_t value)
{
    uint64_t *p = gpr(c->v, reg);
    if (p)
        *p = value;
    else
        c->be->write_reg(c->v, VCPU_REG_RSP, value);
}

static enum exit_action outside(const struct exit_ctx *c, const struct vcpu_exit *e)
{
    return exit_stop(c, "nested page fault at guest-physical %llx (%s, error %llx), rip %llx",
                     (unsigned long long)e->fault.gpa, access_name(e->fault.access),
                     (unsigned long long)e->hw_info[0], (unsigned long long)e->rip);
}

enum exit_action exit_stage2_fault(const struct exit_ctx *c, const struct vcpu_exit *e)
{
    struct vcpu *v = c->v;
    vcpu_count_exit(v, SC_EXIT_NPF);
    /* only an instruction's own load or store is emulated: a fetch, a page-table walk or an
     * event's delivery (IDT, stack) through the registers is the guest's error */
    if (!c->hooks->device_at(v, e->fault.gpa) || e->fault.access == VCPU_ACCESS_FETCH ||
        e->fault.not_the_access)
        return outside(c, e);
    struct guest_state st;
    c->be->vcpu_state(v, &st);
    if (st.code_bits != 64)
        return exit_stop(
            c, "MMIO at %llx from %u-bit code (rip %llx): only 64-bit code is emulated",
            (unsigned long long)e->fault.gpa, st.code_bits, (unsigned long long)e->rip);
    /* the instruction, copied once from the guest's memory through its page tables */
    const struct partition *p = v->partition;
    struct guest_paging pg = {st.cr0, st.cr3, st.cr4, st.efer};
    uint8_t bytes[MMIO_INSN_MAX];
    unsigned n = guest_read_linear((const uint8_t *)(uintptr_t)p->base, p->size, &pg, e->rip, bytes,
                                   sizeof(bytes));
    struct mmio_insn in;
    if (mmio_insn_decode(bytes, n, &in) != 0 || in.write != (e->fault.access == VCPU_ACCESS_WRITE))
        return exit_stop(c,
                         "MMIO at %llx: the %s at rip %llx is not an emulated MOV (%u bytes: "
                         "%02x %02x %02x %02x)",
                         (unsigned long long)e->fault.gpa, access_name(e->fault.access),
                         (unsigned long long)e->rip, n, n > 0 ? bytes[0] : 0, n > 1 ? bytes[1] : 0,
                         n > 2 ? bytes[2] : 0, n > 3 ? bytes[3] : 0);
    uint64_t value = in.write ? mmio_insn_store_value(&in, in.has_imm ? 0 : reg_get(c, in.reg)) : 0;
    c->hooks->device_mmio(v, e->fault.gpa, in.size, in.write, &value);
    if (!in.write)
        reg_set(c, in.reg, mmio_insn_merge(&in, reg_get(c, in.reg), value));
    c->be->skip_instruction(v, in.len);
    return EXIT_RESUME;
}
