/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Guest TLB flush protocol. Both sides store then load (Dekker): the requester bumps gen, then
 * reads in_guest; the vCPU sets in_guest, then reads gen. With sequentially consistent
 * accesses at least one of them sees the other's store, so either the requester kicks and
 * waits for the vCPU, or the vCPU sees the new generation and flushes before it enters. A
 * release/acquire pair would not do: each side's load could pass its own store (x86 store
 * buffers do exactly that). */
#include "vmexit/tlb_sync.h"

uint32_t tlb_sync_begin(struct tlb_sync *s)
{
    return __atomic_add_fetch(&s->gen, 1, __ATOMIC_SEQ_CST);
}

bool tlb_sync_in_guest(const struct tlb_vcpu *v)
{
    return __atomic_load_n(&v->in_guest, __ATOMIC_SEQ_CST) != 0;
}

bool tlb_sync_flushed(const struct tlb_vcpu *v, uint32_t gen)
{
    /* a vCPU seen out of guest mode after the bump reads gen (or later) when it enters */
    return (int32_t)(__atomic_load_n(&v->done, __ATOMIC_ACQUIRE) - gen) >= 0 ||
           !tlb_sync_in_guest(v);
}

bool tlb_sync_enter(struct tlb_vcpu *v, const struct tlb_sync *s)
{
    __atomic_store_n(&v->in_guest, 1, __ATOMIC_SEQ_CST);
    uint32_t gen = __atomic_load_n(&s->gen, __ATOMIC_SEQ_CST);
    if (gen == __atomic_load_n(&v->done, __ATOMIC_RELAXED)) /* only this core writes done */
        return false;
    /* acknowledged now: the flush comes with this entry, before any guest instruction */
    __atomic_store_n(&v->done, gen, __ATOMIC_RELEASE);
    return true;
}

void tlb_sync_exit(struct tlb_vcpu *v)
{
    __atomic_store_n(&v->in_guest, 0, __ATOMIC_RELEASE);
}
