/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Reading a fuzzer's input as a stream of little-endian fields (zeros once it runs out). */
#ifndef TEST_FUZZ_FUZZ_INPUT_H
#define TEST_FUZZ_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* An invariant that must hold: a broken one is a crash the fuzzer reports. */
#define CHECK(c) ((c) ? (void)0 : __builtin_trap())

struct input {
    const uint8_t *p;
    size_t left;
};

static inline uint8_t u8(struct input *in)
{
    if (!in->left)
        return 0;
    in->left--;
    return *in->p++;
}

static inline uint16_t u16(struct input *in)
{
    uint16_t lo = u8(in);
    return (uint16_t)(lo | u8(in) << 8);
}

static inline uint32_t u32(struct input *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)u8(in) << (8 * i);
    return v;
}

#endif
