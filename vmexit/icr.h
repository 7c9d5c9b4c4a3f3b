/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Validating a guest's x2APIC ICR write: which physical IPIs it may become (host-tested). */
#ifndef VMEXIT_ICR_H
#define VMEXIT_ICR_H

#include <stdint.h>

#define ICR_MAX_TARGETS 64

struct icr_partition_view {
    const uint32_t *apic_ids; /* APIC IDs of the partition's cores, by vCPU id */
    unsigned count;
    unsigned self; /* the sender's vCPU id */
};

struct icr_decision {
    uint8_t vector;
    unsigned ntargets;
    uint32_t targets[ICR_MAX_TARGETS]; /* physical APIC IDs */
};

/* 0 and the IPIs to send; or -E_PERM (destination outside the partition, or a
 * delivery mode other than fixed: INIT, SIPI, NMI, SMI could reach other
 * partitions' cores) or -E_INVAL (vector below 32, logical destination mode). */
int icr_validate(uint64_t icr, const struct icr_partition_view *p, struct icr_decision *out);

#endif
