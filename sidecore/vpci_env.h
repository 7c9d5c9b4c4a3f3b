/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The hardware side of the virtio-pci disk (sidecore/vpci.h): its trapped registers
 * (vmexit/dev_trap.h) and its MSI-X messages, sent as IPIs. */
#ifndef SIDECORE_VPCI_ENV_H
#define SIDECORE_VPCI_ENV_H

#include "sidecore/vpci.h"

struct vcpu;

/* Send one of the device's MSI-X messages (v: any vCPU of the partition). Only a fixed
 * interrupt, physical destination, to a core of the partition itself and with a guest
 * vector (32..255) is sent; anything else is dropped and logged once per partition. */
void vpci_env_send(struct vcpu *v, const struct vpci_msix_entry *msg);

#endif
