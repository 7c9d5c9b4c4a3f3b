/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Adds 4 KiB identity mappings (LAPIC, deliberate out-of-partition probes) to the vCPUs' tables. */
#include "sidecore/guest.h"

#define PTE_ADDR 0x000ffffffffff000ull
#define POOL_PAGES 8

/* Table pages for new mappings; GPA == address, since the image is identity-mapped. */
static uint64_t pool[POOL_PAGES][512] __attribute__((aligned(4096)));
static unsigned pool_used;
static uint32_t map_lock;

static void lock(void)
{
    while (__atomic_exchange_n(&map_lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&map_lock, __ATOMIC_RELAXED))
            sc_pause();
}

static void unlock(void)
{
    __atomic_store_n(&map_lock, 0, __ATOMIC_RELEASE);
}

static uint64_t *alloc_table(void)
{
    if (pool_used == POOL_PAGES)
        return NULL;
    uint64_t *t = pool[pool_used++];
    for (unsigned i = 0; i < 512; i++)
        t[i] = 0;
    return t;
}

/* Walks PML4 (level 3) down to PT (level 0) under the lock. */
static int map_locked(uint64_t gpa, uint64_t flags)
{
    uint64_t *table = (uint64_t *)(uintptr_t)(sc_read_cr3() & PTE_ADDR);
    for (int level = 3; level > 0; level--) {
        unsigned shift = 12 + 9 * (unsigned)level;
        uint64_t *e = &table[(gpa >> shift) & 511];
        if (!(*e & SC_PTE_P)) {
            uint64_t *t = alloc_table();
            if (!t)
                return -SC_ENOMEM;
            *e = (uint64_t)(uintptr_t)t | SC_PTE_P | SC_PTE_W;
            table = t;
            continue;
        }
        if (level < 3 && (*e & SC_PTE_PS)) { /* 1 GiB or 2 MiB page already covers gpa */
            uint64_t size = 1ull << shift;
            return (*e & PTE_ADDR & ~(size - 1)) == (gpa & ~(size - 1)) ? 0 : -SC_EINVAL;
        }
        table = (uint64_t *)(uintptr_t)(*e & PTE_ADDR);
    }
    uint64_t *pte = &table[(gpa >> 12) & 511];
    if (*pte & SC_PTE_P)
        return (*pte & PTE_ADDR) == gpa ? 0 : -SC_EINVAL;
    *pte = gpa | SC_PTE_P | SC_PTE_W | flags;
    return 0;
}

int sc_map_identity(uint64_t gpa, uint64_t flags)
{
    if ((gpa & 0xfff) || gpa >> 47)
        return -SC_EINVAL;
    lock();
    int err = map_locked(gpa, flags & ~(PTE_ADDR | SC_PTE_PS));
    unlock();
    /* Not-present entries are never cached, so other vCPUs need no flush; this one drops
     * any stale translation in case the entry existed before. */
    __asm__ volatile("invlpg (%0)" : : "r"((uintptr_t)gpa) : "memory");
    return err;
}
