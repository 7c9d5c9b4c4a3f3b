/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The VMCB a vCPU runs with, built without allocating or touching an MSR: svm.c builds
 * its VMCBs with these, and test_vmcb_check checks exactly what they build. */
#ifndef VMEXIT_SVM_VMCB_BUILD_H
#define VMEXIT_SVM_VMCB_BUILD_H

#include <stdint.h>

#include "vmexit/svm/vmcb.h"

/* The control area: the intercepts, the permission maps, the ASID, nested paging on
 * n_cr3. The rest of the control area is left as it is (zeroed by the caller). */
void vmcb_build_control(struct vmcb_control *c, uint64_t iopm_pa, uint64_t msrpm_pa,
                        uint64_t n_cr3);

/* The state every vCPU starts in (abi.h): 64-bit mode on the initial page tables,
 * interrupts off, at rip/rsp; and no event pending or in a shadow. */
void vmcb_build_reset(struct vmcb *vmcb, uint64_t rip, uint64_t rsp);

#endif
