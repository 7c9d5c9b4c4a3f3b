/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Names of the x86 exception vectors, shared by the hypervisor's and the guests' dumps. */
#include "core/exception_names.h"

/* Several names a line, in vector order. */
/* clang-format off */
static const char *const names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available", "#DF double fault",
    "coprocessor overrun", "#TS invalid TSS", "#NP segment not present", "#SS stack fault",
    "#GP general protection", "#PF page fault", "reserved 15", "#MF x87 error",
    "#AC alignment check", "#MC machine check", "#XM SIMD error", "#VE virtualization",
    "#CP control protection", "reserved 22", "reserved 23", "reserved 24", "reserved 25",
    "reserved 26", "reserved 27", "#HV hypervisor injection", "#VC VMM communication",
    "#SX security", "reserved 31"};
/* clang-format on */

const char *exception_name(uint64_t vector)
{
    return vector < 32 ? names[vector] : "interrupt";
}
