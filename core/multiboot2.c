/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Multiboot2 boot information to struct boot_info (see multiboot2.h). */
#include "core/multiboot2.h"

#include "core/boot_mem.h"
#include "core/fmt.h"
#include "core/klib.h"

enum {
    TAG_END = 0,
    TAG_CMDLINE = 1,
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
#define CONFIG_WORD "config="

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

static int module(const uint8_t *t, uint32_t size, const char *config_name, bool *have_config,
                  struct boot_info *out, struct refusal *why)
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
    if (!strcmp(name, config_name)) {
        if (*have_config)
            return refuse(why, E_INVAL, "two modules named %s", config_name);
        if (end == start)
            return refuse(why, E_INVAL, "the configuration module %s is empty", config_name);
        *have_config = true;
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

/* The command line: empty, or config=NAME (the module that is the configuration). */
static int command_line(const uint8_t *s, uint32_t n, char name[BOOT_FILE_NAME_MAX],
                        struct refusal *why)
{
    uint32_t len = 0;
    while (len < n && s[len])
        len++;
    if (len == n)
        return refuse(why, E_INVAL, "command line not terminated");
    uint32_t i = 0;
    while (i < len) {
        if (s[i] == ' ') {
            i++;
            continue;
        }
        uint32_t end = i;
        while (end < len && s[end] != ' ')
            end++;
        const uint32_t w = sizeof(CONFIG_WORD) - 1;
        if (end - i <= w || memcmp(s + i, CONFIG_WORD, w) || end - i - w >= BOOT_FILE_NAME_MAX)
            return refuse(why, E_INVAL,
                          "command line word %u bytes at %u: only config=NAME is understood "
                          "(NAME 1 to %u characters)",
                          end - i, i, BOOT_FILE_NAME_MAX - 1);
        memcpy(name, s + i + w, end - i - w);
        name[end - i - w] = '\0';
        i = end;
    }
    return 0;
}

/* The tag at offset at of the information (total bytes, at 8-aligned): its type and size
 * checked to lie inside; the offset of the next tag in *next. */
static int tag_at(const uint8_t *info, uint32_t total, uint32_t at, uint32_t *type, uint32_t *size,
                  uint32_t *next, struct refusal *why)
{
    if (total - at < TAG_HEADER)
        return refuse(why, E_INVAL, "no end tag in %u bytes", total);
    *type = get32(info + at);
    *size = get32(info + at + 4);
    if (*size < TAG_HEADER || *size > total - at)
        return refuse(why, E_INVAL, "tag %u at offset %u: %u bytes", *type, at, *size);
    uint64_t step = ((uint64_t)*size + 7) & ~7ull; /* tags start 8-aligned */
    if (*type != TAG_END && step > total - at)
        return refuse(why, E_INVAL, "tag %u at offset %u runs past the end", *type, at);
    *next = at + (uint32_t)step;
    return 0;
}

/* The information's own pages and every module's are the hypervisor's from now on. */
static int reserve(struct boot_info *out, uint64_t base, uint32_t total, struct refusal *why)
{
    int err = boot_mem_carve(out, base, total, BOOT_MEM_HYPERVISOR);
    if (!err)
        err = boot_mem_carve(out, out->config_text, out->config_len, BOOT_MEM_HYPERVISOR);
    for (uint32_t i = 0; i < out->nfiles && !err; i++)
        err = boot_mem_carve(out, out->files[i].address, out->files[i].size, BOOT_MEM_HYPERVISOR);
    return err ? refuse(why, E_INVAL,
                        "more than %u memory ranges once the modules are set "
                        "apart",
                        BOOT_MAX_MEM_RANGES)
               : 0;
}

int mb2_boot_info(const uint8_t *info, size_t len, uint64_t base, struct boot_info *out,
                  struct refusal *why)
{
    memset(out, 0, sizeof(*out));
    out->magic = BOOT_INFO_MAGIC;
    out->version = BOOT_INFO_VERSION;
    out->loader = BOOT_LOADER_MULTIBOOT2;
    if (len < 8 || base % 8)
        return refuse(why, E_INVAL, "boot information of %llu bytes at %llx",
                      (unsigned long long)len, (unsigned long long)base);
    uint32_t total = get32(info);
    if (total < 8 + TAG_HEADER || total > len)
        return refuse(why, E_INVAL, "boot information says %u bytes, %llu readable", total,
                      (unsigned long long)len);
    /* first the command line, which may name the configuration module */
    char config_name[BOOT_FILE_NAME_MAX] = MB2_CONFIG_NAME;
    uint32_t type = 1, size, next;
    for (uint32_t at = 8; type != TAG_END; at = next) {
        int err = tag_at(info, total, at, &type, &size, &next, why);
        if (!err && type == TAG_CMDLINE)
            err = command_line(info + at + TAG_HEADER, size - TAG_HEADER, config_name, why);
        if (err)
            return err;
    }
    ksnprintf(out->config_source, sizeof(out->config_source), "%s", config_name);
    bool mmap = false, have_config = false;
    unsigned rsdp_bytes = 0;
    type = 1;
    for (uint32_t at = 8; type != TAG_END; at = next) {
        int err = tag_at(info, total, at, &type, &size, &next, why);
        const uint8_t *t = info + at;
        if (err)
            return err;
        switch (type) {
        case TAG_MODULE:
            err = module(t, size, config_name, &have_config, out, why);
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
    }
    if (!mmap || out->nmem == 0)
        return refuse(why, E_INVAL, "no memory map");
    if (!have_config)
        return refuse(why, E_INVAL, "no module named %s (module2 /%s %s)", config_name, config_name,
                      config_name);
    return reserve(out, base, total, why);
}
