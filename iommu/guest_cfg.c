/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* A partition's view of an owned function's configuration space (see guest_cfg.h). Every
 * access is taken a dword at a time: the dword as the guest sees it is built, a write is
 * merged into it, and only the parts the guest may change go to the device. */
#include "iommu/guest_cfg.h"

#include "core/klib.h"

#define PCI_HEADER_TYPE_DWORD 0x0c /* cache line, latency timer, header type, BIST */
#define PCI_SUBSYSTEM 0x2c
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_CAPS_START 0x40
#define PCI_CAP_HOPS 48        /* (256 - 64) / 4: more is a loop */
#define PCI_EXP_LENGTH 0x3c    /* a version 2 PCI Express capability */
#define PCI_EXP_LENGTH_V1 0x24 /* version 1: up to the root status register */
#define CMD_GUEST (PCI_COMMAND_MEMORY | PCI_COMMAND_BUS_MASTER)
#define CMD_KEPT_OFF (PCI_COMMAND_IO | CMD_GUEST | PCI_COMMAND_INTX_DISABLE)

static uint32_t dev_read(const struct guest_cfg *g, const struct pci_cfg *cfg, unsigned off)
{
    return cfg->read32(cfg->ctx, g->segment, g->bdf, (uint16_t)off);
}

static void dev_write(const struct guest_cfg *g, const struct pci_cfg *cfg, unsigned off,
                      uint32_t v)
{
    cfg->write32(cfg->ctx, g->segment, g->bdf, (uint16_t)off, v);
}

static bool msi_64(const struct guest_cfg *g)
{
    return g->msi_flags & PCI_MSI_FLAGS_64BIT;
}

static unsigned msi_data_at(const struct guest_cfg *g)
{
    return g->msi_at + (msi_64(g) ? 0x0cu : 0x08u);
}

/* flags: the capability's word at offset 2 (MSI: message control; PCI Express: its version
 * in bits 3:0, 1 for the shorter first layout) */
static unsigned cap_length(uint8_t id, uint16_t flags)
{
    if (id == PCI_CAP_ID_EXP)
        return (flags & 0xf) >= 2 ? PCI_EXP_LENGTH : PCI_EXP_LENGTH_V1;
    if (id == PCI_CAP_ID_MSIX)
        return 12;
    unsigned len = flags & PCI_MSI_FLAGS_64BIT ? 0x10 : 0x0c;
    return flags & PCI_MSI_FLAGS_MASKBIT ? len + 8 : len;
}

/* The table is shown only where the guest can reach it: in a memory BAR, whole. */
static bool msix_init(struct guest_cfg *g, const struct pci_cfg *cfg, uint8_t at, uint16_t flags)
{
    uint32_t where = dev_read(g, cfg, at + 4u);
    unsigned bar = where & 7, n = (flags & PCI_MSIX_FLAGS_QSIZE) + 1u;
    uint32_t off = where & ~7u;
    if (bar >= PCI_MAX_BARS || !g->bar_size[bar] ||
        off + (uint64_t)n * PCI_MSIX_ENTRY_SIZE > g->bar_size[bar])
        return false;
    g->msix.at = at;
    g->msix.bar = (uint8_t)bar;
    g->msix.table_off = off;
    g->msix.n = n < GUEST_MSIX_MAX ? n : GUEST_MSIX_MAX;
    g->msix.n_device = n;
    for (unsigned k = 0; k < g->msix.n; k++)
        g->msix.e[k].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT; /* as after reset */
    return true;
}

/* A capability as the list has it; len: its extent where this code knows it (MSI, MSI-X,
 * PCI Express), else its header's dword. */
struct found {
    uint8_t at, id;
    uint16_t flags;
    uint8_t len;
};

static bool listed(const struct found *f, unsigned n, unsigned at)
{
    for (unsigned j = 0; j < n; j++)
        if (f[j].at == at)
            return true;
    return false;
}

/* Whether capability i shares a byte with another one of the n found (or the list holds it
 * twice). */
static bool overlaps(const struct found *f, unsigned n, unsigned i)
{
    for (unsigned j = 0; j < n; j++)
        if (j != i && f[i].at < f[j].at + f[j].len && f[j].at < f[i].at + f[i].len)
            return true;
    return false;
}

void guest_cfg_init(struct guest_cfg *g, const struct pci_cfg *cfg, uint16_t segment, pci_bdf bdf,
                    const uint32_t bar[PCI_MAX_BARS], const uint64_t size[PCI_MAX_BARS])
{
    memset(g, 0, sizeof(*g));
    g->segment = segment;
    g->bdf = bdf;
    for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
        if ((bar[i] & PCI_BAR_IO) || !size[i])
            continue;
        g->bar_flags[i] = bar[i] & 0xf;
        g->bar_addr[i] = bar[i] & ~0xfull;
        g->bar_size[i] = size[i];
        if ((bar[i] & 6) == PCI_BAR_TYPE_64 && i + 1 < PCI_MAX_BARS) {
            g->bar_addr[i] |= (uint64_t)bar[i + 1] << 32;
            g->bar_upper |= (uint8_t)(1u << (i + 1));
            i++;
        }
    }
    if (!((dev_read(g, cfg, PCI_COMMAND) >> 16) & PCI_STATUS_CAP_LIST))
        return;
    /* every capability in the list (bounded), then those shown: a capability whose bytes
     * another one's share is not, so no write to it reaches the other */
    struct found f[PCI_CAP_HOPS];
    unsigned n = 0;
    unsigned at = dev_read(g, cfg, PCI_CAP_PTR) & 0xfc;
    /* a list that loops ends where it comes back */
    for (; at >= PCI_CAPS_START && n < PCI_CAP_HOPS && !listed(f, n, at); n++) {
        uint32_t head = dev_read(g, cfg, at);
        f[n] = (struct found){(uint8_t)at, (uint8_t)head, (uint16_t)(head >> 16), 4};
        if (f[n].id == PCI_CAP_ID_MSI || f[n].id == PCI_CAP_ID_MSIX || f[n].id == PCI_CAP_ID_EXP)
            f[n].len = (uint8_t)cap_length(f[n].id, f[n].flags);
        if ((f[n].id == PCI_CAP_ID_MSI || f[n].id == PCI_CAP_ID_MSIX) &&
            g->nirq_caps < GUEST_CFG_MAX_IRQ_CAPS)
            g->irq_cap_at[g->nirq_caps++] = f[n].at;
        at = (head >> 8) & 0xfc;
    }
    for (unsigned i = 0; i < n; i++) {
        uint8_t id = f[i].id;
        bool shown = (id == PCI_CAP_ID_MSI && !g->msi_at) ||
                     (id == PCI_CAP_ID_MSIX && !g->msix.at) || id == PCI_CAP_ID_EXP;
        if (shown && f[i].at + f[i].len <= GUEST_CFG_SIZE && g->ncaps < GUEST_CFG_MAX_CAPS &&
            !overlaps(f, n, i) &&
            (id != PCI_CAP_ID_MSIX || msix_init(g, cfg, f[i].at, f[i].flags))) {
            g->cap_at[g->ncaps] = f[i].at;
            g->cap_len[g->ncaps] = f[i].len;
            g->cap_id[g->ncaps++] = id;
            if (id == PCI_CAP_ID_MSI) {
                g->msi_at = f[i].at;
                g->msi_flags = f[i].flags;
            }
        }
    }
}

void guest_cfg_quiet(const struct guest_cfg *g, const struct pci_cfg *cfg)
{
    for (unsigned i = 0; i < g->nirq_caps; i++) {
        uint32_t head = dev_read(g, cfg, g->irq_cap_at[i]);
        uint32_t off = (uint8_t)head == PCI_CAP_ID_MSI
                           ? (uint32_t)(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE) << 16
                           : (uint32_t)PCI_MSIX_FLAGS_ENABLE << 16;
        dev_write(g, cfg, g->irq_cap_at[i], head & ~off);
    }
}

/* The shown capability the dword at base falls in, or -1. */
static int cap_of(const struct guest_cfg *g, unsigned base)
{
    for (unsigned i = 0; i < g->ncaps; i++) {
        if (base >= g->cap_at[i] && base < g->cap_at[i] + g->cap_len[i])
            return (int)i;
    }
    return -1;
}

static uint32_t bar_read(const struct guest_cfg *g, unsigned i)
{
    bool upper = g->bar_upper & (1u << i);
    unsigned lower = upper ? i - 1 : i;
    if (!g->bar_size[lower])
        return 0;
    uint64_t v = g->sizing & (1u << i) ? ~(g->bar_size[lower] - 1) : g->bar_addr[lower];
    return upper ? (uint32_t)(v >> 32) : ((uint32_t)v & ~0xfu) | g->bar_flags[lower];
}

static uint32_t msi_read(const struct guest_cfg *g, const struct pci_cfg *cfg, unsigned base,
                         unsigned next)
{
    unsigned rel = base - g->msi_at;
    if (rel == 0)
        return PCI_CAP_ID_MSI | next << 8 |
               (uint32_t)((g->msi_flags & (PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT)) |
                          (g->msi.enabled ? PCI_MSI_FLAGS_ENABLE : 0))
                   << 16;
    if (rel == 4)
        return g->msi.addr_lo;
    if (base == msi_data_at(g))
        return g->msi.data;
    if (rel == 8)
        return g->msi.addr_hi;     /* 64-bit: the data is further on */
    return dev_read(g, cfg, base); /* the mask and pending bits: the device's own */
}

/* The dword at base as the guest sees it. */
static uint32_t dword_read(const struct guest_cfg *g, const struct pci_cfg *cfg, unsigned base)
{
    if (base >= PCI_BAR0 && base < PCI_BAR0 + 4 * PCI_MAX_BARS)
        return bar_read(g, (base - PCI_BAR0) / 4);
    switch (base) {
    case PCI_VENDOR_ID:
    case PCI_CLASS_REV:
    case PCI_SUBSYSTEM:
        return dev_read(g, cfg, base);
    case PCI_COMMAND: {
        uint32_t v = dev_read(g, cfg, base);
        uint32_t status = (v >> 16) & ~(uint32_t)PCI_STATUS_CAP_LIST;
        if (g->ncaps)
            status |= PCI_STATUS_CAP_LIST;
        return (v & CMD_GUEST) | PCI_COMMAND_INTX_DISABLE | status << 16;
    }
    case PCI_HEADER_TYPE_DWORD: /* one function, an endpoint header, no BIST */
        return dev_read(g, cfg, base) & 0x0000ffffu;
    case PCI_CAP_PTR:
        return g->ncaps ? g->cap_at[0] : 0;
    case PCI_INTERRUPT_LINE:
        return g->interrupt_line; /* pin 0: no INTx */
    default:
        break;
    }
    int c = cap_of(g, base);
    if (c < 0)
        return 0;
    unsigned next = (unsigned)c + 1 < g->ncaps ? g->cap_at[c + 1] : 0;
    if (g->cap_id[c] == PCI_CAP_ID_MSI)
        return msi_read(g, cfg, base, next);
    if (g->cap_id[c] == PCI_CAP_ID_MSIX && base == g->cap_at[c]) {
        uint32_t v = dev_read(g, cfg, base);
        uint32_t flags = (v >> 16) & (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
        return PCI_CAP_ID_MSIX | next << 8 | (flags | (g->msix.n - 1u)) << 16;
    }
    uint32_t v = dev_read(g, cfg, base);
    return base == g->cap_at[c] ? (v & ~0xff00u) | next << 8 : v;
}

static bool access_ok(unsigned offset, unsigned size)
{
    return (size == 1 || size == 2 || size == 4) && offset < GUEST_CFG_SIZE &&
           (offset & 3) + size <= 4;
}

uint32_t guest_cfg_read(const struct guest_cfg *g, const struct pci_cfg *cfg, unsigned offset,
                        unsigned size)
{
    if (!access_ok(offset, size))
        return 0xffffffffu;
    uint32_t v = dword_read(g, cfg, offset & ~3u) >> (8 * (offset & 3));
    return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static unsigned msi_write(struct guest_cfg *g, const struct pci_cfg *cfg, unsigned base,
                          uint32_t dword, uint32_t mask)
{
    struct guest_msi before = g->msi;
    unsigned rel = base - g->msi_at;
    if (rel == 0 && (mask & 0xffff0000u))
        g->msi.enabled = (dword >> 16) & PCI_MSI_FLAGS_ENABLE;
    else if (rel == 4)
        g->msi.addr_lo = dword & ~3u;
    else if (base == msi_data_at(g))
        g->msi.data = (uint16_t)dword;
    else if (rel == 8)
        g->msi.addr_hi = dword;
    else if ((g->msi_flags & PCI_MSI_FLAGS_MASKBIT) && base == msi_data_at(g) + 4)
        dev_write(g, cfg, base, dword); /* per-vector mask: the guest's to set */
    bool moved = before.enabled != g->msi.enabled || before.addr_lo != g->msi.addr_lo ||
                 before.addr_hi != g->msi.addr_hi || before.data != g->msi.data;
    return moved && (g->msi.enabled || before.enabled) ? GUEST_CFG_MSI_CHANGED : 0;
}

unsigned guest_cfg_write(struct guest_cfg *g, const struct pci_cfg *cfg, unsigned offset,
                         unsigned size, uint32_t value)
{
    if (!access_ok(offset, size))
        return 0;
    unsigned base = offset & ~3u, shift = 8 * (offset & 3);
    uint32_t mask = (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1) << shift;
    uint32_t dword = (dword_read(g, cfg, base) & ~mask) | ((value << shift) & mask);
    if (base >= PCI_BAR0 && base < PCI_BAR0 + 4 * PCI_MAX_BARS) {
        unsigned i = (base - PCI_BAR0) / 4;
        bool all_ones =
            (g->bar_upper & (1u << i)) ? dword == 0xffffffffu : (dword | 0xfu) == 0xffffffffu;
        g->sizing = (uint8_t)(all_ones ? g->sizing | (1u << i) : g->sizing & ~(1u << i));
        return 0; /* relocation is ignored: the BAR stays where it is mapped */
    }
    if (base == PCI_COMMAND && (mask & 0xffffu)) {
        uint32_t now = dev_read(g, cfg, base) & 0xffffu & ~(uint32_t)CMD_KEPT_OFF;
        uint32_t guest = dword & (g->bus_master_off ? PCI_COMMAND_MEMORY : CMD_GUEST);
        dev_write(g, cfg, base, now | guest | PCI_COMMAND_INTX_DISABLE);
        return 0; /* status: its error bits are the hypervisor's to clear */
    }
    if (base == PCI_INTERRUPT_LINE) {
        g->interrupt_line = (uint8_t)dword;
        return 0;
    }
    int c = cap_of(g, base);
    if (c >= 0 && g->cap_id[c] == PCI_CAP_ID_MSI)
        return msi_write(g, cfg, base, dword, mask);
    if (c >= 0 && g->cap_id[c] == PCI_CAP_ID_MSIX && base == g->cap_at[c] && (mask & 0xffff0000u)) {
        /* enable and function mask: every entry the device has is masked or routed */
        uint32_t keep = (uint32_t)(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) << 16;
        dev_write(g, cfg, base, (dev_read(g, cfg, base) & ~keep) | (dword & keep));
    }
    return 0; /* the header's other fields, PCI Express, the rest: read-only */
}

void guest_cfg_msi_program(const struct guest_cfg *g, const struct pci_cfg *cfg,
                           const struct iommu_msi_msg *msg)
{
    if (!g->msi_at)
        return;
    uint32_t head = dev_read(g, cfg, g->msi_at);
    uint32_t off = head & ~((uint32_t)(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE) << 16);
    dev_write(g, cfg, g->msi_at, off);
    if (!msg)
        return;
    dev_write(g, cfg, g->msi_at + 4u, (uint32_t)msg->address);
    if (msi_64(g))
        dev_write(g, cfg, g->msi_at + 8u, (uint32_t)(msg->address >> 32));
    dev_write(g, cfg, msi_data_at(g), msg->data);
    dev_write(g, cfg, g->msi_at, off | (uint32_t)PCI_MSI_FLAGS_ENABLE << 16);
}

bool guest_cfg_msix_table(const struct guest_cfg *g, uint64_t *gpa, uint64_t *len)
{
    if (!g->msix.at)
        return false;
    *gpa = g->bar_addr[g->msix.bar] + g->msix.table_off;
    *len = (uint64_t)g->msix.n_device * PCI_MSIX_ENTRY_SIZE;
    return true;
}

static bool table_access_ok(const struct guest_cfg *g, uint64_t offset, unsigned size)
{
    return (size == 4 || size == 8) && !(offset & (size - 1)) &&
           offset < (uint64_t)g->msix.n_device * PCI_MSIX_ENTRY_SIZE;
}

uint64_t guest_cfg_msix_read(const struct guest_cfg *g, uint64_t offset, unsigned size)
{
    if (!table_access_ok(g, offset, size))
        return ~0ull;
    if (offset >= (uint64_t)g->msix.n * PCI_MSIX_ENTRY_SIZE) /* not shown: masked, empty */
        return (offset % PCI_MSIX_ENTRY_SIZE) == 12 ? PCI_MSIX_ENTRY_CTRL_MASKBIT
               : (offset % PCI_MSIX_ENTRY_SIZE) == 8 && size == 8
                   ? (uint64_t)PCI_MSIX_ENTRY_CTRL_MASKBIT << 32
                   : 0;
    const uint32_t *w = (const uint32_t *)&g->msix.e[offset / PCI_MSIX_ENTRY_SIZE];
    unsigned i = (unsigned)(offset % PCI_MSIX_ENTRY_SIZE) / 4;
    return size == 8 ? w[i] | (uint64_t)w[i + 1] << 32 : w[i];
}

int guest_cfg_msix_write(struct guest_cfg *g, uint64_t offset, unsigned size, uint64_t value)
{
    if (!table_access_ok(g, offset, size) || offset >= (uint64_t)g->msix.n * PCI_MSIX_ENTRY_SIZE)
        return -1;
    unsigned k = (unsigned)(offset / PCI_MSIX_ENTRY_SIZE);
    struct guest_msix_entry before = g->msix.e[k];
    uint32_t *w = (uint32_t *)&g->msix.e[k];
    unsigned i = (unsigned)(offset % PCI_MSIX_ENTRY_SIZE) / 4;
    w[i] = (uint32_t)value;
    if (size == 8)
        w[i + 1] = (uint32_t)(value >> 32);
    struct guest_msix_entry *e = &g->msix.e[k];
    e->addr_lo &= ~3u;
    e->ctrl &= PCI_MSIX_ENTRY_CTRL_MASKBIT; /* the other bits are reserved */
    bool live = !(e->ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT),
         was = !(before.ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
    bool moved = memcmp(&before, e, sizeof(before)) != 0;
    return moved && (live || was) ? (int)k : -1;
}

bool guest_cfg_msix_entry(const struct guest_cfg *g, unsigned k, struct guest_msi *m)
{
    if (k >= g->msix.n)
        return false;
    const struct guest_msix_entry *e = &g->msix.e[k];
    *m = (struct guest_msi){!(e->ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT), e->addr_lo, e->addr_hi,
                            (uint16_t)e->data};
    return m->enabled;
}

void guest_cfg_msix_program(volatile uint32_t *table, unsigned k, const struct iommu_msi_msg *msg)
{
    volatile uint32_t *e = table + k * (PCI_MSIX_ENTRY_SIZE / 4);
    e[3] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
    if (!msg)
        return;
    e[0] = (uint32_t)msg->address;
    e[1] = (uint32_t)(msg->address >> 32);
    e[2] = msg->data;
    e[3] = 0;
}
