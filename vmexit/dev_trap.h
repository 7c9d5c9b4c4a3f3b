/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The trapped accesses to a partition's emulated devices (the virtio-pci disk): declared
 * here, where the exit hooks call them; defined above this layer (sidecore/vpci_env.c),
 * with the block service the device belongs to. Meanings: exit.h, struct exit_hooks. */
#ifndef VMEXIT_DEV_TRAP_H
#define VMEXIT_DEV_TRAP_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

bool dev_trap_at(const struct vcpu *v, uint64_t gpa);
void dev_trap_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *value);
bool dev_trap_port(struct vcpu *v, uint16_t port, unsigned size, bool write, uint32_t *value);

#endif
