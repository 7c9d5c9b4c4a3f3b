/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The IOMMUs as firmware describes them: VT-d's DMAR and AMD-Vi's IVRS parsed into one form. */
#ifndef IOMMU_IOMMU_ACPI_H
#define IOMMU_IOMMU_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/refusal.h"
#include "iommu/pci.h"

#define IOMMU_MAX_UNITS 32    /* two-socket Xeons list 8-16 DRHDs; the rest are counted */
#define IOMMU_MAX_SCOPES 512  /* beyond this, scopes are counted in dropped_scopes */
#define IOMMU_MAX_RESERVED 64 /* RMRR / IVMD (range, device) pairs kept */
#define IOMMU_MAX_PATH 8      /* VT-d scope path hops kept; a longer path is dropped, counted */
#define IOMMU_NO_UNIT 0xffu   /* scope.unit of a reserved range's device */

/* DMAR flags (iommu_info.table_flags for VT-d) */
#define IOMMU_DMAR_INTR_REMAP (1u << 0)
#define IOMMU_DMAR_X2APIC_OPT_OUT (1u << 1)
#define IOMMU_DMAR_DMA_CTRL_OPT_IN (1u << 2)

/* IVMD flags (iommu_reserved.flags for AMD-Vi) */
#define IOMMU_IVMD_UNITY (1u << 0)
#define IOMMU_IVMD_READ (1u << 1)
#define IOMMU_IVMD_WRITE (1u << 2)
#define IOMMU_IVMD_EXCLUSION (1u << 3)

enum iommu_kind { IOMMU_NONE, IOMMU_VTD, IOMMU_AMDVI };

struct iommu_unit {
    uint64_t base;     /* register block */
    uint16_t segment;  /* PCI segment group */
    bool include_all;  /* VT-d INCLUDE_PCI_ALL: every function no other unit of the segment lists */
    uint8_t flags;     /* DRHD or IVHD flags byte, raw */
    uint8_t ivhd_type; /* AMD-Vi: 0x10, 0x11 or 0x40, the IVHD used; VT-d: 0 */
    uint8_t reg_size;  /* VT-d: DRHD Size field, the register set spans 2^n pages */
    pci_bdf own_bdf;   /* AMD-Vi: the IOMMU's own PCI function */
    uint16_t cap_offset; /* AMD-Vi: its capability block in that function's config space */
    uint16_t iommu_info; /* AMD-Vi: MSI number and unit ID */
    uint32_t attributes; /* AMD-Vi: IVHD feature reporting (0x10) or attributes (0x11, 0x40) */
    uint64_t efr;        /* AMD-Vi 0x11, 0x40: image of the Extended Feature Register */
    uint32_t offset;     /* where its DRHD or IVHD starts in the table, for messages */
};

enum iommu_scope_type {
    IOMMU_SCOPE_ENDPOINT = 1, /* one function (VT-d endpoint, AMD-Vi select) */
    IOMMU_SCOPE_BRIDGE,       /* VT-d: a bridge and everything on its sec..sub buses */
    IOMMU_SCOPE_IOAPIC,       /* interrupt source, id = IOAPIC id; first = its source ID */
    IOMMU_SCOPE_HPET,         /* interrupt source, id = HPET number; first = its source ID */
    IOMMU_SCOPE_ACPI,         /* VT-d ACPI namespace device (id = ANDD number), AMD-Vi HID entry */
    IOMMU_SCOPE_RANGE,        /* AMD-Vi: every function first..last */
    IOMMU_SCOPE_ALL,          /* AMD-Vi "all" entry: every function of the segment */
};

/* Devices one unit translates (or, in iommu_reserved, the devices of a reserved range). */
struct iommu_scope {
    uint16_t segment;
    uint8_t unit;        /* index into units; IOMMU_NO_UNIT in iommu_reserved */
    uint8_t type;        /* enum iommu_scope_type */
    pci_bdf first, last; /* a single function: first == last */
    pci_bdf alias;       /* requester ID the DMA carries (AMD-Vi alias entries); first when none */
    bool has_alias;      /* alias applies to every function first..last */
    uint8_t id;          /* IOAPIC / HPET: enumeration id or handle; VT-d ACPI: ANDD number */
    uint8_t setting;     /* AMD-Vi: the entry's DTE data setting byte */
    /* VT-d scopes with a path of more than one hop, and bridges (whose bus range is in
     * config space), start unresolved: first/last are then the path's first hop only.
     * iommu_resolve_scopes settles them; absent = the path leads to nothing present. */
    bool resolved;
    bool absent;
    uint8_t sec_bus, sub_bus; /* resolved bridge: the buses behind it */
    uint8_t start_bus;        /* VT-d: the raw path, device << 3 | function per hop */
    uint8_t path_len;
    uint8_t path[IOMMU_MAX_PATH];
};

enum iommu_reserved_kind {
    IOMMU_RESERVED_RMRR = 1, /* VT-d reserved memory region */
    IOMMU_RESERVED_IVMD,     /* AMD-Vi memory definition */
};

/* A range devices keep seeing at the same address: identity-map it for them (RMRR, IVMD
 * with the unity flag) or keep it out of their address space (IVMD exclusion). */
struct iommu_reserved {
    uint64_t base, limit;   /* inclusive; firmware does not always page-align them */
    uint8_t kind;           /* enum iommu_reserved_kind */
    uint8_t flags;          /* IVMD flags (IOMMU_IVMD_*); 0 for RMRR */
    struct iommu_scope dev; /* endpoint, bridge, range or (IVMD type 0x20) all */
};

struct iommu_info {
    enum iommu_kind kind;
    uint8_t revision;     /* the table's revision */
    uint32_t table_flags; /* DMAR flags byte, or IVRS IVinfo, raw */
    /* VT-d: the DMAR INTR_REMAP flag. AMD-Vi has no such flag (every IOMMU remaps), but
     * remapping needs each IOAPIC's source ID: true when the table names an IOAPIC. */
    bool intr_remap;
    uint8_t address_width; /* DMA address bits: VT-d host address width, AMD-Vi IVinfo PASize */
    unsigned nunits;
    unsigned dropped_units; /* beyond IOMMU_MAX_UNITS; their scopes count as dropped */
    unsigned skipped_ivhds; /* AMD-Vi: IVHDs superseded by a higher type for the same IOMMU */
    struct iommu_unit units[IOMMU_MAX_UNITS];
    unsigned nscopes;
    unsigned dropped_scopes; /* beyond IOMMU_MAX_SCOPES, or VT-d paths beyond IOMMU_MAX_PATH */
    struct iommu_scope scopes[IOMMU_MAX_SCOPES];
    unsigned nreserved;
    unsigned dropped_reserved;
    struct iommu_reserved reserved[IOMMU_MAX_RESERVED];
};

/* Parse a whole DMAR (signature "DMAR") or IVRS ("IVRS") table of len bytes at t, with its
 * signature, length and checksum verified, into out. Every structure, device scope and device
 * entry is bounded by its parent and the table. On error returns a negative errno, fills why
 * with a reason naming the table, the offset and what is wrong ("DMAR DRHD at offset 48: device
 * scope at offset 64 overruns the structure"), and leaves out zeroed (kind IOMMU_NONE).
 * On success why holds "". why may be NULL.
 * Errors: -E_INVAL bad arguments; -E_BADMSG the table is malformed; -E_NOENT it describes
 * no IOMMU. */
int dmar_parse(const uint8_t *t, uint32_t len, struct iommu_info *out, struct refusal *why);
int ivrs_parse(const uint8_t *t, uint32_t len, struct iommu_info *out, struct refusal *why);

/* For both parsers: checks that the len bytes at t start with an ACPI table of signature sig
 * whose length field is at least min_len and at most len, and whose bytes sum to zero.
 * Returns the length field (the table's extent), or a negative errno with why filled. */
int64_t iommu_acpi_table_check(const uint8_t *t, uint32_t len, const char *sig, uint32_t min_len,
                               struct refusal *why);

/* The start both parsers share: why emptied, arguments checked, out zeroed, then the
 * table checked as iommu_acpi_table_check does (its result). */
int64_t iommu_acpi_begin(const uint8_t *t, uint32_t len, const char *sig, uint32_t min_len,
                         struct iommu_info *out, struct refusal *why);

/* Follow a VT-d device scope path: (start_bus, path[0]) is a function on start_bus; each
 * further hop is on the secondary bus of the bridge before it. At most IOMMU_MAX_PATH hops;
 * bus numbers must grow along the path. Returns 0 with the last hop's function in *bdf,
 * -E_NOENT if a bridge on the way is absent, not a bridge or has no secondary bus behind it
 * (why says which), -E_INVAL on bad arguments. */
int iommu_path_resolve(const struct pci_cfg *cfg, uint16_t segment, uint8_t start_bus,
                       const uint8_t *path, unsigned hops, pci_bdf *bdf, struct refusal *why);

/* Resolve every unresolved scope of info (units' and reserved ranges') against config space:
 * multi-hop paths to their final function, bridges to their bus ranges. A path that leads
 * to nothing present is marked absent (it names no device now; resolve again after bus
 * renumbering). Returns how many scopes are absent, or -E_INVAL. */
int iommu_resolve_scopes(struct iommu_info *info, const struct pci_cfg *cfg);

/* The unit that translates DMA from function bdf of segment, or -1. *requester (may be NULL)
 * gets the requester ID that DMA carries: an AMD-Vi alias, otherwise bdf (bus topology, such
 * as a PCIe-to-PCI bridge taking over its children's IDs, is the caller's to apply).
 * The most specific listing wins: an endpoint or select entry; then the narrowest bridge
 * holding its bus; then an AMD-Vi range; then a catch-all (a VT-d INCLUDE_PCI_ALL unit of
 * the segment, an AMD-Vi "all" entry). Ties go to the one listed first. Catch-alls are used
 * only when every scope is known: none dropped, none unresolved, no unit dropped. */
int iommu_unit_for(const struct iommu_info *info, uint16_t segment, pci_bdf bdf,
                   pci_bdf *requester);

/* One line for logs: "endpoint 0000:00:02.0", "range 0000:00:00.0-00:1f.7 as 00:14.3",
 * "bridge 0000:00:1c.0 buses 02-05", "ioapic 8 at 0000:f0:1f.0", ... */
void iommu_scope_text(const struct iommu_scope *s, char *buf, unsigned size);
/* "VT-d unit 0 at 0xfed90000 segment 0 include-all", "AMD-Vi unit 0 (IVHD 0x11) at
 * 0xfed80000 segment 0 function 00:02.0" */
void iommu_unit_text(const struct iommu_info *info, unsigned unit, char *buf, unsigned size);

#endif
