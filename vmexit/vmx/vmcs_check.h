/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The VM-entry checks (SDM vol. 3C, 27.2 and 27.3) that apply to the VMCS this backend
 * builds, run on the image before the first entry: a VMCS the CPU would refuse is
 * refused here with the field and the rule, instead of an opaque VM-entry failure. */
#ifndef VMEXIT_VMX_VMCS_CHECK_H
#define VMEXIT_VMX_VMCS_CHECK_H

#include "core/refusal.h"
#include "vmexit/vmx/vmcs_build.h"

int vmcs_check(const struct vmcs_image *img, const struct vmx_caps *caps, struct refusal *why);

#endif
