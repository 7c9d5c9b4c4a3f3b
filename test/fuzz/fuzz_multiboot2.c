/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The Multiboot2 boot information parser on any bytes: no read past them (ASan sees the
 * exact-size copy), and what it accepts is consistent: names terminated and unique, counts
 * within their arrays, the RSDP inside the information, a configuration that is not empty
 * and a memory map. */
#include <stdlib.h>
#include <string.h>

#include "core/multiboot2.h"
#include "fuzz_input.h"

#define BASE 0x10000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *info = malloc(size ? size : 1); /* exactly size: a read past it is ASan's */
    if (!info)
        return 0;
    memcpy(info, data, size);
    static struct boot_info bi;
    struct refusal why;
    if (mb2_boot_info(info, size, BASE, &bi, &why) == 0) {
        CHECK(bi.config_len > 0 && bi.nmem > 0 && bi.nmem <= BOOT_MAX_MEM_RANGES);
        CHECK(bi.nfiles <= BOOT_MAX_FILES);
        for (unsigned i = 0; i < bi.nfiles; i++) {
            size_t n = strnlen(bi.files[i].name, BOOT_FILE_NAME_MAX);
            CHECK(n > 0 && n < BOOT_FILE_NAME_MAX && bi.files[i].address % 4096 == 0);
            CHECK(strcmp(bi.files[i].name, bi.config_source) != 0); /* the configuration's */
            for (unsigned j = 0; j < i; j++)
                CHECK(strcmp(bi.files[i].name, bi.files[j].name) != 0);
        }
        for (unsigned i = 0; i < bi.nmem; i++)
            CHECK(bi.mem[i].size > 0 && bi.mem[i].base + bi.mem[i].size > bi.mem[i].base);
        CHECK(!bi.rsdp || (bi.rsdp >= BASE + 16 && bi.rsdp + 20 <= BASE + size));
    }
    free(info);
    return 0;
}
