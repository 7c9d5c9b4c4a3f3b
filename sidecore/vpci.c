/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The virtio-pci block device's registers (see vpci.h). Offsets and layouts: virtio 1.x,
 * 4.1 (PCI transport) and 5.2 (block device); PCI 3.0 configuration header; MSI-X. */
#include "sidecore/vpci.h"

#include "core/klib.h"
#include "guest-stubs/include/sidecore/abi.h"
#include "sidecore/blk.h"

#define VENDOR_VIRTIO 0x1af4u
#define DEVICE_VIRTIO_BLK 0x1042u /* 0x1040 + device type 2 */
#define SUBSYSTEM_BLK 0x0040u
#define CLASS_STORAGE_OTHER 0x018000u

#define F_SIZE_MAX (1ull << 1)
#define F_SEG_MAX (1ull << 2)
#define F_FLUSH (1ull << 9)
#define F_VERSION_1 (1ull << 32)
#define FEATURES (F_SIZE_MAX | F_SEG_MAX | F_FLUSH | F_VERSION_1)
/* Linux splits requests to fit: SEG_MAX segments of at most SIZE_MAX bytes stay under
 * the largest request blk.c serves, and a chain (header, data, status) fits the queue */
#define SEG_MAX 126u
#define SIZE_MAX_BYTES 8192u
_Static_assert(SEG_MAX *SIZE_MAX_BYTES <= SC_BLK_MAX_BYTES, "a whole request is served");
_Static_assert(SEG_MAX + 2 <= BLK_QUEUE_MAX, "a chain fits the largest queue");

/* PCI configuration space */
#define CFG_COMMAND 0x04u
#define CFG_BAR0 0x10u
#define COMMAND_WRITABLE 0x0406u /* memory space, bus master, INTx disable */
#define STATUS_CAP_LIST 0x0010u
#define CAP_VENDOR 0x09u /* virtio's capabilities are vendor-specific ones */
#define CAP_MSIX 0x11u
#define CAP_FIRST 0x40u
#define CAP_MSIX_AT 0x84u
#define MSIX_ENABLE 0x8000u
#define MSIX_FUNCTION_MASK 0x4000u
#define MSIX_CTRL_MASKED 1u

/* virtio_pci_cap.cfg_type */
enum { CFG_COMMON = 1, CFG_NOTIFY = 2, CFG_ISR = 3, CFG_DEVICE = 4 };

/* Common configuration: offsets of struct virtio_pci_common_cfg. */
enum {
    CC_DFSELECT = 0x00,
    CC_DF = 0x04,
    CC_GFSELECT = 0x08,
    CC_GF = 0x0c,
    CC_MSIX_CONFIG = 0x10,
    CC_NUM_QUEUES = 0x12,
    CC_STATUS = 0x14,
    CC_GENERATION = 0x15,
    CC_Q_SELECT = 0x16,
    CC_Q_SIZE = 0x18,
    CC_Q_MSIX = 0x1a,
    CC_Q_ENABLE = 0x1c,
    CC_Q_NOTIFY_OFF = 0x1e,
    CC_Q_DESC = 0x20,
    CC_Q_DRIVER = 0x28,
    CC_Q_DEVICE = 0x30,
};

static void put(uint8_t *p, unsigned off, unsigned bytes, uint64_t v)
{
    for (unsigned i = 0; i < bytes; i++)
        p[off + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *p, unsigned off, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)p[off + i] << (8 * i);
    return v;
}

static bool valid_size(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

static void reset_virtio(struct vpci_dev *d)
{
    d->device_feature_select = d->driver_feature_select = 0;
    d->driver_features = 0;
    d->msix_config = d->queue_msix_vector = VPCI_NO_VECTOR;
    d->queue_select = 0;
    d->status = 0;
    d->queue_size = BLK_QUEUE_MAX;
    d->queue_enabled = false;
    d->queue_desc = d->queue_driver = d->queue_device = 0;
    d->isr = 0;
}

void vpci_init(struct vpci_dev *d, uint32_t bar0, uint64_t capacity)
{
    *d = (struct vpci_dev){.bar0 = bar0, .capacity = capacity};
    for (unsigned i = 0; i < VPCI_MSIX_ENTRIES; i++)
        d->msix[i].ctrl = MSIX_CTRL_MASKED; /* masked from reset (MSI-X) */
    reset_virtio(d);
}

/* One virtio capability: at `at`, linking to `next`, for the region [off, off + len). */
static void virtio_cap(uint8_t *c, unsigned at, unsigned next, unsigned len, unsigned type,
                       unsigned off, unsigned region_len)
{
    c[at] = CAP_VENDOR;
    c[at + 1] = (uint8_t)next;
    c[at + 2] = (uint8_t)len;
    c[at + 3] = (uint8_t)type;
    c[at + 4] = 0; /* BAR0 */
    put(c, at + 8, 4, off);
    put(c, at + 12, 4, region_len);
}

/* The whole configuration space as it reads now. */
static void config_image(const struct vpci_dev *d, uint8_t c[256])
{
    memset(c, 0, 256);
    put(c, 0x00, 2, VENDOR_VIRTIO);
    put(c, 0x02, 2, DEVICE_VIRTIO_BLK);
    put(c, CFG_COMMAND, 2, d->command);
    put(c, 0x06, 2, STATUS_CAP_LIST);
    c[0x08] = 1; /* revision: a modern-only device */
    put(c, 0x09, 3, CLASS_STORAGE_OTHER);
    put(c, CFG_BAR0, 4, d->bar0_sizing ? ~(VPCI_BAR_SIZE - 1u) : d->bar0);
    put(c, 0x2c, 2, VENDOR_VIRTIO);
    put(c, 0x2e, 2, SUBSYSTEM_BLK);
    c[0x34] = CAP_FIRST;
    virtio_cap(c, 0x40, 0x50, 16, CFG_COMMON, VPCI_COMMON_OFF, VPCI_COMMON_LEN);
    virtio_cap(c, 0x50, 0x64, 20, CFG_NOTIFY, VPCI_NOTIFY_OFF, 2);
    put(c, 0x50 + 16, 4, 0); /* notify_off_multiplier: one register for the one queue */
    virtio_cap(c, 0x64, 0x74, 16, CFG_ISR, VPCI_ISR_OFF, 1);
    virtio_cap(c, 0x74, CAP_MSIX_AT, 16, CFG_DEVICE, VPCI_DEVICE_OFF, VPCI_DEVICE_LEN);
    c[CAP_MSIX_AT] = CAP_MSIX;
    c[CAP_MSIX_AT + 1] = 0; /* the last capability */
    put(c, CAP_MSIX_AT + 2, 2, (VPCI_MSIX_ENTRIES - 1u) | d->msix_flags);
    put(c, CAP_MSIX_AT + 4, 4, VPCI_MSIX_TABLE_OFF); /* BIR 0 */
    put(c, CAP_MSIX_AT + 8, 4, VPCI_MSIX_PBA_OFF);
}

uint32_t vpci_config_read(const struct vpci_dev *d, unsigned devfn, unsigned offset, unsigned size)
{
    if (size != 1 && size != 2 && size != 4)
        return 0;
    if (devfn != VPCI_DEVFN)
        return (uint32_t)(size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1); /* nothing there */
    if (offset >= 256 || size > 256 - offset)
        return 0;
    uint8_t c[256];
    config_image(d, c);
    return (uint32_t)get(c, offset, size);
}

static bool may_deliver(const struct vpci_dev *d, unsigned entry)
{
    return (d->msix_flags & MSIX_ENABLE) && !(d->msix_flags & MSIX_FUNCTION_MASK) &&
           !(d->msix[entry].ctrl & MSIX_CTRL_MASKED);
}

unsigned vpci_config_write(struct vpci_dev *d, unsigned devfn, unsigned offset, unsigned size,
                           uint32_t value)
{
    if (devfn != VPCI_DEVFN || (size != 1 && size != 2 && size != 4) || offset >= 256 ||
        size > 256 - offset)
        return 0;
    /* merge into the dword the write falls in (a write never spans two here: the port
     * offset plus the size stays inside the dword for aligned accesses; an unaligned one
     * is clipped to its dword) */
    unsigned base = offset & ~3u, shift = 8 * (offset & 3);
    uint8_t c[256];
    config_image(d, c);
    uint64_t old = get(c, base, 4);
    uint64_t mask = (size == 4 ? 0xffffffffull : (1ull << (8 * size)) - 1) << shift;
    uint32_t dword = (uint32_t)((old & ~mask) | (((uint64_t)value << shift) & mask));
    switch (base) {
    case CFG_COMMAND:
        if (mask & 0xffff)
            d->command = (uint16_t)(dword & COMMAND_WRITABLE);
        return 0;
    case CFG_BAR0:
        /* sizing: all ones in the address bits; anything else is the fixed address again */
        d->bar0_sizing = (dword & ~(VPCI_BAR_SIZE - 1u)) == ~(VPCI_BAR_SIZE - 1u);
        return 0;
    case CAP_MSIX_AT: {
        if (!(mask & 0xffff0000u))
            return 0;
        bool could[VPCI_MSIX_ENTRIES];
        for (unsigned i = 0; i < VPCI_MSIX_ENTRIES; i++)
            could[i] = may_deliver(d, i);
        d->msix_flags = (uint16_t)((dword >> 16) & (MSIX_ENABLE | MSIX_FUNCTION_MASK));
        for (unsigned i = 0; i < VPCI_MSIX_ENTRIES; i++)
            if (!could[i] && may_deliver(d, i))
                return VPCI_DO_UNMASKED;
        return 0;
    }
    default:
        return 0; /* read-only, or nothing there */
    }
}

/* ---- Configuration mechanism #1 */
#define CONFIG_ENABLE (1u << 31)

enum vpci_port vpci_port_decode(uint32_t latch, uint16_t port, unsigned size, unsigned *devfn,
                                unsigned *offset)
{
    if (port == VPCI_PORT_ADDRESS && size == 4)
        return VPCI_PORT_LATCH;
    if (port < VPCI_PORT_DATA || port > VPCI_PORT_DATA + 3 || (size != 1 && size != 2 && size != 4))
        return VPCI_PORT_NONE;
    *offset = (latch & 0xfc) + (unsigned)(port - VPCI_PORT_DATA);
    bool bus0 = (latch & CONFIG_ENABLE) && ((latch >> 16) & 0xff) == 0;
    *devfn = bus0 ? (latch >> 8) & 0xff : 0x100;
    return VPCI_PORT_CONFIG;
}

bool vpci_port_read(const struct vpci_dev *d, const uint32_t *latch, uint16_t port, unsigned size,
                    uint32_t *value)
{
    unsigned devfn = 0, offset = 0;
    switch (vpci_port_decode(*latch, port, size, &devfn, &offset)) {
    case VPCI_PORT_LATCH:
        *value = *latch;
        return true;
    case VPCI_PORT_CONFIG:
        *value = d ? vpci_config_read(d, devfn, offset, size) : 0xffffffffu;
        return true;
    default:
        return false;
    }
}

bool vpci_port_write(struct vpci_dev *d, uint32_t *latch, uint16_t port, unsigned size,
                     uint32_t value, unsigned *todo)
{
    unsigned devfn = 0, offset = 0;
    *todo = 0;
    switch (vpci_port_decode(*latch, port, size, &devfn, &offset)) {
    case VPCI_PORT_LATCH:
        *latch = value;
        return true;
    case VPCI_PORT_CONFIG:
        *todo = d ? vpci_config_write(d, devfn, offset, size, value) : 0;
        return true;
    default:
        return false;
    }
}

/* ---- BAR0 */
static uint64_t features_half(uint32_t select)
{
    return select == 0 ? (uint32_t)FEATURES : select == 1 ? (uint32_t)(FEATURES >> 32) : 0;
}

static void device_config(const struct vpci_dev *d, uint8_t cfg[VPCI_DEVICE_LEN])
{
    memset(cfg, 0, VPCI_DEVICE_LEN);
    put(cfg, 0x00, 8, d->capacity);
    put(cfg, 0x08, 4, SIZE_MAX_BYTES);
    put(cfg, 0x0c, 4, SEG_MAX);
}

/* A 64-bit field of the common configuration, written whole or by halves. */
static bool write_u64_field(uint64_t *field, unsigned off, unsigned at, unsigned size,
                            uint64_t value)
{
    if (off == at && size == 8)
        *field = value;
    else if (off == at && size == 4)
        *field = (*field & ~0xffffffffull) | (uint32_t)value;
    else if (off == at + 4 && size == 4)
        *field = (*field & 0xffffffffull) | (uint64_t)(uint32_t)value << 32;
    else
        return false;
    return true;
}

static bool read_u64_field(uint64_t field, unsigned off, unsigned at, unsigned size, uint64_t *out)
{
    if (off == at && (size == 8 || size == 4))
        *out = size == 8 ? field : (uint32_t)field;
    else if (off == at + 4 && size == 4)
        *out = field >> 32;
    else
        return false;
    return true;
}

static uint64_t common_read(const struct vpci_dev *d, unsigned off, unsigned size)
{
    bool q0 = d->queue_select == 0;
    uint64_t v = 0;
    if (q0 && (read_u64_field(d->queue_desc, off, CC_Q_DESC, size, &v) ||
               read_u64_field(d->queue_driver, off, CC_Q_DRIVER, size, &v) ||
               read_u64_field(d->queue_device, off, CC_Q_DEVICE, size, &v)))
        return v;
    switch (off << 4 | size) { /* each field at its offset, with its own width */
    case CC_DFSELECT << 4 | 4:
        return d->device_feature_select;
    case CC_DF << 4 | 4:
        return features_half(d->device_feature_select);
    case CC_GFSELECT << 4 | 4:
        return d->driver_feature_select;
    case CC_GF << 4 | 4:
        return d->driver_feature_select < 2
                   ? (uint32_t)(d->driver_features >> (32 * d->driver_feature_select))
                   : 0;
    case CC_MSIX_CONFIG << 4 | 2:
        return d->msix_config;
    case CC_NUM_QUEUES << 4 | 2:
        return 1;
    case CC_STATUS << 4 | 1:
        return d->status;
    case CC_GENERATION << 4 | 1:
        return 0; /* the device configuration never changes */
    case CC_Q_SELECT << 4 | 2:
        return d->queue_select;
    case CC_Q_SIZE << 4 | 2:
        return q0 ? d->queue_size : 0; /* 0: no such queue */
    case CC_Q_MSIX << 4 | 2:
        return q0 ? d->queue_msix_vector : VPCI_NO_VECTOR;
    case CC_Q_ENABLE << 4 | 2:
        return q0 && d->queue_enabled;
    default:
        return 0; /* queue_notify_off (0), or not a field */
    }
}

static uint16_t msix_vector(uint64_t value)
{
    return value < VPCI_MSIX_ENTRIES ? (uint16_t)value : VPCI_NO_VECTOR;
}

static unsigned status_write(struct vpci_dev *d, uint8_t value)
{
    if (value == 0) {
        reset_virtio(d);
        return VPCI_DO_RESET;
    }
    uint8_t s = value;
    /* FEATURES_OK only for a subset of what is offered, VERSION_1 included (virtio 3.1.1) */
    if ((s & VPCI_S_FEATURES_OK) && !(d->status & VPCI_S_FEATURES_OK) &&
        ((d->driver_features & ~FEATURES) || !(d->driver_features & F_VERSION_1)))
        s &= (uint8_t)~VPCI_S_FEATURES_OK;
    d->status = (uint8_t)(s | (d->status & VPCI_S_NEEDS_RESET)); /* the device's own bit */
    return 0;
}

static unsigned common_write(struct vpci_dev *d, unsigned off, unsigned size, uint64_t value)
{
    bool q0 = d->queue_select == 0;
    if (q0 && !d->queue_enabled &&
        (write_u64_field(&d->queue_desc, off, CC_Q_DESC, size, value) ||
         write_u64_field(&d->queue_driver, off, CC_Q_DRIVER, size, value) ||
         write_u64_field(&d->queue_device, off, CC_Q_DEVICE, size, value)))
        return 0;
    switch (off << 4 | size) {
    case CC_DFSELECT << 4 | 4:
        d->device_feature_select = (uint32_t)value;
        return 0;
    case CC_GFSELECT << 4 | 4:
        d->driver_feature_select = (uint32_t)value;
        return 0;
    case CC_GF << 4 | 4:
        if (d->driver_feature_select < 2 && !(d->status & VPCI_S_FEATURES_OK)) {
            unsigned shift = 32 * d->driver_feature_select;
            d->driver_features = (d->driver_features & ~(0xffffffffull << shift)) |
                                 (uint64_t)(uint32_t)value << shift;
        }
        return 0;
    case CC_MSIX_CONFIG << 4 | 2:
        d->msix_config = msix_vector(value);
        return 0;
    case CC_STATUS << 4 | 1:
        return status_write(d, (uint8_t)value);
    case CC_Q_SELECT << 4 | 2:
        d->queue_select = (uint16_t)value;
        return 0;
    case CC_Q_SIZE << 4 | 2:
        if (q0 && !d->queue_enabled)
            d->queue_size = (uint16_t)value; /* checked when the queue is enabled */
        return 0;
    case CC_Q_MSIX << 4 | 2:
        if (q0)
            d->queue_msix_vector = msix_vector(value);
        return 0;
    case CC_Q_ENABLE << 4 | 2:
        if (!q0 || d->queue_enabled || value != 1)
            return 0; /* only 1 may be written (virtio 4.1.4.3.2) */
        d->queue_enabled = true;
        return VPCI_DO_QUEUE_ENABLE;
    default:
        return 0;
    }
}

static uint64_t msix_read(const struct vpci_dev *d, unsigned off, unsigned size)
{
    if ((size != 4 && size != 8) || (off & (size - 1)))
        return 0; /* MSI-X: dword or aligned qword accesses only */
    uint32_t words[VPCI_MSIX_ENTRIES * 4];
    memcpy(words, d->msix, sizeof(words));
    unsigned w = off / 4;
    uint64_t lo = w < VPCI_MSIX_ENTRIES * 4 ? words[w] : 0;
    uint64_t hi = w + 1 < VPCI_MSIX_ENTRIES * 4 ? words[w + 1] : 0;
    return size == 4 ? lo : lo | hi << 32;
}

static unsigned msix_write_word(struct vpci_dev *d, unsigned w, uint32_t value)
{
    if (w >= VPCI_MSIX_ENTRIES * 4)
        return 0;
    struct vpci_msix_entry *e = &d->msix[w / 4];
    unsigned entry = w / 4;
    bool could = may_deliver(d, entry);
    switch (w % 4) {
    case 0:
        e->addr_lo = value;
        return 0;
    case 1:
        e->addr_hi = value;
        return 0;
    case 2:
        e->data = value;
        return 0;
    default:
        e->ctrl = value & MSIX_CTRL_MASKED;
        return !could && may_deliver(d, entry) ? VPCI_DO_UNMASKED : 0;
    }
}

uint64_t vpci_bar_read(struct vpci_dev *d, uint64_t offset, unsigned size)
{
    if (!valid_size(size) || offset >= VPCI_BAR_SIZE || size > VPCI_BAR_SIZE - offset)
        return 0;
    unsigned off = (unsigned)offset;
    if (off < VPCI_COMMON_OFF + VPCI_COMMON_LEN)
        return common_read(d, off - VPCI_COMMON_OFF, size);
    if (off == VPCI_ISR_OFF) {
        uint8_t isr = d->isr; /* read to clear (virtio 4.1.4.5) */
        d->isr = 0;
        return isr;
    }
    if (off >= VPCI_DEVICE_OFF && off + size <= VPCI_DEVICE_OFF + VPCI_DEVICE_LEN) {
        uint8_t cfg[VPCI_DEVICE_LEN];
        device_config(d, cfg);
        return get(cfg, off - VPCI_DEVICE_OFF, size);
    }
    if (off >= VPCI_MSIX_TABLE_OFF && off < VPCI_MSIX_PBA_OFF)
        return msix_read(d, off - VPCI_MSIX_TABLE_OFF, size);
    if (off == VPCI_MSIX_PBA_OFF && (size == 4 || size == 8))
        return d->pending;
    return 0;
}

unsigned vpci_bar_write(struct vpci_dev *d, uint64_t offset, unsigned size, uint64_t value)
{
    if (!valid_size(size) || offset >= VPCI_BAR_SIZE || size > VPCI_BAR_SIZE - offset)
        return 0;
    unsigned off = (unsigned)offset;
    if (off < VPCI_COMMON_OFF + VPCI_COMMON_LEN)
        return common_write(d, off - VPCI_COMMON_OFF, size, value);
    if (off >= VPCI_NOTIFY_OFF && off < VPCI_NOTIFY_OFF + 2)
        return d->queue_enabled ? VPCI_DO_NOTIFY : 0;
    if (off >= VPCI_MSIX_TABLE_OFF && off < VPCI_MSIX_PBA_OFF) {
        unsigned rel = off - VPCI_MSIX_TABLE_OFF;
        if ((size != 4 && size != 8) || (rel & (size - 1)))
            return 0;
        unsigned todo = msix_write_word(d, rel / 4, (uint32_t)value);
        if (size == 8)
            todo |= msix_write_word(d, rel / 4 + 1, (uint32_t)(value >> 32));
        return todo;
    }
    return 0; /* ISR, device configuration, PBA: read-only */
}

void vpci_queue_rings(const struct vpci_dev *d, uint64_t *desc, uint64_t *avail, uint64_t *used,
                      uint16_t *size)
{
    *desc = d->queue_desc;
    *avail = d->queue_driver;
    *used = d->queue_device;
    *size = d->queue_size;
}

bool vpci_raise(struct vpci_dev *d, bool queue, struct vpci_msix_entry *msg)
{
    uint16_t v = queue ? d->queue_msix_vector : d->msix_config;
    if (!(d->msix_flags & MSIX_ENABLE) || v >= VPCI_MSIX_ENTRIES) {
        d->isr |= queue ? 1 : 2; /* no message: only the ISR tells (no INTx either) */
        return false;
    }
    if (!may_deliver(d, v)) {
        d->pending |= (uint8_t)(1u << v);
        return false;
    }
    *msg = d->msix[v];
    return true;
}

bool vpci_take_pending(struct vpci_dev *d, struct vpci_msix_entry *msg)
{
    for (unsigned i = 0; i < VPCI_MSIX_ENTRIES; i++) {
        if ((d->pending & (1u << i)) && may_deliver(d, i)) {
            d->pending &= (uint8_t) ~(1u << i);
            *msg = d->msix[i];
            return true;
        }
    }
    return false;
}

#define MSI_ADDRESS_BASE 0xfee00000u
#define MSI_ADDRESS_MASK 0xfff00000u
#define MSI_REMAPPABLE (1u << 4)
#define MSI_DEST_LOGICAL (1u << 2)
#define MSI_DATA_DELIVERY(data) (((data) >> 8) & 7u) /* 0 fixed, 1 lowest priority */

const char *vpci_msi_decode(const struct vpci_msix_entry *m, uint32_t *apic_id, uint8_t *vector)
{
    uint32_t v = m->data & 0xff;
    if (m->addr_hi || (m->addr_lo & MSI_ADDRESS_MASK) != MSI_ADDRESS_BASE)
        return "not an interrupt message address";
    if (m->addr_lo & MSI_REMAPPABLE)
        return "an interrupt-remapping format, and there is no remapping";
    if ((m->addr_lo & MSI_DEST_LOGICAL) || MSI_DATA_DELIVERY(m->data) > 1)
        return "only fixed interrupts to one physical APIC ID are sent";
    if (v < SC_VECTOR_MIN || v > SC_VECTOR_MAX)
        return "the vector is not a guest vector";
    *apic_id = ((m->addr_lo >> 12) & 0xff) | ((m->addr_lo >> 5) & 0x7f) << 8;
    *vector = (uint8_t)v;
    return NULL;
}

bool vpci_needs_reset(struct vpci_dev *d, struct vpci_msix_entry *msg)
{
    d->status |= VPCI_S_NEEDS_RESET;
    return vpci_raise(d, false, msg);
}
