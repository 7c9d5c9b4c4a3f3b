/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Names of the x86 exception vectors (Intel SDM vol. 3, table 6-1). */
#ifndef CORE_EXCEPTION_NAMES_H
#define CORE_EXCEPTION_NAMES_H

#include <stdint.h>

/* "#PF page fault" for 14; "interrupt" for vectors 32 and up. */
const char *exception_name(uint64_t vector);

#endif
