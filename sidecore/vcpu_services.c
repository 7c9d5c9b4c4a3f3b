/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The services' per-vCPU state, allocated once the partition's ring window exists. */
#include "sidecore/vcpu_services.h"

#include "core/klib.h"
#include "core/boot_info.h"
#include "core/palloc.h"
#include "vmexit/vcpu.h"

int vcpu_services_create(struct vcpu *v, struct palloc *pa)
{
    const struct partition *p = v->partition;
    uint64_t at, chain = 0;
    if (palloc_alloc(pa, ALIGN_UP(sizeof(struct vcpu_services), PAGE_SIZE), PAGE_SIZE, 0, &at))
        return -E_NOMEM;
    /* only a partition with a disk sets up a block queue */
    if (p->disk &&
        palloc_alloc(pa, BLK_QUEUE_MAX * sizeof(struct sc_vq_desc), PAGE_SIZE, 0, &chain))
        return -E_NOMEM;
    struct vcpu_services *s = (struct vcpu_services *)(uintptr_t)at;
    memset(s, 0, sizeof(*s));
    s->blk_chain = (struct sc_vq_desc *)(uintptr_t)chain;
    if (p->disk && v->id == 0) {
        s->has_vpci = true;
        vpci_init(&s->vpci, (uint32_t)SC_GPA_VIRTIO_BLK, p->disk->size / SC_BLK_SECTOR);
    }
    for (unsigned sv = 0; sv < SC_SERVICES; sv++)
        ring_consumer_init(&s->rings[sv],
                           (struct sc_ring *)(uintptr_t)(p->window_hpa + SC_RING_OFFSET(v->id, sv)),
                           (uint16_t)sv, v->id);
    v->svc = s;
    return 0;
}
