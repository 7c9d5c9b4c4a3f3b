/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Refusal reasons: formatted with core/fmt.c, so the hypervisor and host tests share them. */
#include "core/refusal.h"

#include <stdarg.h>

#include "core/fmt.h"

int refuse(struct refusal *r, int err, const char *fmt, ...)
{
    if (r) {
        va_list ap;
        va_start(ap, fmt);
        kvsnprintf(r->text, sizeof(r->text), fmt, ap);
        va_end(ap);
    }
    return -err;
}
