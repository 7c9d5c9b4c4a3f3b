/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Reading files that sit beside the loader on its volume. */
#ifndef EFI_EFI_FILES_H
#define EFI_EFI_FILES_H

#include <efi.h>

struct efi_volume {
    EFI_FILE_HANDLE root;
    CHAR16 dir[128]; /* the loader's directory, with a trailing backslash */
};

EFI_STATUS efi_volume_open(EFI_BOOT_SERVICES *bs, EFI_LOADED_IMAGE *li, struct efi_volume *v);
/* Reads name (relative to the loader's directory, '/' allowed) into pages of
 * LoaderData; *addr and *size describe it. */
EFI_STATUS efi_read_file(EFI_BOOT_SERVICES *bs, struct efi_volume *v, const char *name,
                         uint64_t *addr, uint64_t *size);
/* The loader directory as ASCII, for messages. */
void efi_volume_dir(const struct efi_volume *v, char *buf, unsigned size);

#endif
