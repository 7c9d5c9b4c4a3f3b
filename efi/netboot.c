/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Network boot names and DHCP reply fields (no firmware calls). */
#include "efi/netboot.h"

#include "core/klib.h"

static const uint8_t dhcp_magic[4] = {99, 130, 83, 99};

int netboot_node_config_name(const uint8_t *mac, unsigned mac_len, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    if (mac_len != 6)
        return -E_INVAL;
    if (size < NETBOOT_NODE_CONFIG_MAX)
        return -E_NOSPC;
    char *p = out;
    memcpy(p, "sidecore-", 9);
    p += 9;
    for (unsigned i = 0; i < mac_len; i++) {
        if (i)
            *p++ = '-';
        *p++ = hex[mac[i] >> 4];
        *p++ = hex[mac[i] & 15];
    }
    memcpy(p, ".cfg", sizeof(".cfg"));
    return 0;
}

/* The first option code in the reply's options; *olen its length. NULL if absent, if the
 * reply has no DHCP magic, or if an option runs past len. */
static const uint8_t *dhcp_option(const uint8_t *reply, size_t len, uint8_t code, size_t *olen)
{
    if (len < DHCP_OPTIONS || memcmp(reply + DHCP_MAGIC, dhcp_magic, sizeof(dhcp_magic)))
        return NULL;
    size_t at = DHCP_OPTIONS;
    while (at < len) {
        uint8_t c = reply[at];
        if (c == DHCP_OPT_END)
            return NULL;
        if (c == DHCP_OPT_PAD) {
            at++;
            continue;
        }
        if (at + 2 > len || reply[at + 1] > len - at - 2)
            return NULL;
        if (c == code) {
            *olen = reply[at + 1];
            return reply + at + 2;
        }
        at += 2 + (size_t)reply[at + 1];
    }
    return NULL;
}

int netboot_server(const uint8_t *reply, size_t len, uint8_t ip[4])
{
    static const uint8_t zero[4];
    if (len < DHCP_OPTIONS)
        return -E_INVAL;
    if (memcmp(reply + DHCP_SIADDR, zero, 4)) {
        memcpy(ip, reply + DHCP_SIADDR, 4);
        return 0;
    }
    size_t olen = 0;
    const uint8_t *id = dhcp_option(reply, len, DHCP_OPT_SERVER_ID, &olen);
    if (!id || olen != 4 || !memcmp(id, zero, 4))
        return -E_NOENT;
    memcpy(ip, id, 4);
    return 0;
}

int netboot_boot_dir(const uint8_t *reply, size_t len, char *dir, size_t size)
{
    if (len < DHCP_OPTIONS || size == 0)
        return -E_INVAL;
    const uint8_t *name = reply + DHCP_FILE;
    size_t n = 0;
    while (n < DHCP_FILE_LEN && name[n])
        n++;
    if (n == 0) {
        name = dhcp_option(reply, len, DHCP_OPT_BOOTFILE, &n);
        if (!name)
            n = 0;
        while (n && !name[n - 1]) /* a server may count a terminating NUL */
            n--;
    }
    size_t dir_len = 0;
    for (size_t i = 0; i < n; i++) {
        if (name[i] < 0x21 || name[i] > 0x7e)
            return -E_INVAL;
        if (name[i] == '/')
            dir_len = i + 1;
    }
    if (dir_len + 1 > size)
        return -E_NOSPC;
    if (dir_len)
        memcpy(dir, name, dir_len);
    dir[dir_len] = 0;
    return 0;
}

int netboot_path(const char *dir, const char *name, char *out, size_t size)
{
    size_t dl = strlen(dir), nl = strlen(name);
    if (nl == 0 || name[0] == '/')
        return -E_INVAL;
    for (size_t i = 0; i < nl; i++) {
        bool starts = i == 0 || name[i - 1] == '/';
        bool ends = i + 2 == nl || (i + 2 < nl && name[i + 2] == '/');
        if (starts && name[i] == '.' && i + 1 < nl && name[i + 1] == '.' && ends)
            return -E_INVAL;
    }
    if (dl + nl + 1 > size)
        return -E_NOSPC;
    memcpy(out, dir, dl);
    memcpy(out + dl, name, nl + 1);
    return 0;
}

bool netboot_tftp_not_found(unsigned code, const char *msg, size_t len)
{
    static const char needle[] = "not found";
    const size_t nl = sizeof(needle) - 1;
    if (code == 1)
        return true;
    if (code != 0)
        return false;
    for (size_t i = 0; i < len && msg[i]; i++) {
        size_t k = 0;
        while (k < nl && i + k < len && (msg[i + k] | 0x20) == needle[k])
            k++;
        if (k == nl)
            return true;
    }
    return false;
}
