/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* UEFI loader: configuration and files from the ESP, the boot server (network boot) or
 * LoadOptions; ACPI RSDP, TSC calibration, memory map, ExitBootServices, then the core. */
#include <efi.h>

#include "core/boot_info.h"
#include "core/config.h"
#include "core/core.h"
#include "core/cpu.h"
#include "core/fmt.h"
#include "core/klib.h"
#include "core/serial.h"
#include "efi/efi_console.h"
#include "efi/efi_files.h"
#include "efi/efi_tftp.h"
#include "efi/memmap.h"

#define CONFIG_FILE "sidecore.cfg"
#define EBS_ATTEMPTS 8
#define CALIBRATION_US 20000

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st);

static EFI_BOOT_SERVICES *bs;
static struct config cfg; /* the loader parses only to learn which files to load */
static struct cfg_errors cfg_errs;

static bool is_directive_start(const char *s)
{
    static const char *const words[] = {"console ", "boot ", "sidecore ", "partition ", "debug "};
    for (unsigned i = 0; i < ARRAY_SIZE(words); i++)
        if (!strncmp(s, words[i], strlen(words[i])))
            return true;
    return false;
}

/* LoadOptions is configuration if it is plain text holding at least one
 * directive (QEMU -kernel ... -append "..."); ';' separates lines there. */
static bool config_from_load_options(EFI_LOADED_IMAGE *li, struct boot_info *bi)
{
    const CHAR16 *w = li->LoadOptions;
    UINTN n = li->LoadOptionsSize / sizeof(CHAR16);
    if (!w || n == 0)
        return false;
    EFI_PHYSICAL_ADDRESS buf;
    if (EFI_ERROR(bs->AllocatePages(AllocateAnyPages, EfiLoaderData, n / 4096 + 1, &buf)))
        return false;
    char *text = (char *)(uintptr_t)buf;
    UINTN len = 0;
    bool directive = false;
    for (UINTN i = 0; i < n && w[i]; i++) {
        CHAR16 c = w[i];
        if (c > 0x7e || (c < 0x20 && c != '\n' && c != '\r' && c != '\t'))
            return false;
        text[len++] = c == ';' ? '\n' : (char)c;
    }
    for (UINTN i = 0; i < len; i++) {
        if ((i == 0 || text[i - 1] == '\n') && len - i > 4) {
            char word[12] = {0};
            for (unsigned k = 0; k < sizeof(word) - 1 && i + k < len; k++)
                word[k] = text[i + k];
            directive |= is_directive_start(word);
        }
    }
    if (!directive)
        return false;
    bi->config_text = buf;
    bi->config_len = len;
    memcpy(bi->config_source, "LoadOptions", sizeof("LoadOptions"));
    return true;
}

/* LoadOptions may carry the configuration of a loader that has no source of files. */
static EFI_STATUS read_named(struct efi_source *src, const char *name, uint64_t *addr,
                             uint64_t *size)
{
    return src ? src->read(src, name, addr, size) : EFI_NOT_FOUND;
}

/* The configuration: LoadOptions, else this node's own file (network boot), else
 * sidecore.cfg beside the loader. A node file that exists but cannot be read stops the
 * boot: falling back to the default would start the wrong partitions on this node. */
static EFI_STATUS load_config(EFI_LOADED_IMAGE *li, struct efi_source *src, struct boot_info *bi)
{
    if (config_from_load_options(li, bi)) {
        efi_print("configuration from LoadOptions (%llu bytes)",
                  (unsigned long long)bi->config_len);
        return EFI_SUCCESS;
    }
    if (!src) {
        efi_error(EFI_NOT_FOUND, "no configuration: LoadOptions hold none and the loader's "
                                 "device has neither a file system nor a boot server");
        return EFI_NOT_FOUND;
    }
    const char *name = CONFIG_FILE, *why = "";
    EFI_STATUS s = EFI_NOT_FOUND;
    if (src->node_config[0]) {
        name = src->node_config;
        s = read_named(src, name, &bi->config_text, &bi->config_len);
        if (s == EFI_NOT_FOUND)
            efi_print("no %s%s for this node; using %s", src->where, name, CONFIG_FILE);
        else if (EFI_ERROR(s)) {
            efi_error(s, "cannot read this node's configuration %s%s", src->where, name);
            return s;
        }
        why = ", this node's own";
    }
    if (s == EFI_NOT_FOUND) {
        name = CONFIG_FILE;
        why = "";
        s = read_named(src, name, &bi->config_text, &bi->config_len);
    }
    if (EFI_ERROR(s)) {
        efi_error(s, "no configuration: cannot read %s%s and LoadOptions hold none", src->where,
                  name);
        return s;
    }
    ksnprintf(bi->config_source, sizeof(bi->config_source), "%s", name);
    efi_print("configuration %s%s (%llu bytes%s)", src->where, name,
              (unsigned long long)bi->config_len, why);
    return EFI_SUCCESS;
}

/* One file a partition names (once, even if several partitions name it). */
static EFI_STATUS load_file(struct efi_source *src, struct boot_info *bi,
                            const struct cfg_partition *p, const char *what, const char *name)
{
    if (!name[0])
        return EFI_SUCCESS;
    for (uint32_t i = 0; i < bi->nfiles; i++)
        if (!strcmp(bi->files[i].name, name))
            return EFI_SUCCESS;
    if (bi->nfiles == BOOT_MAX_FILES) {
        efi_error(EFI_OUT_OF_RESOURCES, "more than %d files named", BOOT_MAX_FILES);
        return EFI_OUT_OF_RESOURCES;
    }
    struct boot_file *f = &bi->files[bi->nfiles];
    EFI_STATUS s = read_named(src, name, &f->address, &f->size);
    if (EFI_ERROR(s)) {
        efi_error(s, "%s:%u: cannot read %s '%s' of partition '%s'", bi->config_source, p->line,
                  what, name, p->name);
        return s;
    }
    memcpy(f->name, name, sizeof(f->name));
    bi->nfiles++;
    efi_print("loaded %s (%llu bytes) at %llx", name, (unsigned long long)f->size,
              (unsigned long long)f->address);
    return EFI_SUCCESS;
}

/* Files the configuration names. A configuration that does not parse is left for the
 * core, which reports every error with its line number. */
static EFI_STATUS load_images(struct efi_source *src, struct boot_info *bi)
{
    if (config_parse((const char *)(uintptr_t)bi->config_text, bi->config_len, &cfg, &cfg_errs))
        return EFI_SUCCESS;
    for (unsigned i = 0; i < cfg.npartitions; i++) {
        const struct cfg_partition *p = &cfg.partitions[i];
        EFI_STATUS s = load_file(src, bi, p, "image", p->image);
        if (!EFI_ERROR(s))
            s = load_file(src, bi, p, "disk", p->disk);
        if (!EFI_ERROR(s))
            s = load_file(src, bi, p, "initrd", p->initrd);
        if (EFI_ERROR(s))
            return s;
    }
    return EFI_SUCCESS;
}

/* The volume the loader came from, else the server it was network-booted from; NULL
 * (with *s the error) when neither can be opened. */
static struct efi_source *open_source(EFI_LOADED_IMAGE *li, EFI_STATUS *s)
{
    static struct efi_volume vol;
    static struct efi_tftp tftp;
    *s = efi_volume_open(bs, li, &vol);
    if (!EFI_ERROR(*s))
        return &vol.src;
    if (*s == EFI_UNSUPPORTED)
        *s = efi_tftp_open(bs, li, &tftp);
    if (!EFI_ERROR(*s))
        return &tftp.src;
    return NULL;
}

static uint64_t find_rsdp(EFI_SYSTEM_TABLE *st)
{
    EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
    uint64_t v1 = 0;
    for (UINTN i = 0; i < st->NumberOfTableEntries; i++) {
        EFI_CONFIGURATION_TABLE *t = &st->ConfigurationTable[i];
        if (!memcmp(&t->VendorGuid, &acpi20, sizeof(EFI_GUID)))
            return (uint64_t)(uintptr_t)t->VendorTable;
        if (!memcmp(&t->VendorGuid, &acpi10, sizeof(EFI_GUID)))
            v1 = (uint64_t)(uintptr_t)t->VendorTable;
    }
    return v1;
}

static uint64_t calibrate_tsc(void)
{
    uint64_t t0 = rdtsc();
    bs->Stall(CALIBRATION_US);
    return (rdtsc() - t0) * (1000000 / CALIBRATION_US);
}

/* The map key changes whenever the firmware allocates; retry with a fresh map. */
static EFI_STATUS exit_boot_services(EFI_HANDLE image, struct boot_info *bi)
{
    UINTN size = 0, key, desc_size;
    UINT32 desc_version;
    EFI_MEMORY_DESCRIPTOR *map = NULL;
    EFI_STATUS s = bs->GetMemoryMap(&size, NULL, &key, &desc_size, &desc_version);
    if (s != EFI_BUFFER_TOO_SMALL)
        return s;
    UINTN capacity = size + 32 * desc_size; /* room for the pool allocation itself */
    s = bs->AllocatePool(EfiLoaderData, capacity, (void **)&map);
    if (EFI_ERROR(s))
        return s;
    efi_print("exiting boot services; the hypervisor takes over the machine");
    for (int attempt = 0; attempt < EBS_ATTEMPTS; attempt++) {
        size = capacity;
        s = bs->GetMemoryMap(&size, map, &key, &desc_size, &desc_version);
        if (EFI_ERROR(s))
            return s;
        /* converted before ExitBootServices (no firmware call, so the key stays valid):
         * a map that does not fit is still reported while the console exists */
        int n = efi_memmap_convert(map, size, desc_size, bi->mem, BOOT_MAX_MEM_RANGES);
        if (n < 0) {
            efi_error(EFI_BUFFER_TOO_SMALL, "the memory map has more than %d ranges",
                      BOOT_MAX_MEM_RANGES);
            return EFI_BUFFER_TOO_SMALL;
        }
        bi->nmem = (uint32_t)n;
        s = bs->ExitBootServices(image, key);
        if (s == EFI_SUCCESS)
            return EFI_SUCCESS; /* no firmware calls from here on */
    }
    return s;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
    EFI_GUID li_guid = LOADED_IMAGE_PROTOCOL;
    EFI_LOADED_IMAGE *li;
    bs = st->BootServices;
    efi_console_init(st);
    EFI_STATUS s = bs->HandleProtocol(image, &li_guid, (void **)&li);
    if (EFI_ERROR(s)) {
        efi_error(s, "no loaded-image protocol");
        return s;
    }
    efi_print("sidecore UEFI loader at %llx (firmware revision %u.%u)",
              (unsigned long long)(uintptr_t)li->ImageBase, st->Hdr.Revision >> 16,
              st->Hdr.Revision & 0xffff);
    EFI_PHYSICAL_ADDRESS bi_pa;
    s = bs->AllocatePages(AllocateAnyPages, EfiLoaderData, (sizeof(struct boot_info) + 4095) / 4096,
                          &bi_pa);
    if (EFI_ERROR(s)) {
        efi_error(s, "cannot allocate boot_info");
        return s;
    }
    struct boot_info *bi = (struct boot_info *)(uintptr_t)bi_pa;
    memset(bi, 0, sizeof(*bi));
    bi->magic = BOOT_INFO_MAGIC;
    bi->version = BOOT_INFO_VERSION;
    bi->loader = BOOT_LOADER_UEFI;
    bi->image_base = (uint64_t)(uintptr_t)li->ImageBase;
    bi->image_size = li->ImageSize;

    EFI_STATUS open_status;
    struct efi_source *src = open_source(li, &open_status);
    if (!src && open_status != EFI_UNSUPPORTED)
        return open_status; /* a source that is there but failed to open: reported */
    s = load_config(li, src, bi);
    if (EFI_ERROR(s))
        return s;
    s = load_images(src, bi);
    if (EFI_ERROR(s))
        return s;
    bi->rsdp = find_rsdp(st);
    if (!bi->rsdp) {
        efi_error(EFI_NOT_FOUND, "the firmware publishes no ACPI RSDP; the hypervisor needs "
                                 "the MADT to find the CPUs");
        return EFI_NOT_FOUND;
    }
    bi->tsc_hz = calibrate_tsc();
    efi_print("ACPI RSDP at %llx; TSC %llu MHz; image %llu KiB", (unsigned long long)bi->rsdp,
              (unsigned long long)(bi->tsc_hz / 1000000),
              (unsigned long long)(bi->image_size / 1024));
    s = exit_boot_services(image, bi);
    if (EFI_ERROR(s)) {
        /* after a failed ExitBootServices the spec allows no firmware console: say it
         * on the serial port directly */
        static const char msg[] = "sidecore-efi: error: ExitBootServices kept failing\n";
        serial_init(0x3f8);
        serial_write(msg, sizeof(msg) - 1);
        return s;
    }
    bi->handoff_tsc = rdtsc();
    core_start(bi);
}
