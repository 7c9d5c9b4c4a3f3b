/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* AMD-Vi unit driver: blocks all DMA, then translates attached requesters per domain. */
#include "iommu/amdvi.h"

#include "core/klib.h"

#define DTE_BLOCKED (AMDVI_DTE_V | AMDVI_DTE_TV) /* mode 0, IR=IW=0: every DMA refused */
#define DTE_MODE_4LEVEL (4ULL << AMDVI_DTE_MODE_SHIFT)
/* q[2]: interrupt remapping valid with IntCtl 00 (target abort), no table, and none of the
 * pass bits: a device cannot raise any interrupt, not even by a DMA write to 0xfeexxxxx */
#define DTE_INTERRUPTS_ABORTED AMDVI_DTE_IV
/* q[2] of a requester with a table (its root ORed in): fixed and arbitrated interrupts through
 * the table, the pass bits still 0 (NMI, INIT, ExtInt and Lint0/1 messages aborted), IG 0 (an
 * interrupt the table refuses is logged). */
#define DTE_INTERRUPTS_REMAPPED                                                                    \
    (AMDVI_DTE_IV | ((uint64_t)AMDVI_IRT_LEN_LOG2 << AMDVI_DTE_INT_TAB_LEN_SHIFT) |                \
     (AMDVI_DTE_INT_CTL_REMAP << AMDVI_DTE_INT_CTL_SHIFT))
#define DEV_TABLE_BYTES (AMDVI_DEVICES * sizeof(struct amdvi_dte))
#define DEV_TABLE_ORDER 9 /* 2 MiB = 2^9 pages */
#define PA_LIMIT (1ULL << 52)

_Static_assert(DEV_TABLE_BYTES == (PAGE_SIZE << DEV_TABLE_ORDER), "2 MiB device table");
_Static_assert((1u << AMDVI_RING_LEN_LOG2) == AMDVI_RING_ENTRIES, "ring length code");
_Static_assert(AMDVI_IRT_BYTES <= PAGE_SIZE && PAGE_SIZE % AMDVI_IRT_ALIGN == 0,
               "an interrupt table fits an aligned page");
_Static_assert((DTE_INTERRUPTS_REMAPPED & AMDVI_DTE_INT_ROOT_MASK) == 0, "room for the root");

/* Control bits this driver owns: cleared before the tables move. The PPR, guest and GA
 * features would have the unit use structures that are not set up here. */
#define CTL_OWNED                                                                                  \
    (AMDVI_CTL_IOMMU_EN | AMDVI_CTL_EVT_LOG_EN | AMDVI_CTL_EVT_INT_EN |                            \
     AMDVI_CTL_COM_WAIT_INT_EN | AMDVI_CTL_CMD_BUF_EN | AMDVI_CTL_PPR_LOG_EN |                     \
     AMDVI_CTL_PPR_INT_EN | AMDVI_CTL_PPR_EN | AMDVI_CTL_GT_EN | AMDVI_CTL_GA_EN |                 \
     AMDVI_CTL_GA_LOG_EN | AMDVI_CTL_GA_INT_EN)

/* ---- Access ----------------------------------------------------------------------- */

static uint64_t reg_read(const struct amdvi *u, uint32_t off)
{
    return u->mmio->read64(u->mmio->ctx, off);
}

static void reg_write(const struct amdvi *u, uint32_t off, uint64_t v)
{
    u->mmio->write64(u->mmio->ctx, off, v);
}

/* Memory the unit reads or writes: one 64-bit access each, never merged or torn. */
static uint64_t mem_load(const volatile uint64_t *p)
{
    return *p;
}

static void mem_store(volatile uint64_t *p, uint64_t v)
{
    *p = v;
}

static void mem_store32(volatile uint32_t *p, uint32_t v)
{
    *p = v;
}

static volatile uint64_t *dte_at(const struct amdvi *u, pci_bdf requester)
{
    return ((volatile struct amdvi_dte *)u->dev_table)[requester].q;
}

static int take_pages(struct amdvi *u, unsigned order, uint64_t *pa, void **va, struct refusal *why)
{
    uint64_t bytes = PAGE_SIZE << order;
    int rc = u->pages->alloc(u->pages->ctx, order, pa);
    if (rc != 0)
        return refuse(why, -rc, "AMD-Vi: no memory for %llu KiB of IOMMU tables",
                      (unsigned long long)(bytes / KiB));
    if (!IS_ALIGNED(*pa, bytes) || *pa >= PA_LIMIT)
        return refuse(why, E_INVAL, "AMD-Vi: table memory at %#llx is not aligned to its size",
                      (unsigned long long)*pa);
    *va = u->pages->va(u->pages->ctx, *pa);
    if (!*va)
        return refuse(why, E_NOMEM, "AMD-Vi: table memory at %#llx has no mapping",
                      (unsigned long long)*pa);
    return 0;
}

/* ---- Command buffer ----------------------------------------------------------------- */

static uint32_t ring_next(uint32_t off)
{
    return (off + (uint32_t)sizeof(struct amdvi_cmd)) % AMDVI_RING_BYTES;
}

static unsigned cmd_free(const struct amdvi *u)
{
    uint32_t used = (u->cmd_tail - u->cmd_head) % AMDVI_RING_BYTES;
    /* one slot stays empty: head == tail means empty, never full */
    return AMDVI_RING_ENTRIES - 1 - used / (uint32_t)sizeof(struct amdvi_cmd);
}

/* Waits (bounded) until n slots are free: commands the unit has not fetched yet are never
 * overwritten. */
static int cmd_room(struct amdvi *u, unsigned n, struct refusal *why)
{
    for (uint32_t polls = 0; cmd_free(u) < n; polls++) {
        if (polls == u->poll_limit)
            return refuse(why, E_TIMEDOUT,
                          "AMD-Vi: command buffer full after %u polls (head 0x%x, tail 0x%x)",
                          polls, u->cmd_head, u->cmd_tail);
        uint64_t head = reg_read(u, AMDVI_CMD_HEAD) & AMDVI_RING_PTR_MASK;
        if (head >= AMDVI_RING_BYTES)
            return refuse(why, E_IO, "AMD-Vi: command buffer head %#llx outside the ring",
                          (unsigned long long)head);
        u->cmd_head = (uint32_t)head;
    }
    return 0;
}

static void cmd_put(struct amdvi *u, const struct amdvi_cmd *c)
{
    volatile uint64_t *slot = (volatile uint64_t *)((uint8_t *)u->cmd + u->cmd_tail);
    mem_store(&slot[0], c->q[0]);
    mem_store(&slot[1], c->q[1]);
    u->cmd_tail = ring_next(u->cmd_tail);
}

static void cmd_kick(struct amdvi *u)
{
    /* Commands, and the DTEs and page tables they name, are in memory before the unit can
     * see the new tail. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    reg_write(u, AMDVI_CMD_TAIL, u->cmd_tail);
}

static struct amdvi_cmd cmd_inv_dte(pci_bdf requester)
{
    return (struct amdvi_cmd){
        {requester | (AMDVI_CMD_INV_DEVTAB_ENTRY << AMDVI_CMD_OPCODE_SHIFT), 0}};
}

static struct amdvi_cmd cmd_inv_irt(pci_bdf requester)
{
    return (struct amdvi_cmd){
        {requester | (AMDVI_CMD_INV_INTERRUPT_TABLE << AMDVI_CMD_OPCODE_SHIFT), 0}};
}

/* Every page and directory entry the unit caches for the domain. */
static struct amdvi_cmd cmd_inv_domain(uint16_t domain)
{
    return (struct amdvi_cmd){{((uint64_t)domain << AMDVI_INV_PAGES_DOMAIN_SHIFT) |
                                   (AMDVI_CMD_INV_IOMMU_PAGES << AMDVI_CMD_OPCODE_SHIFT),
                               AMDVI_INV_PAGES_ALL | AMDVI_INV_PAGES_S | AMDVI_INV_PAGES_PDE}};
}

/* Queues cmds[0..n) and a COMPLETION_WAIT, and waits (bounded) until the unit has stored
 * its sequence number: by then it has completed every command before it. */
static int cmd_run(struct amdvi *u, const struct amdvi_cmd *cmds, unsigned n, struct refusal *why)
{
    int rc = cmd_room(u, n + 1, why);
    if (rc != 0)
        return rc;
    for (unsigned i = 0; i < n; i++)
        cmd_put(u, &cmds[i]);
    uint64_t seq = ++u->wait_seq;
    struct amdvi_cmd wait = {{(u->wait_pa & AMDVI_CW_ADDR_MASK) | AMDVI_CW_STORE |
                                  (AMDVI_CMD_COMPLETION_WAIT << AMDVI_CMD_OPCODE_SHIFT),
                              seq}};
    cmd_put(u, &wait);
    cmd_kick(u);
    /* Each poll also reads the status register: it paces the loop like the other register
     * polls (a memory read alone would use up the bound in milliseconds). */
    uint64_t status = 0;
    for (uint32_t polls = 0; polls < u->poll_limit; polls++) {
        if (mem_load(u->wait_va) == seq) {
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            return 0;
        }
        status = reg_read(u, AMDVI_STATUS);
    }
    return refuse(why, E_TIMEDOUT, "AMD-Vi: COMPLETION_WAIT not done after %u polls%s",
                  u->poll_limit,
                  (status & AMDVI_STS_CMD_BUF_RUN) ? "" : " (command buffer stopped)");
}

/* ---- Initialisation ------------------------------------------------------------------ */

static int wait_stopped(struct amdvi *u, struct refusal *why)
{
    const uint64_t run = AMDVI_STS_CMD_BUF_RUN | AMDVI_STS_EVT_LOG_RUN;
    for (uint32_t polls = 0; polls < u->poll_limit; polls++)
        if ((reg_read(u, AMDVI_STATUS) & run) == 0)
            return 0;
    return refuse(why, E_TIMEDOUT,
                  "AMD-Vi: command buffer or event log still running %u polls after disabling",
                  u->poll_limit);
}

/* The unit may have run before (firmware DMA protection, a previous kernel): nothing it
 * cached from other tables may survive. */
static int invalidate_all(struct amdvi *u, struct refusal *why)
{
    if (u->efr & AMDVI_EFR_IA_SUP) {
        struct amdvi_cmd all = {{AMDVI_CMD_INV_IOMMU_ALL << AMDVI_CMD_OPCODE_SHIFT, 0}};
        return cmd_run(u, &all, 1, why);
    }
    /* One INVALIDATE_DEVTAB_ENTRY per requester ID, a ringful at a time. Page caches are
     * tagged by domain and flushed when a domain is attached. */
    for (uint32_t id = 0; id < AMDVI_DEVICES;) {
        int rc = cmd_room(u, 1, why);
        if (rc != 0)
            return rc;
        for (unsigned n = cmd_free(u); n > 0 && id < AMDVI_DEVICES; n--, id++) {
            struct amdvi_cmd c = cmd_inv_dte((pci_bdf)id);
            cmd_put(u, &c);
        }
        cmd_kick(u);
    }
    return cmd_run(u, NULL, 0, why);
}

int amdvi_init(struct amdvi *u, const struct iommu_mmio *mmio, const struct iommu_pages *pages,
               struct refusal *why)
{
    if (!u || !mmio || !mmio->read64 || !mmio->write64 || !pages || !pages->alloc || !pages->va)
        return refuse(why, E_INVAL, "AMD-Vi: no registers or no page allocator");
    memset(u, 0, sizeof(*u));
    u->mmio = mmio;
    u->pages = pages;
    u->poll_limit = IOMMU_POLL_LIMIT;

    /* Memory first: a unit that cannot be set up is left as it was. (iommu_pages has no
     * free: what was taken before a failure stays taken.) */
    void *wait;
    int rc = take_pages(u, DEV_TABLE_ORDER, &u->dev_table_pa, &u->dev_table, why);
    if (rc == 0)
        rc = take_pages(u, 0, &u->cmd_pa, &u->cmd, why);
    if (rc == 0)
        rc = take_pages(u, 0, &u->evt_pa, &u->evt, why);
    if (rc == 0)
        rc = take_pages(u, 0, &u->wait_pa, &wait, why);
    if (rc != 0)
        return rc;
    u->wait_va = wait;
    for (uint32_t id = 0; id < AMDVI_DEVICES; id++) {
        mem_store(&dte_at(u, (pci_bdf)id)[2], DTE_INTERRUPTS_ABORTED);
        mem_store(&dte_at(u, (pci_bdf)id)[0], DTE_BLOCKED); /* the rest is zero */
    }

    /* Off before the bases change (they may not while the unit runs). */
    uint64_t ctl = reg_read(u, AMDVI_CONTROL) & ~CTL_OWNED;
    reg_write(u, AMDVI_CONTROL, ctl);
    rc = wait_stopped(u, why);
    if (rc != 0)
        return rc;
    u->efr = reg_read(u, AMDVI_EXT_FEATURE);

    reg_write(u, AMDVI_DEV_TABLE_BASE, u->dev_table_pa | (DEV_TABLE_BYTES / PAGE_SIZE - 1));
    reg_write(u, AMDVI_CMD_BUF_BASE,
              u->cmd_pa | ((uint64_t)AMDVI_RING_LEN_LOG2 << AMDVI_RING_LEN_SHIFT));
    reg_write(u, AMDVI_EVT_LOG_BASE,
              u->evt_pa | ((uint64_t)AMDVI_RING_LEN_LOG2 << AMDVI_RING_LEN_SHIFT));
    /* No firmware exclusion range: no address bypasses translation. */
    reg_write(u, AMDVI_EXCL_BASE, 0);
    reg_write(u, AMDVI_EXCL_LIMIT, 0);
    reg_write(u, AMDVI_CMD_HEAD, 0);
    reg_write(u, AMDVI_CMD_TAIL, 0);
    reg_write(u, AMDVI_EVT_HEAD, 0);
    reg_write(u, AMDVI_EVT_TAIL, 0);
    reg_write(u, AMDVI_STATUS,
              AMDVI_STS_EVT_OVERFLOW | AMDVI_STS_EVT_LOG_INT | AMDVI_STS_COM_WAIT_INT);

    /* The blocking device table is in memory before the unit may read it. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    ctl |= AMDVI_CTL_COHERENT | AMDVI_CTL_CMD_BUF_EN | AMDVI_CTL_EVT_LOG_EN;
    reg_write(u, AMDVI_CONTROL, ctl);
    reg_write(u, AMDVI_CONTROL, ctl | AMDVI_CTL_IOMMU_EN);
    return invalidate_all(u, why);
}

/* ---- Devices ------------------------------------------------------------------------- */

int amdvi_attach(struct amdvi *u, pci_bdf requester, const struct iommu_domain *d,
                 struct refusal *why)
{
    if (!u || !u->dev_table || !d)
        return refuse(why, E_INVAL, "AMD-Vi: attach without a unit or a domain");
    if (d->id == 0 || d->root == 0 || (d->root & ~AMDVI_DTE_ROOT_MASK) != 0)
        return refuse(why, E_INVAL, "AMD-Vi: domain %u with root %#llx is not a page table", d->id,
                      (unsigned long long)d->root);
    volatile uint64_t *dte = dte_at(u, requester);
    uint64_t q0 = DTE_BLOCKED | DTE_MODE_4LEVEL | d->root | AMDVI_DTE_IR | AMDVI_DTE_IW;
    uint64_t cur0 = mem_load(&dte[0]), cur_domain = mem_load(&dte[1]) & AMDVI_DTE_DOMAIN_MASK;
    if (cur0 != DTE_BLOCKED && (cur0 != q0 || cur_domain != d->id))
        return refuse(why, E_BUSY,
                      "AMD-Vi: %02x:%02x.%x translates for domain %llu; detach it first",
                      PCI_BUS(requester), PCI_DEV(requester), PCI_FN(requester),
                      (unsigned long long)cur_domain);
    /* The domain ID first, while the entry still blocks; then the quadword that turns
     * translation on, in one store. */
    mem_store(&dte[1], d->id);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    mem_store(&dte[0], q0);
    const struct amdvi_cmd cmds[] = {cmd_inv_dte(requester), cmd_inv_domain(d->id)};
    return cmd_run(u, cmds, ARRAY_SIZE(cmds), why);
}

int amdvi_detach(struct amdvi *u, pci_bdf requester, struct refusal *why)
{
    if (!u || !u->dev_table)
        return refuse(why, E_INVAL, "AMD-Vi: detach without a unit");
    volatile uint64_t *dte = dte_at(u, requester);
    /* Blocking first, in one store; the domain ID means nothing after it. */
    mem_store(&dte[0], DTE_BLOCKED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    mem_store(&dte[1], 0);
    const struct amdvi_cmd inv = cmd_inv_dte(requester);
    return cmd_run(u, &inv, 1, why);
}

int amdvi_flush_domain(struct amdvi *u, uint16_t domain, struct refusal *why)
{
    if (!u || !u->cmd)
        return refuse(why, E_INVAL, "AMD-Vi: flush without a unit");
    const struct amdvi_cmd inv = cmd_inv_domain(domain);
    return cmd_run(u, &inv, 1, why);
}

/* ---- Interrupt remapping ------------------------------------------------------------- */

static bool interrupts_remapped(uint64_t q2)
{
    return (q2 & AMDVI_DTE_IV) &&
           ((q2 & AMDVI_DTE_INT_CTL_MASK) >> AMDVI_DTE_INT_CTL_SHIFT) == AMDVI_DTE_INT_CTL_REMAP &&
           (q2 & AMDVI_DTE_INT_ROOT_MASK) != 0;
}

/* Fixed (IntType 000b), physical (DM 0), no EOI, logged when refused (SupIOPF 0). */
static struct amdvi_irte irte_make(const struct iommu_irq *irq)
{
    return (struct amdvi_irte){AMDVI_IRTE_REMAP_EN |
                               ((uint32_t)irq->apic_id << AMDVI_IRTE_DEST_SHIFT) |
                               ((uint32_t)irq->vector << AMDVI_IRTE_VECTOR_SHIFT)};
}

static volatile uint32_t *irte_at(volatile struct amdvi_irte *table, unsigned index)
{
    return &table[index].raw;
}

/* The table of a requester whose DTE already remaps (NULL if none): its root is in q2. */
static int table_of(struct amdvi *u, pci_bdf requester, uint64_t q2,
                    volatile struct amdvi_irte **table, struct refusal *why)
{
    *table = NULL;
    if (!interrupts_remapped(q2))
        return 0;
    uint64_t pa = q2 & AMDVI_DTE_INT_ROOT_MASK;
    *table = u->pages->va(u->pages->ctx, pa);
    if (!*table)
        return refuse(why, E_IO, "AMD-Vi: interrupt table of %02x:%02x.%x at %#llx has no mapping",
                      PCI_BUS(requester), PCI_DEV(requester), PCI_FN(requester),
                      (unsigned long long)pa);
    return 0;
}

int amdvi_irte_set(struct amdvi *u, pci_bdf requester, unsigned index, const struct iommu_irq *irq,
                   struct iommu_msi_msg *msg, struct refusal *why)
{
    if (!u || !u->dev_table || !irq || !msg)
        return refuse(why, E_INVAL, "AMD-Vi: interrupt entry without a unit, interrupt or message");
    if (index >= AMDVI_IRT_ENTRIES)
        return refuse(why, E_INVAL, "AMD-Vi: interrupt entry %u is beyond the table's %u", index,
                      AMDVI_IRT_ENTRIES);
    if (irq->vector < AMDVI_VECTOR_MIN)
        return refuse(why, E_INVAL, "AMD-Vi: vector %u is an exception vector", irq->vector);
    if (irq->apic_id > AMDVI_IRTE_APIC_ID_MAX)
        return refuse(why, E_INVAL, "AMD-Vi: APIC ID %u does not fit an 8-bit remapping entry",
                      irq->apic_id);
    volatile uint64_t *dte = dte_at(u, requester);
    uint64_t q2 = mem_load(&dte[2]);
    volatile struct amdvi_irte *table;
    int rc = table_of(u, requester, q2, &table, why);
    if (rc != 0)
        return rc;
    struct amdvi_cmd cmds[2];
    unsigned n = 0;
    if (table) {
        /* One 32-bit store: the unit sees the old entry or the new one, never a mix. */
        mem_store32(irte_at(table, index), irte_make(irq).raw);
    } else {
        uint64_t pa;
        void *va;
        rc = take_pages(u, 0, &pa, &va, why);
        if (rc != 0)
            return rc;
        u->irt_tables++;
        table = va;
        for (unsigned i = 0; i < AMDVI_IRT_ENTRIES; i++)
            mem_store32(irte_at(table, i), i == index ? irte_make(irq).raw : 0);
        /* The table is in memory before the DTE that names it; then the interrupt fields
         * change in one store, from aborting everything to remapping. */
        __atomic_thread_fence(__ATOMIC_RELEASE);
        mem_store(&dte[2], DTE_INTERRUPTS_REMAPPED | pa);
        cmds[n++] = cmd_inv_dte(requester);
    }
    cmds[n++] = cmd_inv_irt(requester);
    rc = cmd_run(u, cmds, n, why);
    if (rc != 0)
        return rc;
    *msg = (struct iommu_msi_msg){.address = AMDVI_MSI_ADDRESS, .data = index};
    return 0;
}

int amdvi_irte_clear(struct amdvi *u, pci_bdf requester, unsigned index, struct refusal *why)
{
    if (!u || !u->dev_table)
        return refuse(why, E_INVAL, "AMD-Vi: interrupt entry without a unit");
    if (index >= AMDVI_IRT_ENTRIES)
        return refuse(why, E_INVAL, "AMD-Vi: interrupt entry %u is beyond the table's %u", index,
                      AMDVI_IRT_ENTRIES);
    volatile struct amdvi_irte *table;
    int rc = table_of(u, requester, mem_load(&dte_at(u, requester)[2]), &table, why);
    if (rc != 0 || !table)
        return rc; /* no table: every interrupt of the requester is aborted already */
    mem_store32(irte_at(table, index), 0);
    const struct amdvi_cmd inv = cmd_inv_irt(requester);
    return cmd_run(u, &inv, 1, why);
}

/* ---- Event log ----------------------------------------------------------------------- */

static void decode_event(struct amdvi *u, uint64_t q0, uint64_t q1, struct iommu_fault *f)
{
    unsigned code = (unsigned)(q0 >> AMDVI_EVT_CODE_SHIFT);
    *f = (struct iommu_fault){.reason = (uint16_t)code};
    switch (code) {
    case AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY:
    case AMDVI_EVT_IO_PAGE_FAULT:
    case AMDVI_EVT_DEV_TAB_HW_ERROR:
    case AMDVI_EVT_PAGE_TAB_HW_ERROR:
    case AMDVI_EVT_IOTLB_INV_TIMEOUT:
    case AMDVI_EVT_INVALID_DEV_REQUEST:
        /* An interrupt the unit refused is one of these too (IO_PAGE_FAULT with flag I, or
         * INVALID_DEVICE_REQUEST): its address is the MSI address. */
        f->source = (pci_bdf)(q0 & AMDVI_EVT_DEVID_MASK);
        f->addr = q1;
        f->write = (code == AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY || code == AMDVI_EVT_IO_PAGE_FAULT) &&
                   (q0 & AMDVI_EVT_FLAG_RW) != 0;
        break;
    case AMDVI_EVT_ILLEGAL_COMMAND:
    case AMDVI_EVT_COMMAND_HW_ERROR:
        f->addr = q1; /* the command's address; no device */
        break;
    default:
        u->evt_unknown++;
        break;
    }
}

/* After an overflow the unit logs nothing until the overflow bit is cleared and logging is
 * re-enabled; only once it has stopped running (never waited for: the next call retries). */
static void restart_log(struct amdvi *u)
{
    uint64_t status = reg_read(u, AMDVI_STATUS);
    if (!(status & AMDVI_STS_EVT_OVERFLOW) || (status & AMDVI_STS_EVT_LOG_RUN))
        return;
    uint64_t ctl = reg_read(u, AMDVI_CONTROL);
    reg_write(u, AMDVI_CONTROL, ctl & ~AMDVI_CTL_EVT_LOG_EN);
    reg_write(u, AMDVI_STATUS, AMDVI_STS_EVT_OVERFLOW);
    reg_write(u, AMDVI_CONTROL, ctl | AMDVI_CTL_EVT_LOG_EN);
    u->evt_overflows++;
}

unsigned amdvi_faults(struct amdvi *u, struct iommu_fault *out, unsigned max)
{
    if (!u || !u->evt || (!out && max > 0))
        return 0;
    unsigned n = 0;
    uint32_t head = u->evt_head;
    uint64_t tail = reg_read(u, AMDVI_EVT_TAIL);
    if ((tail & ~AMDVI_RING_PTR_MASK) != 0 || tail >= AMDVI_RING_BYTES) {
        u->evt_bad_tail++;
        tail = head; /* trust nothing this time */
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE); /* entries up to the tail are written */
    while (head != tail && n < max) {
        volatile uint64_t *slot = (volatile uint64_t *)((uint8_t *)u->evt + head);
        uint64_t q0 = mem_load(&slot[0]), q1 = mem_load(&slot[1]);
        if ((q0 >> AMDVI_EVT_CODE_SHIFT) == 0 && u->evt_unwritten != head + 1) {
            /* Code 0 is no event: the tail may have moved before the entry was written.
             * Left for the next call; seen unwritten again, it is taken as malformed. */
            u->evt_unwritten = head + 1;
            break;
        }
        u->evt_unwritten = 0;
        decode_event(u, q0, q1, &out[n++]);
        /* Consumed entries read as unwritten should a bad tail ever lead back to them. */
        mem_store(&slot[0], 0);
        mem_store(&slot[1], 0);
        head = ring_next(head);
    }
    if (head != u->evt_head) {
        u->evt_head = head;
        reg_write(u, AMDVI_EVT_HEAD, head);
    }
    restart_log(u);
    return n;
}
