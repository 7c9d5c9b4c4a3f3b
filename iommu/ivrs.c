/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* AMD-Vi IVRS table parser (AMD IOMMU specification, section 5.2) into struct iommu_info. */
#include "iommu/iommu_acpi.h"

#include "core/klib.h"
#include "core/refusal.h"

/* ---- Layouts, as byte offsets: tables sit at any address. ---- */

#define IVRS_IVINFO 36 /* then 8 reserved bytes; IVHD and IVMD blocks follow */
#define IVRS_HEADER_LEN 48
#define IVINFO_PASIZE(v) (((v) >> 8) & 0x7f)

/* Every block starts with type (1 byte), flags (1), length (2), device ID (2). */
#define BLOCK_FLAGS 1
#define BLOCK_LENGTH 2
#define BLOCK_DEVID 4
#define BLOCK_MIN_LEN 4

#define IVHD_LEGACY 0x10 /* 24-byte header */
#define IVHD_EFR 0x11    /* 40-byte header, with the EFR image */
#define IVHD_MIXED 0x40  /* 40-byte header, may carry ACPI HID entries */
#define IVHD_CAP 6
#define IVHD_BASE 8
#define IVHD_SEGMENT 16
#define IVHD_INFO 18
#define IVHD_ATTR 20
#define IVHD_EFR_IMAGE 24
#define IVHD_LEGACY_LEN 24
#define IVHD_EFR_LEN 40

#define IVMD_ALL 0x20
#define IVMD_ONE 0x21
#define IVMD_RANGE 0x22
#define IVMD_AUX 6 /* range: its last device ID */
#define IVMD_START 16
#define IVMD_SIZE 24
#define IVMD_LEN 32

/* IVHD device entries: bits 7:6 of the type give 4 bytes (types 0-63), 8 bytes (64-127);
 * of the variable-length types only the ACPI HID entry (0xf0) is defined, its length at 21. */
#define DE_PAD 0x00
#define DE_ALL 0x01
#define DE_SELECT 0x02
#define DE_RANGE_START 0x03
#define DE_RANGE_END 0x04
#define DE_ALIAS_SELECT 0x42
#define DE_ALIAS_RANGE 0x43
#define DE_EXT_SELECT 0x46
#define DE_EXT_RANGE 0x47
#define DE_SPECIAL 0x48
#define DE_ACPI_HID 0xf0
#define DE_SETTING 3
#define DE_ALIAS 5          /* alias entries: the requester ID used */
#define DE_SPECIAL_HANDLE 4 /* special entries: IOAPIC id or HPET number */
#define DE_SPECIAL_ID 5     /* its source ID */
#define DE_SPECIAL_VARIETY 7
#define SPECIAL_IOAPIC 1
#define SPECIAL_HPET 2
#define DE_HID_UID_LEN 21
#define DE_HID_FIXED 22

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

struct ivrs {
    const uint8_t *t;
    uint32_t len; /* the table's own length */
    struct iommu_info *out;
    struct refusal *why;
};

static bool ivhd_known(uint8_t type)
{
    return type == IVHD_LEGACY || type == IVHD_EFR || type == IVHD_MIXED;
}

static bool ivmd(uint8_t type)
{
    return type >= IVMD_ALL && type <= IVMD_RANGE;
}

static uint32_t block_min_len(uint8_t type)
{
    if (type == IVHD_LEGACY)
        return IVHD_LEGACY_LEN;
    if (ivhd_known(type))
        return IVHD_EFR_LEN;
    if (ivmd(type))
        return IVMD_LEN;
    return BLOCK_MIN_LEN;
}

static const char *block_name(uint8_t type)
{
    return ivhd_known(type) ? "IVHD" : ivmd(type) ? "IVMD" : "block";
}

/* An IVHD's IOMMU: the same device ID, base and segment is the same IOMMU. */
static bool same_iommu(const uint8_t *a, const uint8_t *b)
{
    return le16(a + BLOCK_DEVID) == le16(b + BLOCK_DEVID) &&
           le64(a + IVHD_BASE) == le64(b + IVHD_BASE) &&
           le16(a + IVHD_SEGMENT) == le16(b + IVHD_SEGMENT);
}

/* Whether the IVHD at off is to be skipped because another IVHD of a higher known type
 * describes the same IOMMU (firmware lists one IOMMU once per type for older OSes). Blocks
 * have been bounds-checked. Two of the same type for one IOMMU are refused. */
static int superseded(const struct ivrs *v, uint32_t off, bool *skip)
{
    const uint8_t *me = v->t + off;
    *skip = false;
    for (uint32_t o = IVRS_HEADER_LEN; o < v->len; o += le16(v->t + o + BLOCK_LENGTH)) {
        const uint8_t *b = v->t + o;
        if (o == off || !ivhd_known(b[0]) || !same_iommu(me, b))
            continue;
        if (b[0] > me[0])
            *skip = true;
        else if (b[0] == me[0] && o < off)
            return refuse(v->why, E_BADMSG,
                          "IVRS IVHD at offset %u describes the same IOMMU as the IVHD at offset "
                          "%u",
                          off, o);
    }
    return 0;
}

static void add_scope(struct iommu_info *out, unsigned unit, const struct iommu_scope *s)
{
    if (unit == IOMMU_NO_UNIT || out->nscopes == IOMMU_MAX_SCOPES) {
        out->dropped_scopes++;
        return;
    }
    out->scopes[out->nscopes] = *s;
    out->scopes[out->nscopes++].unit = (uint8_t)unit;
}

/* A scope for the device entry e: first..last, DMA carrying alias when has_alias. */
static void entry_scope(struct iommu_scope *s, uint16_t segment, uint8_t type, pci_bdf first,
                        pci_bdf last, uint8_t setting)
{
    memset(s, 0, sizeof(*s));
    s->segment = segment;
    s->type = type;
    s->first = first;
    s->last = last;
    s->alias = first;
    s->setting = setting;
    s->resolved = true;
    s->path_len = 0;
}

/* The length of the device entry at e (left bytes remain in its IVHD), or 0 if unknown. */
static uint32_t entry_length(const uint8_t *e, uint32_t left)
{
    if (e[0] < 0x40)
        return 4;
    if (e[0] < 0x80)
        return 8;
    if (e[0] == DE_ACPI_HID)
        return left > DE_HID_UID_LEN ? DE_HID_FIXED + (uint32_t)e[DE_HID_UID_LEN] : DE_HID_FIXED;
    return 0;
}

/* An open range (types 3, 0x43, 0x47) waits for its end entry (type 4). */
struct open_range {
    bool open;
    uint32_t off;
    pci_bdf first, alias;
    bool has_alias;
    uint8_t setting;
};

static int parse_entries(struct ivrs *v, uint32_t ivhd, uint32_t start, uint32_t end, unsigned unit,
                         uint16_t segment)
{
    struct iommu_info *out = v->out;
    struct open_range r = {0};
    struct iommu_scope s;
    uint32_t elen;
    for (uint32_t off = start; off < end; off += elen) {
        const uint8_t *e = v->t + off;
        uint8_t type = e[0];
        elen = entry_length(e, end - off);
        if (!elen)
            return refuse(v->why, E_BADMSG,
                          "IVRS IVHD at offset %u: device entry at offset %u has type 0x%02x, of "
                          "unknown length",
                          ivhd, off, type);
        if (elen > end - off)
            return refuse(v->why, E_BADMSG,
                          "IVRS IVHD at offset %u: device entry at offset %u (type 0x%02x, length "
                          "%u) overruns the IVHD",
                          ivhd, off, type, elen);
        pci_bdf id = le16(e + 1);
        uint8_t setting = e[DE_SETTING];
        switch (type) {
        case DE_ALL:
            entry_scope(&s, segment, IOMMU_SCOPE_ALL, 0, 0xffff, setting);
            add_scope(out, unit, &s);
            break;
        case DE_SELECT:
        case DE_EXT_SELECT:
        case DE_ALIAS_SELECT:
            entry_scope(&s, segment, IOMMU_SCOPE_ENDPOINT, id, id, setting);
            if (type == DE_ALIAS_SELECT) {
                s.alias = le16(e + DE_ALIAS);
                s.has_alias = true;
            }
            add_scope(out, unit, &s);
            break;
        case DE_RANGE_START:
        case DE_ALIAS_RANGE:
        case DE_EXT_RANGE:
            if (r.open)
                return refuse(v->why, E_BADMSG,
                              "IVRS IVHD at offset %u: range start at offset %u before the range "
                              "started at offset %u has ended",
                              ivhd, off, r.off);
            r = (struct open_range){.open = true,
                                    .off = off,
                                    .first = id,
                                    .alias = type == DE_ALIAS_RANGE ? le16(e + DE_ALIAS) : id,
                                    .has_alias = type == DE_ALIAS_RANGE,
                                    .setting = setting};
            break;
        case DE_RANGE_END:
            if (!r.open)
                return refuse(v->why, E_BADMSG,
                              "IVRS IVHD at offset %u: range end at offset %u without a start",
                              ivhd, off);
            if (id < r.first)
                return refuse(v->why, E_BADMSG,
                              "IVRS IVHD at offset %u: range end 0x%04x at offset %u is below its "
                              "start 0x%04x",
                              ivhd, id, off, r.first);
            entry_scope(&s, segment, IOMMU_SCOPE_RANGE, r.first, id, r.setting);
            s.alias = r.alias;
            s.has_alias = r.has_alias;
            add_scope(out, unit, &s);
            r.open = false;
            break;
        case DE_SPECIAL: {
            uint8_t variety = e[DE_SPECIAL_VARIETY];
            if (variety != SPECIAL_IOAPIC && variety != SPECIAL_HPET)
                break; /* reserved varieties */
            pci_bdf src = le16(e + DE_SPECIAL_ID);
            entry_scope(&s, segment,
                        variety == SPECIAL_IOAPIC ? IOMMU_SCOPE_IOAPIC : IOMMU_SCOPE_HPET, src, src,
                        setting);
            s.id = e[DE_SPECIAL_HANDLE];
            add_scope(out, unit, &s);
            if (variety == SPECIAL_IOAPIC && unit != IOMMU_NO_UNIT)
                out->intr_remap = true;
            break;
        }
        case DE_ACPI_HID:
            entry_scope(&s, segment, IOMMU_SCOPE_ACPI, id, id, setting);
            add_scope(out, unit, &s);
            break;
        default:
            break; /* padding (0) and reserved types, skipped by their length */
        }
    }
    if (r.open)
        return refuse(v->why, E_BADMSG,
                      "IVRS IVHD at offset %u: the range started at offset %u has no end", ivhd,
                      r.off);
    return 0;
}

static int parse_ivhd(struct ivrs *v, uint32_t off, uint32_t end)
{
    const uint8_t *h = v->t + off;
    struct iommu_info *out = v->out;
    uint8_t type = h[0];
    uint64_t base = le64(h + IVHD_BASE);
    uint16_t segment = le16(h + IVHD_SEGMENT);
    if (!base || base & (PAGE_SIZE - 1))
        return refuse(v->why, E_BADMSG, "IVRS IVHD at offset %u: register base 0x%llx is %s", off,
                      (unsigned long long)base, base ? "not page-aligned" : "zero");

    unsigned unit = IOMMU_NO_UNIT;
    if (out->nunits < IOMMU_MAX_UNITS) {
        unit = out->nunits++;
        struct iommu_unit *u = &out->units[unit];
        memset(u, 0, sizeof(*u));
        u->base = base;
        u->segment = segment;
        u->flags = h[BLOCK_FLAGS];
        u->ivhd_type = type;
        u->own_bdf = le16(h + BLOCK_DEVID);
        u->cap_offset = le16(h + IVHD_CAP);
        u->iommu_info = le16(h + IVHD_INFO);
        u->attributes = le32(h + IVHD_ATTR);
        u->efr = type == IVHD_LEGACY ? 0 : le64(h + IVHD_EFR_IMAGE);
        u->offset = off;
    } else {
        out->dropped_units++;
    }
    return parse_entries(v, off, off + block_min_len(type), end, unit, segment);
}

static int parse_ivmd(struct ivrs *v, uint32_t off)
{
    const uint8_t *m = v->t + off;
    struct iommu_info *out = v->out;
    uint8_t type = m[0];
    pci_bdf first = le16(m + BLOCK_DEVID), last = first;
    uint64_t start = le64(m + IVMD_START), size = le64(m + IVMD_SIZE);
    if (type == IVMD_ALL) {
        first = 0;
        last = 0xffff;
    } else if (type == IVMD_RANGE) {
        last = le16(m + IVMD_AUX);
        if (last < first)
            return refuse(v->why, E_BADMSG,
                          "IVRS IVMD at offset %u: device range ends at 0x%04x, below its start "
                          "0x%04x",
                          off, last, first);
    }
    if (!size)
        return 0; /* reserves nothing */
    if (size - 1 > UINT64_MAX - start)
        return refuse(v->why, E_BADMSG,
                      "IVRS IVMD at offset %u: 0x%llx bytes at 0x%llx run past the address space",
                      off, (unsigned long long)size, (unsigned long long)start);
    if (out->nreserved == IOMMU_MAX_RESERVED) {
        out->dropped_reserved++;
        return 0;
    }
    struct iommu_reserved *r = &out->reserved[out->nreserved++];
    r->base = start;
    r->limit = start + (size - 1);
    r->kind = IOMMU_RESERVED_IVMD;
    r->flags = m[BLOCK_FLAGS];
    uint8_t dtype = type == IVMD_ALL     ? IOMMU_SCOPE_ALL
                    : type == IVMD_RANGE ? IOMMU_SCOPE_RANGE
                                         : IOMMU_SCOPE_ENDPOINT;
    entry_scope(&r->dev, 0, dtype, first, last, 0); /* IVMDs name no segment: 0 */
    r->dev.unit = IOMMU_NO_UNIT;
    return 0;
}

int ivrs_parse(const uint8_t *t, uint32_t len, struct iommu_info *out, struct refusal *why)
{
    int64_t tlen = iommu_acpi_begin(t, len, "IVRS", IVRS_HEADER_LEN, out, why);
    if (tlen < 0)
        return (int)tlen;
    struct ivrs v = {.t = t, .len = (uint32_t)tlen, .out = out, .why = why};

    /* First every block's extent, so that the IVHDs can be compared with each other. */
    for (uint32_t off = IVRS_HEADER_LEN; off < v.len;) {
        if (v.len - off < BLOCK_MIN_LEN)
            return refuse(why, E_BADMSG, "IVRS block at offset %u overruns the table", off);
        uint8_t type = t[off];
        uint16_t blen = le16(t + off + BLOCK_LENGTH);
        if (blen < block_min_len(type))
            return refuse(why, E_BADMSG,
                          "IVRS %s at offset %u (type 0x%02x) has length %u "
                          "(minimum %u)",
                          block_name(type), off, type, blen, block_min_len(type));
        if (blen > v.len - off)
            return refuse(why, E_BADMSG,
                          "IVRS %s at offset %u (type 0x%02x, length %u) overruns the table",
                          block_name(type), off, type, blen);
        off += blen;
    }

    int err = 0;
    for (uint32_t off = IVRS_HEADER_LEN; off < v.len && !err;) {
        uint8_t type = t[off];
        uint32_t end = off + le16(t + off + BLOCK_LENGTH);
        if (ivhd_known(type)) {
            bool skip;
            err = superseded(&v, off, &skip);
            if (!err && skip)
                out->skipped_ivhds++;
            else if (!err)
                err = parse_ivhd(&v, off, end);
        } else if (ivmd(type)) {
            err = parse_ivmd(&v, off);
        }
        off = end;
    }
    if (!err && !out->nunits)
        err = refuse(why, E_NOENT, "IVRS lists no IOMMU (IVHD of type 0x10, 0x11 or 0x40)");
    if (err) {
        memset(out, 0, sizeof(*out));
        return err;
    }
    uint32_t ivinfo = le32(t + IVRS_IVINFO);
    out->kind = IOMMU_AMDVI;
    out->revision = t[8];
    out->table_flags = ivinfo;
    out->address_width = (uint8_t)IVINFO_PASIZE(ivinfo);
    return 0;
}
