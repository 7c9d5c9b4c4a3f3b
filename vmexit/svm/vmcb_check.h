/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The VMRUN consistency checks (AMD APM vol. 2, 15.5.1), made by the hypervisor
 * before the first VMRUN so a bad VMCB is reported by name (host-tested). */
#ifndef VMEXIT_SVM_VMCB_CHECK_H
#define VMEXIT_SVM_VMCB_CHECK_H

#include "core/refusal.h"
#include "vmexit/svm/vmcb.h"

/* 0 if VMRUN would accept the VMCB (why untouched); else -E_INVAL and why (may be NULL)
 * names the first problem.
 * maxphyaddr: the CPU's physical address width (CPUID 0x80000008 eax[7:0]). */
int vmcb_check(const struct vmcb *vmcb, unsigned maxphyaddr, struct refusal *why);

#endif
