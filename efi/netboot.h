/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Network boot without firmware calls (host-tested): the names the loader asks the boot
 * server for, and what it reads out of the DHCP reply it was booted with. The reply comes
 * off the network: every field is bounded by the packet's length. */
#ifndef EFI_NETBOOT_H
#define EFI_NETBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETBOOT_PATH_MAX 128 /* a TFTP file name the loader builds, NUL included */
#define NETBOOT_NODE_CONFIG_MAX sizeof("sidecore-00-00-00-00-00-00.cfg")

/* BOOTP/DHCPv4 layout (RFC 2131, section 2) */
#define DHCP_SIADDR 20
#define DHCP_FILE 108
#define DHCP_FILE_LEN 128
#define DHCP_MAGIC 236
#define DHCP_OPTIONS 240
#define DHCP_OPT_PAD 0
#define DHCP_OPT_SERVER_ID 54
#define DHCP_OPT_BOOTFILE 67
#define DHCP_OPT_END 255

/* The configuration kept for one node: "sidecore-52-54-00-12-34-56.cfg" for an Ethernet
 * address (6 bytes). -E_INVAL for any other address length, -E_NOSPC if size is short. */
int netboot_node_config_name(const uint8_t *mac, unsigned mac_len, char *out, size_t size);

/* The server the files come from: the reply's siaddr, or when that is 0 its server
 * identifier (option 54). 0 when the reply names neither (or is not a DHCP reply). */
int netboot_server(const uint8_t *reply, size_t len, uint8_t ip[4]);

/* The boot file's directory with a trailing '/' ("nodes/" for "nodes/BOOTX64.EFI", "" for
 * "BOOTX64.EFI"), from the reply's file field, or option 67 when that is empty. -E_INVAL
 * if the name holds a byte that is not printable, -E_NOSPC if it does not fit. */
int netboot_boot_dir(const uint8_t *reply, size_t len, char *dir, size_t size);

/* dir followed by name; -E_NOSPC if that does not fit in size, -E_INVAL for an empty name
 * or one that leaves the boot directory ('..' component, leading '/'). */
int netboot_path(const char *dir, const char *name, char *out, size_t size);

/* Whether a TFTP error means the file does not exist. The code is TFTP's (RFC 1350: 1 is
 * "file not found") as the firmware passes it on; EDK2-based firmware keeps only the low
 * byte of the big-endian field, so every code below 256 reaches us as 0 ("not defined, see
 * the message"). For 0 the server's message decides: it says "not found". msg need not be
 * NUL-terminated; at most len bytes are read. */
bool netboot_tftp_not_found(unsigned code, const char *msg, size_t len);

#endif
