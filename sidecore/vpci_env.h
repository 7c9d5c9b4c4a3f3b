/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The hardware side of the virtio-pci disk (sidecore/vpci.h): its trapped registers
 * (vmexit/dev_trap.h) and its MSI-X messages, sent as IPIs. */
#ifndef SIDECORE_VPCI_ENV_H
#define SIDECORE_VPCI_ENV_H

#include "sidecore/vpci.h"

struct vcpu;

/* Send one of the device's MSI-X messages (v: any vCPU of the partition), with the device's
 * lock held, so that no mask, reset or disable can come between the decision and the
 * send. Only a fixed interrupt, physical destination, to a core of the partition itself
 * and with a guest vector (32..255) is sent: NULL, or why it was dropped, for
 * vpci_env_refused to log once the lock is released. */
const char *vpci_env_send(const struct vcpu *v, const struct vpci_msix_entry *msg);
/* The first dropped message of a partition, logged (once per partition, ever). */
void vpci_env_refused(struct vcpu *v, const struct vpci_msix_entry *msg, const char *why);

#endif
