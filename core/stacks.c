/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Stacks and their guard pages. An overflow runs into an unmapped page, so the push or
 * write that crosses it faults; the #PF cannot be delivered on that same stack, so the CPU
 * raises a double fault, which runs on its own IST stack (core/desc.c) and parks the CPU
 * with the stack named (core/trap.c). Frames are at most 1 KiB (cmake/flags.cmake), so no
 * frame can step over a 4 KiB guard. */
#include "core/stacks.h"

#include "core/cpu.h"
#include "core/klib.h"
#include "core/palloc.h"
#include "core/percpu.h"
#include "core/pgtable.h"

/* Per CPU, in one block:  [guard][IST1][guard][IST2][guard][IST3][guard][main stack] */
#define IST_SLOT (PAGE_SIZE + CPU_IST_STACK_SIZE)
#define CPU_BLOCK_SIZE (IST_STACKS * IST_SLOT + PAGE_SIZE + CPU_STACK_SIZE)

/* The boot CPU's stack, in the image's .bss (core/entry.S). */
extern char boot_stack_guard[];

int stacks_alloc(struct palloc *pa)
{
    for (unsigned i = 0; i < cpu_count; i++) {
        int rc = palloc_alloc(pa, CPU_BLOCK_SIZE, PAGE_SIZE, 0, &cpus[i].stack_block);
        if (rc)
            return rc;
    }
    return 0;
}

uint64_t stacks_main_top(unsigned cpu)
{
    return cpus[cpu].stack_block + CPU_BLOCK_SIZE;
}

void stacks_ist_tops(unsigned cpu, uint64_t top[IST_STACKS])
{
    for (unsigned i = 0; i < IST_STACKS; i++)
        top[i] = cpus[cpu].stack_block + (i + 1) * IST_SLOT;
}

void stacks_set_main(struct percpu *pc, uint64_t top)
{
    pc->stack_top = top;
    pc->stack_guard =
        top ? top - CPU_STACK_SIZE - PAGE_SIZE : (uint64_t)(uintptr_t)boot_stack_guard;
}

int stacks_unmap_guards(struct pt *host)
{
    int rc = 0;
    uint64_t boot_guard = (uint64_t)(uintptr_t)boot_stack_guard;
    if (IS_ALIGNED(boot_guard, PAGE_SIZE)) /* the image is loaded page-aligned */
        rc = pt_unmap(host, boot_guard, PAGE_SIZE);
    for (unsigned i = 0; !rc && i < cpu_count; i++)
        for (unsigned g = 0; !rc && g <= IST_STACKS; g++)
            rc = pt_unmap(host, cpus[i].stack_block + g * IST_SLOT, PAGE_SIZE);
    write_cr3(host->root); /* drop any translation of the pages just unmapped */
    return rc;
}

static bool in_page(uint64_t addr, uint64_t page)
{
    return addr - page < PAGE_SIZE;
}

const char *stacks_guard_hit(const struct percpu *pc, uint64_t addr)
{
    static const char *const ist_names[IST_STACKS] = {"NMI", "double-fault", "machine-check"};
    if (pc->stack_guard && in_page(addr, pc->stack_guard))
        return "main";
    for (unsigned g = 0; g < IST_STACKS; g++)
        if (pc->stack_block && in_page(addr, pc->stack_block + g * IST_SLOT))
            return ist_names[g];
    return NULL;
}

uint64_t stacks_bytes(void)
{
    return (uint64_t)cpu_count * CPU_BLOCK_SIZE;
}
