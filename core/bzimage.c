/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The Linux x86 boot protocol, loader side (bzimage.h). Every field of the image is read
 * once into a private copy of the setup header and checked before it is used. */
#include "core/bzimage.h"

#include <stddef.h>

#include "core/klib.h"
#include "core/refusal.h"

/* clang-format off */
/* The setup header as it sits at 0x1f1 in the image and in the zero page (protocol 2.15). */
struct bz_setup_header {
    uint8_t setup_sects;
    uint16_t root_flags;
    uint32_t syssize;
    uint16_t ram_size, vid_mode, root_dev, boot_flag, jump;
    uint32_t header;
    uint16_t version;
    uint32_t realmode_swtch;
    uint16_t start_sys_seg, kernel_version;
    uint8_t type_of_loader, loadflags;
    uint16_t setup_move_size;
    uint32_t code32_start, ramdisk_image, ramdisk_size, bootsect_kludge;
    uint16_t heap_end_ptr;
    uint8_t ext_loader_ver, ext_loader_type;
    uint32_t cmd_line_ptr, initrd_addr_max, kernel_alignment;
    uint8_t relocatable_kernel, min_alignment;
    uint16_t xloadflags;
    uint32_t cmdline_size, hardware_subarch;
    uint64_t hardware_subarch_data;
    uint32_t payload_offset, payload_length;
    uint64_t setup_data, pref_address;
    uint32_t init_size, handover_offset, kernel_info_offset;
} __attribute__((packed));
/* clang-format on */

#define SETUP_HEADER_AT 0x1f1
#define HDR(field) (SETUP_HEADER_AT + offsetof(struct bz_setup_header, field))
_Static_assert(HDR(boot_flag) == 0x1fe, "boot.rst: boot_flag");
_Static_assert(HDR(header) == 0x202, "boot.rst: header magic");
_Static_assert(HDR(version) == 0x206, "boot.rst: version");
_Static_assert(HDR(loadflags) == 0x211, "boot.rst: loadflags");
_Static_assert(HDR(ramdisk_image) == 0x218, "boot.rst: ramdisk_image");
_Static_assert(HDR(cmd_line_ptr) == 0x228, "boot.rst: cmd_line_ptr");
_Static_assert(HDR(kernel_alignment) == 0x230, "boot.rst: kernel_alignment");
_Static_assert(HDR(xloadflags) == 0x236, "boot.rst: xloadflags");
_Static_assert(HDR(cmdline_size) == 0x238, "boot.rst: cmdline_size");
_Static_assert(HDR(pref_address) == 0x258, "boot.rst: pref_address");
_Static_assert(HDR(init_size) == 0x260, "boot.rst: init_size");
_Static_assert(HDR(kernel_info_offset) == 0x268, "boot.rst: kernel_info_offset (2.15)");

/* struct boot_params offsets (arch/x86/include/uapi/asm/bootparam.h). */
#define ZP_ACPI_RSDP 0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE 0x0c4
#define ZP_EXT_CMD_LINE_PTR 0x0c8
#define ZP_E820_ENTRIES 0x1e8
#define ZP_SENTINEL 0x1ef
#define ZP_HDR_END 0x290 /* the setup header's room in the zero page ends here */
#define ZP_E820_TABLE 0x2d0
#define E820_ENTRY_SIZE 20
_Static_assert(ZP_E820_TABLE + BZ_E820_MAX * E820_ENTRY_SIZE <= BZ_ZERO_PAGE_SIZE, "e820 fits");
_Static_assert(SETUP_HEADER_AT + sizeof(struct bz_setup_header) <= ZP_HDR_END, "header fits");

#define BOOT_FLAG 0xaa55
#define HDRS_MAGIC 0x53726448u /* "HdrS" */
#define LOADED_HIGH (1u << 0)
#define XLF_KERNEL_64 (1u << 0)
#define LOADER_UNDEFINED 0xff /* type_of_loader: a boot loader without an assigned ID */
#define VID_MODE_NORMAL 0xffff
#define SECTOR 512
#define DEFAULT_SETUP_SECTS 4 /* setup_sects 0 means 4 (boot.rst) */
#define PAGE 4096u

typedef unsigned long long ull; /* what %llx wants */

/* [a, a + as) and [b, b + bs) share a byte (both non-empty, neither wrapping). */
static bool overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
    return a < b + bs && b < a + as;
}

/* [a, a + size) inside [lo, hi), without overflow. */
static bool inside(uint64_t a, uint64_t size, uint64_t lo, uint64_t hi)
{
    return a >= lo && a <= hi && size <= hi - a;
}

bool bzimage_detect(const void *file, uint64_t size)
{
    const uint8_t *f = file;
    uint16_t flag;
    uint32_t magic;
    if (size < HDR(header) + sizeof(magic))
        return false;
    memcpy(&flag, f + HDR(boot_flag), sizeof(flag));
    memcpy(&magic, f + HDR(header), sizeof(magic));
    return flag == BOOT_FLAG && magic == HDRS_MAGIC;
}

/* The header's length in the file: the byte at 0x201 is the jump's offset, and the header
 * ends where the jump lands (boot.rst: "the end of the setup header"). */
static int read_header(const uint8_t *f, uint64_t size, struct bz_setup_header *h, uint32_t *len,
                       struct refusal *why)
{
    if (!bzimage_detect(f, size))
        return refuse(why, E_INVAL, "not a bzImage (no boot flag 0xaa55 and \"HdrS\" magic)");
    *len = 0x202u + f[0x201] - SETUP_HEADER_AT;
    if (*len < HDR(init_size) + sizeof(h->init_size) - SETUP_HEADER_AT)
        return refuse(why, E_INVAL, "setup header of %u bytes is too short for protocol 2.12",
                      *len);
    if (*len > ZP_HDR_END - SETUP_HEADER_AT)
        return refuse(why, E_INVAL, "setup header of %u bytes overruns its room in the zero page",
                      *len);
    if (size < SETUP_HEADER_AT + (uint64_t)*len)
        return refuse(why, E_INVAL, "truncated: the setup header ends beyond the file");
    memset(h, 0, sizeof(*h));
    memcpy(h, f + SETUP_HEADER_AT,
           *len < sizeof(*h) ? *len : sizeof(*h)); /* one copy, read from here on */
    return 0;
}

static int check_header(const struct bz_setup_header *h, uint64_t size, struct bzimage *out,
                        struct refusal *why)
{
    if (h->version < BZ_MIN_VERSION)
        return refuse(why, E_INVAL,
                      "Linux boot protocol %u.%02u is too old: 2.12 or later is needed for the "
                      "64-bit entry",
                      h->version >> 8, h->version & 0xff);
    if (!(h->xloadflags & XLF_KERNEL_64))
        return refuse(why, E_INVAL, "the kernel has no 64-bit entry point (xloadflags)");
    if (!(h->loadflags & LOADED_HIGH))
        return refuse(why, E_INVAL, "a zImage (loaded low) is not supported");
    unsigned sects = h->setup_sects ? h->setup_sects : DEFAULT_SETUP_SECTS;
    out->kernel_offset = (uint64_t)(sects + 1) * SECTOR;
    if (out->kernel_offset >= size)
        return refuse(why, E_INVAL, "truncated: no kernel after %u setup sectors", sects);
    out->kernel_size = size - out->kernel_offset;
    if ((uint64_t)h->syssize * 16 > out->kernel_size)
        return refuse(why, E_INVAL, "truncated: the kernel is %llu bytes, its header says %llu",
                      (ull)out->kernel_size, (ull)h->syssize * 16);
    uint32_t align = h->kernel_alignment;
    if (align < PAGE || (align & (align - 1)))
        return refuse(why, E_INVAL, "kernel alignment %#x is not a power of two of 4K or more",
                      align);
    out->init_size = h->init_size;
    if (out->init_size < out->kernel_size)
        return refuse(why, E_INVAL, "init_size %#llx is smaller than the kernel (%#llx)",
                      (ull)out->init_size, (ull)out->kernel_size);
    out->version = h->version;
    out->cmdline_max = h->cmdline_size;
    out->initrd_limit = (uint64_t)h->initrd_addr_max + 1;
    return 0;
}

/* The preferred address if it fits, else the lowest aligned one (relocatable kernels). */
static int place_kernel(const struct bz_setup_header *h, uint64_t lo, uint64_t hi,
                        struct bzimage *out, struct refusal *why)
{
    uint64_t align = h->kernel_alignment, pref = h->pref_address;
    if (!(pref & (align - 1)) && inside(pref, out->init_size, lo, hi)) {
        out->load_gpa = pref;
    } else if (h->relocatable_kernel) {
        uint64_t at = ALIGN_UP(lo, align);
        if (at < lo || !inside(at, out->init_size, lo, hi))
            return refuse(why, E_NOMEM,
                          "the kernel needs %#llx bytes at a %#llx-aligned address in "
                          "%#llx-%#llx",
                          (ull)out->init_size, (ull)align, (ull)lo, (ull)hi);
        out->load_gpa = at;
    } else {
        return refuse(why, E_NOMEM,
                      "the kernel is not relocatable and %#llx-%#llx is outside %#llx-%#llx",
                      (ull)pref, (ull)(pref + out->init_size), (ull)lo, (ull)hi);
    }
    out->entry_gpa = out->load_gpa + BZ_ENTRY_64_OFFSET;
    return 0;
}

int bzimage_parse(const void *file, uint64_t size, uint64_t ram_lo, uint64_t ram_hi,
                  struct bzimage *out, struct refusal *why)
{
    struct bz_setup_header h;
    uint32_t len;
    memset(out, 0, sizeof(*out));
    int rc = read_header(file, size, &h, &len, why);
    if (rc || (rc = check_header(&h, size, out, why)) ||
        (rc = place_kernel(&h, ram_lo, ram_hi, out, why)))
        return rc;
    out->header_len = len;
    return 0;
}

/* The highest page-aligned address at which size bytes fit in [lo, top). */
static bool fits_below(uint64_t top, uint64_t size, uint64_t lo, uint64_t *at)
{
    if (top <= lo || size > top - lo)
        return false;
    *at = (top - size) & ~(uint64_t)(PAGE - 1);
    return *at >= lo;
}

int bzimage_place_initrd(const struct bzimage *k, uint64_t initrd_size, uint64_t ram_lo,
                         uint64_t ram_hi, uint64_t *gpa, struct refusal *why)
{
    uint64_t top = ram_hi < k->initrd_limit ? ram_hi : k->initrd_limit;
    if (initrd_size == 0)
        return refuse(why, E_INVAL, "the initrd is empty");
    /* as high as it goes (the kernel decompresses upwards from its start), else below it */
    if (fits_below(top, initrd_size, ram_lo, gpa) &&
        !overlaps(*gpa, initrd_size, k->load_gpa, k->init_size))
        return 0;
    if (fits_below(top < k->load_gpa ? top : k->load_gpa, initrd_size, ram_lo, gpa))
        return 0;
    return refuse(why, E_NOMEM,
                  "no room for an initrd of %#llx bytes in %#llx-%#llx beside the kernel at "
                  "%#llx-%#llx",
                  (ull)initrd_size, (ull)ram_lo, (ull)top, (ull)k->load_gpa,
                  (ull)(k->load_gpa + k->init_size));
}

static int add_entry(struct bz_e820 *out, unsigned *n, uint64_t addr, uint64_t size, uint32_t type,
                     struct refusal *why)
{
    if (!size)
        return 0;
    if (*n == BZ_E820_MAX)
        return refuse(why, E_NOMEM, "more than %d e820 entries", BZ_E820_MAX);
    out[(*n)++] = (struct bz_e820){addr, size, type};
    return 0;
}

int bzimage_e820(uint64_t ram_size, const struct bz_range *reserved, unsigned nreserved,
                 struct bz_e820 out[BZ_E820_MAX], struct refusal *why)
{
    for (unsigned i = 0; i < nreserved; i++) {
        if (!reserved[i].size || reserved[i].addr + reserved[i].size < reserved[i].addr)
            return refuse(why, E_INVAL, "reserved range %u is empty or wraps", i);
        for (unsigned j = 0; j < i; j++)
            if (overlaps(reserved[i].addr, reserved[i].size, reserved[j].addr, reserved[j].size))
                return refuse(why, E_INVAL, "reserved ranges %u and %u overlap", j, i);
    }
    /* walk up through the address space: RAM up to the next reserved range, that range */
    unsigned n = 0;
    uint64_t at = 0;
    for (;;) {
        const struct bz_range *next = NULL;
        for (unsigned i = 0; i < nreserved; i++)
            if (reserved[i].addr >= at && (!next || reserved[i].addr < next->addr))
                next = &reserved[i];
        uint64_t ram_end = next && next->addr < ram_size ? next->addr : ram_size;
        int rc = at < ram_end ? add_entry(out, &n, at, ram_end - at, BZ_E820_RAM, why) : 0;
        if (rc)
            return rc;
        if (!next)
            return (int)n;
        if ((rc = add_entry(out, &n, next->addr, next->size, BZ_E820_RESERVED, why)))
            return rc;
        at = next->addr + next->size;
    }
}

static void put32(uint8_t *zp, unsigned at, uint32_t v)
{
    memcpy(zp + at, &v, sizeof(v));
}

static void put64(uint8_t *zp, unsigned at, uint64_t v)
{
    memcpy(zp + at, &v, sizeof(v));
}

static int check_params(const struct bzimage *k, const struct bz_params *p, size_t cmdline_len,
                        struct refusal *why)
{
    if (cmdline_len > k->cmdline_max)
        return refuse(why, E_INVAL, "command line of %llu bytes; the kernel takes at most %u",
                      (ull)cmdline_len, k->cmdline_max);
    if (overlaps(p->cmdline_gpa, cmdline_len + 1, k->load_gpa, k->init_size))
        return refuse(why, E_INVAL, "the command line at %#llx overlaps the kernel",
                      (ull)p->cmdline_gpa);
    if (p->initrd_size) {
        if (p->initrd_gpa + p->initrd_size < p->initrd_gpa ||
            p->initrd_gpa + p->initrd_size > k->initrd_limit)
            return refuse(why, E_INVAL, "the initrd at %#llx ends above the kernel's limit %#llx",
                          (ull)p->initrd_gpa, (ull)k->initrd_limit);
        if (overlaps(p->initrd_gpa, p->initrd_size, k->load_gpa, k->init_size))
            return refuse(why, E_INVAL, "the initrd at %#llx-%#llx overlaps the kernel",
                          (ull)p->initrd_gpa, (ull)(p->initrd_gpa + p->initrd_size));
    }
    if (p->e820_count == 0 || p->e820_count > BZ_E820_MAX)
        return refuse(why, E_INVAL, "%u e820 entries (1 to %d)", p->e820_count, BZ_E820_MAX);
    return 0;
}

int bzimage_zero_page(const void *file, const struct bzimage *k, const struct bz_params *p,
                      uint8_t zp[BZ_ZERO_PAGE_SIZE], struct refusal *why)
{
    size_t cmdline_len = strlen(p->cmdline);
    int rc = check_params(k, p, cmdline_len, why);
    if (rc)
        return rc;
    memset(zp, 0, BZ_ZERO_PAGE_SIZE);
    memcpy(zp + SETUP_HEADER_AT, (const uint8_t *)file + SETUP_HEADER_AT, k->header_len);
    zp[HDR(type_of_loader)] = LOADER_UNDEFINED;
    uint16_t vid = VID_MODE_NORMAL;
    memcpy(zp + HDR(vid_mode), &vid, sizeof(vid));
    put32(zp, HDR(cmd_line_ptr), (uint32_t)p->cmdline_gpa);
    put32(zp, ZP_EXT_CMD_LINE_PTR, (uint32_t)(p->cmdline_gpa >> 32));
    put32(zp, HDR(ramdisk_image), (uint32_t)p->initrd_gpa);
    put32(zp, ZP_EXT_RAMDISK_IMAGE, (uint32_t)(p->initrd_gpa >> 32));
    put32(zp, HDR(ramdisk_size), (uint32_t)p->initrd_size);
    put32(zp, ZP_EXT_RAMDISK_SIZE, (uint32_t)(p->initrd_size >> 32));
    put32(zp, HDR(hardware_subarch), 0); /* a PC; the platform is found by CPUID */
    put64(zp, HDR(setup_data), 0);       /* the loader's list, and this one passes none */
    put64(zp, ZP_ACPI_RSDP, 0);          /* no ACPI */
    zp[ZP_E820_ENTRIES] = (uint8_t)p->e820_count;
    for (unsigned i = 0; i < p->e820_count; i++) {
        unsigned at = ZP_E820_TABLE + i * E820_ENTRY_SIZE;
        put64(zp, at, p->e820[i].addr);
        put64(zp, at + 8, p->e820[i].size);
        put32(zp, at + 16, p->e820[i].type);
    }
    zp[ZP_SENTINEL] = 0; /* a page built from zero: the kernel need not scrub stale fields */
    return 0;
}

void bzimage_load(const void *file, const struct bzimage *k, uint8_t *guest_base)
{
    memcpy(guest_base + k->load_gpa, (const uint8_t *)file + k->kernel_offset, k->kernel_size);
}
