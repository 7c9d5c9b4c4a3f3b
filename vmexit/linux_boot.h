/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* A partition whose image is a Linux bzImage: checked like an ELF image before anything is
 * written, then loaded by the 64-bit boot protocol (core/bzimage.h): the kernel at its
 * place, the initrd high in RAM, the command line, the e820 map and the zero page. vCPU 0
 * enters the kernel with rsi at the zero page; the others wait to be started. */
#ifndef VMEXIT_LINUX_BOOT_H
#define VMEXIT_LINUX_BOOT_H

#include <stdbool.h>

struct partition;
struct refusal;

/* Is the partition's image a bzImage? */
bool linux_boot_detect(const struct partition *p);
/* Parse and place kernel and initrd, check the command line: nothing written yet. */
int linux_boot_check(struct partition *p, struct refusal *why);
/* Write kernel, initrd, command line and zero page into the partition's memory. */
int linux_boot_load(struct partition *p, struct refusal *why);

#endif
