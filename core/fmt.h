/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* printf-style formatting without libc: %d %i %u %x %X %p %s %c %%, with the
 * '-', '0' and (for %x %X) '#' flags, a width (digits or *), and the l, ll, z length
 * modifiers; no precision. test/check_formats.py holds every format string of the tree
 * to exactly this set. */
#ifndef CORE_FMT_H
#define CORE_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Returns the length the full output would have; writes at most size-1
 * characters plus a terminator (like C99 vsnprintf). */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "3.1G", "64M", "512K", "100B": one decimal where it is not whole. */
void fmt_size(char *buf, size_t size, uint64_t bytes);

#endif
