/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* VT-d DMAR table parser (Intel VT-d specification, chapter 8) into struct iommu_info. */
#include "iommu/iommu_acpi.h"

#include "core/klib.h"
#include "core/refusal.h"

/* ---- Layouts (VT-d 8.1-8.9), as byte offsets: tables sit at any address, so fields are
 * assembled from bytes rather than read through pointers to packed structs. ---- */

#define DMAR_HAW 36       /* host address width - 1 */
#define DMAR_MIN_WIDTH 12 /* narrower than a page is no address width */
#define DMAR_MAX_WIDTH 64
#define DMAR_FLAGS 37
#define DMAR_HEADER_LEN 48 /* then 10 reserved bytes; remapping structures follow */

/* Remapping structure header: type (2 bytes), length (2 bytes). */
#define DMAR_STRUCT_HEADER 4
enum { DMAR_DRHD, DMAR_RMRR, DMAR_ATSR, DMAR_RHSA, DMAR_ANDD, DMAR_SATC, DMAR_NTYPES };

/* Shortest each structure can be (its fixed part), and where its device scopes start. */
static const uint8_t min_length[DMAR_NTYPES] = {16, 24, 8, 20, 8, 8};
static const uint8_t scopes_at[DMAR_NTYPES] = {16, 24, 8, 0, 0, 8};
static const char *const struct_names[DMAR_NTYPES] = {"DRHD", "RMRR", "ATSR",
                                                      "RHSA", "ANDD", "SATC"};

#define DRHD_FLAGS 4
#define DRHD_SIZE 5
#define DRHD_SEGMENT 6
#define DRHD_BASE 8
#define DRHD_INCLUDE_PCI_ALL (1u << 0)
#define RMRR_SEGMENT 6
#define RMRR_BASE 8
#define RMRR_LIMIT 16

/* Device scope: type, length, flags, reserved, enumeration id, start bus, then a path of
 * (device, function) byte pairs, one per hop. */
#define SCOPE_ID 4
#define SCOPE_BUS 5
#define SCOPE_PATH 6
#define SCOPE_MIN_LEN 8 /* one hop */
#define SCOPE_TYPE_MAX IOMMU_SCOPE_ACPI

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* What a parse carries along. */
struct dmar {
    const uint8_t *t;
    uint32_t len; /* the table's own length */
    struct iommu_info *out;
    struct refusal *why;
};

/* A device scope as checked: the path is still in the table. */
struct scope_view {
    uint32_t off;
    uint8_t type, len, id, bus;
    const uint8_t *path; /* hops byte pairs */
    unsigned hops;
};

static const char *struct_name(uint16_t type)
{
    return type < DMAR_NTYPES ? struct_names[type] : "structure";
}

/* Checks the scope at off inside the structure [s_off, end) and describes it in v. */
static int read_scope(const struct dmar *d, uint16_t s_type, uint32_t s_off, uint32_t end,
                      uint32_t off, struct scope_view *v)
{
    const char *name = struct_name(s_type);
    if (end - off < 2)
        return refuse(d->why, E_BADMSG,
                      "DMAR %s at offset %u: device scope at offset %u overruns the structure",
                      name, s_off, off);
    const uint8_t *s = d->t + off;
    v->off = off;
    v->type = s[0];
    v->len = s[1];
    if (v->len < SCOPE_MIN_LEN)
        return refuse(d->why, E_BADMSG,
                      "DMAR %s at offset %u: device scope at offset %u has length %u (minimum 8)",
                      name, s_off, off, v->len);
    if (v->len > end - off)
        return refuse(d->why, E_BADMSG,
                      "DMAR %s at offset %u: device scope at offset %u (length %u) overruns the "
                      "structure",
                      name, s_off, off, v->len);
    if ((v->len - SCOPE_PATH) % 2)
        return refuse(d->why, E_BADMSG,
                      "DMAR %s at offset %u: device scope at offset %u has an odd path length (%u)",
                      name, s_off, off, v->len - SCOPE_PATH);
    v->id = s[SCOPE_ID];
    v->bus = s[SCOPE_BUS];
    v->path = s + SCOPE_PATH;
    v->hops = (v->len - SCOPE_PATH) / 2u;
    for (unsigned i = 0; i < v->hops; i++)
        if (v->path[2 * i] > 31 || v->path[2 * i + 1] > 7)
            return refuse(d->why, E_BADMSG,
                          "DMAR %s at offset %u: device scope at offset %u: path hop %u "
                          "(%02x.%x) is not a PCI function",
                          name, s_off, off, i, v->path[2 * i], v->path[2 * i + 1]);
    return 0;
}

static void fill_scope(struct iommu_scope *s, uint16_t segment, uint8_t unit,
                       const struct scope_view *v)
{
    memset(s, 0, sizeof(*s));
    s->segment = segment;
    s->unit = unit;
    s->type = v->type;
    s->id = v->id;
    s->start_bus = v->bus;
    s->path_len = (uint8_t)v->hops;
    for (unsigned i = 0; i < v->hops; i++)
        s->path[i] = (uint8_t)(v->path[2 * i] << 3 | v->path[2 * i + 1]);
    /* until resolved, a multi-hop scope shows its first hop */
    s->first = s->last = s->alias = PCI_BDF(v->bus, v->path[0], v->path[1]);
    s->resolved = v->hops == 1 && v->type != IOMMU_SCOPE_BRIDGE;
}

static bool scope_kept(const struct scope_view *v)
{
    return v->type >= IOMMU_SCOPE_ENDPOINT && v->type <= SCOPE_TYPE_MAX;
}

static void add_unit_scope(struct iommu_info *out, uint16_t segment, unsigned unit,
                           const struct scope_view *v)
{
    if (!scope_kept(v))
        return; /* reserved scope types are skipped, as the specification asks */
    if (unit == IOMMU_NO_UNIT || out->nscopes == IOMMU_MAX_SCOPES || v->hops > IOMMU_MAX_PATH) {
        out->dropped_scopes++;
        return;
    }
    fill_scope(&out->scopes[out->nscopes++], segment, (uint8_t)unit, v);
}

static void add_rmrr_device(struct iommu_info *out, uint16_t segment, uint64_t base, uint64_t limit,
                            const struct scope_view *v)
{
    if (v->type != IOMMU_SCOPE_ENDPOINT && v->type != IOMMU_SCOPE_BRIDGE)
        return; /* an RMRR names PCI devices only */
    if (out->nreserved == IOMMU_MAX_RESERVED || v->hops > IOMMU_MAX_PATH) {
        out->dropped_reserved++;
        return;
    }
    struct iommu_reserved *r = &out->reserved[out->nreserved++];
    r->base = base;
    r->limit = limit;
    r->kind = IOMMU_RESERVED_RMRR;
    r->flags = 0;
    fill_scope(&r->dev, segment, IOMMU_NO_UNIT, v);
}

static int parse_drhd(struct dmar *d, uint32_t off, uint32_t end)
{
    const uint8_t *e = d->t + off;
    struct iommu_info *out = d->out;
    uint8_t flags = e[DRHD_FLAGS];
    uint16_t segment = le16(e + DRHD_SEGMENT);
    uint64_t base = le64(e + DRHD_BASE);
    bool all = flags & DRHD_INCLUDE_PCI_ALL;
    if (!base || base & (PAGE_SIZE - 1))
        return refuse(d->why, E_BADMSG, "DMAR DRHD at offset %u: register base 0x%llx is %s", off,
                      (unsigned long long)base, base ? "not page-aligned" : "zero");
    for (unsigned i = 0; all && i < out->nunits; i++)
        if (out->units[i].include_all && out->units[i].segment == segment)
            return refuse(d->why, E_BADMSG,
                          "DMAR DRHD at offset %u: a second INCLUDE_PCI_ALL unit for segment %u "
                          "(the first at offset %u)",
                          off, segment, out->units[i].offset);

    unsigned unit = IOMMU_NO_UNIT;
    if (out->nunits < IOMMU_MAX_UNITS) {
        unit = out->nunits++;
        struct iommu_unit *u = &out->units[unit];
        memset(u, 0, sizeof(*u));
        u->base = base;
        u->segment = segment;
        u->include_all = all;
        u->flags = flags;
        u->reg_size = e[DRHD_SIZE];
        u->offset = off;
    } else {
        out->dropped_units++;
    }
    struct scope_view v;
    for (uint32_t s = off + scopes_at[DMAR_DRHD]; s < end; s += v.len) {
        int err = read_scope(d, DMAR_DRHD, off, end, s, &v);
        if (err)
            return err;
        add_unit_scope(out, segment, unit, &v);
    }
    return 0;
}

static int parse_rmrr(struct dmar *d, uint32_t off, uint32_t end)
{
    const uint8_t *e = d->t + off;
    uint16_t segment = le16(e + RMRR_SEGMENT);
    uint64_t base = le64(e + RMRR_BASE), limit = le64(e + RMRR_LIMIT);
    if (limit < base)
        return refuse(d->why, E_BADMSG, "DMAR RMRR at offset %u: limit 0x%llx is below base 0x%llx",
                      off, (unsigned long long)limit, (unsigned long long)base);
    struct scope_view v;
    for (uint32_t s = off + scopes_at[DMAR_RMRR]; s < end; s += v.len) {
        int err = read_scope(d, DMAR_RMRR, off, end, s, &v);
        if (err)
            return err;
        add_rmrr_device(d->out, segment, base, limit, &v);
    }
    return 0;
}

/* ATSR and SATC: their scopes are checked, their contents not used (yet). */
static int check_scopes(struct dmar *d, uint16_t type, uint32_t off, uint32_t end)
{
    struct scope_view v;
    for (uint32_t s = off + scopes_at[type]; s < end; s += v.len) {
        int err = read_scope(d, type, off, end, s, &v);
        if (err)
            return err;
    }
    return 0;
}

int dmar_parse(const uint8_t *t, uint32_t len, struct iommu_info *out, struct refusal *why)
{
    int64_t tlen = iommu_acpi_begin(t, len, "DMAR", DMAR_HEADER_LEN, out, why);
    if (tlen < 0)
        return (int)tlen;
    struct dmar d = {.t = t, .len = (uint32_t)tlen, .out = out, .why = why};
    unsigned width = t[DMAR_HAW] + 1u;
    if (width < DMAR_MIN_WIDTH || width > DMAR_MAX_WIDTH)
        return refuse(why, E_BADMSG, "DMAR host address width %u is implausible", width);

    int err = 0;
    for (uint32_t off = DMAR_HEADER_LEN; off < d.len && !err;) {
        if (d.len - off < DMAR_STRUCT_HEADER) {
            err = refuse(why, E_BADMSG, "DMAR structure at offset %u overruns the table", off);
            break;
        }
        uint16_t type = le16(t + off), slen = le16(t + off + 2);
        const char *name = struct_name(type);
        uint32_t need = type < DMAR_NTYPES ? min_length[type] : DMAR_STRUCT_HEADER;
        if (slen < need) {
            err = refuse(why, E_BADMSG, "DMAR %s at offset %u has length %u (minimum %u)", name,
                         off, slen, need);
            break;
        }
        if (slen > d.len - off) {
            err = refuse(why, E_BADMSG, "DMAR %s at offset %u (length %u) overruns the table", name,
                         off, slen);
            break;
        }
        uint32_t end = off + slen;
        switch (type) {
        case DMAR_DRHD:
            err = parse_drhd(&d, off, end);
            break;
        case DMAR_RMRR:
            err = parse_rmrr(&d, off, end);
            break;
        case DMAR_ATSR:
        case DMAR_SATC:
            err = check_scopes(&d, type, off, end);
            break;
        default:
            break; /* RHSA, ANDD and reserved types: only their length matters here */
        }
        off = end;
    }
    if (!err && !out->nunits)
        err = refuse(why, E_NOENT, "DMAR lists no remapping hardware unit (DRHD)");
    if (err) {
        memset(out, 0, sizeof(*out));
        return err;
    }
    out->kind = IOMMU_VTD;
    out->revision = t[8];
    out->table_flags = t[DMAR_FLAGS];
    out->intr_remap = t[DMAR_FLAGS] & IOMMU_DMAR_INTR_REMAP;
    out->address_width = (uint8_t)width;
    return 0;
}
