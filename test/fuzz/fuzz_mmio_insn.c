/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The MMIO instruction decoder on any bytes: a verdict without reading past the bytes it is
 * given (ASan sees the exact-size copy), a length within them, and the same decoding from
 * exactly that many bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/klib.h"
#include "fuzz_input.h"
#include "vmexit/mmio_insn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned n = size > MMIO_INSN_MAX ? MMIO_INSN_MAX : (unsigned)size;
    uint8_t *bytes = malloc(n ? n : 1); /* exactly n: a read past them is an ASan report */
    if (!bytes)
        return 0;
    memcpy(bytes, data, n);
    struct mmio_insn a, b;
    int rc = mmio_insn_decode(bytes, n, &a);
    CHECK(rc == 0 || rc == -E_NOSYS || rc == -E_INVAL);
    if (rc == 0) {
        CHECK(a.len >= 2 && a.len <= n);
        CHECK(a.size == 1 || a.size == 2 || a.size == 4 || a.size == 8);
        CHECK(a.reg < 16 && (!a.high_byte || a.reg < 4));
        CHECK(a.reg_size >= a.size);
        CHECK(mmio_insn_decode(bytes, a.len, &b) == 0 && memcmp(&a, &b, sizeof(a)) == 0);
        uint64_t stored = mmio_insn_store_value(&a, 0x0123456789abcdefull);
        CHECK(a.size == 8 || stored >> (8 * a.size) == 0);
        (void)mmio_insn_merge(&a, ~0ull, ~0ull);
    }
    free(bytes);
    return 0;
}
