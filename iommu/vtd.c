/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Intel VT-d driver (see vtd.h). Commands go through GCMD with the persistent bits kept in
 * software, as the specification asks (reading GSTS back could re-issue one-shot bits). */
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

/* Writes v to the 64-bit command register at off and waits for its busy bit to clear. */
static int command64(struct vtd *u, uint32_t off, uint64_t v, uint64_t busy, uint64_t *done,
                     const char *what, struct refusal *why)
{
    wr64(u, off, v);
    for (uint32_t i = 0; i < u->poll_limit; i++) {
        uint64_t r = rd64(u, off);
        if (!(r & busy)) {
            *done = r;
            return 0;
        }
    }
    return refuse(why, E_TIMEDOUT, "VT-d: %s not completed after %u polls", what, u->poll_limit);
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

static int flush_context_cache(struct vtd *u, struct refusal *why)
{
    uint64_t done;
    return command64(u, VTD_CCMD, VTD_CCMD_ICC | VTD_CCMD_GLOBAL, VTD_CCMD_ICC, &done,
                     "context-cache invalidation", why);
}

static int flush_iotlb(struct vtd *u, uint64_t granularity, struct refusal *why)
{
    uint64_t done;
    int rc = command64(u, u->iotlb, VTD_IOTLB_IVT | granularity | VTD_IOTLB_DR | VTD_IOTLB_DW,
                       VTD_IOTLB_IVT, &done, "IOTLB invalidation", why);
    if (!rc && VTD_IOTLB_IAIG(done) == 0)
        return refuse(why, E_IO, "VT-d: the unit reports the IOTLB invalidation as not done");
    return rc;
}

/* Table memory the unit reads: written back for a unit that does not snoop caches. */
static void publish(const struct vtd *u, const void *va, unsigned len)
{
    if (!(u->ecap & VTD_ECAP_C) && u->pages->clean)
        u->pages->clean(u->pages->ctx, va, len);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

uint32_t vtd_register_span(uint64_t cap, uint64_t ecap)
{
    uint32_t end = VTD_FECTL + 4;
    uint32_t faults = VTD_CAP_FRO(cap) + 16 * VTD_CAP_NFR(cap);
    uint32_t iotlb = VTD_ECAP_IRO(ecap) + 16;
    return faults > end ? (iotlb > faults ? iotlb : faults) : (iotlb > end ? iotlb : end);
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
    u->iotlb = VTD_ECAP_IRO(u->ecap) + 8;
    if (!(u->ecap & VTD_ECAP_IR))
        return refuse(why, E_NODEV,
                      "VT-d: no interrupt remapping, so a device could raise any "
                      "interrupt on any core");
    if (rd32(u, VTD_GSTS) & (VTD_GSTS_TES | VTD_GSTS_IRES))
        return refuse(why, E_BUSY,
                      "VT-d: translation or interrupt remapping already on (left "
                      "by the firmware)");
    if (pages->alloc(pages->ctx, 0, &u->root_pa) || pages->alloc(pages->ctx, 0, &u->irt_pa))
        return refuse(why, E_NOMEM, "VT-d: no page for the root or interrupt table");
    wr32(u, VTD_FECTL, VTD_FECTL_IM);
    publish(u, pages->va(pages->ctx, u->irt_pa), 4096);
    u->root = pages->va(pages->ctx, u->root_pa);
    publish(u, u->root, 4096);
    wr64(u, VTD_RTADDR, u->root_pa); /* legacy mode: TTM 00 */
    int rc = gcmd(u, VTD_GCMD_SRTP, VTD_GSTS_RTPS, "root table pointer", why);
    if (!rc)
        rc = write_buffer_flush(u, why);
    if (!rc)
        rc = flush_context_cache(u, why);
    if (!rc)
        rc = flush_iotlb(u, VTD_IOTLB_GLOBAL, why);
    if (!rc) {
        u->gcmd |= VTD_GCMD_TE;
        rc = gcmd(u, 0, VTD_GSTS_TES, "translation enable", why);
    }
    /* An empty table a unit fresh from reset has cached nothing of: no interrupt entry cache
     * invalidation (a queued-invalidation command) is needed before turning it on. */
    if (!rc) {
        wr64(u, VTD_IRTA, u->irt_pa | VTD_IRTA_SIZE_256);
        rc = gcmd(u, VTD_GCMD_SIRTP, VTD_GSTS_IRTPS, "interrupt table pointer", why);
    }
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
    int rc = write_buffer_flush(u, why);
    if (!rc)
        rc = flush_context_cache(u, why);
    if (!rc)
        rc = flush_iotlb(u, VTD_IOTLB_DOMAIN | VTD_IOTLB_DID(d->id), why);
    return rc;
}

int vtd_flush_domain(struct vtd *u, uint16_t domain, struct refusal *why)
{
    int rc = write_buffer_flush(u, why);
    return rc ? rc : flush_iotlb(u, VTD_IOTLB_DOMAIN | VTD_IOTLB_DID(domain), why);
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
