/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Network boot: the per-node configuration name, and the server and boot directory read out
 * of a DHCP reply that may be malformed (it comes off the network). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "efi/netboot.h"

#define REPLY_LEN 1472 /* EFI_PXE_BASE_CODE_PACKET */

static uint8_t reply[REPLY_LEN];
static size_t opt_at;

static int fresh_reply(void **state)
{
    (void)state;
    memset(reply, 0, sizeof(reply));
    reply[0] = 2; /* BOOTREPLY */
    memcpy(reply + DHCP_MAGIC, (const uint8_t[]){99, 130, 83, 99}, 4);
    opt_at = DHCP_OPTIONS;
    return 0;
}

static void add_option(uint8_t code, const void *data, uint8_t len)
{
    reply[opt_at++] = code;
    reply[opt_at++] = len;
    memcpy(reply + opt_at, data, len);
    opt_at += len;
}

static void test_node_config_name(void **state)
{
    (void)state;
    char name[NETBOOT_NODE_CONFIG_MAX];
    const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
    assert_int_equal(netboot_node_config_name(mac, 6, name, sizeof(name)), 0);
    assert_string_equal(name, "sidecore-52-54-00-ab-cd-ef.cfg");
    assert_int_equal(netboot_node_config_name(mac, 8, name, sizeof(name)), -E_INVAL);
    assert_int_equal(netboot_node_config_name(mac, 6, name, sizeof(name) - 1), -E_NOSPC);
}

static void test_server_is_siaddr_then_option_54(void **state)
{
    (void)state;
    uint8_t ip[4] = {0};
    const uint8_t id[4] = {10, 0, 2, 3};
    add_option(DHCP_OPT_SERVER_ID, id, 4);
    reply[opt_at++] = DHCP_OPT_END;
    assert_int_equal(netboot_server(reply, sizeof(reply), ip), 0);
    assert_memory_equal(ip, id, 4); /* no siaddr: the server identifier */
    memcpy(reply + DHCP_SIADDR, (const uint8_t[]){10, 0, 2, 2}, 4);
    assert_int_equal(netboot_server(reply, sizeof(reply), ip), 0);
    assert_memory_equal(ip, ((const uint8_t[]){10, 0, 2, 2}), 4);
}

static void test_server_missing_or_malformed(void **state)
{
    (void)state;
    uint8_t ip[4] = {0};
    assert_int_equal(netboot_server(reply, sizeof(reply), ip), -E_NOENT);
    add_option(DHCP_OPT_SERVER_ID, (const uint8_t[]){10, 0, 2}, 3); /* wrong length */
    assert_int_equal(netboot_server(reply, sizeof(reply), ip), -E_NOENT);
    /* an option whose length runs past the packet is not read */
    fresh_reply(NULL);
    memset(reply + DHCP_OPTIONS, DHCP_OPT_PAD, REPLY_LEN - DHCP_OPTIONS - 3);
    reply[REPLY_LEN - 3] = DHCP_OPT_SERVER_ID;
    reply[REPLY_LEN - 2] = 4;
    reply[REPLY_LEN - 1] = 10;
    assert_int_equal(netboot_server(reply, sizeof(reply), ip), -E_NOENT);
    /* no DHCP magic: options are not read at all */
    fresh_reply(NULL);
    add_option(DHCP_OPT_SERVER_ID, (const uint8_t[]){10, 0, 2, 3}, 4);
    reply[DHCP_MAGIC] = 0;
    assert_int_equal(netboot_server(reply, sizeof(reply), ip), -E_NOENT);
    assert_int_equal(netboot_server(reply, DHCP_OPTIONS - 1, ip), -E_INVAL);
}

static void test_boot_dir(void **state)
{
    (void)state;
    char dir[NETBOOT_PATH_MAX];
    memcpy(reply + DHCP_FILE, "BOOTX64.EFI", 11);
    assert_int_equal(netboot_boot_dir(reply, sizeof(reply), dir, sizeof(dir)), 0);
    assert_string_equal(dir, "");
    memcpy(reply + DHCP_FILE, "nodes/x86/BOOTX64.EFI", 21);
    assert_int_equal(netboot_boot_dir(reply, sizeof(reply), dir, sizeof(dir)), 0);
    assert_string_equal(dir, "nodes/x86/");
    assert_int_equal(netboot_boot_dir(reply, sizeof(reply), dir, 10), -E_NOSPC);
    /* the file field filled to its end, with no NUL: read as 128 bytes, not beyond */
    memset(reply + DHCP_FILE, 'a', DHCP_FILE_LEN);
    reply[DHCP_FILE + 3] = '/';
    reply[DHCP_FILE + DHCP_FILE_LEN] = '/'; /* the first byte after the field */
    assert_int_equal(netboot_boot_dir(reply, sizeof(reply), dir, sizeof(dir)), 0);
    assert_string_equal(dir, "aaa/");
    reply[DHCP_FILE + 5] = ' ';
    assert_int_equal(netboot_boot_dir(reply, sizeof(reply), dir, sizeof(dir)), -E_INVAL);
}

static void test_boot_dir_from_option_67(void **state)
{
    (void)state;
    char dir[NETBOOT_PATH_MAX];
    add_option(DHCP_OPT_BOOTFILE, "pxe/BOOTX64.EFI\0", 16); /* counted NUL */
    reply[opt_at++] = DHCP_OPT_END;
    assert_int_equal(netboot_boot_dir(reply, sizeof(reply), dir, sizeof(dir)), 0);
    assert_string_equal(dir, "pxe/");
}

static void test_path_stays_in_boot_dir(void **state)
{
    (void)state;
    char out[NETBOOT_PATH_MAX];
    assert_int_equal(netboot_path("nodes/", "hello.elf", out, sizeof(out)), 0);
    assert_string_equal(out, "nodes/hello.elf");
    assert_int_equal(netboot_path("", "guests/a..b.elf", out, sizeof(out)), 0);
    assert_string_equal(out, "guests/a..b.elf");
    assert_int_equal(netboot_path("nodes/", "../secret", out, sizeof(out)), -E_INVAL);
    assert_int_equal(netboot_path("nodes/", "a/../../b", out, sizeof(out)), -E_INVAL);
    assert_int_equal(netboot_path("nodes/", "a/..", out, sizeof(out)), -E_INVAL);
    assert_int_equal(netboot_path("nodes/", "/etc/passwd", out, sizeof(out)), -E_INVAL);
    assert_int_equal(netboot_path("nodes/", "", out, sizeof(out)), -E_INVAL);
    assert_int_equal(netboot_path("nodes/", "hello.elf", out, 15), -E_NOSPC);
    assert_int_equal(netboot_path("nodes/", "hello.elf", out, 16), 0);
}

static void test_tftp_not_found(void **state)
{
    (void)state;
    assert_true(netboot_tftp_not_found(1, "", 0));
    /* EDK2 passes code 1 on as 0: the message decides */
    assert_true(netboot_tftp_not_found(0, "File not found", 127));
    assert_true(netboot_tftp_not_found(0, "file /x.cfg NOT FOUND", 127));
    assert_false(netboot_tftp_not_found(0, "Access violation", 127));
    assert_false(netboot_tftp_not_found(2, "not found", 127));
    /* the message is bounded by its field, not by a NUL */
    const char field[8] = {'n', 'o', 't', ' ', 'f', 'o', 'u', 'n'};
    assert_false(netboot_tftp_not_found(0, field, sizeof(field)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_config_name),
        cmocka_unit_test_setup(test_server_is_siaddr_then_option_54, fresh_reply),
        cmocka_unit_test_setup(test_server_missing_or_malformed, fresh_reply),
        cmocka_unit_test_setup(test_boot_dir, fresh_reply),
        cmocka_unit_test_setup(test_boot_dir_from_option_67, fresh_reply),
        cmocka_unit_test(test_path_stays_in_boot_dir),
        cmocka_unit_test(test_tftp_not_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
