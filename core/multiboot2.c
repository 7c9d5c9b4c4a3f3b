/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Multiboot2 boot information to struct boot_info (see multiboot2.h). */
#include "core/multiboot2.h"

#include "core/klib.h"

enum {
    TAG_END = 0,
    TAG_MODULE = 3,
    TAG_MMAP = 6,
    TAG_ACPI_OLD = 14,
    TAG_ACPI_NEW = 15,
};
#define TAG_HEADER 8u      /* u32 type, u32 size */
#define MODULE_FIXED 8u    /* u32 mod_start, u32 mod_end, then the string */
#define MMAP_FIXED 8u      /* u32 entry_size, u32 entry_version, then the entries */
#define MMAP_ENTRY_MIN 24u /* u64 base_addr, u64 length, u32 type, u32 reserved */
#define RSDP_V1_BYTES 20u
#define RSDP_V2_BYTES 36u
#define PAGE 4096u

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint32_t mem_type(uint32_t mb2_type)
{
    switch (mb2_type) {
    case 1:
        return BOOT_MEM_USABLE;
    case 3:
        return BOOT_MEM_ACPI_RECLAIM;
    case 4:
        return BOOT_MEM_ACPI_NVS;
    case 5:
        return BOOT_MEM_BAD;
    default:
        return BOOT_MEM_RESERVED;
    }
}

static int memory_map(const uint8_t *t, uint32_t size, struct boot_info *out, struct refusal *why)
{
    if (size < TAG_HEADER + MMAP_FIXED)
        return refuse(why, E_INVAL, "memory map tag of %u bytes", size);
    uint32_t entry = get32(t + TAG_HEADER);
    if (entry < MMAP_ENTRY_MIN || entry % 8)
        return refuse(why, E_INVAL, "memory map entries of %u bytes", entry);
    for (uint32_t at = TAG_HEADER + MMAP_FIXED; size - at >= entry; at += entry) {
        if (out->nmem == BOOT_MAX_MEM_RANGES)
            return refuse(why, E_INVAL, "more than %u memory ranges", BOOT_MAX_MEM_RANGES);
        uint64_t base = get64(t + at), length = get64(t + at + 8);
        if (length == 0)
            continue;
        if (base + length < base)
            return refuse(why, E_INVAL, "memory range at %llx wraps", (unsigned long long)base);
        out->mem[out->nmem++] =
            (struct boot_mem_range){base, length, mem_type(get32(t + at + 16)), 0};
    }
    return 0;
}

/* The module's name: its string's first word, 1..BOOT_FILE_NAME_MAX-1 printable bytes. */
static int module_name(const uint8_t *s, uint32_t n, char name[BOOT_FILE_NAME_MAX],
                       struct refusal *why)
{
    uint32_t i = 0;
    while (i < n && s[i] == ' ')
        i++;
    uint32_t len = 0;
    for (; i < n && s[i] && s[i] != ' '; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e || len == BOOT_FILE_NAME_MAX - 1)
            return refuse(why, E_INVAL, "module name not 1 to %u printable characters",
                          BOOT_FILE_NAME_MAX - 1);
        name[len++] = (char)s[i];
    }
    if (i == n)
        return refuse(why, E_INVAL, "module string not terminated");
    if (len == 0)
        return refuse(why, E_INVAL, "module without a name (module2 FILE NAME)");
    name[len] = '\0';
    return 0;
}

static int module(const uint8_t *t, uint32_t size, struct boot_info *out, struct refusal *why)
{
    if (size < TAG_HEADER + MODULE_FIXED + 1)
        return refuse(why, E_INVAL, "module tag of %u bytes", size);
    uint32_t start = get32(t + TAG_HEADER), end = get32(t + TAG_HEADER + 4);
    char name[BOOT_FILE_NAME_MAX];
    int err =
        module_name(t + TAG_HEADER + MODULE_FIXED, size - TAG_HEADER - MODULE_FIXED, name, why);
    if (err)
        return err;
    if (end < start || start % PAGE)
        return refuse(why, E_INVAL,
                      "module '%s' at %x-%x: not page aligned, or ends before it "
                      "starts",
                      name, start, end);
    if (!strcmp(name, MB2_CONFIG_NAME)) {
        if (out->config_len)
            return refuse(why, E_INVAL, "two modules named %s", MB2_CONFIG_NAME);
        out->config_text = start;
        out->config_len = end - start;
        return 0;
    }
    for (uint32_t i = 0; i < out->nfiles; i++)
        if (!strcmp(out->files[i].name, name))
            return refuse(why, E_INVAL, "two modules named '%s'", name);
    if (out->nfiles == BOOT_MAX_FILES)
        return refuse(why, E_INVAL, "more than %u modules", BOOT_MAX_FILES);
    struct boot_file *f = &out->files[out->nfiles++];
    memcpy(f->name, name, sizeof(name));
    f->address = start;
    f->size = end - start;
    return 0;
}

int mb2_boot_info(const uint8_t *info, size_t len, uint64_t base, struct boot_info *out,
                  struct refusal *why)
{
    memset(out, 0, sizeof(*out));
    out->magic = BOOT_INFO_MAGIC;
    out->version = BOOT_INFO_VERSION;
    out->loader = BOOT_LOADER_MULTIBOOT2;
    memcpy(out->config_source, "module " MB2_CONFIG_NAME, sizeof("module " MB2_CONFIG_NAME));
    if (len < 8 || base % 8)
        return refuse(why, E_INVAL, "boot information of %llu bytes at %llx",
                      (unsigned long long)len, (unsigned long long)base);
    uint32_t total = get32(info);
    if (total < 8 + TAG_HEADER || total > len)
        return refuse(why, E_INVAL, "boot information says %u bytes, %llu readable", total,
                      (unsigned long long)len);
    bool ended = false, mmap = false;
    unsigned rsdp_bytes = 0;
    for (uint32_t at = 8; !ended;) {
        if (total - at < TAG_HEADER)
            return refuse(why, E_INVAL, "no end tag in %u bytes", total);
        const uint8_t *t = info + at;
        uint32_t type = get32(t), size = get32(t + 4);
        if (size < TAG_HEADER || size > total - at)
            return refuse(why, E_INVAL, "tag %u at offset %u: %u bytes", type, at, size);
        int err = 0;
        switch (type) {
        case TAG_END:
            ended = true;
            break;
        case TAG_MODULE:
            err = module(t, size, out, why);
            break;
        case TAG_MMAP:
            err = memory_map(t, size, out, why);
            mmap = true;
            break;
        case TAG_ACPI_OLD:
        case TAG_ACPI_NEW: {
            unsigned need = type == TAG_ACPI_NEW ? RSDP_V2_BYTES : RSDP_V1_BYTES;
            if (size - TAG_HEADER < need)
                return refuse(why, E_INVAL, "ACPI tag %u of %u bytes", type, size);
            if (need > rsdp_bytes) { /* the new RSDP wins over the old */
                out->rsdp = base + at + TAG_HEADER;
                rsdp_bytes = need;
            }
            break;
        }
        default:
            break; /* not needed */
        }
        if (err)
            return err;
        uint64_t next = ((uint64_t)size + 7) & ~7ull; /* tags start 8-aligned */
        if (!ended && next > total - at)
            return refuse(why, E_INVAL, "tag %u at offset %u runs past the end", type, at);
        at += (uint32_t)next;
    }
    if (!mmap || out->nmem == 0)
        return refuse(why, E_INVAL, "no memory map");
    if (!out->config_len)
        return refuse(why, E_INVAL, "no module named %s (module2 /sidecore.cfg %s)",
                      MB2_CONFIG_NAME, MB2_CONFIG_NAME);
    return 0;
}
