/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Where the loader's files come from: the volume it was loaded from (efi_files.c) or the
 * boot server it was network-booted from (efi_tftp.c). One interface, so the loader reads
 * the configuration and every file it names the same way from either. */
#ifndef EFI_EFI_SOURCE_H
#define EFI_EFI_SOURCE_H

#include <efi.h>

#include "efi/netboot.h"

/* A file larger than this is refused before any memory is allocated for it. */
#define EFI_SOURCE_FILE_MAX (4ull << 30)

struct efi_source {
    /* Reads name (relative to the loader's directory, '/' allowed) into pages of LoaderData.
     * EFI_NOT_FOUND only when the file does not exist. */
    EFI_STATUS (*read)(struct efi_source *src, const char *name, uint64_t *addr, uint64_t *size);
    char where[96];                            /* the loader's directory, for messages */
    char node_config[NETBOOT_NODE_CONFIG_MAX]; /* this node's own configuration, or "" */
};

#endif
