/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* guest_start: checks the boot info, installs the IDT, runs main; exception and IRQ dispatch. */
#include <stddef.h>

#include "core/exception_names.h"
#include "sidecore/guest.h"

/* A 64-bit interrupt gate (Intel SDM Vol. 3 6.14.1), as named fields. */
struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");
_Static_assert(offsetof(struct idt_gate, type_attr) == 5, "IDT gate layout");
_Static_assert(offsetof(struct idt_gate, offset_high) == 8, "IDT gate layout");

#define IDT_INTERRUPT_GATE 0x8e /* present, DPL 0, 64-bit interrupt gate (IF cleared) */

struct __attribute__((packed)) idt_pointer {
    uint16_t limit;
    uint64_t base;
};
_Static_assert(sizeof(struct idt_pointer) == 10, "IDTR layout");

_Static_assert(sizeof(struct sc_trap_frame) == 22 * 8, "trap frame layout (isr.S)");
_Static_assert(offsetof(struct sc_trap_frame, vector) == 15 * 8, "trap frame layout (isr.S)");
_Static_assert(offsetof(struct sc_trap_frame, rip) == 17 * 8, "trap frame layout (isr.S)");

extern const uint64_t sc_isr_table[256]; /* isr.S */

/* Shared by all vCPUs: the first one to arrive builds it, the others wait. */
static struct idt_gate idt[256] __attribute__((aligned(16)));
static uint32_t idt_state; /* 0 not built, 1 being built, 2 ready */
static sc_irq_handler irq_handlers[256];
static sc_exception_handler exception_handlers[32];

__attribute__((noreturn)) void guest_start(const struct sc_boot_info *bi);
void guest_trap(struct sc_trap_frame *f);

static void build_idt(void)
{
    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    for (unsigned v = 0; v < 256; v++) {
        uint64_t a = sc_isr_table[v];
        idt[v] = (struct idt_gate){
            .offset_low = (uint16_t)a,
            .selector = cs,
            .ist = 0,
            .type_attr = IDT_INTERRUPT_GATE,
            .offset_mid = (uint16_t)(a >> 16),
            .offset_high = (uint32_t)(a >> 32),
            .reserved = 0,
        };
    }
}

static void install_idt(void)
{
    uint32_t expected = 0;
    if (__atomic_compare_exchange_n(&idt_state, &expected, 1, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        build_idt();
        __atomic_store_n(&idt_state, 2, __ATOMIC_RELEASE);
    } else {
        while (__atomic_load_n(&idt_state, __ATOMIC_ACQUIRE) != 2)
            sc_pause();
    }
    struct idt_pointer p = {.limit = sizeof(idt) - 1, .base = (uint64_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" : : "m"(p) : "memory");
}

bool sc_vmcall;

void sc_vcpu_setup(const struct sc_boot_info *bi)
{
    sc_vmcall = (bi->flags & SC_BOOT_VMCALL) != 0; /* before this vCPU's first hypercall */
    static struct sc_vcpu_local locals[SC_MAX_VCPUS];
    if (bi->vcpu_id >= SC_MAX_VCPUS)
        sc_exit(SC_STATUS_BAD_BOOT_INFO);
    struct sc_vcpu_local *l = &locals[bi->vcpu_id];
    l->self = l;
    l->vcpu_id = bi->vcpu_id;
    sc_wrmsr(SC_MSR_GS_BASE, (uint64_t)(uintptr_t)l);
    sc_lapic_x2apic = (bi->flags & SC_BOOT_X2APIC) != 0;
    l->apic_id = lapic_id();
    install_idt();
}

void guest_start(const struct sc_boot_info *bi)
{
    if (!bi || bi->magic != SC_BOOT_MAGIC) {
        static const char msg[] = "FAIL: libguest: bad boot info magic in rdi\n";
        sc_console_write(msg, sizeof(msg) - 1);
        sc_exit(SC_STATUS_BAD_BOOT_INFO);
    }
    sc_vcpu_setup(bi);
    sc_exit(main(bi));
}

void sc_set_irq_handler(uint8_t vector, sc_irq_handler fn)
{
    if (vector < 32) {
        sc_printf("libguest: vector %u is an exception, not an IRQ: handler ignored\n", vector);
        return;
    }
    __atomic_store_n(&irq_handlers[vector], fn, __ATOMIC_RELEASE);
}

void sc_set_exception_handler(uint8_t vector, sc_exception_handler fn)
{
    if (vector >= 32) {
        sc_printf("libguest: vector %u is an IRQ, not an exception: handler ignored\n", vector);
        return;
    }
    __atomic_store_n(&exception_handlers[vector], fn, __ATOMIC_RELEASE);
}

static __attribute__((noreturn)) void exception(const struct sc_trap_frame *f)
{
    unsigned v = (unsigned)f->vector;
    sc_printf("FAIL: vector %u (%s) error 0x%llx at rip 0x%llx\n", v, exception_name(v),
              (unsigned long long)f->error, (unsigned long long)f->rip);
    sc_printf("  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n", (unsigned long long)f->rax,
              (unsigned long long)f->rbx, (unsigned long long)f->rcx, (unsigned long long)f->rdx);
    sc_printf("  rsi=%016llx rdi=%016llx rbp=%016llx rsp=%016llx\n", (unsigned long long)f->rsi,
              (unsigned long long)f->rdi, (unsigned long long)f->rbp, (unsigned long long)f->rsp);
    sc_printf("  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n", (unsigned long long)f->r8,
              (unsigned long long)f->r9, (unsigned long long)f->r10, (unsigned long long)f->r11);
    sc_printf("  r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n", (unsigned long long)f->r12,
              (unsigned long long)f->r13, (unsigned long long)f->r14, (unsigned long long)f->r15);
    sc_printf("  rflags=%016llx cs=%04llx ss=%04llx cr2=%016llx cr3=%016llx\n",
              (unsigned long long)f->rflags, (unsigned long long)f->cs, (unsigned long long)f->ss,
              (unsigned long long)sc_read_cr2(), (unsigned long long)sc_read_cr3());
    sc_exit(SC_STATUS_EXCEPTION(v));
}

void guest_trap(struct sc_trap_frame *f)
{
    if (f->vector < 32) {
        sc_exception_handler fn = __atomic_load_n(&exception_handlers[f->vector], __ATOMIC_ACQUIRE);
        if (fn && fn(f))
            return;
        exception(f);
    }
    uint8_t v = (uint8_t)f->vector;
    sc_irq_handler fn = __atomic_load_n(&irq_handlers[v], __ATOMIC_ACQUIRE);
    if (fn) {
        fn(v);
        return;
    }
    if (v == LAPIC_SPURIOUS_VECTOR)
        return; /* a spurious LAPIC interrupt: no EOI, nothing to do */
    sc_printf("FAIL: unexpected interrupt vector %u at rip 0x%llx\n", v,
              (unsigned long long)f->rip);
    sc_exit(SC_STATUS_UNEXPECTED_IRQ);
}
