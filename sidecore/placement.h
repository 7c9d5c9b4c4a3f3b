/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Which side core serves which ring (host-tested). */
#ifndef SIDECORE_PLACEMENT_H
#define SIDECORE_PLACEMENT_H

#include <stdint.h>

#include "core/config.h"
#include "guest-stubs/include/sidecore/ring.h"

/* Map a configuration service to its ring service (they are numbered alike). */
_Static_assert((int)SERVICE_PT == (int)SC_SERVICE_PT && (int)SERVICE_IRQ == (int)SC_SERVICE_IRQ &&
                   (int)SERVICE_IO == (int)SC_SERVICE_IO && (int)SERVICE_COUNT == (int)SC_SERVICES,
               "configuration and ring services are numbered alike");

/* For the k-th vCPU of the machine (partitions in configuration order, vCPUs
 * in order) and each service: the CPU of the side core serving that ring. A
 * service on several side cores splits the vCPUs among them round-robin.
 * Returns 0, or -E_INVAL if a service has no side core. */
int placement_compute(const struct config *cfg, unsigned nvcpus_total,
                      uint16_t (*serving_cpu)[SC_SERVICES]);

#endif
