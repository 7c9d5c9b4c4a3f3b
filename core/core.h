/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The core's entry point, called by a loader once the firmware is gone. */
#ifndef CORE_CORE_H
#define CORE_CORE_H

#include "core/boot_info.h"

__attribute__((noreturn)) void core_start(const struct boot_info *bi);
/* The boot CPU's path, defined above this layer (boot/main.c); core_start calls it. */
void core_main(const struct boot_info *bi);

#endif
