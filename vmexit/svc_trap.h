/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The trap path's way into the services: a ring request made by hypercall runs on
 * the caller's own core, inside its exit. Declared here, where the hypercall calls it;
 * defined above this layer (sidecore/svc_env.c), with the services. */
#ifndef VMEXIT_SVC_TRAP_H
#define VMEXIT_SVC_TRAP_H

#include <stdint.h>

#include "guest-stubs/include/sidecore/ring.h"

struct vcpu;

/* Returns the request's status. */
int64_t svc_execute_trap(struct vcpu *v, unsigned service, struct sc_ring_slot *slot);

#endif
