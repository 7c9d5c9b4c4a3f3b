/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* ELF64 guest image loader: header layouts, validation with reasons, copy into guest memory. */
#include "core/elf.h"

#include "core/klib.h"
#include "core/refusal.h"

/* Fields are copied out of the file as they are stored (little-endian); so is the host. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the ELF loader reads little-endian fields natively"
#endif
_Static_assert(sizeof(uintptr_t) == sizeof(uint64_t), "guest addresses are host pointer offsets");

/* ---- Layouts (System V ABI, ELF-64 Object File Format). The file buffer sits at any byte
 * address: every multi-byte field is read with memcpy into a local. ---- */

#define ELF_PACKED __attribute__((packed))

#define EI_NIDENT 16
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define EM_X86_64 62
#define PN_XNUM 0xffffu /* the real count is in section header 0: not supported */
#define PT_LOAD 1

struct elf64_ehdr {
    uint8_t e_ident[EI_NIDENT];
    uint16_t e_type;
    uint16_t e_machine;
    uint32_t e_version;
    uint64_t e_entry;
    uint64_t e_phoff;
    uint64_t e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize;
    uint16_t e_phentsize;
    uint16_t e_phnum;
    uint16_t e_shentsize;
    uint16_t e_shnum;
    uint16_t e_shstrndx;
} ELF_PACKED;
_Static_assert(offsetof(struct elf64_ehdr, e_ident) == 0, "Ehdr layout");
_Static_assert(offsetof(struct elf64_ehdr, e_type) == 16, "Ehdr layout");
_Static_assert(offsetof(struct elf64_ehdr, e_machine) == 18, "Ehdr layout");
_Static_assert(offsetof(struct elf64_ehdr, e_version) == 20, "Ehdr layout");
_Static_assert(offsetof(struct elf64_ehdr, e_entry) == 24, "Ehdr layout");
_Static_assert(offsetof(struct elf64_ehdr, e_phoff) == 32, "Ehdr layout");
_Static_assert(offsetof(struct elf64_ehdr, e_shoff) == 40, "Ehdr layout");
_Static_assert(offsetof(struct elf64_ehdr, e_flags) == 48, "Ehdr layout");
_Static_assert(offsetof(struct elf64_ehdr, e_ehsize) == 52, "Ehdr layout");
_Static_assert(offsetof(struct elf64_ehdr, e_phentsize) == 54, "Ehdr layout");
_Static_assert(offsetof(struct elf64_ehdr, e_phnum) == 56, "Ehdr layout");
_Static_assert(offsetof(struct elf64_ehdr, e_shentsize) == 58, "Ehdr layout");
_Static_assert(offsetof(struct elf64_ehdr, e_shnum) == 60, "Ehdr layout");
_Static_assert(offsetof(struct elf64_ehdr, e_shstrndx) == 62, "Ehdr layout");
_Static_assert(sizeof(struct elf64_ehdr) == 64, "Ehdr layout");

struct elf64_phdr {
    uint32_t p_type;
    uint32_t p_flags;
    uint64_t p_offset;
    uint64_t p_vaddr;
    uint64_t p_paddr;
    uint64_t p_filesz;
    uint64_t p_memsz;
    uint64_t p_align;
} ELF_PACKED;
_Static_assert(offsetof(struct elf64_phdr, p_type) == 0, "Phdr layout");
_Static_assert(offsetof(struct elf64_phdr, p_flags) == 4, "Phdr layout");
_Static_assert(offsetof(struct elf64_phdr, p_offset) == 8, "Phdr layout");
_Static_assert(offsetof(struct elf64_phdr, p_vaddr) == 16, "Phdr layout");
_Static_assert(offsetof(struct elf64_phdr, p_paddr) == 24, "Phdr layout");
_Static_assert(offsetof(struct elf64_phdr, p_filesz) == 32, "Phdr layout");
_Static_assert(offsetof(struct elf64_phdr, p_memsz) == 40, "Phdr layout");
_Static_assert(offsetof(struct elf64_phdr, p_align) == 48, "Phdr layout");
_Static_assert(sizeof(struct elf64_phdr) == 56, "Phdr layout");

#define ELF_PF_MASK (ELF_PF_X | ELF_PF_W | ELF_PF_R)

/* Copies member of the layout type found at base into dst (a local of the member's size). */
#define ELF_READ(dst, base, type, member)                                                          \
    do {                                                                                           \
        _Static_assert(sizeof(dst) == sizeof(((type *)0)->member), "field size");                  \
        memcpy(&(dst), (const uint8_t *)(base) + offsetof(type, member), sizeof(dst));             \
    } while (0)

typedef unsigned long long ull; /* what %llx wants */

/* ---- Parsing ---- */

/* The file header facts the segment pass needs. */
struct elf_hdr_info {
    uint64_t entry;
    uint64_t phoff;
    unsigned phentsize;
    unsigned phnum;
};

static int parse_ehdr(const uint8_t *f, uint64_t size, struct elf_hdr_info *h, struct refusal *r)
{
    static const uint8_t magic[4] = {0x7f, 'E', 'L', 'F'};
    if (size < sizeof(magic) || memcmp(f, magic, sizeof(magic)) != 0)
        return refuse(r, E_INVAL, "not an ELF file (bad magic)");
    if (size < EI_NIDENT)
        return refuse(r, E_BADMSG, "ELF header is truncated (%llu of %u bytes)", (ull)size,
                      (unsigned)sizeof(struct elf64_ehdr));
    if (f[EI_CLASS] != ELFCLASS64)
        return refuse(r, E_INVAL, "not a 64-bit ELF (class %u)", f[EI_CLASS]);
    if (f[EI_DATA] != ELFDATA2LSB)
        return refuse(r, E_INVAL, "not little-endian (data encoding %u)", f[EI_DATA]);
    if (f[EI_VERSION] != EV_CURRENT)
        return refuse(r, E_INVAL, "unsupported ELF identification version %u", f[EI_VERSION]);
    if (size < sizeof(struct elf64_ehdr))
        return refuse(r, E_BADMSG, "ELF header is truncated (%llu of %u bytes)", (ull)size,
                      (unsigned)sizeof(struct elf64_ehdr));

    uint16_t type, machine, phentsize, phnum;
    uint32_t version;
    ELF_READ(type, f, struct elf64_ehdr, e_type);
    ELF_READ(machine, f, struct elf64_ehdr, e_machine);
    ELF_READ(version, f, struct elf64_ehdr, e_version);
    ELF_READ(h->entry, f, struct elf64_ehdr, e_entry);
    ELF_READ(h->phoff, f, struct elf64_ehdr, e_phoff);
    ELF_READ(phentsize, f, struct elf64_ehdr, e_phentsize);
    ELF_READ(phnum, f, struct elf64_ehdr, e_phnum);

    if (machine != EM_X86_64)
        return refuse(r, E_INVAL, "not an x86-64 executable (machine %u)", machine);
    if (type != ET_EXEC)
        return refuse(r, E_INVAL, "not an executable (type %u)", type);
    if (version != EV_CURRENT)
        return refuse(r, E_INVAL, "unsupported ELF version %u", version);
    if (phnum == PN_XNUM)
        return refuse(r, E_INVAL, "extended program header numbering (PN_XNUM) is not supported");
    if (phnum != 0 && phentsize < sizeof(struct elf64_phdr))
        return refuse(r, E_BADMSG, "program header entry size %u is smaller than %u", phentsize,
                      (unsigned)sizeof(struct elf64_phdr));

    /* at most 0xfffe * 0xffff bytes: no overflow in 64 bits */
    uint64_t table = (uint64_t)phnum * phentsize;
    if (h->phoff > size || table > size - h->phoff)
        return refuse(r, E_BADMSG, "program headers lie outside the file");
    h->phentsize = phentsize;
    h->phnum = phnum;
    return 0;
}

/* Validates program header i and, for a PT_LOAD with memory, appends it to out. Accepted
 * segments' program header indices are kept in phidx, for naming them in overlap reasons. */
static int parse_phdr(const uint8_t *f, uint64_t size, const struct elf_hdr_info *h, unsigned i,
                      uint64_t load_min, uint64_t load_max, struct elf_image *out, unsigned *phidx,
                      struct refusal *r)
{
    const uint8_t *ph = f + h->phoff + (uint64_t)i * h->phentsize;
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz;
    ELF_READ(type, ph, struct elf64_phdr, p_type);
    if (type != PT_LOAD)
        return 0;
    ELF_READ(flags, ph, struct elf64_phdr, p_flags);
    ELF_READ(offset, ph, struct elf64_phdr, p_offset);
    ELF_READ(vaddr, ph, struct elf64_phdr, p_vaddr);
    ELF_READ(paddr, ph, struct elf64_phdr, p_paddr);
    ELF_READ(filesz, ph, struct elf64_phdr, p_filesz);
    ELF_READ(memsz, ph, struct elf64_phdr, p_memsz);

    if (filesz > memsz)
        return refuse(r, E_BADMSG, "segment %u has file size larger than memory size", i);
    if (memsz == 0)
        return 0;
    if (vaddr != paddr)
        return refuse(r, E_INVAL, "segment %u: vaddr != paddr (0x%llx, 0x%llx)", i, (ull)vaddr,
                      (ull)paddr);
    /* written without offset + filesz, which can wrap */
    if (filesz != 0 && (offset > size || filesz > size - offset))
        return refuse(r, E_BADMSG, "segment %u file range lies outside the file", i);
    if (memsz > UINT64_MAX - paddr)
        return refuse(r, E_OVERFLOW,
                      "segment %u at 0x%llx with memory size 0x%llx wraps around the address space",
                      i, (ull)paddr, (ull)memsz);
    uint64_t end = paddr + memsz;
    if (paddr < load_min || end > load_max)
        return refuse(r, E_RANGE,
                      "segment %u at 0x%llx-0x%llx lies outside the partition's image area "
                      "0x%llx-0x%llx",
                      i, (ull)paddr, (ull)end, (ull)load_min, (ull)load_max);
    if (out->nsegments == ELF_MAX_SEGMENTS)
        return refuse(r, E_RANGE, "too many segments (at most %u)", ELF_MAX_SEGMENTS);
    for (unsigned j = 0; j < out->nsegments; j++) {
        const struct elf_segment *s = &out->seg[j];
        if (paddr < s->gpa + s->mem_size && s->gpa < end)
            return refuse(r, E_RANGE, "segments %u and %u overlap", phidx[j], i);
    }

    phidx[out->nsegments] = i;
    out->seg[out->nsegments++] = (struct elf_segment){
        .gpa = paddr,
        .file_offset = offset,
        .file_size = filesz,
        .mem_size = memsz,
        .flags = flags & ELF_PF_MASK,
    };
    return 0;
}

static int parse(const uint8_t *f, uint64_t size, uint64_t load_min, uint64_t load_max,
                 struct elf_image *out, struct refusal *r)
{
    /* highest is rounded up to a page: keep that from wrapping */
    if (load_min >= load_max || load_max > UINT64_MAX - (PAGE_SIZE - 1))
        return refuse(r, E_INVAL, "invalid image area 0x%llx-0x%llx", (ull)load_min, (ull)load_max);

    struct elf_hdr_info h;
    int err = parse_ehdr(f, size, &h, r);
    if (err)
        return err;

    unsigned phidx[ELF_MAX_SEGMENTS];
    for (unsigned i = 0; i < h.phnum; i++) {
        err = parse_phdr(f, size, &h, i, load_min, load_max, out, phidx, r);
        if (err)
            return err;
    }
    if (out->nsegments == 0)
        return refuse(r, E_INVAL, "no loadable segment");

    bool entry_ok = false;
    out->lowest = UINT64_MAX;
    out->highest = 0;
    for (unsigned j = 0; j < out->nsegments; j++) {
        const struct elf_segment *s = &out->seg[j];
        uint64_t end = s->gpa + s->mem_size; /* checked not to wrap */
        if ((s->flags & ELF_PF_X) && h.entry >= s->gpa && h.entry < end)
            entry_ok = true;
        if (s->gpa < out->lowest)
            out->lowest = s->gpa;
        if (end > out->highest)
            out->highest = end;
    }
    if (!entry_ok)
        return refuse(r, E_INVAL, "entry point 0x%llx is not inside an executable segment",
                      (ull)h.entry);
    out->entry = h.entry;
    out->highest = ALIGN_UP(out->highest, PAGE_SIZE); /* <= load_max rounded up: no wrap */
    return 0;
}

int elf_parse(const void *file, uint64_t size, uint64_t load_min, uint64_t load_max,
              struct elf_image *out, struct refusal *why)
{
    if (why)
        why->text[0] = '\0';
    memset(out, 0, sizeof(*out));
    int err = parse(file, size, load_min, load_max, out, why);
    if (err)
        memset(out, 0, sizeof(*out));
    return err;
}

/* ---- Loading ---- */

void elf_load(const void *file, const struct elf_image *img, uint8_t *guest_base)
{
    const uint8_t *f = file;
    for (unsigned i = 0; i < img->nsegments && i < ELF_MAX_SEGMENTS; i++) {
        const struct elf_segment *s = &img->seg[i];
        /* integer arithmetic: guest_base alone need not point into any object */
        uint8_t *dst = (uint8_t *)((uintptr_t)guest_base + (uintptr_t)s->gpa);
        if (s->file_size)
            memcpy(dst, f + s->file_offset, (size_t)s->file_size);
        memset(dst + s->file_size, 0, (size_t)(s->mem_size - s->file_size));
    }
}
