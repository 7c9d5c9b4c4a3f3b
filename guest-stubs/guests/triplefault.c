/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Test guest: an exception with an empty IDT triple-faults; the hypervisor must stop the partition.
 */
#include "sidecore/guest.h"

int main(const struct sc_boot_info *bi)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } empty = {0, 0};

    sc_printf("vCPU %u: loading an empty IDT and executing int3 (expect a triple fault)\n",
              bi->vcpu_id);
    /* #BP cannot be delivered (gate beyond the limit) -> #GP, which cannot either -> #DF,
     * which cannot either -> shutdown. */
    __asm__ volatile("lidt %0\n\tint3" : : "m"(empty) : "memory");
    sc_fail("vCPU %u: still running after int3 with an empty IDT", bi->vcpu_id);
    return 1;
}
