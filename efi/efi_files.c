/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* File access through the Simple File System protocol of the loader's device. */
#include "efi/efi_files.h"

#include "core/klib.h"
#include "efi/efi_console.h"

static EFI_GUID sfs_guid = SIMPLE_FILE_SYSTEM_PROTOCOL;
static EFI_GUID file_info_guid = EFI_FILE_INFO_ID;

/* The directory part of the last file-path node of the loader's device path. */
static void loader_directory(EFI_DEVICE_PATH *dp, CHAR16 *dir, unsigned max)
{
    dir[0] = '\\';
    dir[1] = 0;
    while (dp && !(DevicePathType(dp) == END_DEVICE_PATH_TYPE)) {
        if (DevicePathType(dp) == MEDIA_DEVICE_PATH && DevicePathSubType(dp) == MEDIA_FILEPATH_DP) {
            const CHAR16 *name = ((FILEPATH_DEVICE_PATH *)dp)->PathName;
            unsigned n = 0, last_sep = 0;
            for (; name[n] && n + 2 < max; n++) {
                dir[n] = name[n] == '/' ? '\\' : name[n];
                if (dir[n] == '\\')
                    last_sep = n + 1;
            }
            if (last_sep == 0) {
                dir[0] = '\\';
                last_sep = 1;
            }
            dir[last_sep] = 0;
        }
        uint16_t len = (uint16_t)(dp->Length[0] | (dp->Length[1] << 8));
        if (len < 4)
            break;
        dp = (EFI_DEVICE_PATH *)((uint8_t *)dp + len);
    }
}

static EFI_STATUS volume_read(struct efi_source *src, const char *name, uint64_t *addr,
                              uint64_t *size)
{
    struct efi_volume *v = (struct efi_volume *)src;
    EFI_BOOT_SERVICES *bs = v->bs;
    CHAR16 path[256];
    unsigned n = 0;
    for (; v->dir[n] && n < 128; n++)
        path[n] = v->dir[n];
    for (const char *c = name; *c && n + 1 < sizeof(path) / sizeof(path[0]); c++)
        path[n++] = *c == '/' ? '\\' : (CHAR16)*c;
    path[n] = 0;

    EFI_FILE_HANDLE f;
    EFI_STATUS s = v->root->Open(v->root, &f, path, EFI_FILE_MODE_READ, 0);
    if (EFI_ERROR(s))
        return s;
    static union { /* the loader is single-threaded; off the stack (with path, over 1 KiB) */
        EFI_FILE_INFO info;
        uint8_t raw[sizeof(EFI_FILE_INFO) + 512];
    } fi;
    UINTN fi_size = sizeof(fi);
    s = f->GetInfo(f, &file_info_guid, &fi_size, &fi);
    if (!EFI_ERROR(s) && (fi.info.Attribute & EFI_FILE_DIRECTORY))
        s = EFI_NOT_FOUND;
    if (!EFI_ERROR(s) && fi.info.FileSize > EFI_SOURCE_FILE_MAX)
        s = EFI_BAD_BUFFER_SIZE;
    EFI_PHYSICAL_ADDRESS buf = 0;
    UINTN len = fi.info.FileSize;
    if (!EFI_ERROR(s))
        s = bs->AllocatePages(AllocateAnyPages, EfiLoaderData, (len + 4095) / 4096 + 1, &buf);
    if (!EFI_ERROR(s))
        s = f->Read(f, &len, (void *)(uintptr_t)buf);
    f->Close(f);
    if (EFI_ERROR(s))
        return s;
    if (len != fi.info.FileSize)
        return EFI_DEVICE_ERROR;
    *addr = buf;
    *size = len;
    return EFI_SUCCESS;
}

EFI_STATUS efi_volume_open(EFI_BOOT_SERVICES *bs, EFI_LOADED_IMAGE *li, struct efi_volume *v)
{
    EFI_FILE_IO_INTERFACE *sfs;
    EFI_STATUS s = bs->HandleProtocol(li->DeviceHandle, &sfs_guid, (void **)&sfs);
    if (EFI_ERROR(s))
        return EFI_UNSUPPORTED;
    s = sfs->OpenVolume(sfs, &v->root);
    if (EFI_ERROR(s)) {
        efi_error(s, "cannot open the file system the loader came from");
        return s;
    }
    v->bs = bs;
    v->src.read = volume_read;
    v->src.node_config[0] = 0;
    loader_directory(li->FilePath, v->dir, sizeof(v->dir) / sizeof(v->dir[0]));
    unsigned i = 0;
    for (; v->dir[i] && i + 1 < sizeof(v->src.where); i++)
        v->src.where[i] = (char)v->dir[i];
    v->src.where[i] = 0;
    return EFI_SUCCESS;
}
