/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Files from the boot server, through the PXE Base Code protocol the firmware left on the
 * loader's device handle (UEFI 2.10, section 24.3): the DHCP reply the node was booted with
 * names the server and the boot file's directory; the device path names the node's MAC. */
#include "efi/efi_tftp.h"

#include "core/fmt.h"
#include "core/klib.h"
#include "efi/efi_console.h"

#define TFTP_BLOCK 1468 /* fits a 1500-byte Ethernet frame (RFC 2348) */
#define MAC_IFTYPE_ETHER 1

static EFI_GUID pxe_guid = EFI_PXE_BASE_CODE_PROTOCOL_GUID;
static EFI_GUID dp_guid = DEVICE_PATH_PROTOCOL;

static EFI_STATUS tftp_read(struct efi_source *src, const char *name, uint64_t *addr,
                            uint64_t *size)
{
    struct efi_tftp *t = (struct efi_tftp *)src;
    char path[NETBOOT_PATH_MAX];
    if (netboot_path(t->dir, name, path, sizeof(path)))
        return EFI_INVALID_PARAMETER;
    UINT64 len = 0;
    UINTN block = TFTP_BLOCK;
    EFI_STATUS s = t->pxe->Mtftp(t->pxe, EFI_PXE_BASE_CODE_TFTP_GET_FILE_SIZE, NULL, FALSE, &len,
                                 &block, &t->server, (UINT8 *)path, NULL, FALSE);
    EFI_PXE_BASE_CODE_MODE *mode = t->pxe->Mode;
    if (s == EFI_TFTP_ERROR && mode->TftpErrorReceived) {
        if (netboot_tftp_not_found(mode->TftpError.ErrorCode,
                                   (const char *)mode->TftpError.ErrorString,
                                   sizeof(mode->TftpError.ErrorString)))
            return EFI_NOT_FOUND;
        char said[sizeof(mode->TftpError.ErrorString) + 1];
        unsigned n = 0;
        for (; n + 1 < sizeof(said) && mode->TftpError.ErrorString[n]; n++) {
            uint8_t c = mode->TftpError.ErrorString[n]; /* the server's words: printable only */
            said[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
        said[n] = 0;
        efi_print("the server refused %s: TFTP error %u '%s'", path, mode->TftpError.ErrorCode,
                  said);
    }
    /* The firmware also says EFI_NOT_FOUND when the server does not report a size (no tsize
     * option): only the server saying the file is not there may mean "use the default". */
    if (s == EFI_NOT_FOUND)
        return EFI_DEVICE_ERROR;
    if (EFI_ERROR(s))
        return s;
    if (len > EFI_SOURCE_FILE_MAX)
        return EFI_BAD_BUFFER_SIZE;
    EFI_PHYSICAL_ADDRESS buf = 0;
    s = t->bs->AllocatePages(AllocateAnyPages, EfiLoaderData, (len + 4095) / 4096 + 1, &buf);
    if (EFI_ERROR(s))
        return s;
    UINT64 got = len;
    s = t->pxe->Mtftp(t->pxe, EFI_PXE_BASE_CODE_TFTP_READ_FILE, (void *)(uintptr_t)buf, FALSE, &got,
                      &block, &t->server, (UINT8 *)path, NULL, FALSE);
    if (!EFI_ERROR(s) && got != len)
        s = EFI_DEVICE_ERROR; /* the file changed between the two requests */
    if (EFI_ERROR(s)) {
        t->bs->FreePages(buf, (len + 4095) / 4096 + 1);
        return s;
    }
    *addr = buf;
    *size = got;
    return EFI_SUCCESS;
}

/* The node's MAC, from the MAC node of the loader's device path; false if it has none or
 * it is not Ethernet. */
static bool node_mac(EFI_BOOT_SERVICES *bs, EFI_HANDLE device, uint8_t mac[6])
{
    EFI_DEVICE_PATH *dp;
    if (EFI_ERROR(bs->HandleProtocol(device, &dp_guid, (void **)&dp)))
        return false;
    for (unsigned nodes = 0; nodes < 64 && DevicePathType(dp) != END_DEVICE_PATH_TYPE; nodes++) {
        uint16_t len = (uint16_t)(dp->Length[0] | (dp->Length[1] << 8));
        if (DevicePathType(dp) == MESSAGING_DEVICE_PATH &&
            DevicePathSubType(dp) == MSG_MAC_ADDR_DP && len >= sizeof(MAC_ADDR_DEVICE_PATH)) {
            const MAC_ADDR_DEVICE_PATH *m = (const MAC_ADDR_DEVICE_PATH *)dp;
            if (m->IfType != MAC_IFTYPE_ETHER && m->IfType != 0)
                return false;
            memcpy(mac, m->MacAddress.Addr, 6);
            return true;
        }
        if (len < 4)
            return false;
        dp = (EFI_DEVICE_PATH *)((uint8_t *)dp + len);
    }
    return false;
}

EFI_STATUS efi_tftp_open(EFI_BOOT_SERVICES *bs, EFI_LOADED_IMAGE *li, struct efi_tftp *t)
{
    if (EFI_ERROR(bs->HandleProtocol(li->DeviceHandle, &pxe_guid, (void **)&t->pxe)))
        return EFI_UNSUPPORTED;
    EFI_PXE_BASE_CODE_MODE *mode = t->pxe->Mode;
    if (!mode->Started || !mode->DhcpAckReceived || mode->UsingIpv6) {
        efi_error(EFI_UNSUPPORTED, "network boot: the firmware's PXE is not an IPv4 boot with "
                                   "a DHCP reply (only PXE over IPv4 is supported)");
        return EFI_PROTOCOL_ERROR;
    }
    /* a proxy DHCP server, when one answered, is the one that named the boot file */
    const EFI_PXE_BASE_CODE_PACKET *reply =
        mode->ProxyOfferReceived ? &mode->ProxyOffer : &mode->DhcpAck;
    uint8_t ip[4];
    if (netboot_server(reply->Raw, sizeof(reply->Raw), ip) &&
        netboot_server(mode->DhcpAck.Raw, sizeof(mode->DhcpAck.Raw), ip)) {
        efi_error(EFI_NOT_FOUND, "network boot: the DHCP reply names no boot server");
        return EFI_PROTOCOL_ERROR;
    }
    if (netboot_boot_dir(reply->Raw, sizeof(reply->Raw), t->dir, sizeof(t->dir))) {
        efi_error(EFI_INVALID_PARAMETER, "network boot: the DHCP reply's boot file name is "
                                         "not a plain path");
        return EFI_PROTOCOL_ERROR;
    }
    memset(&t->server, 0, sizeof(t->server));
    memcpy(t->server.v4.Addr, ip, 4);
    t->bs = bs;
    t->src.read = tftp_read;
    ksnprintf(t->src.where, sizeof(t->src.where), "tftp://%u.%u.%u.%u/%s", ip[0], ip[1], ip[2],
              ip[3], t->dir);
    uint8_t mac[6];
    t->src.node_config[0] = 0;
    if (node_mac(bs, li->DeviceHandle, mac)) {
        netboot_node_config_name(mac, sizeof(mac), t->src.node_config, sizeof(t->src.node_config));
        efi_print("network boot from %s; this node is %02x:%02x:%02x:%02x:%02x:%02x", t->src.where,
                  mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    } else {
        efi_print("network boot from %s; no Ethernet MAC in the device path, so no per-node "
                  "configuration",
                  t->src.where);
    }
    return EFI_SUCCESS;
}
