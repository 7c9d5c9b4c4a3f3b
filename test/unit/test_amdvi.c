/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The AMD-Vi driver against a model of the unit: registers, a command processor that runs
 * the ring on every tail write, and an event log the tests write into. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "core/pgtable.h"
#include "iommu/amdvi.h"

/* Register offsets and bits, written out from the specification rather than the header. */
#define R_DEV_TABLE 0x0000
#define R_CMD_BASE 0x0008
#define R_EVT_BASE 0x0010
#define R_CONTROL 0x0018
#define R_EXCL_BASE 0x0020
#define R_EXCL_LIMIT 0x0028
#define R_EFR 0x0030
#define R_CMD_HEAD 0x2000
#define R_CMD_TAIL 0x2008
#define R_EVT_HEAD 0x2010
#define R_EVT_TAIL 0x2018
#define R_STATUS 0x2020
#define NREGS (0x2028 / 8)

#define C_IOMMU_EN 0x1ull
#define C_HT_TUN_EN 0x2ull
#define C_EVT_LOG_EN 0x4ull
#define C_EVT_INT_EN 0x8ull
#define C_COM_WAIT_INT_EN 0x10ull
#define C_COHERENT 0x400ull
#define C_CMD_BUF_EN 0x1000ull
#define C_PPR_EN 0x8000ull
#define S_EVT_OVERFLOW 0x1ull
#define S_EVT_LOG_RUN 0x8ull
#define S_CMD_BUF_RUN 0x10ull
#define EFR_IA 0x40ull

#define ADDR_51_12 0x000ffffffffff000ull
#define ADDR_51_6 0x000fffffffffffc0ull
#define PA_BASE 0x000000c000000000ull /* model "physical" memory: above 4G, not the heap */
#define OP(q0) ((unsigned)((q0) >> 60))

/* ---- The unit ---- */

struct cmd_rec {
    uint64_t q0, q1;
    uint64_t dte0, dte2; /* INVALIDATE_DEVTAB_ENTRY, _INTERRUPT_TABLE: the entry as then read */
};

struct alloc_rec {
    uint64_t pa;
    uint8_t *va;
    size_t size;
};

static struct model {
    uint64_t reg[NREGS];
    bool stall;       /* fetches no commands */
    bool no_store;    /* runs commands, but COMPLETION_WAIT stores nothing */
    bool stopped;     /* CmdBufRun reads 0 */
    bool run_stuck;   /* the Run bits never clear */
    long allocs_left; /* negative: unlimited */
    struct cmd_rec *cmds;
    size_t ncmds, cap;
    unsigned tail_writes, status_reads, control_writes;
    uint64_t control_log[16];
    struct alloc_rec mem[32];
    unsigned nmem;
    uint64_t next_pa;
    unsigned write_seq, last_base_write, first_enable_write; /* register write order */
    uint32_t irt_seen[256]; /* the table as the last INVALIDATE_INTERRUPT_TABLE found it */
} m;

static struct amdvi u;
static struct refusal why;

static void *m_va(void *ctx, uint64_t pa)
{
    (void)ctx;
    for (unsigned i = 0; i < m.nmem; i++)
        if (pa >= m.mem[i].pa && pa < m.mem[i].pa + m.mem[i].size)
            return m.mem[i].va + (pa - m.mem[i].pa);
    fail_msg("no memory at %#llx", (unsigned long long)pa);
    return NULL;
}

static int m_alloc(void *ctx, unsigned order, uint64_t *pa)
{
    (void)ctx;
    if (m.allocs_left == 0)
        return -E_NOMEM;
    m.allocs_left--;
    assert_true(m.nmem < ARRAY_SIZE(m.mem));
    size_t size = (size_t)PAGE_SIZE << order;
    uint8_t *va = aligned_alloc(size, size);
    assert_non_null(va);
    memset(va, 0, size);
    m.next_pa = ALIGN_UP(m.next_pa, size);
    m.mem[m.nmem++] = (struct alloc_rec){m.next_pa, va, size};
    *pa = m.next_pa;
    m.next_pa += size;
    return 0;
}

static uint32_t ring_bytes(uint64_t base_reg)
{
    return 16u << ((base_reg >> 56) & 0xf);
}

static uint64_t *dte(uint16_t id)
{
    assert_int_equal(m.reg[R_DEV_TABLE / 8] & 0x1ff, 0x1ff);
    return (uint64_t *)m_va(NULL, (m.reg[R_DEV_TABLE / 8] & ADDR_51_12) + 32ull * id);
}

/* The unit fetches and runs every command from head to tail. */
static void m_run(void)
{
    uint64_t base = m.reg[R_CMD_BASE / 8];
    uint32_t size = ring_bytes(base);
    assert_true(m.reg[R_CONTROL / 8] & C_IOMMU_EN);
    assert_true(m.reg[R_CONTROL / 8] & C_CMD_BUF_EN);
    while (m.reg[R_CMD_HEAD / 8] != m.reg[R_CMD_TAIL / 8]) {
        const uint64_t *c = m_va(NULL, (base & ADDR_51_12) + m.reg[R_CMD_HEAD / 8]);
        struct cmd_rec r = {c[0], c[1], 0, 0};
        switch (OP(r.q0)) {
        case 1:
            assert_int_equal(r.q0 & 0x0ff0000000000006ull, 0); /* reserved, I, F */
            if ((r.q0 & 1) && !m.no_store)
                *(uint64_t *)m_va(NULL, r.q0 & 0x000ffffffffffff8ull) = r.q1;
            break;
        case 2:
            assert_int_equal(r.q0 & 0x0fffffffffff0000ull, 0);
            r.dte0 = dte((uint16_t)r.q0)[0];
            r.dte2 = dte((uint16_t)r.q0)[2];
            break;
        case 5: /* INVALIDATE_INTERRUPT_TABLE: DeviceID in bits 15:0, everything else reserved */
            assert_int_equal(r.q0 & 0x0fffffffffff0000ull, 0);
            assert_int_equal(r.q1, 0);
            r.dte0 = dte((uint16_t)r.q0)[0];
            r.dte2 = dte((uint16_t)r.q0)[2];
            if ((r.dte2 >> 60 & 3) == 2)
                memcpy(m.irt_seen, m_va(NULL, r.dte2 & ADDR_51_6), sizeof(m.irt_seen));
            break;
        case 3:
        case 8:
            break;
        default:
            fail_msg("opcode %u", OP(r.q0));
        }
        if (m.ncmds == m.cap) {
            m.cap = m.cap ? 2 * m.cap : 1024;
            m.cmds = realloc(m.cmds, m.cap * sizeof(*m.cmds));
            assert_non_null(m.cmds);
        }
        m.cmds[m.ncmds++] = r;
        m.reg[R_CMD_HEAD / 8] = (m.reg[R_CMD_HEAD / 8] + 16) % size;
    }
}

static uint64_t m_read64(void *ctx, uint32_t off)
{
    (void)ctx;
    assert_true(off % 8 == 0 && off / 8 < NREGS);
    if (off == R_STATUS) {
        m.status_reads++;
        uint64_t s = m.reg[R_STATUS / 8];
        if (m.stopped)
            s &= ~S_CMD_BUF_RUN;
        return s;
    }
    return m.reg[off / 8];
}

static void m_write64(void *ctx, uint32_t off, uint64_t v)
{
    (void)ctx;
    assert_true(off % 8 == 0 && off / 8 < NREGS);
    m.write_seq++;
    switch (off) {
    case R_CONTROL:
        if (m.control_writes < ARRAY_SIZE(m.control_log))
            m.control_log[m.control_writes] = v;
        m.control_writes++;
        if ((v & C_IOMMU_EN) && !m.first_enable_write)
            m.first_enable_write = m.write_seq;
        m.reg[R_CONTROL / 8] = v;
        if (!m.run_stuck) {
            uint64_t *s = &m.reg[R_STATUS / 8];
            *s = (*s & ~(S_CMD_BUF_RUN | S_EVT_LOG_RUN)) |
                 ((v & C_CMD_BUF_EN) ? S_CMD_BUF_RUN : 0) |
                 ((v & C_EVT_LOG_EN) && !(*s & S_EVT_OVERFLOW) ? S_EVT_LOG_RUN : 0);
        }
        return;
    case R_STATUS:
        m.reg[R_STATUS / 8] &= ~(v & 7); /* write 1 to clear */
        return;
    case R_CMD_TAIL:
        assert_true(v % 16 == 0 && v < ring_bytes(m.reg[R_CMD_BASE / 8]));
        m.reg[R_CMD_TAIL / 8] = v;
        if (v == m.reg[R_CMD_HEAD / 8])
            return; /* nothing queued: the reset to 0 at init */
        m.tail_writes++;
        if (!m.stall)
            m_run();
        return;
    case R_DEV_TABLE:
    case R_CMD_BASE:
    case R_EVT_BASE:
        m.last_base_write = m.write_seq;
        break;
    case R_EFR:
        fail_msg("EFR is read-only");
        break;
    default:
        break;
    }
    m.reg[off / 8] = v;
}

static const struct iommu_mmio mmio = {.read64 = m_read64, .write64 = m_write64};

/* What the unit does with an MSI (a write of data to addr, 0xfee00000-0xfeefffff) from
 * requester, read from the device table and the interrupt table as the specification has
 * them: DTE bit 128 IV, 132:129 IntTabLen, 179:134 table root (address bits 51:6), 184
 * InitPass, 185 EIntPass, 186 NMIPass, 189:188 IntCtl; MSI data 10:8 the message type,
 * 10:0 the index; a legacy IRTE: RemapEn 0, IntType 4:2, DM 6, GuestMode 7, Destination
 * 15:8, Vector 23:16. */
enum msi_result { MSI_DELIVERED, MSI_ABORTED, MSI_REFUSED, MSI_PASSED, MSI_UNREMAPPED };

static enum msi_result m_msi(uint16_t requester, uint64_t addr, uint32_t data, uint32_t *dest,
                             uint8_t *vector)
{
    assert_true(addr >= 0xfee00000 && addr <= 0xfeeffffc);
    const uint64_t q2 = dte(requester)[2];
    if (!(q2 & 1))
        return MSI_UNREMAPPED;
    switch ((data >> 8) & 7) {
    case 0: /* fixed */
    case 1: /* arbitrated */
        break;
    case 4:
        return (q2 >> 58 & 1) ? MSI_PASSED : MSI_ABORTED; /* NMI */
    case 5:
        return (q2 >> 56 & 1) ? MSI_PASSED : MSI_ABORTED; /* INIT */
    case 7:
        return (q2 >> 57 & 1) ? MSI_PASSED : MSI_ABORTED; /* ExtInt */
    default:
        return MSI_ABORTED;
    }
    switch (q2 >> 60 & 3) {
    case 0:
        return MSI_ABORTED;
    case 1:
        return MSI_UNREMAPPED;
    case 2:
        break;
    default:
        fail_msg("IntCtl 11b is reserved");
    }
    unsigned index = data & 0x7ff;
    if (index >= 1u << (q2 >> 1 & 0xf))
        return MSI_REFUSED;
    uint64_t root = q2 & ADDR_51_6;
    assert_int_equal(root % 128, 0);
    uint32_t e = ((const uint32_t *)m_va(NULL, root))[index];
    if (!(e & 1))
        return MSI_REFUSED;
    assert_int_equal(e >> 2 & 7, 0); /* fixed */
    assert_int_equal(e >> 6 & 1, 0); /* physical */
    assert_int_equal(e >> 7 & 1, 0); /* not guest mode */
    *dest = e >> 8 & 0xff;
    *vector = (uint8_t)(e >> 16);
    return MSI_DELIVERED;
}
static const struct iommu_pages pages = {.alloc = m_alloc, .va = m_va};

/* Event log entry written by "the unit" at the tail. */
static void m_event(uint64_t q0, uint64_t q1)
{
    uint64_t base = m.reg[R_EVT_BASE / 8];
    uint32_t size = ring_bytes(base), tail = (uint32_t)m.reg[R_EVT_TAIL / 8];
    assert_true((tail + 16) % size != m.reg[R_EVT_HEAD / 8]); /* the test keeps it from filling */
    uint64_t *e = m_va(NULL, (base & ADDR_51_12) + tail);
    e[0] = q0;
    e[1] = q1;
    m.reg[R_EVT_TAIL / 8] = (tail + 16) % size;
}

static void model_reset(uint64_t efr, uint64_t control)
{
    for (unsigned i = 0; i < m.nmem; i++)
        free(m.mem[i].va);
    free(m.cmds);
    memset(&m, 0, sizeof(m));
    m.allocs_left = -1;
    m.next_pa = PA_BASE;
    m.reg[R_EFR / 8] = efr;
    /* as firmware may leave it: translating, with a feature this driver does not set up */
    m.reg[R_CONTROL / 8] = control;
    m.reg[R_STATUS / 8] = (control & C_CMD_BUF_EN) ? S_CMD_BUF_RUN : 0;
    memset(&u, 0, sizeof(u));
    memset(&why, 0, sizeof(why));
}

static int teardown(void **state)
{
    (void)state;
    model_reset(0, 0);
    return 0;
}

static void init_ok(void)
{
    model_reset(EFR_IA, 0);
    assert_int_equal(amdvi_init(&u, &mmio, &pages, &why), 0);
    m.ncmds = 0;
}

static uint64_t cw_q0(void)
{
    return u.wait_pa | 1 | 1ull << 60;
}

static void expect_cmd(size_t i, uint64_t q0, uint64_t q1)
{
    assert_true(i < m.ncmds);
    assert_int_equal(m.cmds[i].q0, q0);
    assert_int_equal(m.cmds[i].q1, q1);
}

/* ---- Initialisation ---- */

static void test_init(void **state)
{
    (void)state;
    model_reset(EFR_IA, C_IOMMU_EN | C_CMD_BUF_EN | C_HT_TUN_EN | C_PPR_EN | C_EVT_INT_EN);
    m.reg[R_EXCL_BASE / 8] = 0x80000003; /* a firmware exclusion range, allow-all */
    m.reg[R_EXCL_LIMIT / 8] = 0x8fffffff;
    assert_int_equal(amdvi_init(&u, &mmio, &pages, &why), 0);

    /* Base registers: address, device table size in pages - 1, ring lengths 2^8. */
    assert_int_equal(u.dev_table_pa % (2 * MiB), 0);
    assert_true(u.dev_table_pa >= PA_BASE);
    assert_int_equal(m.reg[R_DEV_TABLE / 8], u.dev_table_pa | 0x1ff);
    assert_int_equal(m.reg[R_CMD_BASE / 8], u.cmd_pa | 8ull << 56);
    assert_int_equal(m.reg[R_EVT_BASE / 8], u.evt_pa | 8ull << 56);
    assert_int_equal(m.reg[R_EXCL_BASE / 8], 0);
    assert_int_equal(m.reg[R_EXCL_LIMIT / 8], 0);
    assert_int_equal(m.reg[R_EVT_HEAD / 8], 0);
    assert_int_equal(m.reg[R_EVT_TAIL / 8], 0);
    /* Off first, on last: IommuEn | CmdBufEn | EventLogEn | Coherent; the firmware's HT
     * tunnel setting kept, its PPR and interrupt enables dropped. */
    assert_int_equal(m.control_log[0], C_HT_TUN_EN);
    assert_true(m.first_enable_write > m.last_base_write);
    assert_int_equal(m.reg[R_CONTROL / 8],
                     C_IOMMU_EN | C_CMD_BUF_EN | C_EVT_LOG_EN | C_COHERENT | C_HT_TUN_EN);
    /* Every requester blocked: V, TV, mode 0, IR = IW = 0; interrupts: IV with IntCtl 00
     * (target abort) and no pass bit (DTE bits 191:128). */
    for (uint32_t id = 0; id < 65536; id++) {
        const uint64_t *e = dte((uint16_t)id);
        assert_int_equal(e[0], 3);
        assert_int_equal(e[2], 1);
        assert_int_equal(e[1] | e[3], 0);
    }
    /* INVALIDATE_IOMMU_ALL, then COMPLETION_WAIT storing 1 at the wait location. */
    assert_int_equal(m.ncmds, 2);
    expect_cmd(0, 8ull << 60, 0);
    expect_cmd(1, cw_q0(), 1);
    assert_int_equal(*u.wait_va, 1);
    assert_int_equal(m.tail_writes, 1);
    assert_int_equal(u.poll_limit, IOMMU_POLL_LIMIT);
}

/* Without INVALIDATE_IOMMU_ALL: one INVALIDATE_DEVTAB_ENTRY per requester, through a
 * 256-entry ring that wraps 256 times. */
static void test_init_without_invalidate_all(void **state)
{
    (void)state;
    model_reset(0, 0);
    assert_int_equal(amdvi_init(&u, &mmio, &pages, &why), 0);
    assert_int_equal(m.ncmds, 65537);
    for (uint32_t id = 0; id < 65536; id++) {
        expect_cmd(id, 2ull << 60 | id, 0);
        assert_int_equal(m.cmds[id].dte0, 3); /* written before the unit was told */
    }
    expect_cmd(65536, cw_q0(), 1);
    assert_true(m.tail_writes > 256);
    assert_int_equal(m.reg[R_CMD_TAIL / 8], u.cmd_tail);
    assert_int_equal(u.cmd_tail, (65537 * 16) % 4096);
}

static void test_init_failures(void **state)
{
    (void)state;
    model_reset(EFR_IA, 0);
    assert_int_equal(amdvi_init(&u, NULL, &pages, &why), -E_INVAL);
    assert_int_equal(amdvi_init(&u, &mmio, NULL, &why), -E_INVAL);

    /* Out of memory: the unit is not touched. */
    model_reset(EFR_IA, C_IOMMU_EN);
    m.allocs_left = 2;
    assert_int_equal(amdvi_init(&u, &mmio, &pages, &why), -E_NOMEM);
    assert_string_equal(why.text, "AMD-Vi: no memory for 4 KiB of IOMMU tables");
    assert_int_equal(m.write_seq, 0);

    /* The command buffer never stops: bounded, no base register written. */
    model_reset(EFR_IA, C_IOMMU_EN | C_CMD_BUF_EN);
    m.run_stuck = true;
    assert_int_equal(amdvi_init(&u, &mmio, &pages, &why), -E_TIMEDOUT);
    assert_string_equal(why.text, "AMD-Vi: command buffer or event log still running 10000000 "
                                  "polls after disabling");
    assert_int_equal(m.status_reads, IOMMU_POLL_LIMIT);
    assert_int_equal(m.last_base_write, 0);
}

/* ---- Devices ---- */

static void test_attach(void **state)
{
    (void)state;
    init_ok();
    const pci_bdf dev = PCI_BDF(3, 0, 1);
    struct iommu_domain d = {.id = 5, .root = 0xfedcba9876000ull};
    assert_int_equal(amdvi_attach(&u, dev, &d, &why), 0);
    /* V, TV, mode 4 (bits 11:9), root, IR, IW; domain 5 in bits 79:64. */
    const uint64_t want = 0x600fedcba9876803ull;
    assert_int_equal(dte(dev)[0], want);
    assert_int_equal(dte(dev)[1], 5);
    assert_int_equal(dte(dev)[2], 1); /* its interrupts still aborted */
    assert_int_equal(dte(dev)[3], 0);
    assert_int_equal(dte(dev - 1)[0], 3);
    assert_int_equal(dte(dev + 1)[0], 3);
    /* INVALIDATE_DEVTAB_ENTRY (the entry already written), INVALIDATE_IOMMU_PAGES for all of
     * domain 5 with S and PDE, COMPLETION_WAIT: one tail write. */
    assert_int_equal(m.ncmds, 3);
    expect_cmd(0, 0x2000000000000301ull, 0);
    assert_int_equal(m.cmds[0].dte0, want);
    expect_cmd(1, 0x3000000500000000ull, 0x7ffffffffffff003ull);
    expect_cmd(2, cw_q0(), 2);
    assert_int_equal(*u.wait_va, 2);
    assert_int_equal(m.tail_writes, 2);

    /* Again with the same domain: fine. Another domain or root: detach first. */
    assert_int_equal(amdvi_attach(&u, dev, &d, &why), 0);
    struct iommu_domain other = {.id = 6, .root = d.root};
    assert_int_equal(amdvi_attach(&u, dev, &other, &why), -E_BUSY);
    assert_string_equal(why.text, "AMD-Vi: 03:00.1 translates for domain 5; detach it first");
    other = (struct iommu_domain){.id = 5, .root = 0x1000};
    assert_int_equal(amdvi_attach(&u, dev, &other, &why), -E_BUSY);
    assert_int_equal(dte(dev)[0], want);

    /* Not page tables. */
    size_t n = m.ncmds;
    other = (struct iommu_domain){.id = 0, .root = 0x1000};
    assert_int_equal(amdvi_attach(&u, 7, &other, &why), -E_INVAL);
    other = (struct iommu_domain){.id = 1, .root = 0x1800};
    assert_int_equal(amdvi_attach(&u, 7, &other, &why), -E_INVAL);
    assert_string_equal(why.text, "AMD-Vi: domain 1 with root 0x1800 is not a page table");
    other = (struct iommu_domain){.id = 1, .root = 1ull << 52};
    assert_int_equal(amdvi_attach(&u, 7, &other, &why), -E_INVAL);
    assert_int_equal(amdvi_attach(&u, 7, NULL, &why), -E_INVAL);
    assert_int_equal(m.ncmds, n);
    assert_int_equal(dte(7)[0], 3);
}

/* The walk the unit does for a DMA of requester at iova: DTE, then the I/O page table. */
static bool m_translate(uint16_t requester, uint64_t iova, bool write, uint64_t *pa)
{
    const uint64_t *e = dte(requester);
    if ((e[0] & 3) != 3 || !(e[0] & (write ? 1ull << 62 : 1ull << 61)))
        return false;
    assert_int_equal((e[0] >> 9) & 7, 4);
    uint64_t table = e[0] & ADDR_51_12;
    for (unsigned level = 4; level >= 1; level--) {
        uint64_t pte =
            ((const uint64_t *)m_va(NULL, table))[(iova >> (12 + 9 * (level - 1))) & 511];
        if (!(pte & 1) || !(pte & (write ? 1ull << 62 : 1ull << 61)))
            return false;
        unsigned next = (pte >> 9) & 7;
        if (next == 0) {
            uint64_t size = 1ull << (12 + 9 * (level - 1));
            assert_true(pte & (1ull << 60)); /* FC: snooped */
            *pa = (pte & ADDR_51_12 & ~(size - 1)) | (iova & (size - 1));
            return true;
        }
        assert_int_equal(next, level - 1);
        table = pte & ADDR_51_12;
    }
    fail_msg("a level-1 entry with a next level");
    return false;
}

static int pt_page(void *ctx, uint64_t *pa)
{
    return m_alloc(ctx, 0, pa);
}

static void pt_free_page(void *ctx, uint64_t pa)
{
    (void)ctx;
    (void)pa;
}

/* A table from the page-table builder, attached: the unit's walk finds what was mapped. */
static void test_attach_pgtable_root(void **state)
{
    (void)state;
    init_ok();
    const struct pt_mem mem = {
        .alloc_page = pt_page, .phys_to_virt = m_va, .free_page = pt_free_page};
    struct pt pt;
    assert_int_equal(pt_init(&pt, &pt_format_amdvi, &mem, PT_1G), 0);
    assert_int_equal(pt_map(&pt, 1 * GiB, 0x200000000ull, 2 * MiB, PT_READ | PT_WRITE), 0);
    assert_int_equal(pt_map(&pt, 0x5000, 0x9000, 0x1000, PT_READ), 0);
    struct iommu_domain d = {.id = 0xffff, .root = pt.root};
    assert_int_equal(amdvi_attach(&u, 0xffff, &d, &why), 0);
    assert_int_equal(dte(0xffff)[0], pt.root | 0x6000000000000803ull);
    assert_int_equal(dte(0xffff)[1], 0xffff);
    expect_cmd(1, 0x3000ffff00000000ull, 0x7ffffffffffff003ull);

    uint64_t pa = 0;
    assert_true(m_translate(0xffff, 1 * GiB + 0x12345, true, &pa));
    assert_int_equal(pa, 0x200012345ull);
    assert_true(m_translate(0xffff, 0x5abc, false, &pa));
    assert_int_equal(pa, 0x9abc);
    assert_false(m_translate(0xffff, 0x5abc, true, &pa)); /* read-only */
    assert_false(m_translate(0xffff, 0x6000, false, &pa));
    assert_false(m_translate(0xfffe, 0x5abc, false, &pa)); /* blocked requester */
    /* Write revoked: flushed before the caller may rely on it. */
    assert_int_equal(pt_protect(&pt, 1 * GiB, 2 * MiB, PT_READ), 0);
    assert_int_equal(amdvi_flush_domain(&u, d.id, &why), 0);
    assert_false(m_translate(0xffff, 1 * GiB, true, &pa));
    assert_true(m_translate(0xffff, 1 * GiB, false, &pa));
    assert_int_equal(amdvi_detach(&u, 0xffff, &why), 0);
    assert_false(m_translate(0xffff, 1 * GiB, false, &pa));
}

static void test_detach(void **state)
{
    (void)state;
    init_ok();
    struct iommu_domain d = {.id = 9, .root = 0x40000000};
    assert_int_equal(amdvi_attach(&u, 0x10, &d, &why), 0);
    m.ncmds = 0;
    assert_int_equal(amdvi_detach(&u, 0x10, &why), 0);
    assert_int_equal(dte(0x10)[0], 3);
    assert_int_equal(dte(0x10)[1], 0);
    assert_int_equal(m.ncmds, 2);
    expect_cmd(0, 0x2000000000000010ull, 0);
    assert_int_equal(m.cmds[0].dte0, 3);
    expect_cmd(1, cw_q0(), 3);
    /* Attachable again, to another domain. */
    d.id = 10;
    assert_int_equal(amdvi_attach(&u, 0x10, &d, &why), 0);
    assert_int_equal(dte(0x10)[1], 10);
    assert_int_equal(amdvi_detach(NULL, 0x10, &why), -E_INVAL);
}

static void test_flush_domain(void **state)
{
    (void)state;
    init_ok();
    assert_int_equal(amdvi_flush_domain(&u, 0x1234, &why), 0);
    assert_int_equal(m.ncmds, 2);
    expect_cmd(0, 0x3000123400000000ull, 0x7ffffffffffff003ull);
    expect_cmd(1, cw_q0(), 2);
    /* Many flushes: the ring wraps, every one completes in order. */
    for (unsigned i = 0; i < 1000; i++)
        assert_int_equal(amdvi_flush_domain(&u, (uint16_t)i, &why), 0);
    assert_int_equal(m.ncmds, 2002);
    expect_cmd(2000, 0x3000000000000000ull | (999ull << 32), 0x7ffffffffffff003ull);
    expect_cmd(2001, cw_q0(), 1002);
    assert_int_equal(*u.wait_va, 1002);
}

/* ---- Interrupt remapping ---- */

#define MSI_ADDR 0xfee00000ull

static void irte_set_ok(pci_bdf dev, unsigned index, uint32_t apic_id, uint8_t vector)
{
    struct iommu_msi_msg msg = {0, 0};
    const struct iommu_irq irq = {.apic_id = apic_id, .vector = vector};
    assert_int_equal(amdvi_irte_set(&u, dev, index, &irq, &msg, &why), 0);
    assert_int_equal(msg.address, MSI_ADDR);
    assert_int_equal(msg.data, index);
}

/* The MSI the device sends for index reaches apic_id with vector. */
static void expect_delivered(pci_bdf dev, unsigned index, uint32_t apic_id, uint8_t vector)
{
    uint32_t dest = ~0u;
    uint8_t vec = 0;
    assert_int_equal(m_msi(dev, MSI_ADDR, index, &dest, &vec), MSI_DELIVERED);
    assert_int_equal(dest, apic_id);
    assert_int_equal(vec, vector);
}

static enum msi_result msi(pci_bdf dev, uint32_t data)
{
    uint32_t dest;
    uint8_t vec;
    return m_msi(dev, MSI_ADDR, data, &dest, &vec);
}

/* The first entry of a requester: a table, the DTE remapping through it, both in memory
 * before the unit is told, and the device's MSI reaching one core with one vector. */
static void test_irte_set(void **state)
{
    (void)state;
    init_ok();
    const pci_bdf dev = PCI_BDF(0, 3, 0);
    const unsigned pages_before = m.nmem;
    struct iommu_msi_msg msg = {0, 0};
    const struct iommu_irq irq = {.apic_id = 0xa5, .vector = 0x41};
    assert_int_equal(amdvi_irte_set(&u, dev, 7, &irq, &msg, &why), 0);

    /* One page taken: the table. */
    assert_int_equal(m.nmem, pages_before + 1);
    assert_int_equal(u.irt_tables, 1);
    const uint64_t table = m.mem[m.nmem - 1].pa;
    assert_int_equal(table % 128, 0);
    /* DTE bits 191:128: IV (128), IntTabLen 8 (132:129), IG 0 (133), the root (179:134),
     * no pass bit (184-186, 190, 191), IntCtl 10b (189:188); nothing else. */
    const uint64_t q2 = dte(dev)[2];
    assert_int_equal(q2 & 1, 1);
    assert_int_equal(q2 >> 1 & 0xf, 8);
    assert_int_equal(q2 >> 5 & 1, 0);
    assert_int_equal(q2 & ADDR_51_6, table);
    assert_int_equal(q2 >> 56 & 7, 0);
    assert_int_equal(q2 >> 60 & 3, 2);
    assert_int_equal(q2 >> 62 & 3, 0);
    assert_int_equal(q2, 1 | 8ull << 1 | table | 2ull << 60);
    assert_int_equal(dte(dev)[0], 3); /* its DMA still blocked */
    assert_int_equal(dte(dev)[1] | dte(dev)[3], 0);

    /* The entry: RemapEn, SupIOPF 0, IntType 000b (fixed), RqEoi 0, DM 0 (physical),
     * GuestMode 0, Destination 0xa5, Vector 0x41, bits 31:24 0. Every other entry 0. */
    const uint32_t *irt = m_va(NULL, table);
    const uint32_t e = irt[7];
    assert_int_equal(e & 1, 1);
    assert_int_equal(e >> 1 & 1, 0);
    assert_int_equal(e >> 2 & 7, 0);
    assert_int_equal(e >> 5 & 1, 0);
    assert_int_equal(e >> 6 & 1, 0);
    assert_int_equal(e >> 7 & 1, 0);
    assert_int_equal(e >> 8 & 0xff, 0xa5);
    assert_int_equal(e >> 16 & 0xff, 0x41);
    assert_int_equal(e >> 24, 0);
    for (unsigned i = 0; i < 256; i++)
        if (i != 7)
            assert_int_equal(irt[i], 0);

    assert_int_equal(msg.address, MSI_ADDR);
    assert_int_equal(msg.data, 7);

    /* INVALIDATE_DEVTAB_ENTRY and INVALIDATE_INTERRUPT_TABLE for the device (DTE and entry
     * already written), COMPLETION_WAIT: one tail write, returned once the wait is stored. */
    assert_int_equal(m.ncmds, 3);
    expect_cmd(0, 2ull << 60 | dev, 0);
    assert_int_equal(m.cmds[0].dte2, q2);
    expect_cmd(1, 5ull << 60 | dev, 0);
    assert_int_equal(m.cmds[1].dte2, q2);
    assert_int_equal(m.irt_seen[7], e);
    expect_cmd(2, cw_q0(), 2);
    assert_int_equal(*u.wait_va, 2);
    assert_int_equal(m.tail_writes, 2);

    /* The device's MSI reaches core 0xa5 with vector 0x41. Another index, one beyond the
     * table, NMI, INIT and ExtInt messages are refused. */
    expect_delivered(dev, 7, 0xa5, 0x41);
    assert_int_equal(msi(dev, 6), MSI_REFUSED);
    assert_int_equal(msi(dev, 0x107), MSI_REFUSED);
    assert_int_equal(msi(dev, 0x400), MSI_ABORTED);
    assert_int_equal(msi(dev, 0x500), MSI_ABORTED);
    assert_int_equal(msi(dev, 0x700), MSI_ABORTED);
    /* Every other requester still aborts every interrupt. */
    for (uint32_t id = 0; id < 65536; id++)
        if (id != dev)
            assert_int_equal(dte((uint16_t)id)[2], 1);
    assert_int_equal(msi(dev + 1, 7), MSI_ABORTED);
    assert_int_equal(msi(dev - 1, 7), MSI_ABORTED);
}

/* More entries of a requester share its table; the DTE does not change again. */
static void test_irte_set_reuses_table(void **state)
{
    (void)state;
    init_ok();
    const pci_bdf dev = PCI_BDF(0, 4, 0), other = PCI_BDF(2, 0, 0);
    irte_set_ok(dev, 0, 1, 32);
    const unsigned npages = m.nmem;
    const uint64_t q2 = dte(dev)[2];
    m.ncmds = 0;
    irte_set_ok(dev, 255, 254, 255);
    assert_int_equal(m.nmem, npages);
    assert_int_equal(u.irt_tables, 1);
    assert_int_equal(dte(dev)[2], q2);
    /* INVALIDATE_INTERRUPT_TABLE (the entry already written) and COMPLETION_WAIT only. */
    assert_int_equal(m.ncmds, 2);
    expect_cmd(0, 5ull << 60 | dev, 0);
    assert_int_equal(m.irt_seen[255], 1 | 254u << 8 | 255u << 16);
    expect_cmd(1, cw_q0(), 3);
    expect_delivered(dev, 0, 1, 32);
    expect_delivered(dev, 255, 254, 255);
    assert_int_equal(msi(dev, 1), MSI_REFUSED);

    /* Set again: replaced. */
    irte_set_ok(dev, 0, 2, 0x80);
    expect_delivered(dev, 0, 2, 0x80);
    assert_int_equal(m.nmem, npages);

    /* Another requester: a table of its own; the first one's stays as it was. */
    m.ncmds = 0;
    irte_set_ok(other, 0, 3, 0x90);
    assert_int_equal(m.nmem, npages + 1);
    assert_int_equal(u.irt_tables, 2);
    assert_int_equal(dte(other)[2] & ADDR_51_6, m.mem[m.nmem - 1].pa);
    assert_true((dte(other)[2] & ADDR_51_6) != (q2 & ADDR_51_6));
    expect_cmd(0, 2ull << 60 | other, 0);
    expect_cmd(1, 5ull << 60 | other, 0);
    expect_delivered(other, 0, 3, 0x90);
    expect_delivered(dev, 0, 2, 0x80);
    assert_int_equal(dte(dev)[2], q2);
}

/* Out of range: refused before anything is written, table or no table. */
static void test_irte_set_refused(void **state)
{
    (void)state;
    init_ok();
    const pci_bdf dev = PCI_BDF(0, 5, 0), fresh = PCI_BDF(0, 6, 0);
    irte_set_ok(dev, 1, 4, 0x50);
    const uint64_t q2 = dte(dev)[2];
    uint8_t irt[1024];
    memcpy(irt, m_va(NULL, q2 & ADDR_51_6), sizeof(irt));
    const unsigned npages = m.nmem;
    m.ncmds = 0;
    unsigned tail_writes = m.tail_writes;

    struct iommu_msi_msg msg = {0x1234, 0x5678};
    const pci_bdf devs[] = {dev, fresh};
    for (unsigned d = 0; d < ARRAY_SIZE(devs); d++) {
        struct iommu_irq irq = {.apic_id = 0, .vector = 31};
        assert_int_equal(amdvi_irte_set(&u, devs[d], 2, &irq, &msg, &why), -E_INVAL);
        assert_string_equal(why.text, "AMD-Vi: vector 31 is an exception vector");
        irq.vector = 0;
        assert_int_equal(amdvi_irte_set(&u, devs[d], 2, &irq, &msg, &why), -E_INVAL);
        irq = (struct iommu_irq){.apic_id = 256, .vector = 0x50};
        assert_int_equal(amdvi_irte_set(&u, devs[d], 2, &irq, &msg, &why), -E_INVAL);
        assert_string_equal(why.text, "AMD-Vi: APIC ID 256 does not fit an 8-bit remapping entry");
        irq.apic_id = 0xffffffffu;
        assert_int_equal(amdvi_irte_set(&u, devs[d], 2, &irq, &msg, &why), -E_INVAL);
        irq.apic_id = 255; /* the broadcast ID of an 8-bit destination */
        assert_int_equal(amdvi_irte_set(&u, devs[d], 2, &irq, &msg, &why), -E_INVAL);
        irq.apic_id = 0;
        assert_int_equal(amdvi_irte_set(&u, devs[d], 256, &irq, &msg, &why), -E_INVAL);
        assert_string_equal(why.text, "AMD-Vi: interrupt entry 256 is beyond the table's 256");
        assert_int_equal(amdvi_irte_set(&u, devs[d], 0x7ff, &irq, &msg, &why), -E_INVAL);
        assert_int_equal(amdvi_irte_set(&u, devs[d], ~0u, &irq, &msg, &why), -E_INVAL);
        assert_int_equal(amdvi_irte_set(&u, devs[d], 2, NULL, &msg, &why), -E_INVAL);
        assert_int_equal(amdvi_irte_set(&u, devs[d], 2, &irq, NULL, &why), -E_INVAL);
        assert_int_equal(amdvi_irte_set(NULL, devs[d], 2, &irq, &msg, &why), -E_INVAL);
    }
    assert_int_equal(m.ncmds, 0);
    assert_int_equal(m.tail_writes, tail_writes);
    assert_int_equal(m.nmem, npages);
    assert_int_equal(dte(dev)[2], q2);
    assert_int_equal(memcmp(irt, m_va(NULL, q2 & ADDR_51_6), sizeof(irt)), 0);
    assert_int_equal(dte(fresh)[2], 1);
    assert_int_equal(msg.address, 0x1234);
    assert_int_equal(msg.data, 0x5678);

    /* The limits themselves are fine. */
    irte_set_ok(fresh, 255, 254, 32);
    expect_delivered(fresh, 255, 254, 32);
}

/* No page for the table: -E_NOMEM, the DTE still aborting, nothing sent. */
static void test_irte_set_nomem(void **state)
{
    (void)state;
    init_ok();
    const pci_bdf dev = PCI_BDF(1, 0, 0);
    m.allocs_left = 0;
    struct iommu_msi_msg msg = {0, 0};
    const struct iommu_irq irq = {.apic_id = 1, .vector = 0x40};
    assert_int_equal(amdvi_irte_set(&u, dev, 0, &irq, &msg, &why), -E_NOMEM);
    assert_string_equal(why.text, "AMD-Vi: no memory for 4 KiB of IOMMU tables");
    assert_int_equal(dte(dev)[2], 1);
    assert_int_equal(u.irt_tables, 0);
    assert_int_equal(m.ncmds, 0);
    assert_int_equal(msg.address, 0);
    assert_int_equal(msi(dev, 0), MSI_ABORTED);
    /* Memory again: the next try works. */
    m.allocs_left = -1;
    irte_set_ok(dev, 0, 1, 0x40);
    expect_delivered(dev, 0, 1, 0x40);
}

/* A unit that never completes: the call returns, bounded, without a message. */
static void test_irte_set_timeout(void **state)
{
    (void)state;
    init_ok();
    const pci_bdf dev = PCI_BDF(0, 7, 0);
    u.poll_limit = 1000;
    m.no_store = true;
    unsigned reads = m.status_reads;
    struct iommu_msi_msg msg = {0, 0};
    const struct iommu_irq irq = {.apic_id = 2, .vector = 0x60};
    assert_int_equal(amdvi_irte_set(&u, dev, 0, &irq, &msg, &why), -E_TIMEDOUT);
    assert_string_equal(why.text, "AMD-Vi: COMPLETION_WAIT not done after 1000 polls");
    assert_int_equal(m.status_reads - reads, 1000);
    assert_int_equal(msg.address, 0);
    assert_int_equal(msg.data, 0);
    assert_int_equal(m.ncmds, 3); /* sent, never completed */
    expect_cmd(1, 5ull << 60 | dev, 0);
    /* Nothing fetched at all: the same. */
    m.no_store = false;
    m.stall = true;
    assert_int_equal(amdvi_irte_set(&u, dev, 1, &irq, &msg, &why), -E_TIMEDOUT);
    assert_int_equal(amdvi_irte_clear(&u, dev, 0, &why), -E_TIMEDOUT);
    assert_int_equal(msg.address, 0);
    /* The unit catches up: usable again. */
    m.stall = false;
    m_run();
    irte_set_ok(dev, 2, 3, 0x61);
    assert_int_equal(*u.wait_va, u.wait_seq);
    expect_delivered(dev, 2, 3, 0x61);
}

/* An entry disabled again: RemapEn 0 in memory before the invalidation; the others stay. */
static void test_irte_clear(void **state)
{
    (void)state;
    init_ok();
    const pci_bdf dev = PCI_BDF(0, 8, 0), other = PCI_BDF(0, 9, 0);
    irte_set_ok(dev, 3, 5, 0x70);
    irte_set_ok(dev, 4, 6, 0x71);
    const uint64_t q2 = dte(dev)[2];
    const uint32_t *irt = m_va(NULL, q2 & ADDR_51_6);
    const uint32_t e4 = irt[4];
    m.ncmds = 0;
    assert_int_equal(amdvi_irte_clear(&u, dev, 3, &why), 0);
    assert_int_equal(irt[3] & 1, 0);
    assert_int_equal(irt[4], e4);
    assert_int_equal(dte(dev)[2], q2);
    assert_int_equal(m.ncmds, 2);
    expect_cmd(0, 5ull << 60 | dev, 0);
    assert_int_equal(m.irt_seen[3] & 1, 0);
    expect_cmd(1, cw_q0(), u.wait_seq);
    assert_int_equal(*u.wait_va, u.wait_seq);
    assert_int_equal(msi(dev, 3), MSI_REFUSED);
    expect_delivered(dev, 4, 6, 0x71);
    /* Cleared twice: still disabled, invalidated again. */
    assert_int_equal(amdvi_irte_clear(&u, dev, 3, &why), 0);
    assert_int_equal(m.ncmds, 4);
    assert_int_equal(msi(dev, 3), MSI_REFUSED);

    /* A requester without a table has nothing to disable. */
    m.ncmds = 0;
    assert_int_equal(amdvi_irte_clear(&u, other, 3, &why), 0);
    assert_int_equal(m.ncmds, 0);
    assert_int_equal(dte(other)[2], 1);
    /* Out of range. */
    assert_int_equal(amdvi_irte_clear(&u, dev, 256, &why), -E_INVAL);
    assert_string_equal(why.text, "AMD-Vi: interrupt entry 256 is beyond the table's 256");
    assert_int_equal(amdvi_irte_clear(NULL, dev, 4, &why), -E_INVAL);
    assert_int_equal(m.ncmds, 0);
    expect_delivered(dev, 4, 6, 0x71);
    /* Set again after a clear. */
    irte_set_ok(dev, 3, 7, 0x72);
    expect_delivered(dev, 3, 7, 0x72);
}

/* Attaching and detaching DMA leaves the interrupt fields alone. */
static void test_irte_kept_by_attach_detach(void **state)
{
    (void)state;
    init_ok();
    const pci_bdf dev = PCI_BDF(0, 10, 0);
    irte_set_ok(dev, 0, 8, 0x33);
    const uint64_t q2 = dte(dev)[2];
    struct iommu_domain d = {.id = 3, .root = 0x40000000};
    assert_int_equal(amdvi_attach(&u, dev, &d, &why), 0);
    assert_int_equal(dte(dev)[2], q2);
    expect_delivered(dev, 0, 8, 0x33);
    assert_int_equal(amdvi_detach(&u, dev, &why), 0);
    assert_int_equal(dte(dev)[2], q2);
    assert_int_equal(dte(dev)[0], 3);
    expect_delivered(dev, 0, 8, 0x33);
}

/* ---- Waiting is bounded ---- */

static void test_completion_wait_timeout(void **state)
{
    (void)state;
    init_ok();
    u.poll_limit = 1000;
    m.no_store = true;
    unsigned reads = m.status_reads;
    assert_int_equal(amdvi_flush_domain(&u, 1, &why), -E_TIMEDOUT);
    assert_string_equal(why.text, "AMD-Vi: COMPLETION_WAIT not done after 1000 polls");
    assert_int_equal(m.status_reads - reads, 1000);
    /* A unit that stopped fetching commands (an illegal command, say) is named. */
    m.stopped = true;
    assert_int_equal(amdvi_detach(&u, 1, &why), -E_TIMEDOUT);
    assert_string_equal(
        why.text, "AMD-Vi: COMPLETION_WAIT not done after 1000 polls (command buffer stopped)");
    /* Back to normal: the late sequence numbers do not count for the new wait. */
    m.no_store = false;
    m.stopped = false;
    assert_int_equal(amdvi_flush_domain(&u, 1, &why), 0);
    assert_int_equal(*u.wait_va, u.wait_seq);
}

/* The unit fetches nothing: once the ring is full, nothing is overwritten. */
static void test_command_buffer_full(void **state)
{
    (void)state;
    init_ok();
    u.poll_limit = 100;
    m.stall = true;
    unsigned timeouts = 0;
    int rc;
    while ((rc = amdvi_flush_domain(&u, 2, &why)) == -E_TIMEDOUT &&
           strstr(why.text, "COMPLETION_WAIT"))
        timeouts++;
    /* 255 usable slots, 2 per flush. */
    assert_int_equal(timeouts, 127);
    assert_int_equal(rc, -E_TIMEDOUT);
    assert_string_equal(why.text,
                        "AMD-Vi: command buffer full after 100 polls (head 0x20, tail 0x0)");
    uint8_t ring[4096];
    memcpy(ring, u.cmd, sizeof(ring));
    uint64_t tail = m.reg[R_CMD_TAIL / 8];
    assert_int_equal(tail, 0x0);
    assert_int_equal(amdvi_attach(&u, 1, &(struct iommu_domain){.id = 1, .root = 0x1000}, &why),
                     -E_TIMEDOUT);
    assert_int_equal(memcmp(ring, u.cmd, sizeof(ring)), 0);
    assert_int_equal(m.reg[R_CMD_TAIL / 8], tail);

    /* The unit catches up: everything queued runs in order, and the ring is usable again. */
    m.stall = false;
    m_run();
    assert_int_equal(m.ncmds, 254);
    for (unsigned i = 0; i < 127; i++) {
        expect_cmd(2 * i, 0x3000000200000000ull, 0x7ffffffffffff003ull);
        expect_cmd(2 * i + 1, cw_q0(), 2 + i);
    }
    assert_int_equal(amdvi_flush_domain(&u, 2, &why), 0);
}

/* ---- Event log ---- */

#define EV(code, dev, flags) ((uint64_t)(code) << 60 | (uint64_t)(flags) << 48 | (dev))
#define F_I 0x08
#define F_PR 0x10
#define F_RW 0x20

static void test_faults(void **state)
{
    (void)state;
    init_ok();
    struct iommu_fault f[8];
    assert_int_equal(amdvi_faults(&u, f, 8), 0);
    /* A write to a present read-only page (domain 5 in bits 47:32), a read of an absent
     * one, an unknown code, an ILLEGAL_COMMAND_ERROR. */
    m_event(EV(2, 0x0310, F_RW | F_PR) | 5ull << 32, 0xdead0123);
    m_event(EV(2, 0xff07, 0), 0x7ffffffff000);
    m_event(EV(0xc, 0x0042, F_RW), 0x1234);
    m_event(EV(5, 0, 0), u.cmd_pa + 0x40);
    memset(f, 0xa5, sizeof(f));
    assert_int_equal(amdvi_faults(&u, f, 8), 4);
    assert_int_equal(f[0].source, 0x0310);
    assert_int_equal(f[0].addr, 0xdead0123);
    assert_true(f[0].write);
    assert_int_equal(f[0].reason, 2);
    assert_int_equal(f[1].source, 0xff07);
    assert_int_equal(f[1].addr, 0x7ffffffff000);
    assert_false(f[1].write);
    assert_int_equal(f[2].reason, 0xc);
    assert_int_equal(f[2].source, 0);
    assert_int_equal(f[2].addr, 0);
    assert_false(f[2].write);
    assert_int_equal(f[3].reason, 5);
    assert_int_equal(f[3].addr, u.cmd_pa + 0x40);
    assert_int_equal(u.evt_unknown, 1);
    assert_int_equal(m.reg[R_EVT_HEAD / 8], 0x40);
    /* Read entries are cleared: a stale one reads as unwritten. */
    const uint64_t *log = m_va(NULL, u.evt_pa);
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(log[i], 0);

    /* At most max at a time. */
    for (unsigned i = 0; i < 5; i++)
        m_event(EV(2, i, 0), i * PAGE_SIZE);
    assert_int_equal(amdvi_faults(&u, f, 2), 2);
    assert_int_equal(amdvi_faults(&u, f + 2, 8), 3);
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(f[i].addr, i * PAGE_SIZE);
    assert_int_equal(amdvi_faults(&u, NULL, 0), 0);
}

/* Interrupts the unit refused: an IO_PAGE_FAULT with flag I (flags bit 3, event bit 51) and
 * an INVALID_DEVICE_REQUEST, both with the MSI address: reported like the other events. */
static void test_fault_interrupt(void **state)
{
    (void)state;
    init_ok();
    struct iommu_fault f[4];
    m_event(EV(2, 0x0018, F_I | F_RW), 0xfee00000);
    m_event(EV(8, 0x0019, 0), 0xfee00004);
    memset(f, 0xa5, sizeof(f));
    assert_int_equal(amdvi_faults(&u, f, 4), 2);
    assert_int_equal(f[0].source, 0x0018);
    assert_int_equal(f[0].addr, 0xfee00000);
    assert_int_equal(f[0].reason, 2);
    assert_true(f[0].write);
    assert_int_equal(f[1].source, 0x0019);
    assert_int_equal(f[1].addr, 0xfee00004);
    assert_int_equal(f[1].reason, 8);
    assert_false(f[1].write);
    assert_int_equal(u.evt_unknown, 0);
    assert_int_equal(m.reg[R_EVT_HEAD / 8], 0x20);
}

/* Code 0: the tail moved before the entry was written. Left once, then taken as malformed. */
static void test_fault_unwritten_and_bad_tail(void **state)
{
    (void)state;
    init_ok();
    struct iommu_fault f[4];
    m_event(0, 0);
    m_event(EV(2, 1, 0), 0x5000);
    assert_int_equal(amdvi_faults(&u, f, 4), 0);
    assert_int_equal(m.reg[R_EVT_HEAD / 8], 0);
    assert_int_equal(amdvi_faults(&u, f, 4), 2);
    assert_int_equal(f[0].reason, 0);
    assert_int_equal(f[0].source, 0);
    assert_int_equal(f[1].addr, 0x5000);
    assert_int_equal(u.evt_unknown, 1);
    /* Written late, in time for the second look: read normally. */
    m_event(0, 0);
    assert_int_equal(amdvi_faults(&u, f, 4), 0);
    uint64_t *e = m_va(NULL, u.evt_pa + 0x20);
    e[0] = EV(2, 3, F_RW);
    e[1] = 0x6000;
    assert_int_equal(amdvi_faults(&u, f, 4), 1);
    assert_int_equal(f[0].source, 3);
    assert_true(f[0].write);

    /* A tail outside the ring or misaligned: nothing read, the head stays. */
    m.reg[R_EVT_TAIL / 8] = 0x1000;
    assert_int_equal(amdvi_faults(&u, f, 4), 0);
    m.reg[R_EVT_TAIL / 8] = 0x38;
    assert_int_equal(amdvi_faults(&u, f, 4), 0);
    assert_int_equal(u.evt_bad_tail, 2);
    assert_int_equal(m.reg[R_EVT_HEAD / 8], 0x30);
}

/* The head goes around the 256-entry log. */
static void test_fault_wraparound(void **state)
{
    (void)state;
    init_ok();
    struct iommu_fault f[64];
    unsigned next = 0, seen = 0;
    for (unsigned round = 0; round < 3; round++) {
        for (unsigned i = 0; i < 200; i++, next++)
            m_event(EV(2, next & 0xffff, next & 1 ? F_RW : 0), (uint64_t)next << 12);
        unsigned n;
        while ((n = amdvi_faults(&u, f, ARRAY_SIZE(f))) > 0) {
            for (unsigned i = 0; i < n; i++, seen++) {
                assert_int_equal(f[i].addr, (uint64_t)seen << 12);
                assert_int_equal(f[i].write, seen & 1);
            }
        }
    }
    assert_int_equal(seen, 600);
    assert_int_equal(u.evt_head, (600 * 16) % 4096);
    assert_int_equal(m.reg[R_EVT_HEAD / 8], u.evt_head);
}

/* After an overflow: counted, the overflow bit cleared and logging re-enabled, once the
 * unit has stopped logging; never waited for. */
static void test_fault_overflow(void **state)
{
    (void)state;
    init_ok();
    struct iommu_fault f[4];
    m_event(EV(2, 1, 0), 0x1000);
    m.reg[R_STATUS / 8] |= S_EVT_OVERFLOW | S_EVT_LOG_RUN; /* still running: not yet */
    unsigned writes = m.control_writes;
    assert_int_equal(amdvi_faults(&u, f, 4), 1);
    assert_int_equal(u.evt_overflows, 0);
    assert_int_equal(m.control_writes, writes);
    m.reg[R_STATUS / 8] &= ~S_EVT_LOG_RUN;
    assert_int_equal(amdvi_faults(&u, f, 4), 0);
    assert_int_equal(u.evt_overflows, 1);
    assert_int_equal(m.reg[R_STATUS / 8] & S_EVT_OVERFLOW, 0);
    assert_int_equal(m.control_writes, writes + 2);
    assert_int_equal(m.control_log[writes] & C_EVT_LOG_EN, 0);
    assert_int_equal(m.reg[R_CONTROL / 8], C_IOMMU_EN | C_CMD_BUF_EN | C_EVT_LOG_EN | C_COHERENT);
    assert_true(m.reg[R_STATUS / 8] & S_EVT_LOG_RUN);
    assert_int_equal(amdvi_faults(&u, f, 4), 0);
    assert_int_equal(u.evt_overflows, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_init, teardown),
        cmocka_unit_test_teardown(test_init_without_invalidate_all, teardown),
        cmocka_unit_test_teardown(test_init_failures, teardown),
        cmocka_unit_test_teardown(test_attach, teardown),
        cmocka_unit_test_teardown(test_attach_pgtable_root, teardown),
        cmocka_unit_test_teardown(test_detach, teardown),
        cmocka_unit_test_teardown(test_flush_domain, teardown),
        cmocka_unit_test_teardown(test_irte_set, teardown),
        cmocka_unit_test_teardown(test_irte_set_reuses_table, teardown),
        cmocka_unit_test_teardown(test_irte_set_refused, teardown),
        cmocka_unit_test_teardown(test_irte_set_nomem, teardown),
        cmocka_unit_test_teardown(test_irte_set_timeout, teardown),
        cmocka_unit_test_teardown(test_irte_clear, teardown),
        cmocka_unit_test_teardown(test_irte_kept_by_attach_detach, teardown),
        cmocka_unit_test_teardown(test_completion_wait_timeout, teardown),
        cmocka_unit_test_teardown(test_command_buffer_full, teardown),
        cmocka_unit_test_teardown(test_faults, teardown),
        cmocka_unit_test_teardown(test_fault_interrupt, teardown),
        cmocka_unit_test_teardown(test_fault_unwritten_and_bad_tail, teardown),
        cmocka_unit_test_teardown(test_fault_wraparound, teardown),
        cmocka_unit_test_teardown(test_fault_overflow, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
