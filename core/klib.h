/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Minimal C library surface shared by the freestanding hypervisor and host tests. */
#ifndef CORE_KLIB_H
#define CORE_KLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef SIDECORE_HOSTED
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
#endif

/* Negative errno values used across the project (Linux numbering). */
#define E_PERM 1
#define E_NOENT 2
#define E_NODEV 19
#define E_IO 5
#define E_NOMEM 12
#define E_FAULT 14
#define E_BUSY 16
#define E_EXIST 17
#define E_INVAL 22
#define E_NOSPC 28
#define E_RANGE 34
#define E_NOSYS 38
#define E_OVERFLOW 75
#define E_BADMSG 74
#define E_TIMEDOUT 110

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a)-1)) == 0)

#define KiB (1024ULL)
#define MiB (1024ULL * 1024)
#define GiB (1024ULL * 1024 * 1024)
#define PAGE_SIZE 4096ULL

/* Release builds compile assertions away; the hypervisor's version panics (that CPU parks,
 * the others go on), the host tests' is the C library's assert. */
#ifdef NDEBUG
#define kassert(c) ((void)0)
#elif defined(SIDECORE_HOSTED)
#include <assert.h>
#define kassert(c) assert(c)
#else
void kassert_fail(const char *expr, const char *file, int line);
#define kassert(c) ((c) ? (void)0 : kassert_fail(#c, __FILE__, __LINE__))
#endif

#endif
