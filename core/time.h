/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* TSC-based time keeping (the loader calibrates the TSC). */
#ifndef CORE_TIME_H
#define CORE_TIME_H

#include <stdint.h>

void time_init(uint64_t tsc_hz, uint64_t handoff_tsc);
uint64_t time_tsc_hz(void);
uint64_t time_since_handoff_us(void);
uint64_t tsc_to_us(uint64_t ticks);
void udelay(uint64_t us);

#endif
