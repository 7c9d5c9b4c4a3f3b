/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Reading files from the TFTP server the loader was network-booted (UEFI PXE) from. */
#ifndef EFI_EFI_TFTP_H
#define EFI_EFI_TFTP_H

#include "efi/efi_source.h"

struct efi_tftp {
    struct efi_source src; /* first: src is the server */
    EFI_BOOT_SERVICES *bs;
    EFI_PXE_BASE_CODE_PROTOCOL *pxe;
    EFI_IP_ADDRESS server;
    char dir[NETBOOT_PATH_MAX]; /* the boot file's directory on the server */
};

/* EFI_UNSUPPORTED if the loader was not network-booted; any other error is reported. */
EFI_STATUS efi_tftp_open(EFI_BOOT_SERVICES *bs, EFI_LOADED_IMAGE *li, struct efi_tftp *t);

#endif
