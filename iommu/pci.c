/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* PCI configuration space: narrow reads, and the inventory of functions found by a scan. */
#include "iommu/pci.h"

#include "core/fmt.h"
#include "core/klib.h"

uint8_t pci_read8(const struct pci_cfg *cfg, uint16_t segment, pci_bdf bdf, uint16_t off)
{
    return (uint8_t)(cfg->read32(cfg->ctx, segment, bdf, off & ~3u) >> (8 * (off & 3)));
}

uint16_t pci_read16(const struct pci_cfg *cfg, uint16_t segment, pci_bdf bdf, uint16_t off)
{
    return (uint16_t)(cfg->read32(cfg->ctx, segment, bdf, off & ~3u) >> (8 * (off & 2)));
}

void pci_bdf_text(uint16_t segment, pci_bdf bdf, char *buf, unsigned size)
{
    ksnprintf(buf, size, "%04x:%02x:%02x.%u", segment, PCI_BUS(bdf), PCI_DEV(bdf), PCI_FN(bdf));
}

/* The PCI Express port type from the capability list, bounded as a hostile list must be. */
static uint8_t express_type(const struct pci_cfg *cfg, uint16_t segment, pci_bdf bdf)
{
    if (!(pci_read16(cfg, segment, bdf, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return PCI_NOT_EXPRESS;
    uint8_t at = pci_read8(cfg, segment, bdf, PCI_CAP_PTR) & 0xfc;
    for (unsigned hops = 0; at >= 0x40 && hops < 48; hops++) {
        uint16_t head = pci_read16(cfg, segment, bdf, at);
        if ((head & 0xff) == PCI_CAP_ID_EXP)
            return (pci_read16(cfg, segment, bdf, (uint16_t)(at + PCI_EXP_FLAGS)) >> 4) & 0xf;
        at = (head >> 8) & 0xfc;
    }
    return PCI_NOT_EXPRESS;
}

static void add_function(const struct pci_cfg *cfg, uint16_t segment, pci_bdf bdf, uint32_t id,
                         struct pci_inventory *inv)
{
    if (inv->n == PCI_MAX_FUNCTIONS) {
        inv->dropped++;
        return;
    }
    struct pci_function *f = &inv->f[inv->n++];
    memset(f, 0, sizeof(*f));
    f->segment = segment;
    f->bdf = bdf;
    f->vendor = (uint16_t)id;
    f->device = (uint16_t)(id >> 16);
    f->class_rev = cfg->read32(cfg->ctx, segment, bdf, PCI_CLASS_REV);
    f->layout = pci_read8(cfg, segment, bdf, PCI_HEADER_TYPE) & PCI_HEADER_LAYOUT;
    f->nbars = f->layout == PCI_HEADER_BRIDGE ? 2 : f->layout == 0 ? PCI_MAX_BARS : 0;
    for (unsigned i = 0; i < f->nbars; i++)
        f->bar[i] = cfg->read32(cfg->ctx, segment, bdf, (uint16_t)(PCI_BAR0 + 4 * i));
    f->pcie_type = express_type(cfg, segment, bdf);
    if (f->layout == PCI_HEADER_BRIDGE) {
        f->secondary = pci_read8(cfg, segment, bdf, PCI_SECONDARY_BUS);
        f->subordinate = pci_read8(cfg, segment, bdf, PCI_SUBORDINATE_BUS);
    }
}

void pci_scan(const struct pci_cfg *cfg, uint16_t segment, uint8_t bus_lo, uint8_t bus_hi,
              struct pci_inventory *inv)
{
    for (unsigned bus = bus_lo; bus <= bus_hi; bus++) {
        for (unsigned dev = 0; dev < 32; dev++) {
            pci_bdf bdf = PCI_BDF(bus, dev, 0);
            uint32_t id = cfg->read32(cfg->ctx, segment, bdf, PCI_VENDOR_ID);
            if ((uint16_t)id == 0xffff || (uint16_t)id == 0)
                continue;
            add_function(cfg, segment, bdf, id, inv);
            if (!(pci_read8(cfg, segment, bdf, PCI_HEADER_TYPE) & PCI_HEADER_MULTI_FUNCTION))
                continue;
            for (unsigned fn = 1; fn < 8; fn++) {
                pci_bdf f = PCI_BDF(bus, dev, fn);
                id = cfg->read32(cfg->ctx, segment, f, PCI_VENDOR_ID);
                if ((uint16_t)id != 0xffff && (uint16_t)id != 0)
                    add_function(cfg, segment, f, id, inv);
            }
        }
    }
}

const struct pci_function *pci_find(const struct pci_inventory *inv, uint16_t segment, pci_bdf bdf)
{
    for (unsigned i = 0; i < inv->n; i++)
        if (inv->f[i].segment == segment && inv->f[i].bdf == bdf)
            return &inv->f[i];
    return NULL;
}

void pci_size_bars(const struct pci_cfg *cfg, const struct pci_function *f,
                   uint64_t size[PCI_MAX_BARS])
{
    memset(size, 0, sizeof(uint64_t) * PCI_MAX_BARS);
    uint32_t cmd = cfg->read32(cfg->ctx, f->segment, f->bdf, PCI_COMMAND);
    cfg->write32(cfg->ctx, f->segment, f->bdf, PCI_COMMAND, cmd & ~(uint32_t)PCI_COMMAND_MEMORY);
    for (unsigned i = 0; i < f->nbars; i++) {
        uint16_t off = (uint16_t)(PCI_BAR0 + 4 * i);
        uint32_t lo = f->bar[i];
        if (lo & PCI_BAR_IO)
            continue;
        bool is64 = (lo & 6) == PCI_BAR_TYPE_64 && i + 1 < f->nbars;
        cfg->write32(cfg->ctx, f->segment, f->bdf, off, 0xffffffffu);
        uint64_t mask = cfg->read32(cfg->ctx, f->segment, f->bdf, off) & ~0xfu;
        cfg->write32(cfg->ctx, f->segment, f->bdf, off, lo);
        if (is64) {
            uint16_t hi_off = (uint16_t)(off + 4);
            cfg->write32(cfg->ctx, f->segment, f->bdf, hi_off, 0xffffffffu);
            mask |= (uint64_t)cfg->read32(cfg->ctx, f->segment, f->bdf, hi_off) << 32;
            cfg->write32(cfg->ctx, f->segment, f->bdf, hi_off, f->bar[i + 1]);
        } else if (mask) {
            mask |= 0xffffffff00000000ull;
        }
        size[i] = mask ? ~mask + 1 : 0;
        i += is64;
    }
    cfg->write32(cfg->ctx, f->segment, f->bdf, PCI_COMMAND, cmd);
}

/* The bridge whose secondary bus is bus, or NULL (a root bus). */
static const struct pci_function *bridge_to(const struct pci_inventory *inv, uint16_t segment,
                                            uint8_t bus)
{
    for (unsigned i = 0; i < inv->n; i++)
        if (inv->f[i].segment == segment && inv->f[i].layout == PCI_HEADER_BRIDGE &&
            inv->f[i].secondary == bus && bus != 0)
            return &inv->f[i];
    return NULL;
}

pci_bdf pci_requester_id(const struct pci_inventory *inv, const struct pci_function *f)
{
    pci_bdf id = f->bdf;
    uint8_t bus = PCI_BUS(f->bdf);
    /* upwards; bus numbers fall towards the root, so 256 steps bound a looped topology */
    for (unsigned hops = 0; hops < 256; hops++) {
        const struct pci_function *br = bridge_to(inv, f->segment, bus);
        if (!br || PCI_BUS(br->bdf) >= bus)
            break;
        if (br->pcie_type == PCI_EXP_TYPE_PCI_BRIDGE)
            id = PCI_BDF(br->secondary, 0, 0);
        else if (br->pcie_type == PCI_NOT_EXPRESS)
            id = br->bdf;
        bus = PCI_BUS(br->bdf);
    }
    return id;
}

void pci_class_text(uint32_t class_rev, char *buf, unsigned size)
{
    static const struct {
        uint32_t class; /* base << 16 | sub << 8 | interface; interface 0xff: any */
        const char *name;
    } names[] = {
        {0x010601, "SATA AHCI"},   {0x0108ff, "NVMe"},         {0x0100ff, "SCSI"},
        {0x0200ff, "Ethernet"},    {0x0207ff, "InfiniBand"},   {0x0300ff, "VGA"},
        {0x0600ff, "host bridge"}, {0x0601ff, "ISA bridge"},   {0x0604ff, "PCI bridge"},
        {0x0805ff, "SD host"},     {0x0806ff, "IOMMU"},        {0x0c03ff, "USB"},
        {0x0c05ff, "SMBus"},       {0x00ffff, "unclassified"}, {0x12ffff, "accelerator"},
    };
    uint32_t class = class_rev >> 8;
    for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
        uint32_t c = names[i].class;
        bool any_if = (c & 0xff) == 0xff, any_sub = (c & 0xff00) == 0xff00;
        if ((c >> 16) == (class >> 16) && (any_sub || ((c >> 8) & 0xff) == ((class >> 8) & 0xff)) &&
            (any_if || (c & 0xff) == (class & 0xff))) {
            ksnprintf(buf, size, "%s", names[i].name);
            return;
        }
    }
    ksnprintf(buf, size, "class 0x%06x", class);
}
