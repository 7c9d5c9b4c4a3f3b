/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Device discovery at boot: ECAM through the identity map, the IOMMU tables through the
 * ACPI accessor, then one table in the log so an operator sees what a partition may own. */
#include "boot/devices.h"

#include "core/fmt.h"
#include "core/hv.h"
#include "core/klib.h"
#include "core/log.h"
#include "iommu/assign.h"
#include "iommu/iommu_acpi.h"
#include "iommu/pci.h"

static struct pci_inventory inventory;
static struct iommu_info iommu;
static const struct acpi_info *acpi_facts;

/* ECAM (PCIe base specification, 7.2.2): bus << 20 | device << 15 | function << 12 | off;
 * NULL outside every MCFG window. */
static volatile uint32_t *ecam_register(uint16_t segment, pci_bdf bdf, uint16_t off)
{
    for (unsigned i = 0; i < acpi_facts->necam; i++) {
        const struct acpi_ecam *e = &acpi_facts->ecam[i];
        if (e->segment == segment && PCI_BUS(bdf) >= e->start_bus && PCI_BUS(bdf) <= e->end_bus)
            return (volatile uint32_t *)(uintptr_t)(e->base + ((uint64_t)bdf << 12) +
                                                    (off & 0xffcu));
    }
    return NULL;
}

static uint32_t ecam_read32(void *ctx, uint16_t segment, pci_bdf bdf, uint16_t off)
{
    (void)ctx;
    volatile uint32_t *r = ecam_register(segment, bdf, off);
    return r ? *r : 0xffffffffu; /* as an absent function reads */
}

static void ecam_write32(void *ctx, uint16_t segment, pci_bdf bdf, uint16_t off, uint32_t v)
{
    (void)ctx;
    volatile uint32_t *r = ecam_register(segment, bdf, off);
    if (r)
        *r = v;
}

static const struct pci_cfg ecam = {NULL, ecam_read32, ecam_write32};

const struct pci_inventory *devices_inventory(void)
{
    return &inventory;
}

const struct iommu_info *devices_iommu(void)
{
    return &iommu;
}

const struct pci_cfg *devices_cfg(void)
{
    return &ecam;
}

void devices_forget_iommu(void)
{
    memset(&iommu, 0, sizeof(iommu));
}

static void parse_iommu_table(const struct acpi_table_ref *ref)
{
    const uint8_t *t = hv_acpi_mem.map(hv_acpi_mem.ctx, ref->address, ref->length);
    struct refusal why;
    int rc = !t                         ? -E_FAULT
             : ref->signature[0] == 'D' ? dmar_parse(t, ref->length, &iommu, &why)
                                        : ivrs_parse(t, ref->length, &iommu, &why);
    if (rc) {
        log_warn("IOMMU: %s at %llx unusable: %s", ref->signature, (unsigned long long)ref->address,
                 t ? why.text : "not mapped");
        memset(&iommu, 0, sizeof(iommu));
        return;
    }
    int absent = iommu_resolve_scopes(&iommu, &ecam);
    log_info("IOMMU: %s, %u unit%s, %u device scopes (%d naming nothing present), interrupt "
             "remapping %s",
             iommu.kind == IOMMU_VTD ? "Intel VT-d (DMAR)" : "AMD-Vi (IVRS)", iommu.nunits,
             iommu.nunits == 1 ? "" : "s", iommu.nscopes, absent > 0 ? absent : 0,
             iommu.intr_remap ? "offered" : "not offered");
    for (unsigned u = 0; u < iommu.nunits; u++) {
        char text[112];
        iommu_unit_text(&iommu, u, text, sizeof(text));
        log_info("  %s", text);
    }
    if (iommu.dropped_units || iommu.dropped_scopes)
        log_warn("IOMMU: %u units and %u scopes beyond what is kept are ignored; functions "
                 "they cover cannot be handed over",
                 iommu.dropped_units, iommu.dropped_scopes);
}

void devices_discover(const struct acpi_info *acpi)
{
    acpi_facts = acpi;
    for (unsigned i = 0; i < acpi->necam; i++)
        pci_scan(&ecam, acpi->ecam[i].segment, acpi->ecam[i].start_bus, acpi->ecam[i].end_bus,
                 &inventory);
    log_info("PCI: %u functions in %u ECAM range%s%s", inventory.n, acpi->necam,
             acpi->necam == 1 ? "" : "s", acpi->necam ? "" : " (no MCFG: no devices to hand over)");
    if (inventory.dropped)
        log_warn("PCI: %u functions beyond the %u kept are ignored", inventory.dropped,
                 PCI_MAX_FUNCTIONS);
    if (acpi->dmar.address && acpi->ivrs.address)
        log_warn("IOMMU: both a DMAR and an IVRS; using the DMAR");
    if (acpi->dmar.address)
        parse_iommu_table(&acpi->dmar);
    else if (acpi->ivrs.address)
        parse_iommu_table(&acpi->ivrs);
    else
        log_info("IOMMU: none described (no DMAR or IVRS table)");
}

/* "m32 febf1000 m64 fe000000 io c000": the BARs as the firmware placed them. */
static void bars_text(const struct pci_function *f, char *buf, unsigned size)
{
    unsigned at = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < f->nbars && at + 1 < size; i++) {
        uint32_t b = f->bar[i];
        if (b & 1) {
            if (b & ~3u)
                at += (unsigned)ksnprintf(buf + at, size - at, "%sio %x", at ? " " : "", b & ~3u);
            continue;
        }
        uint64_t base = b & ~0xfull;
        bool is64 = ((b >> 1) & 3) == 2 && i + 1 < f->nbars;
        if (is64)
            base |= (uint64_t)f->bar[++i] << 32;
        if (base)
            at += (unsigned)ksnprintf(buf + at, size - at, "%sm%s %llx", at ? " " : "",
                                      is64 ? "64" : "32", (unsigned long long)base);
        if (at >= size)
            break;
    }
}

static void log_table(const struct config *cfg)
{
    if (!inventory.n)
        return;
    log_info("  %-12s  %-9s  %-14s  %-6s  %-16s  %s", "function", "id", "class", "IOMMU", "owner",
             "BARs");
    for (unsigned i = 0; i < inventory.n; i++) {
        const struct pci_function *f = &inventory.f[i];
        char name[16], id[12], class[24], unit[8], owner[40], bars[64];
        pci_bdf_text(f->segment, f->bdf, name, sizeof(name));
        ksnprintf(id, sizeof(id), "%04x:%04x", f->vendor, f->device);
        pci_class_text(f->class_rev, class, sizeof(class));
        int u = iommu.kind == IOMMU_NONE ? -1 : iommu_unit_for(&iommu, f->segment, f->bdf, NULL);
        if (u >= 0)
            ksnprintf(unit, sizeof(unit), "unit %d", u);
        else
            ksnprintf(unit, sizeof(unit), "-");
        int o = assign_owner(cfg, f->segment, f->bdf);
        if (o >= 0)
            ksnprintf(owner, sizeof(owner), "'%s'", cfg->partitions[o].name);
        else
            ksnprintf(owner, sizeof(owner), "-");
        bars_text(f, bars, sizeof(bars));
        log_info("  %-12s  %-9s  %-14s  %-6s  %-16s  %s", name, id, class, unit, owner, bars);
    }
}

int devices_check(const struct config *cfg, struct cfg_errors *errs)
{
    log_table(cfg);
    struct assign_machine m = {&inventory, &iommu};
    int rc = assign_check(cfg, &m, errs);
    unsigned handed = 0;
    for (unsigned i = 0; i < cfg->npartitions; i++)
        handed += cfg->partitions[i].ndevices;
    if (!rc && handed && cfg->iommu_off)
        log_warn("%s:%u: boot iommu=off: %u PCI function%s handed over with no DMA confinement; "
                 "each can read and write all memory",
                 hv.boot->config_source, cfg->iommu_line, handed, handed == 1 ? "" : "s");
    return rc;
}
