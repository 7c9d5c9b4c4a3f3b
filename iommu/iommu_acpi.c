/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* What DMAR and IVRS parsing share: table checks, path resolution, the unit lookup, text. */
#include "iommu/iommu_acpi.h"

#include "core/fmt.h"
#include "core/klib.h"
#include "core/refusal.h"

#define SDT_HEADER_LEN 36
#define SDT_LENGTH 4

int64_t iommu_acpi_table_check(const uint8_t *t, uint32_t len, const char *sig, uint32_t min_len,
                               struct refusal *why)
{
    if (!t || !sig)
        return refuse(why, E_INVAL, "no table to check");
    if (len < SDT_HEADER_LEN)
        return refuse(why, E_BADMSG, "%s: %u bytes are shorter than a table header", sig, len);
    if (memcmp(t, sig, 4) != 0) {
        char found[5];
        for (int i = 0; i < 4; i++)
            found[i] = t[i] >= 0x20 && t[i] < 0x7f ? (char)t[i] : '?';
        found[4] = '\0';
        return refuse(why, E_BADMSG, "%s signature is \"%s\"", sig, found);
    }
    const uint8_t *l = t + SDT_LENGTH;
    uint32_t tlen =
        (uint32_t)l[0] | (uint32_t)l[1] << 8 | (uint32_t)l[2] << 16 | (uint32_t)l[3] << 24;
    if (tlen < min_len)
        return refuse(why, E_BADMSG, "%s length %u is shorter than its %u-byte header", sig, tlen,
                      min_len);
    if (tlen > len)
        return refuse(why, E_BADMSG, "%s length %u exceeds the %u bytes available", sig, tlen, len);
    uint8_t sum = 0;
    for (uint32_t i = 0; i < tlen; i++)
        sum = (uint8_t)(sum + t[i]);
    if (sum)
        return refuse(why, E_BADMSG, "%s checksum mismatch (bytes sum to 0x%02x)", sig, sum);
    return tlen;
}

int64_t iommu_acpi_begin(const uint8_t *t, uint32_t len, const char *sig, uint32_t min_len,
                         struct iommu_info *out, struct refusal *why)
{
    if (why)
        why->text[0] = '\0';
    if (!t || !out)
        return refuse(why, E_INVAL, "parsing %s needs a table and an output", sig);
    memset(out, 0, sizeof(*out));
    return iommu_acpi_table_check(t, len, sig, min_len, why);
}

/* ---- Config space: only the registers a path walk needs ---- */

static uint8_t cfg_read8(const struct pci_cfg *cfg, uint16_t segment, pci_bdf bdf, uint16_t off)
{
    return (uint8_t)(cfg->read32(cfg->ctx, segment, bdf, off & ~3u) >> (8 * (off & 3)));
}

static bool cfg_present(const struct pci_cfg *cfg, uint16_t segment, pci_bdf bdf)
{
    uint16_t vendor = (uint16_t)cfg->read32(cfg->ctx, segment, bdf, PCI_VENDOR_ID);
    return vendor != 0xffff && vendor != 0;
}

/* The buses behind the bridge at bdf; false if it is absent, no bridge, or its bus numbers
 * do not lie behind its own bus. */
static bool bridge_buses(const struct pci_cfg *cfg, uint16_t segment, pci_bdf bdf, uint8_t *sec,
                         uint8_t *sub)
{
    if (!cfg_present(cfg, segment, bdf))
        return false;
    if ((cfg_read8(cfg, segment, bdf, PCI_HEADER_TYPE) & PCI_HEADER_LAYOUT) != PCI_HEADER_BRIDGE)
        return false;
    *sec = cfg_read8(cfg, segment, bdf, PCI_SECONDARY_BUS);
    *sub = cfg_read8(cfg, segment, bdf, PCI_SUBORDINATE_BUS);
    return *sec > PCI_BUS(bdf) && *sub >= *sec;
}

int iommu_path_resolve(const struct pci_cfg *cfg, uint16_t segment, uint8_t start_bus,
                       const uint8_t *path, unsigned hops, pci_bdf *bdf, struct refusal *why)
{
    if (!cfg || !cfg->read32 || !path || !bdf || hops == 0 || hops > IOMMU_MAX_PATH)
        return refuse(why, E_INVAL, "a path needs config space and 1 to %u hops", IOMMU_MAX_PATH);
    pci_bdf at = PCI_BDF(start_bus, path[0] >> 3, path[0] & 7);
    for (unsigned i = 1; i < hops; i++) {
        uint8_t sec, sub;
        if (!bridge_buses(cfg, segment, at, &sec, &sub))
            return refuse(why, E_NOENT,
                          "path hop %u (%02x:%02x.%u) is no bridge with buses behind it", i - 1,
                          PCI_BUS(at), PCI_DEV(at), PCI_FN(at));
        at = PCI_BDF(sec, path[i] >> 3, path[i] & 7);
    }
    *bdf = at;
    return 0;
}

/* Resolves one scope; returns true if it names something present. */
static bool resolve_one(struct iommu_scope *s, const struct pci_cfg *cfg)
{
    pci_bdf at;
    s->resolved = true;
    s->absent = true;
    if (!s->path_len ||
        iommu_path_resolve(cfg, s->segment, s->start_bus, s->path, s->path_len, &at, NULL) != 0)
        return false;
    if (s->type == IOMMU_SCOPE_BRIDGE &&
        !bridge_buses(cfg, s->segment, at, &s->sec_bus, &s->sub_bus))
        return false;
    s->first = s->last = s->alias = at;
    s->absent = false;
    return true;
}

int iommu_resolve_scopes(struct iommu_info *info, const struct pci_cfg *cfg)
{
    if (!info || !cfg || !cfg->read32 || info->nscopes > IOMMU_MAX_SCOPES ||
        info->nreserved > IOMMU_MAX_RESERVED)
        return -E_INVAL;
    int absent = 0;
    for (unsigned i = 0; i < info->nscopes; i++)
        if (!info->scopes[i].resolved && !resolve_one(&info->scopes[i], cfg))
            absent++;
    for (unsigned i = 0; i < info->nreserved; i++)
        if (!info->reserved[i].dev.resolved && !resolve_one(&info->reserved[i].dev, cfg))
            absent++;
    return absent;
}

/* ---- Lookup ---- */

enum { RANK_EXACT, RANK_BRIDGE, RANK_RANGE, RANK_ALL, RANK_NONE };

/* How specifically s lists bdf (RANK_NONE: not at all); *width orders bridges. */
static unsigned rank(const struct iommu_scope *s, pci_bdf bdf, unsigned *width)
{
    *width = 0;
    switch (s->type) {
    case IOMMU_SCOPE_ENDPOINT:
        return bdf == s->first ? RANK_EXACT : RANK_NONE;
    case IOMMU_SCOPE_BRIDGE:
        if (bdf == s->first)
            return RANK_EXACT;
        *width = (unsigned)(s->sub_bus - s->sec_bus);
        return PCI_BUS(bdf) >= s->sec_bus && PCI_BUS(bdf) <= s->sub_bus ? RANK_BRIDGE : RANK_NONE;
    case IOMMU_SCOPE_RANGE:
        return bdf >= s->first && bdf <= s->last ? RANK_RANGE : RANK_NONE;
    case IOMMU_SCOPE_ALL:
        return RANK_ALL;
    default:
        return RANK_NONE; /* interrupt sources and ACPI devices are not looked up by function */
    }
}

static bool dma_scope(const struct iommu_scope *s)
{
    return s->type == IOMMU_SCOPE_ENDPOINT || s->type == IOMMU_SCOPE_BRIDGE ||
           s->type == IOMMU_SCOPE_RANGE || s->type == IOMMU_SCOPE_ALL;
}

int iommu_unit_for(const struct iommu_info *info, uint16_t segment, pci_bdf bdf, pci_bdf *requester)
{
    if (requester)
        *requester = bdf;
    if (!info)
        return -1;
    unsigned nunits = info->nunits < IOMMU_MAX_UNITS ? info->nunits : IOMMU_MAX_UNITS;
    unsigned nscopes = info->nscopes < IOMMU_MAX_SCOPES ? info->nscopes : IOMMU_MAX_SCOPES;
    bool complete = !info->dropped_units && !info->dropped_scopes;
    const struct iommu_scope *best = NULL;
    unsigned best_rank = RANK_NONE, best_width = 0;
    for (unsigned i = 0; i < nscopes; i++) {
        const struct iommu_scope *s = &info->scopes[i];
        if (s->segment != segment || s->unit >= nunits || !dma_scope(s))
            continue;
        if (!s->resolved) {
            complete = false;
            continue;
        }
        if (s->absent)
            continue;
        unsigned width, r = rank(s, bdf, &width);
        if (r < best_rank || (r == best_rank && r == RANK_BRIDGE && width < best_width)) {
            best = s;
            best_rank = r;
            best_width = width;
        }
    }
    if (best && (best_rank < RANK_ALL || complete)) {
        if (requester && best->has_alias)
            *requester = best->alias;
        return best->unit;
    }
    if (!complete)
        return -1;
    for (unsigned i = 0; i < nunits; i++)
        if (info->units[i].include_all && info->units[i].segment == segment)
            return (int)i;
    return -1;
}

/* ---- Text ---- */

void iommu_scope_text(const struct iommu_scope *s, char *buf, unsigned size)
{
    static const char *const names[] = {"?",    "endpoint", "bridge", "ioapic",
                                        "hpet", "acpi",     "range",  "all"};
    if (!buf || !size)
        return;
    const char *name = s->type < ARRAY_SIZE(names) ? names[s->type] : "?";
    int n;
    if (!s->resolved && s->path_len > 1)
        n = ksnprintf(buf, size, "%s %04x:%02x:%02x.%u, unresolved path of %u hops", name,
                      s->segment, PCI_BUS(s->first), PCI_DEV(s->first), PCI_FN(s->first),
                      s->path_len);
    else if (!s->resolved)
        n = ksnprintf(buf, size, "%s %04x:%02x:%02x.%u, buses unresolved", name, s->segment,
                      PCI_BUS(s->first), PCI_DEV(s->first), PCI_FN(s->first));
    else if (s->absent)
        n = ksnprintf(buf, size, "%s %04x, path from bus %02x leads to nothing present", name,
                      s->segment, s->start_bus);
    else if (s->type == IOMMU_SCOPE_ALL)
        n = ksnprintf(buf, size, "all of segment %04x", s->segment);
    else if (s->type == IOMMU_SCOPE_IOAPIC || s->type == IOMMU_SCOPE_HPET ||
             s->type == IOMMU_SCOPE_ACPI)
        n = ksnprintf(buf, size, "%s %u at %04x:%02x:%02x.%u", name, s->id, s->segment,
                      PCI_BUS(s->first), PCI_DEV(s->first), PCI_FN(s->first));
    else
        n = ksnprintf(buf, size, "%s %04x:%02x:%02x.%u", name, s->segment, PCI_BUS(s->first),
                      PCI_DEV(s->first), PCI_FN(s->first));
    unsigned used = n < 0 ? 0 : (unsigned)n;
    if (used >= size)
        return;
    if (s->resolved && !s->absent && s->type == IOMMU_SCOPE_RANGE)
        used += (unsigned)ksnprintf(buf + used, size - used, "-%02x:%02x.%u", PCI_BUS(s->last),
                                    PCI_DEV(s->last), PCI_FN(s->last));
    if (used < size && s->resolved && !s->absent && s->type == IOMMU_SCOPE_BRIDGE)
        used += (unsigned)ksnprintf(buf + used, size - used, " buses %02x-%02x", s->sec_bus,
                                    s->sub_bus);
    if (used < size && s->has_alias)
        ksnprintf(buf + used, size - used, " as %02x:%02x.%u", PCI_BUS(s->alias), PCI_DEV(s->alias),
                  PCI_FN(s->alias));
}

void iommu_unit_text(const struct iommu_info *info, unsigned unit, char *buf, unsigned size)
{
    if (!buf || !size)
        return;
    if (!info || unit >= info->nunits || unit >= IOMMU_MAX_UNITS) {
        ksnprintf(buf, size, "no unit %u", unit);
        return;
    }
    const struct iommu_unit *u = &info->units[unit];
    if (info->kind == IOMMU_AMDVI)
        ksnprintf(buf, size,
                  "AMD-Vi unit %u (IVHD 0x%02x) at 0x%llx segment %u function %02x:%02x.%u", unit,
                  u->ivhd_type, (unsigned long long)u->base, u->segment, PCI_BUS(u->own_bdf),
                  PCI_DEV(u->own_bdf), PCI_FN(u->own_bdf));
    else
        ksnprintf(buf, size, "VT-d unit %u at 0x%llx segment %u%s", unit,
                  (unsigned long long)u->base, u->segment, u->include_all ? " include-all" : "");
}
