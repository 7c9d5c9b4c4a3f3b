/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* A DHCP reply as a rogue server could send it: the server and the boot directory are
 * read without going past the packet, the directory is printable and ends with '/', and a
 * path built on it never leaves it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "efi/netboot.h"
#include "fuzz_input.h"

#define REPLY_LEN 1472

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > REPLY_LEN)
        size = REPLY_LEN;
    uint8_t *reply = (uint8_t *)__builtin_malloc(size ? size : 1); /* exact: ASan sees overreads */
    memcpy(reply, data, size);
    uint8_t ip[4];
    if (netboot_server(reply, size, ip) == 0)
        CHECK(ip[0] | ip[1] | ip[2] | ip[3]);
    char dir[NETBOOT_PATH_MAX];
    if (netboot_boot_dir(reply, size, dir, sizeof(dir)) == 0) {
        size_t n = strlen(dir);
        CHECK(n == 0 || dir[n - 1] == '/');
        for (size_t i = 0; i < n; i++)
            CHECK(dir[i] > 0x20 && dir[i] < 0x7f);
        char path[NETBOOT_PATH_MAX];
        if (netboot_path(dir, "hello.elf", path, sizeof(path)) == 0)
            CHECK(!strncmp(path, dir, n) && !strcmp(path + n, "hello.elf"));
    }
    __builtin_free(reply);
    return 0;
}
