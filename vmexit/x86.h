/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Architectural x86 constants the exit policy and every backend share. */
#ifndef VMEXIT_X86_H
#define VMEXIT_X86_H

/* exception vectors */
#define X86_DB 1
#define X86_GP 13
#define X86_AC 17

#define RFLAGS_RF (1ull << 16) /* resume flag: set in the rflags a fault pushes */
#define DR7_GD (1ull << 13)    /* general detect: cleared when #DB is delivered */

#define MSR_X2APIC_ICR 0x830 /* the one x2APIC MSR whose writes exit */

#endif
