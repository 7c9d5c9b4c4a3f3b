/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Reading files that sit beside the loader on its volume. */
#ifndef EFI_EFI_FILES_H
#define EFI_EFI_FILES_H

#include "efi/efi_source.h"

struct efi_volume {
    struct efi_source src; /* first: src is the volume */
    EFI_BOOT_SERVICES *bs;
    EFI_FILE_HANDLE root;
    CHAR16 dir[128]; /* the loader's directory, with a trailing backslash */
};

/* EFI_UNSUPPORTED if the loader's device has no file system. */
EFI_STATUS efi_volume_open(EFI_BOOT_SERVICES *bs, EFI_LOADED_IMAGE *li, struct efi_volume *v);

#endif
