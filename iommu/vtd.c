/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Intel VT-d driver (see vtd.h). Commands go through GCMD with the persistent bits kept in
 * software, as the specification asks (reading GSTS back could re-issue one-shot bits).
 * Every invalidation is a batch of queue descriptors ending in an invalidation wait whose
 * status write the driver polls for; register-based invalidation is never used. */
#include "iommu/vtd.h"

#include "core/klib.h"

static uint32_t rd32(const struct vtd *u, uint32_t off)
{
    return u->mmio->read32(u->mmio->ctx, off);
}

static uint64_t rd64(const struct vtd *u, uint32_t off)
{
    return u->mmio->read64(u->mmio->ctx, off);
}

static void wr32(const struct vtd *u, uint32_t off, uint32_t v)
{
    u->mmio->write32(u->mmio->ctx, off, v);
}

static void wr64(const struct vtd *u, uint32_t off, uint64_t v)
{
    u->mmio->write64(u->mmio->ctx, off, v);
}

/* Sets cmd (with the persistent bits) and waits for status bit sts. */
static int gcmd(struct vtd *u, uint32_t cmd, uint32_t sts, const char *what, struct refusal *why)
{
    wr32(u, VTD_GCMD, u->gcmd | cmd);
    for (uint32_t i = 0; i < u->poll_limit; i++)
        if (rd32(u, VTD_GSTS) & sts)
            return 0;
    return refuse(why, E_TIMEDOUT, "VT-d: %s not acknowledged after %u polls", what, u->poll_limit);
}

/* Writes buffered in the unit reach memory before it reads the tables again. */
static int write_buffer_flush(struct vtd *u, struct refusal *why)
{
    if (!(u->cap & VTD_CAP_RWBF))
        return 0;
    wr32(u, VTD_GCMD, u->gcmd | VTD_GCMD_WBF);
    for (uint32_t i = 0; i < u->poll_limit; i++)
        if (!(rd32(u, VTD_GSTS) & VTD_GSTS_WBFS))
            return 0;
    return refuse(why, E_TIMEDOUT, "VT-d: write-buffer flush not completed");
}

/* Table memory the unit reads: written back for a unit that does not snoop caches. */
static void publish(const struct vtd *u, const void *va, unsigned len)
{
    if (!(u->ecap & VTD_ECAP_C) && u->pages->clean)
        u->pages->clean(u->pages->ctx, va, len);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

/* An invalidation queue error, time-out or completion error the unit reports: cleared
 * (write 1 to clear) and reported. After a queue error the unit stopped at the descriptor
 * IQH names: the tail is moved back to it, so that the rest of that batch is dropped rather
 * than fetched again once the error is cleared. */
static int queue_error(struct vtd *u, const char *what, struct refusal *why)
{
    uint32_t sts = rd32(u, VTD_FSTS) & VTD_FSTS_QUEUE_ERRORS;
    if (!sts)
        return 0;
    if (sts & VTD_FSTS_IQE) {
        u->iq_tail = VTD_IQ_INDEX(rd64(u, VTD_IQH)) % VTD_IQ_ENTRIES;
        wr64(u, VTD_IQT, VTD_IQ_REG(u->iq_tail));
    }
    wr32(u, VTD_FSTS, sts);
    return refuse(why, E_IO, "VT-d: %s: invalidation %s (FSTS %#x)", what,
                  sts & VTD_FSTS_IQE   ? "queue error"
                  : sts & VTD_FSTS_ITE ? "time-out"
                                       : "completion error",
                  sts);
}

/* Waits until the queue has room for n more descriptors (the unit consumed up to IQH). */
static int queue_room(struct vtd *u, unsigned n, const char *what, struct refusal *why)
{
    for (uint32_t i = 0; i < u->poll_limit; i++) {
        unsigned head = VTD_IQ_INDEX(rd64(u, VTD_IQH)) % VTD_IQ_ENTRIES;
        if ((head + VTD_IQ_ENTRIES - u->iq_tail - 1) % VTD_IQ_ENTRIES >= n)
            return 0;
        int rc = queue_error(u, what, why);
        if (rc)
            return rc;
    }
    return refuse(why, E_TIMEDOUT, "VT-d: %s: invalidation queue still full after %u polls", what,
                  u->poll_limit);
}

/* Queues n descriptors and an invalidation wait after them, then waits for the unit to
 * write that wait's status data: the unit completed every descriptor before it. */
static int invalidate(struct vtd *u, const struct vtd_desc *d, unsigned n, const char *what,
                      struct refusal *why)
{
    int rc = write_buffer_flush(u, why);
    if (!rc)
        rc = queue_room(u, n + 1, what, why);
    if (rc)
        return rc;
    if (++u->seq == 0) /* 0 is what the status word starts as */
        u->seq = 1;
    for (unsigned i = 0; i <= n; i++) {
        struct vtd_desc *slot = &u->iq[u->iq_tail];
        *slot = i < n ? d[i]
                      : (struct vtd_desc){VTD_DESC_WAIT | VTD_WAIT_SW | VTD_WAIT_DATA(u->seq),
                                          u->status_pa};
        publish(u, slot, sizeof(*slot));
        u->iq_tail = (u->iq_tail + 1) % VTD_IQ_ENTRIES;
    }
    wr64(u, VTD_IQT, VTD_IQ_REG(u->iq_tail));
    for (uint32_t i = 0; i < u->poll_limit; i++) {
        /* a unit that does not snoop: the line is written back and dropped (clflush), so
         * the read below sees memory */
        publish(u, u->status, sizeof(*u->status));
        if (__atomic_load_n(u->status, __ATOMIC_ACQUIRE) == u->seq)
            return 0;
        rc = queue_error(u, what, why);
        if (rc)
            return rc;
    }
    return refuse(why, E_TIMEDOUT, "VT-d: %s not completed after %u polls", what, u->poll_limit);
}

static int invalidate_iec(struct vtd *u, uint64_t granularity, struct refusal *why)
{
    const struct vtd_desc d = {VTD_DESC_IEC | granularity, 0};
    return invalidate(u, &d, 1, "interrupt entry cache invalidation", why);
}

/* Queued invalidation left on (by the firmware, or a previous boot): turned off once the
 * unit has drained its queue, so that it can be set up afresh. */
static int queue_off(struct vtd *u, struct refusal *why)
{
    if (!(rd32(u, VTD_GSTS) & VTD_GSTS_QIES))
        return 0;
    uint32_t i = 0;
    while (VTD_IQ_INDEX(rd64(u, VTD_IQH)) != VTD_IQ_INDEX(rd64(u, VTD_IQT)))
        if (++i >= u->poll_limit)
            return refuse(why, E_TIMEDOUT, "VT-d: the invalidation queue left on never drains");
    wr32(u, VTD_GCMD, u->gcmd); /* QIE clear */
    for (i = 0; i < u->poll_limit; i++)
        if (!(rd32(u, VTD_GSTS) & VTD_GSTS_QIES))
            return 0;
    return refuse(why, E_TIMEDOUT, "VT-d: the invalidation queue left on does not turn off");
}

uint32_t vtd_register_span(uint64_t cap, uint64_t ecap)
{
    (void)ecap; /* the IOTLB registers (ECAP.IRO) are not used: queued invalidation is */
    uint32_t end = VTD_IRTA + 8;
    uint32_t faults = VTD_CAP_FRO(cap) + 16 * VTD_CAP_NFR(cap);
    return faults > end ? faults : end;
}

int vtd_init(struct vtd *u, const struct iommu_mmio *mmio, const struct iommu_pages *pages,
             struct refusal *why)
{
    uint32_t limit = u->poll_limit ? u->poll_limit : IOMMU_POLL_LIMIT;
    memset(u, 0, sizeof(*u));
    u->mmio = mmio;
    u->pages = pages;
    u->poll_limit = limit;
    u->cap = rd64(u, VTD_CAP);
    u->ecap = rd64(u, VTD_ECAP);
    if (!(VTD_CAP_SAGAW(u->cap) & 4))
        return refuse(why, E_NODEV, "VT-d: no 4-level second-level tables (SAGAW %#x)",
                      (unsigned)VTD_CAP_SAGAW(u->cap));
    u->fro = VTD_CAP_FRO(u->cap);
    u->nfr = VTD_CAP_NFR(u->cap);
    if (!(u->ecap & VTD_ECAP_IR))
        return refuse(why, E_NODEV,
                      "VT-d: no interrupt remapping, so a device could raise any "
                      "interrupt on any core");
    if (!(u->ecap & VTD_ECAP_QI))
        return refuse(why, E_NODEV,
                      "VT-d: no queued invalidation, so interrupt remapping entries "
                      "could not be invalidated");
    if (rd32(u, VTD_GSTS) & (VTD_GSTS_TES | VTD_GSTS_IRES))
        return refuse(why, E_BUSY,
                      "VT-d: translation or interrupt remapping already on (left "
                      "by the firmware)");
    if (pages->alloc(pages->ctx, 0, &u->root_pa) ||
        pages->alloc(pages->ctx, VTD_IRT_ORDER, &u->irt_pa) ||
        pages->alloc(pages->ctx, 0, &u->iq_pa) || pages->alloc(pages->ctx, 0, &u->status_pa))
        return refuse(why, E_NOMEM, "VT-d: no pages for the root, interrupt or queue tables");
    wr32(u, VTD_FECTL, VTD_FECTL_IM);
    u->root = pages->va(pages->ctx, u->root_pa);
    u->irt = pages->va(pages->ctx, u->irt_pa);
    u->iq = pages->va(pages->ctx, u->iq_pa);
    u->status = pages->va(pages->ctx, u->status_pa);
    publish(u, u->root, 4096);
    publish(u, u->irt, VTD_IRT_ENTRIES * sizeof(struct vtd_irte));
    publish(u, u->iq, VTD_IQ_ENTRIES * sizeof(struct vtd_desc));
    publish(u, u->status, 4096);
    u->eim = (u->ecap & VTD_ECAP_EIM) != 0;

    /* the queue first: every invalidation below goes through it */
    int rc = queue_off(u, why);
    if (rc)
        return rc;
    wr32(u, VTD_FSTS, VTD_FSTS_QUEUE_ERRORS); /* stale errors would stop the queue */
    wr64(u, VTD_IQT, 0);
    wr64(u, VTD_IQA, u->iq_pa | VTD_IQA_QS_1PAGE); /* DW 0: 128-bit descriptors */
    u->gcmd |= VTD_GCMD_QIE;
    rc = gcmd(u, 0, VTD_GSTS_QIES, "queued invalidation enable", why);
    if (!rc) {
        wr64(u, VTD_RTADDR, u->root_pa); /* legacy mode: TTM 00 */
        rc = gcmd(u, VTD_GCMD_SRTP, VTD_GSTS_RTPS, "root table pointer", why);
    }
    if (!rc) {
        const struct vtd_desc d[] = {
            {VTD_DESC_CC | VTD_CC_GLOBAL, 0},
            {VTD_DESC_IOTLB | VTD_IOTLB_GLOBAL | VTD_IOTLB_DR | VTD_IOTLB_DW, 0},
        };
        rc = invalidate(u, d, 2, "context-cache and IOTLB invalidation", why);
    }
    if (!rc) {
        u->gcmd |= VTD_GCMD_TE;
        rc = gcmd(u, 0, VTD_GSTS_TES, "translation enable", why);
    }
    if (!rc) {
        wr64(u, VTD_IRTA, u->irt_pa | (u->eim ? VTD_IRTA_EIME : 0) | VTD_IRTA_SIZE_4096);
        rc = gcmd(u, VTD_GCMD_SIRTP, VTD_GSTS_IRTPS, "interrupt table pointer", why);
    }
    if (!rc) /* nothing the unit may have cached from before stays */
        rc = invalidate_iec(u, 0, why);
    if (!rc) {
        u->gcmd |= VTD_GCMD_IRE; /* CFI stays 0: compatibility-format interrupts blocked */
        rc = gcmd(u, 0, VTD_GSTS_IRES, "interrupt remapping enable", why);
    }
    return rc;
}

unsigned vtd_domains(const struct vtd *u)
{
    return 1u << (4 + 2 * VTD_CAP_ND(u->cap));
}

int vtd_attach(struct vtd *u, pci_bdf source, const struct iommu_domain *d, struct refusal *why)
{
    if (!d->id || d->id >= vtd_domains(u) || (d->root & 0xfff))
        return refuse(why, E_INVAL, "VT-d: domain %u with root %llx", d->id,
                      (unsigned long long)d->root);
    struct vtd_entry *re = &u->root[PCI_BUS(source)];
    uint64_t ctp = re->lo & ~0xfffull;
    if (!(re->lo & VTD_PRESENT)) {
        if (u->pages->alloc(u->pages->ctx, 0, &ctp))
            return refuse(why, E_NOMEM, "VT-d: no page for a context table");
        publish(u, u->pages->va(u->pages->ctx, ctp), 4096);
        __atomic_store_n(&re->lo, ctp | VTD_PRESENT, __ATOMIC_RELEASE);
        publish(u, re, sizeof(*re));
    }
    struct vtd_entry *ctx = u->pages->va(u->pages->ctx, ctp);
    struct vtd_entry *ce = &ctx[source & 0xff];
    /* the upper half first: the unit takes the entry as a whole only once P is set */
    __atomic_store_n(&ce->hi, VTD_CTX_AW_48 | VTD_CTX_DID(d->id), __ATOMIC_RELEASE);
    __atomic_store_n(&ce->lo, d->root | VTD_PRESENT, __ATOMIC_RELEASE); /* TT 00 */
    publish(u, ce, sizeof(*ce));
    const struct vtd_desc inv[] = {
        {VTD_DESC_CC | VTD_CC_GLOBAL, 0},
        {VTD_DESC_IOTLB | VTD_IOTLB_DOMAIN | VTD_DESC_DID(d->id) | VTD_IOTLB_DR | VTD_IOTLB_DW, 0},
    };
    return invalidate(u, inv, 2, "context-cache and IOTLB invalidation", why);
}

int vtd_flush_domain(struct vtd *u, uint16_t domain, struct refusal *why)
{
    const struct vtd_desc d = {
        VTD_DESC_IOTLB | VTD_IOTLB_DOMAIN | VTD_DESC_DID(domain) | VTD_IOTLB_DR | VTD_IOTLB_DW, 0};
    return invalidate(u, &d, 1, "IOTLB invalidation", why);
}

static int irte_index(unsigned index, struct refusal *why)
{
    if (index >= VTD_IRT_ENTRIES)
        return refuse(why, E_INVAL, "VT-d: interrupt remapping entry %u past the table's %u", index,
                      VTD_IRT_ENTRIES);
    return 0;
}

/* Entry index not present, and no longer cached once the unit completed the invalidation. */
static int irte_clear(struct vtd *u, unsigned index, struct refusal *why)
{
    struct vtd_irte *e = &u->irt[index];
    __atomic_store_n(&e->lo, 0, __ATOMIC_RELEASE); /* P first */
    __atomic_store_n(&e->hi, 0, __ATOMIC_RELEASE);
    publish(u, e, sizeof(*e));
    return invalidate_iec(u, VTD_IEC_INDEXED | VTD_IEC_IIDX(index) | VTD_IEC_IM(0), why);
}

int vtd_irte_set(struct vtd *u, unsigned index, pci_bdf source, const struct iommu_irq *irq,
                 struct iommu_msi_msg *msg, struct refusal *why)
{
    int rc = irte_index(index, why);
    if (rc)
        return rc;
    if (irq->vector < 32)
        return refuse(why, E_INVAL, "VT-d: vector %u is an exception vector", irq->vector);
    /* an 8-bit destination of 0xff is a broadcast to every core, x2APIC mode included */
    if (!u->eim && irq->apic_id >= 0xff)
        return refuse(why, E_INVAL,
                      "VT-d: APIC ID %u needs extended interrupt mode, which the unit lacks "
                      "(0xff is the broadcast ID)",
                      irq->apic_id);
    /* fixed delivery, physical destination, edge, no redirection hint, remapped (not
     * posted), faults recorded */
    uint64_t lo = VTD_IRTE_P | VTD_IRTE_V(irq->vector) |
                  (u->eim ? VTD_IRTE_DST(irq->apic_id) : VTD_IRTE_DST_XAPIC(irq->apic_id));
    uint64_t hi = VTD_IRTE_SID(source) | VTD_IRTE_SQ(0) | VTD_IRTE_SVT(VTD_SVT_REQUESTER);
    struct vtd_irte *e = &u->irt[index];
    /* A present entry for another source goes away first: the unit must never see the new
     * source with the old vector and destination. For the same source only the lower half
     * changes, in one store. */
    if ((e->lo & VTD_IRTE_P) && e->hi != hi) {
        rc = irte_clear(u, index, why);
        if (rc)
            return rc;
    }
    __atomic_store_n(&e->hi, hi, __ATOMIC_RELEASE); /* the upper half first, P last */
    __atomic_store_n(&e->lo, lo, __ATOMIC_RELEASE);
    publish(u, e, sizeof(*e));
    rc = invalidate_iec(u, VTD_IEC_INDEXED | VTD_IEC_IIDX(index) | VTD_IEC_IM(0), why);
    if (rc)
        return rc;
    msg->address = VTD_MSI_BASE | VTD_MSI_HANDLE(index) | VTD_MSI_REMAPPABLE; /* SHV 0 */
    msg->data = 0;
    return 0;
}

int vtd_irte_clear(struct vtd *u, unsigned index, struct refusal *why)
{
    int rc = irte_index(index, why);
    return rc ? rc : irte_clear(u, index, why);
}

unsigned vtd_faults(struct vtd *u, struct iommu_fault *out, unsigned max)
{
    uint32_t sts = rd32(u, VTD_FSTS);
    unsigned n = 0;
    if (sts & VTD_FSTS_PPF) {
        /* records fill from FRI on, wrapping: one pass over all of them finds each once */
        unsigned first = VTD_FSTS_FRI(sts) % u->nfr;
        for (unsigned k = 0; k < u->nfr && n < max; k++) {
            uint32_t off = u->fro + 16 * ((first + k) % u->nfr);
            uint64_t hi = rd64(u, off + 8);
            if (!(hi & VTD_FRCD_F))
                continue;
            uint64_t lo = rd64(u, off);
            out[n++] = (struct iommu_fault){.source = VTD_FRCD_SID(hi),
                                            .addr = lo & ~0xfffull,
                                            .write = !(hi & VTD_FRCD_T),
                                            .reason = VTD_FRCD_FR(hi)};
            wr64(u, off + 8, VTD_FRCD_F); /* write 1 to clear */
        }
    }
    if (sts & VTD_FSTS_PFO) {
        u->overflows++;
        wr32(u, VTD_FSTS, VTD_FSTS_PFO);
    }
    return n;
}
