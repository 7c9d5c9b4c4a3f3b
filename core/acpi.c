/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* ACPI table parser: hardware layouts, checksum and length checks, MADT and FADT decoding. */
#include "core/acpi.h"

#include "core/klib.h"
#include "core/refusal.h"

/* ---- Hardware layouts (ACPI 6.x). Tables sit at any byte address: every multi-byte field is
 * read with memcpy into a local, never through a pointer to the table. ---- */

#define ACPI_PACKED __attribute__((packed))

/* Root System Description Pointer. */
struct acpi_rsdp {
    char signature[8]; /* "RSD PTR " */
    uint8_t checksum;  /* bytes 0..19 sum to 0 */
    char oem_id[6];
    uint8_t revision; /* 0 for ACPI 1.0, 2 from ACPI 2.0 on */
    uint32_t rsdt_address;
    /* revision >= 2 from here on */
    uint32_t length;
    uint64_t xsdt_address;
    uint8_t extended_checksum; /* bytes 0..length-1 sum to 0 */
    uint8_t reserved[3];
} ACPI_PACKED;
_Static_assert(offsetof(struct acpi_rsdp, signature) == 0, "RSDP layout");
_Static_assert(offsetof(struct acpi_rsdp, checksum) == 8, "RSDP layout");
_Static_assert(offsetof(struct acpi_rsdp, oem_id) == 9, "RSDP layout");
_Static_assert(offsetof(struct acpi_rsdp, revision) == 15, "RSDP layout");
_Static_assert(offsetof(struct acpi_rsdp, rsdt_address) == 16, "RSDP layout");
_Static_assert(offsetof(struct acpi_rsdp, length) == 20, "RSDP layout");
_Static_assert(offsetof(struct acpi_rsdp, xsdt_address) == 24, "RSDP layout");
_Static_assert(offsetof(struct acpi_rsdp, extended_checksum) == 32, "RSDP layout");
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP layout");
#define ACPI_RSDP_V1_SIZE 20u
#define ACPI_RSDP_MAX_LENGTH 4096u /* larger Length fields are taken as garbage */

/* System Description Table header, common to every table but the RSDP. */
struct acpi_sdt_header {
    char signature[4];
    uint32_t length; /* whole table, header included */
    uint8_t revision;
    uint8_t checksum; /* whole table sums to 0 */
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
} ACPI_PACKED;
_Static_assert(offsetof(struct acpi_sdt_header, signature) == 0, "SDT header layout");
_Static_assert(offsetof(struct acpi_sdt_header, length) == 4, "SDT header layout");
_Static_assert(offsetof(struct acpi_sdt_header, checksum) == 9, "SDT header layout");
_Static_assert(offsetof(struct acpi_sdt_header, oem_id) == 10, "SDT header layout");
_Static_assert(sizeof(struct acpi_sdt_header) == 36, "SDT header layout");
#define ACPI_SDT_HEADER_SIZE ((uint32_t)sizeof(struct acpi_sdt_header))

/* Multiple APIC Description Table ("APIC"): header, then variable entries. */
struct acpi_madt {
    struct acpi_sdt_header hdr;
    uint32_t lapic_address;
    uint32_t flags;
} ACPI_PACKED;
_Static_assert(offsetof(struct acpi_madt, lapic_address) == 36, "MADT layout");
_Static_assert(offsetof(struct acpi_madt, flags) == 40, "MADT layout");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT layout");
#define ACPI_MADT_PCAT_COMPAT (1u << 0)

struct acpi_madt_entry_header {
    uint8_t type;
    uint8_t length; /* whole entry, these two bytes included */
} ACPI_PACKED;
_Static_assert(offsetof(struct acpi_madt_entry_header, length) == 1, "MADT entry layout");
_Static_assert(sizeof(struct acpi_madt_entry_header) == 2, "MADT entry layout");

#define ACPI_MADT_LOCAL_APIC 0
#define ACPI_MADT_IO_APIC 1
#define ACPI_MADT_INT_OVERRIDE 2
#define ACPI_MADT_LAPIC_ADDR_OVERRIDE 5
#define ACPI_MADT_LOCAL_X2APIC 9

#define ACPI_MADT_CPU_ENABLED (1u << 0)        /* flags of types 0 and 9 */
#define ACPI_MADT_CPU_ONLINE_CAPABLE (1u << 1) /* from MADT revision 5 (ACPI 6.3) */
#define ACPI_MADT_REVISION_ONLINE_CAPABLE 5
#define ACPI_XAPIC_ID_NONE 0xffu        /* placeholder ID in a type-0 entry */
#define ACPI_X2APIC_ID_NONE 0xffffffffu /* the broadcast ID, never a CPU */

struct acpi_madt_local_apic {
    struct acpi_madt_entry_header h;
    uint8_t processor_uid;
    uint8_t apic_id;
    uint32_t flags;
} ACPI_PACKED;
_Static_assert(offsetof(struct acpi_madt_local_apic, processor_uid) == 2, "MADT type 0 layout");
_Static_assert(offsetof(struct acpi_madt_local_apic, apic_id) == 3, "MADT type 0 layout");
_Static_assert(offsetof(struct acpi_madt_local_apic, flags) == 4, "MADT type 0 layout");
_Static_assert(sizeof(struct acpi_madt_local_apic) == 8, "MADT type 0 layout");

struct acpi_madt_io_apic {
    struct acpi_madt_entry_header h;
    uint8_t id;
    uint8_t reserved;
    uint32_t address;
    uint32_t gsi_base;
} ACPI_PACKED;
_Static_assert(offsetof(struct acpi_madt_io_apic, id) == 2, "MADT type 1 layout");
_Static_assert(offsetof(struct acpi_madt_io_apic, address) == 4, "MADT type 1 layout");
_Static_assert(offsetof(struct acpi_madt_io_apic, gsi_base) == 8, "MADT type 1 layout");
_Static_assert(sizeof(struct acpi_madt_io_apic) == 12, "MADT type 1 layout");

/* Interrupt source override: only counted, so only its size matters. */
struct acpi_madt_int_override {
    struct acpi_madt_entry_header h;
    uint8_t bus;
    uint8_t source;
    uint32_t gsi;
    uint16_t flags;
} ACPI_PACKED;
_Static_assert(offsetof(struct acpi_madt_int_override, gsi) == 4, "MADT type 2 layout");
_Static_assert(sizeof(struct acpi_madt_int_override) == 10, "MADT type 2 layout");

struct acpi_madt_lapic_override {
    struct acpi_madt_entry_header h;
    uint16_t reserved;
    uint64_t address;
} ACPI_PACKED;
_Static_assert(offsetof(struct acpi_madt_lapic_override, address) == 4, "MADT type 5 layout");
_Static_assert(sizeof(struct acpi_madt_lapic_override) == 12, "MADT type 5 layout");

struct acpi_madt_local_x2apic {
    struct acpi_madt_entry_header h;
    uint16_t reserved;
    uint32_t x2apic_id;
    uint32_t flags;
    uint32_t processor_uid;
} ACPI_PACKED;
_Static_assert(offsetof(struct acpi_madt_local_x2apic, x2apic_id) == 4, "MADT type 9 layout");
_Static_assert(offsetof(struct acpi_madt_local_x2apic, flags) == 8, "MADT type 9 layout");
_Static_assert(offsetof(struct acpi_madt_local_x2apic, processor_uid) == 12, "MADT type 9 layout");
_Static_assert(sizeof(struct acpi_madt_local_x2apic) == 16, "MADT type 9 layout");

/* Generic Address Structure as stored in tables. */
struct acpi_gas_hw {
    uint8_t space_id;
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size;
    uint64_t address;
} ACPI_PACKED;
_Static_assert(offsetof(struct acpi_gas_hw, bit_width) == 1, "GAS layout");
_Static_assert(offsetof(struct acpi_gas_hw, bit_offset) == 2, "GAS layout");
_Static_assert(offsetof(struct acpi_gas_hw, access_size) == 3, "GAS layout");
_Static_assert(offsetof(struct acpi_gas_hw, address) == 4, "GAS layout");
_Static_assert(sizeof(struct acpi_gas_hw) == 12, "GAS layout");

/* Fixed ACPI Description Table ("FACP"), up to the last field used. Old FADTs are shorter than
 * this: a field is read only if it lies inside the table's length. */
struct acpi_fadt {
    struct acpi_sdt_header hdr;
    uint32_t firmware_ctrl;
    uint32_t dsdt;
    uint8_t reserved0;
    uint8_t preferred_pm_profile;
    uint16_t sci_int;
    uint32_t smi_cmd;
    uint8_t acpi_enable;
    uint8_t acpi_disable;
    uint8_t s4bios_req;
    uint8_t pstate_cnt;
    uint32_t pm1a_evt_blk;
    uint32_t pm1b_evt_blk;
    uint32_t pm1a_cnt_blk;
    uint32_t pm1b_cnt_blk;
    uint32_t pm2_cnt_blk;
    uint32_t pm_tmr_blk;
    uint32_t gpe0_blk;
    uint32_t gpe1_blk;
    uint8_t pm1_evt_len;
    uint8_t pm1_cnt_len;
    uint8_t pm2_cnt_len;
    uint8_t pm_tmr_len;
    uint8_t gpe0_blk_len;
    uint8_t gpe1_blk_len;
    uint8_t gpe1_base;
    uint8_t cst_cnt;
    uint16_t p_lvl2_lat;
    uint16_t p_lvl3_lat;
    uint16_t flush_size;
    uint16_t flush_stride;
    uint8_t duty_offset;
    uint8_t duty_width;
    uint8_t day_alrm;
    uint8_t mon_alrm;
    uint8_t century;
    uint16_t iapc_boot_arch;
    uint8_t reserved1;
    uint32_t flags;
    struct acpi_gas_hw reset_reg;
    uint8_t reset_value;
} ACPI_PACKED;
_Static_assert(offsetof(struct acpi_fadt, pm_tmr_blk) == 76, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, reset_value) == 128, "FADT layout");
_Static_assert(sizeof(struct acpi_fadt) == 129, "FADT layout");
#define ACPI_FADT_RESET_REG_SUP (1u << 10)

/* Offset just past a member: the table length a field needs in order to be present. */
/* PCI Express memory-mapped configuration ("MCFG", PCI Firmware 3.2, 4.1.2): header, 8
 * reserved bytes, then one allocation per ECAM range. */
#define ACPI_MCFG_FIRST_ENTRY 44u
struct acpi_mcfg_entry {
    uint64_t base; /* of bus 0, even when start_bus is not 0 */
    uint16_t segment;
    uint8_t start_bus;
    uint8_t end_bus;
    uint32_t reserved;
} ACPI_PACKED;
_Static_assert(offsetof(struct acpi_mcfg_entry, segment) == 8, "MCFG entry layout");
_Static_assert(offsetof(struct acpi_mcfg_entry, end_bus) == 11, "MCFG entry layout");
_Static_assert(sizeof(struct acpi_mcfg_entry) == 16, "MCFG entry layout");

#define ACPI_FIELD_END(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

/* Copies member of the layout type found at base into dst (a local of the member's size). */
#define ACPI_READ(dst, base, type, member)                                                         \
    do {                                                                                           \
        _Static_assert(sizeof(dst) == sizeof(((type *)0)->member), "field size");                  \
        memcpy(&(dst), (const uint8_t *)(base) + offsetof(type, member), sizeof(dst));             \
    } while (0)

/* ---- Helpers ---- */

static uint8_t byte_sum(const uint8_t *p, uint64_t len)
{
    uint8_t sum = 0;
    for (uint64_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum;
}

static const uint8_t *map(const struct acpi_mem *mem, uint64_t pa, uint64_t len)
{
    return (const uint8_t *)mem->map(mem->ctx, pa, len);
}

/* A signature as text for messages and refs: 4 bytes, non-printable ones as '?'. */
static void sig_text(char out[5], const uint8_t *sig)
{
    for (int i = 0; i < 4; i++)
        out[i] = sig[i] >= 0x20 && sig[i] < 0x7f ? (char)sig[i] : '?';
    out[4] = '\0';
}

/* What the RSDP says. */
struct rsdp_view {
    uint8_t revision;
    uint32_t length; /* 20 for revision < 2 */
    char oem_id[7];
    bool use_xsdt;
    uint64_t root; /* XSDT or RSDT address */
};

static int read_rsdp(const struct acpi_mem *mem, uint64_t pa, bool check_sums, struct rsdp_view *v,
                     struct refusal *why)
{
    struct acpi_rsdp r;
    const uint8_t *p = map(mem, pa, ACPI_RSDP_V1_SIZE);
    if (!p)
        return refuse(why, E_FAULT, "RSDP at 0x%llx is not accessible", (unsigned long long)pa);
    memset(&r, 0, sizeof(r));
    memcpy(&r, p, ACPI_RSDP_V1_SIZE);
    if (memcmp(r.signature, "RSD PTR ", sizeof(r.signature)) != 0)
        return refuse(why, E_BADMSG, "RSDP signature is not \"RSD PTR \"");
    if (check_sums && byte_sum(p, ACPI_RSDP_V1_SIZE) != 0)
        return refuse(why, E_BADMSG, "RSDP checksum mismatch");

    v->revision = r.revision;
    memcpy(v->oem_id, r.oem_id, sizeof(r.oem_id));
    v->oem_id[6] = '\0';
    v->length = ACPI_RSDP_V1_SIZE;
    v->use_xsdt = false;
    v->root = r.rsdt_address;

    if (r.revision >= 2) {
        p = map(mem, pa, sizeof(r));
        if (!p)
            return refuse(why, E_FAULT,
                          "RSDP revision %u at 0x%llx: its 36 bytes are not accessible", r.revision,
                          (unsigned long long)pa);
        memcpy(&r, p, sizeof(r));
        if (r.length < sizeof(r))
            return refuse(why, E_BADMSG, "RSDP length %u is shorter than 36", r.length);
        if (r.length > ACPI_RSDP_MAX_LENGTH)
            return refuse(why, E_BADMSG, "RSDP length %u is implausible (over %u)", r.length,
                          ACPI_RSDP_MAX_LENGTH);
        p = map(mem, pa, r.length);
        if (!p)
            return refuse(why, E_FAULT, "RSDP length %u overruns accessible memory", r.length);
        if (check_sums && byte_sum(p, r.length) != 0)
            return refuse(why, E_BADMSG, "RSDP extended checksum mismatch");
        v->length = r.length;
        if (r.xsdt_address) {
            v->use_xsdt = true;
            v->root = r.xsdt_address;
        }
    }
    if (!v->root)
        return refuse(why, E_NOENT, "RSDP has neither an XSDT nor an RSDT address");
    return 0;
}

/* Maps a whole table at pa and checks it: signature, length, accessibility, checksum.
 * name is what messages call it ("MADT" for signature "APIC"). */
static int load_table(const struct acpi_mem *mem, uint64_t pa, const char *sig, const char *name,
                      const uint8_t **table, uint32_t *length, struct refusal *why)
{
    struct acpi_sdt_header h;
    const uint8_t *p = map(mem, pa, ACPI_SDT_HEADER_SIZE);
    if (!p)
        return refuse(why, E_FAULT, "%s at 0x%llx is not accessible", name, (unsigned long long)pa);
    memcpy(&h, p, sizeof(h));
    if (memcmp(h.signature, sig, sizeof(h.signature)) != 0) {
        char found[5];
        sig_text(found, p);
        return refuse(why, E_BADMSG, "%s signature is \"%s\", expected \"%s\"", name, found, sig);
    }
    if (h.length < ACPI_SDT_HEADER_SIZE)
        return refuse(why, E_BADMSG, "%s length %u is shorter than its header", name, h.length);
    p = map(mem, pa, h.length);
    if (!p)
        return refuse(why, E_FAULT, "%s length %u at 0x%llx overruns accessible memory", name,
                      h.length, (unsigned long long)pa);
    uint8_t sum = byte_sum(p, h.length);
    if (sum != 0)
        return refuse(why, E_BADMSG, "%s checksum mismatch (bytes sum to 0x%02x)", name, sum);
    *table = p;
    *length = h.length;
    return 0;
}

/* Address of root table entry i; entries are 8 bytes (XSDT) or 4 bytes (RSDT). */
static uint64_t root_entry(const uint8_t *root, bool xsdt, uint32_t i)
{
    const uint8_t *e = root + ACPI_SDT_HEADER_SIZE + (uint64_t)i * (xsdt ? 8 : 4);
    if (xsdt) {
        uint64_t a;
        memcpy(&a, e, sizeof(a));
        return a;
    }
    uint32_t a;
    memcpy(&a, e, sizeof(a));
    return a;
}

static uint32_t root_entry_count(uint32_t length, bool xsdt)
{
    return (length - ACPI_SDT_HEADER_SIZE) / (xsdt ? 8 : 4);
}

/* ---- MADT ---- */

static void add_cpu(struct acpi_info *out, uint32_t apic_id, uint32_t uid, bool x2apic)
{
    for (unsigned i = 0; i < out->ncpus; i++)
        if (out->cpus[i].apic_id == apic_id)
            return; /* listed twice (e.g. as type 0 and type 9): counted once */
    if (out->ncpus == ACPI_MAX_CPUS) {
        out->dropped_cpus++;
        return;
    }
    out->cpus[out->ncpus++] =
        (struct acpi_cpu){.apic_id = apic_id, .uid = uid, .x2apic_entry = x2apic};
}

/* A disabled entry: a CPU that may come online later, or an empty slot. Which one is told
 * once the whole table is read (classify_disabled). */
static void add_disabled(struct acpi_info *out, uint32_t apic_id, uint32_t flags, uint8_t revision)
{
    if (revision >= ACPI_MADT_REVISION_ONLINE_CAPABLE && !(flags & ACPI_MADT_CPU_ONLINE_CAPABLE)) {
        out->placeholder_slots++;
        return;
    }
    for (unsigned i = 0; i < out->disabled_cpus; i++) {
        if (out->disabled_ids[i] == apic_id) { /* listed again: a slot */
            out->placeholder_slots++;
            return;
        }
    }
    if (out->disabled_cpus == ACPI_MAX_CPUS) { /* beyond what can be told apart */
        out->placeholder_slots++;
        return;
    }
    out->disabled_ids[out->disabled_cpus++] = apic_id;
}

/* An APIC ID that an enabled CPU has (enabled entries may come later in the table) is no
 * CPU of its own. Only called on a MADT that parsed: a failed parse is not read further. */
static void classify_disabled(struct acpi_info *out)
{
    unsigned kept = 0;
    for (unsigned i = 0; i < out->disabled_cpus; i++) {
        uint32_t id = out->disabled_ids[i];
        bool dup = false;
        for (unsigned j = 0; j < out->ncpus && !dup; j++)
            dup = out->cpus[j].apic_id == id;
        if (dup)
            out->placeholder_slots++;
        else
            out->disabled_ids[kept++] = id;
    }
    out->disabled_cpus = kept;
}

static int entry_too_short(struct refusal *why, const char *what, uint32_t off, uint8_t len,
                           size_t need)
{
    return refuse(why, E_BADMSG, "MADT %s entry at offset %u has length %u, expected at least %u",
                  what, off, len, (unsigned)need);
}

static int parse_madt(const uint8_t *t, uint32_t len, struct acpi_info *out, struct refusal *why)
{
    if (len < sizeof(struct acpi_madt))
        return refuse(why, E_BADMSG, "MADT length %u is shorter than its 44-byte header", len);
    uint32_t lapic, flags;
    ACPI_READ(lapic, t, struct acpi_madt, lapic_address);
    ACPI_READ(flags, t, struct acpi_madt, flags);
    out->lapic_address = lapic;
    out->pcat_compat = flags & ACPI_MADT_PCAT_COMPAT;
    uint8_t revision = t[8]; /* the SDT header's revision */

    uint32_t off = sizeof(struct acpi_madt);
    while (off < len) {
        if (len - off < sizeof(struct acpi_madt_entry_header))
            return refuse(why, E_BADMSG, "MADT entry at offset %u overruns the table", off);
        const uint8_t *e = t + off;
        uint8_t type = e[0], elen = e[1];
        if (elen < sizeof(struct acpi_madt_entry_header))
            return refuse(why, E_BADMSG, "MADT entry at offset %u has length %u (minimum 2)", off,
                          elen);
        if (elen > len - off)
            return refuse(why, E_BADMSG, "MADT entry at offset %u overruns the table (length %u)",
                          off, elen);

        switch (type) {
        case ACPI_MADT_LOCAL_APIC: {
            struct acpi_madt_local_apic la;
            if (elen < sizeof(la))
                return entry_too_short(why, "local APIC", off, elen, sizeof(la));
            memcpy(&la, e, sizeof(la));
            if (la.apic_id == ACPI_XAPIC_ID_NONE)
                break;
            if (!(la.flags & ACPI_MADT_CPU_ENABLED))
                add_disabled(out, la.apic_id, la.flags, revision);
            else
                add_cpu(out, la.apic_id, la.processor_uid, false);
            break;
        }
        case ACPI_MADT_LOCAL_X2APIC: {
            struct acpi_madt_local_x2apic x2;
            if (elen < sizeof(x2))
                return entry_too_short(why, "local x2APIC", off, elen, sizeof(x2));
            memcpy(&x2, e, sizeof(x2));
            if (x2.x2apic_id == ACPI_X2APIC_ID_NONE)
                break;
            if (!(x2.flags & ACPI_MADT_CPU_ENABLED))
                add_disabled(out, x2.x2apic_id, x2.flags, revision);
            else
                add_cpu(out, x2.x2apic_id, x2.processor_uid, true);
            break;
        }
        case ACPI_MADT_IO_APIC: {
            struct acpi_madt_io_apic io;
            if (elen < sizeof(io))
                return entry_too_short(why, "IO APIC", off, elen, sizeof(io));
            memcpy(&io, e, sizeof(io));
            if (out->nioapics < ACPI_MAX_IOAPICS)
                out->ioapics[out->nioapics++] = (struct acpi_ioapic){
                    .id = io.id, .address = io.address, .gsi_base = io.gsi_base};
            else
                out->dropped_ioapics++;
            break;
        }
        case ACPI_MADT_INT_OVERRIDE:
            if (elen < sizeof(struct acpi_madt_int_override))
                return entry_too_short(why, "interrupt source override", off, elen,
                                       sizeof(struct acpi_madt_int_override));
            out->interrupt_overrides++;
            break;
        case ACPI_MADT_LAPIC_ADDR_OVERRIDE: {
            struct acpi_madt_lapic_override lo;
            if (elen < sizeof(lo))
                return entry_too_short(why, "local APIC address override", off, elen, sizeof(lo));
            memcpy(&lo, e, sizeof(lo));
            out->lapic_address = lo.address;
            break;
        }
        default:
            break; /* other entry types are skipped by their length */
        }
        off += elen;
    }
    classify_disabled(out);
    return 0;
}

/* ---- FADT ---- */

static void parse_fadt(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
    out->has_fadt = true;
    if (len >= ACPI_FIELD_END(struct acpi_fadt, pm_tmr_blk))
        ACPI_READ(out->pm_timer_port, t, struct acpi_fadt, pm_tmr_blk);
    uint32_t flags = 0;
    if (len >= ACPI_FIELD_END(struct acpi_fadt, flags))
        ACPI_READ(flags, t, struct acpi_fadt, flags);
    if (len >= ACPI_FIELD_END(struct acpi_fadt, reset_value)) {
        struct acpi_gas_hw g;
        ACPI_READ(g, t, struct acpi_fadt, reset_reg);
        out->reset_reg = (struct acpi_gas){.space_id = g.space_id,
                                           .bit_width = g.bit_width,
                                           .bit_offset = g.bit_offset,
                                           .access_size = g.access_size,
                                           .address = g.address};
        ACPI_READ(out->reset_value, t, struct acpi_fadt, reset_value);
        out->reset_supported = flags & ACPI_FADT_RESET_REG_SUP;
    }
}

static void parse_mcfg(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
    for (uint32_t off = ACPI_MCFG_FIRST_ENTRY; off + sizeof(struct acpi_mcfg_entry) <= len;
         off += sizeof(struct acpi_mcfg_entry)) {
        struct acpi_mcfg_entry e;
        memcpy(&e, t + off, sizeof(e));
        if (e.end_bus < e.start_bus || !e.base || (e.base & 0xfffff)) {
            out->bad_ecam++; /* unusable: no bus range, or not 1 MiB aligned */
            continue;
        }
        if (out->necam == ACPI_MAX_ECAM) {
            out->dropped_ecam++;
            continue;
        }
        out->ecam[out->necam++] = (struct acpi_ecam){
            .base = e.base, .segment = e.segment, .start_bus = e.start_bus, .end_bus = e.end_bus};
    }
}

/* An optional table kept by reference for a later parser (the IOMMU's); the first one wins. */
static void keep_ref(struct acpi_table_ref *ref, const char *sig, uint64_t pa, uint32_t len)
{
    if (ref->address)
        return;
    memcpy(ref->signature, sig, 4);
    ref->signature[4] = 0;
    ref->address = pa;
    ref->length = len;
}

/* ---- Entry points ---- */

int acpi_parse(const struct acpi_mem *mem, uint64_t rsdp_pa, struct acpi_info *out,
               struct refusal *why)
{
    if (why)
        why->text[0] = '\0';
    if (!mem || !mem->map || !out)
        return refuse(why, E_INVAL, "acpi_parse needs a memory accessor and an output");
    memset(out, 0, sizeof(*out));

    struct rsdp_view rv;
    int err = read_rsdp(mem, rsdp_pa, true, &rv, why);
    if (err)
        return err;
    out->rsdp_revision = rv.revision;
    out->uses_xsdt = rv.use_xsdt;
    memcpy(out->oem_id, rv.oem_id, sizeof(out->oem_id));

    const char *root_name = rv.use_xsdt ? "XSDT" : "RSDT";
    const uint8_t *root;
    uint32_t root_len;
    err = load_table(mem, rv.root, root_name, root_name, &root, &root_len, why);
    if (err)
        return err;

    const uint8_t *madt = NULL, *fadt = NULL;
    uint32_t madt_len = 0, fadt_len = 0;
    uint32_t n = root_entry_count(root_len, rv.use_xsdt);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t pa = root_entry(root, rv.use_xsdt, i);
        const uint8_t *h = pa ? map(mem, pa, ACPI_SDT_HEADER_SIZE) : NULL;
        if (!h)
            continue; /* not a table we can see; an error only if it was one we need */
        if (!madt && memcmp(h, "APIC", 4) == 0) {
            err = load_table(mem, pa, "APIC", "MADT", &madt, &madt_len, why);
            if (err)
                return err;
            out->madt_address = pa;
        } else if (!fadt && memcmp(h, "FACP", 4) == 0) {
            err = load_table(mem, pa, "FACP", "FADT", &fadt, &fadt_len, why);
            if (err)
                return err;
        } else if (!out->mcfg_address && memcmp(h, "MCFG", 4) == 0) {
            /* optional: a broken MCFG means no PCI configuration access, not no boot */
            const uint8_t *mcfg;
            uint32_t mcfg_len;
            if (load_table(mem, pa, "MCFG", "MCFG", &mcfg, &mcfg_len, NULL) == 0) {
                out->mcfg_address = pa;
                parse_mcfg(mcfg, mcfg_len, out);
            } else {
                out->bad_ecam++;
            }
        } else if (memcmp(h, "DMAR", 4) == 0 || memcmp(h, "IVRS", 4) == 0) {
            uint32_t len;
            ACPI_READ(len, h, struct acpi_sdt_header, length);
            keep_ref(h[0] == 'D' ? &out->dmar : &out->ivrs, h[0] == 'D' ? "DMAR" : "IVRS", pa, len);
        }
    }
    if (!madt)
        return refuse(why, E_NOENT, "no MADT (APIC) table");

    err = parse_madt(madt, madt_len, out, why);
    if (err)
        return err;
    if (fadt)
        parse_fadt(fadt, fadt_len, out);
    return 0;
}

int acpi_list_tables(const struct acpi_mem *mem, uint64_t rsdp_pa, struct acpi_table_ref *out,
                     unsigned max)
{
    if (!mem || !mem->map || (!out && max))
        return -E_INVAL;

    struct rsdp_view rv;
    int err = read_rsdp(mem, rsdp_pa, false, &rv, NULL);
    if (err)
        return err;
    unsigned count = 0;
    if (count < max)
        out[count++] =
            (struct acpi_table_ref){.signature = "RSDP", .address = rsdp_pa, .length = rv.length};

    const uint8_t *root = map(mem, rv.root, ACPI_SDT_HEADER_SIZE);
    if (!root)
        return -E_FAULT;
    uint32_t root_len;
    ACPI_READ(root_len, root, struct acpi_sdt_header, length);
    if (root_len < ACPI_SDT_HEADER_SIZE)
        return -E_BADMSG;
    root = map(mem, rv.root, root_len);
    if (!root)
        return -E_FAULT;
    if (count < max) {
        out[count] = (struct acpi_table_ref){.address = rv.root, .length = root_len};
        sig_text(out[count].signature, root);
        count++;
    }

    uint32_t n = root_entry_count(root_len, rv.use_xsdt);
    for (uint32_t i = 0; i < n && count < max; i++) {
        uint64_t pa = root_entry(root, rv.use_xsdt, i);
        const uint8_t *h = pa ? map(mem, pa, ACPI_SDT_HEADER_SIZE) : NULL;
        if (!h)
            continue;
        out[count] = (struct acpi_table_ref){.address = pa};
        sig_text(out[count].signature, h);
        ACPI_READ(out[count].length, h, struct acpi_sdt_header, length);
        count++;
    }
    return (int)count;
}
