/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Format-parameterised 4-level page-table walker/builder (host x86-64, NPT, EPT, AMD-Vi). */
#include "core/pgtable.h"

#include "core/klib.h"

#define PT_LEVELS 4
#define PT_ENTRIES 512

/* Encoding of one table format. Levels are 1 (4 KiB leaves) to 4 (root). */
struct pt_format {
    const char *name;
    uint64_t present; /* entry is present if any of these bits is set */
    /* At levels 2 and 3 a present entry is a leaf if (e & leaf_mask) == leaf_value: a size
     * bit on x86/EPT, a zero next-level field on AMD-Vi. */
    uint64_t leaf_mask, leaf_value;
    uint64_t (*leaf)(uint64_t pa, unsigned flags, unsigned level);
    unsigned (*leaf_flags)(uint64_t e);
    /* Non-leaf entry at `level` (2..4) pointing to the table at pa (level - 1); flags are
     * those of a leaf being placed below it (for U/S). */
    uint64_t (*table)(uint64_t pa, unsigned flags, unsigned level);
};

/* ---- Formats ---------------------------------------------------------- */

static uint64_t x86_leaf_bits(uint64_t pa, unsigned flags, unsigned level)
{
    uint64_t e = pa | X86_PTE_P;
    if (flags & PT_WRITE)
        e |= X86_PTE_RW;
    if (flags & PT_UNCACHED)
        e |= X86_PTE_PCD | X86_PTE_PWT;
    if (!(flags & PT_EXEC))
        e |= X86_PTE_NX;
    if (level > PT_4K)
        e |= X86_PTE_PS;
    return e;
}

static unsigned x86_flags_common(uint64_t e)
{
    unsigned f = PT_READ;
    if (e & X86_PTE_RW)
        f |= PT_WRITE;
    if (!(e & X86_PTE_NX))
        f |= PT_EXEC;
    if (e & X86_PTE_PCD)
        f |= PT_UNCACHED;
    return f;
}

static uint64_t x86_leaf(uint64_t pa, unsigned flags, unsigned level)
{
    uint64_t e = x86_leaf_bits(pa, flags, level);
    if (flags & PT_USER)
        e |= X86_PTE_US;
    return e;
}

static unsigned x86_leaf_flags(uint64_t e)
{
    return x86_flags_common(e) | ((e & X86_PTE_US) ? PT_USER : 0);
}

static uint64_t x86_table(uint64_t pa, unsigned flags, unsigned level)
{
    (void)level;
    /* Leaves decide the access rights; U/S is opened on the path to user pages only. */
    return pa | X86_PTE_P | X86_PTE_RW | ((flags & PT_USER) ? X86_PTE_US : 0);
}

/* The guest's accesses are checked as user accesses in the nested walk. */
static uint64_t npt_leaf(uint64_t pa, unsigned flags, unsigned level)
{
    return x86_leaf_bits(pa, flags, level) | X86_PTE_US;
}

static unsigned npt_leaf_flags(uint64_t e)
{
    return x86_flags_common(e);
}

static uint64_t npt_table(uint64_t pa, unsigned flags, unsigned level)
{
    (void)flags;
    (void)level;
    return pa | X86_PTE_P | X86_PTE_RW | X86_PTE_US;
}

/* IPAT stays clear: the guest's PAT still combines with the EPT memory type. */
static uint64_t ept_leaf(uint64_t pa, unsigned flags, unsigned level)
{
    uint64_t e = pa | EPT_R;
    if (flags & PT_WRITE)
        e |= EPT_W;
    if (flags & PT_EXEC)
        e |= EPT_X;
    e |= ((flags & PT_UNCACHED) ? EPT_MT_UC : EPT_MT_WB) << EPT_MT_SHIFT;
    if (level > PT_4K)
        e |= EPT_LARGE;
    return e;
}

static unsigned ept_leaf_flags(uint64_t e)
{
    unsigned f = 0;
    if (e & EPT_R)
        f |= PT_READ;
    if (e & EPT_W)
        f |= PT_WRITE;
    if (e & EPT_X)
        f |= PT_EXEC;
    if (((e & EPT_MT_MASK) >> EPT_MT_SHIFT) == EPT_MT_UC)
        f |= PT_UNCACHED;
    return f;
}

static uint64_t ept_table(uint64_t pa, unsigned flags, unsigned level)
{
    (void)flags;
    (void)level;
    return pa | EPT_R | EPT_W | EPT_X;
}

/* AMD-Vi v1: FC is set so that DMA through the mapping snoops the CPU caches (nothing
 * flushes them for devices); exec, user and uncached have no encoding and are dropped. */
static uint64_t amdvi_leaf(uint64_t pa, unsigned flags, unsigned level)
{
    (void)level; /* the size follows from the level at which NextLevel is 0 */
    uint64_t e = pa | AMDVI_PTE_PR | AMDVI_PTE_FC;
    if (flags & PT_READ)
        e |= AMDVI_PTE_IR;
    if (flags & PT_WRITE)
        e |= AMDVI_PTE_IW;
    return e;
}

static unsigned amdvi_leaf_flags(uint64_t e)
{
    return ((e & AMDVI_PTE_IR) ? PT_READ : 0) | ((e & AMDVI_PTE_IW) ? PT_WRITE : 0);
}

/* Access rights are the AND along the walk: directories allow both, leaves decide. */
static uint64_t amdvi_table(uint64_t pa, unsigned flags, unsigned level)
{
    (void)flags;
    return pa | AMDVI_PTE_PR | ((uint64_t)(level - 1) << AMDVI_PTE_NEXT_LEVEL_SHIFT) |
           AMDVI_PTE_IR | AMDVI_PTE_IW;
}

const struct pt_format pt_format_x86 = {
    .name = "x86",
    .present = X86_PTE_P,
    .leaf_mask = X86_PTE_PS,
    .leaf_value = X86_PTE_PS,
    .leaf = x86_leaf,
    .leaf_flags = x86_leaf_flags,
    .table = x86_table,
};

const struct pt_format pt_format_npt = {
    .name = "npt",
    .present = X86_PTE_P,
    .leaf_mask = X86_PTE_PS,
    .leaf_value = X86_PTE_PS,
    .leaf = npt_leaf,
    .leaf_flags = npt_leaf_flags,
    .table = npt_table,
};

const struct pt_format pt_format_ept = {
    .name = "ept",
    .present = EPT_R | EPT_W | EPT_X,
    .leaf_mask = EPT_LARGE,
    .leaf_value = EPT_LARGE,
    .leaf = ept_leaf,
    .leaf_flags = ept_leaf_flags,
    .table = ept_table,
};

const struct pt_format pt_format_amdvi = {
    .name = "amdvi",
    .present = AMDVI_PTE_PR,
    .leaf_mask = AMDVI_PTE_NEXT_LEVEL_MASK,
    .leaf_value = 0,
    .leaf = amdvi_leaf,
    .leaf_flags = amdvi_leaf_flags,
    .table = amdvi_table,
};

/* ---- Entry access ----------------------------------------------------- */

/* Other cores (and the MMU) may walk the tables while we edit them: every
 * entry is read and written with one 64-bit access. */
static inline uint64_t pte_load(const uint64_t *p)
{
    return *(const volatile uint64_t *)p;
}

static inline void pte_store(uint64_t *p, uint64_t v)
{
    *(volatile uint64_t *)p = v;
}

static inline uint64_t level_size(unsigned level)
{
    return 1ULL << (12 + 9 * (level - 1));
}

static inline unsigned level_index(uint64_t va, unsigned level)
{
    return (unsigned)(va >> (12 + 9 * (level - 1))) & (PT_ENTRIES - 1);
}

static inline bool pte_present(const struct pt *pt, uint64_t e)
{
    return (e & pt->fmt->present) != 0;
}

static inline bool pte_leaf(const struct pt *pt, uint64_t e, unsigned level)
{
    return level == PT_4K || (e & pt->fmt->leaf_mask) == pt->fmt->leaf_value;
}

static inline uint64_t table_addr(uint64_t e)
{
    return e & PTE_ADDR_MASK;
}

static inline uint64_t leaf_addr(uint64_t e, unsigned level)
{
    return e & PTE_ADDR_MASK & ~(level_size(level) - 1);
}

static uint64_t *table_at(const struct pt *pt, uint64_t pa)
{
    return pt->mem->phys_to_virt(pt->mem->ctx, pa);
}

static int new_table(struct pt *pt, uint64_t *pa)
{
    int rc = pt->mem->alloc_page(pt->mem->ctx, pa);
    if (rc != 0)
        return rc;
    pt->tables++;
    return 0;
}

static void free_table(struct pt *pt, uint64_t pa)
{
    pt->mem->free_page(pt->mem->ctx, pa);
    pt->tables--;
}

static bool table_empty(const struct pt *pt, uint64_t table)
{
    const uint64_t *t = table_at(pt, table);
    for (unsigned i = 0; i < PT_ENTRIES; i++)
        if (pte_present(pt, pte_load(&t[i])))
            return false;
    return true;
}

/* Free an unlinked table whose entries are at `level`, and every table below it; the tree
 * maps nothing (only empty tables can be in it). */
static void free_tree(struct pt *pt, uint64_t table, unsigned level)
{
    uint64_t *t = table_at(pt, table);
    for (unsigned i = 0; level > PT_4K && i < PT_ENTRIES; i++) {
        uint64_t e = pte_load(&t[i]);
        if (pte_present(pt, e) && !pte_leaf(pt, e, level)) {
            pte_store(&t[i], 0); /* pages are freed all zero: nothing present in them */
            free_tree(pt, table_addr(e), level - 1);
        }
    }
    free_table(pt, table);
}

static bool valid_flags(unsigned flags)
{
    return (flags & ~PT_FLAGS_ALL) == 0 && (flags & PT_READ) != 0;
}

/* va range: aligned, non-empty, below 2^48. */
static int check_va_range(uint64_t va, uint64_t size)
{
    if (!IS_ALIGNED(va, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE) || size == 0)
        return -E_INVAL;
    if (va >= (1ULL << PT_VA_BITS) || size > (1ULL << PT_VA_BITS) - va)
        return -E_RANGE;
    return 0;
}

/* ---- Walks ------------------------------------------------------------ */

/* The slot holding the leaf that maps va (its level in *level), or NULL. */
static uint64_t *find_leaf(const struct pt *pt, uint64_t va, unsigned *level)
{
    uint64_t table = pt->root;
    for (unsigned l = PT_LEVELS;; l--) {
        uint64_t *slot = &table_at(pt, table)[level_index(va, l)];
        uint64_t e = pte_load(slot);
        if (!pte_present(pt, e))
            return NULL;
        if (pte_leaf(pt, e, l)) {
            if (l == PT_LEVELS)
                return NULL; /* no leaves at the root: treat as unmapped */
            *level = l;
            return slot;
        }
        table = table_addr(e);
    }
}

/* The slot at `level` for va, creating tables on the way. Table entries on
 * the path get the bits a leaf with `flags` needs. -E_EXIST if a larger leaf
 * is in the way. */
static int walk_create(struct pt *pt, uint64_t va, unsigned level, unsigned flags, uint64_t **out)
{
    uint64_t table = pt->root;
    for (unsigned l = PT_LEVELS; l > level; l--) {
        uint64_t *slot = &table_at(pt, table)[level_index(va, l)];
        uint64_t e = pte_load(slot);
        if (!pte_present(pt, e)) {
            uint64_t next;
            int rc = new_table(pt, &next);
            if (rc != 0)
                return rc;
            e = pt->fmt->table(next, flags, l);
            pte_store(slot, e);
        } else if (pte_leaf(pt, e, l)) {
            return -E_EXIST;
        } else {
            uint64_t want = pt->fmt->table(table_addr(e), flags, l);
            if ((e & want) != want) {
                e |= want;
                pte_store(slot, e);
            }
        }
        table = table_addr(e);
    }
    *out = &table_at(pt, table)[level_index(va, level)];
    return 0;
}

/* Replace the large leaf in slot (at level > 1) by a table of leaves one level
 * down with the same translation and flags. */
static int split(struct pt *pt, uint64_t *slot, unsigned level)
{
    uint64_t e = pte_load(slot);
    uint64_t base = leaf_addr(e, level);
    unsigned flags = pt->fmt->leaf_flags(e);
    uint64_t tpa;
    int rc = new_table(pt, &tpa);
    if (rc != 0)
        return rc;
    uint64_t *t = table_at(pt, tpa);
    uint64_t step = level_size(level - 1);
    for (unsigned i = 0; i < PT_ENTRIES; i++)
        pte_store(&t[i], pt->fmt->leaf(base + i * step, flags, level - 1));
    pte_store(slot, pt->fmt->table(tpa, flags, level));
    pt->pages_mapped[level]--;
    pt->pages_mapped[level - 1] += PT_ENTRIES;
    return 0;
}

/* Make addr a leaf boundary: split the leaf containing it until it starts there. */
static int split_at(struct pt *pt, uint64_t addr)
{
    if (addr >= (1ULL << PT_VA_BITS))
        return 0; /* the end of the address space is always a boundary */
    for (;;) {
        unsigned level;
        uint64_t *slot = find_leaf(pt, addr, &level);
        if (!slot || IS_ALIGNED(addr, level_size(level)))
            return 0;
        int rc = split(pt, slot, level);
        if (rc != 0)
            return rc;
    }
}

enum range_op {
    OP_CHECK_EMPTY, /* -E_EXIST if anything is mapped */
    OP_CHECK_FULL,  /* -E_NOENT if anything is unmapped */
    OP_CLEAR,       /* remove leaves */
    OP_SET_FLAGS,   /* rewrite leaves with new flags */
};

/* Apply op to [va, end) within the table at `table` (level `level`); end is
 * at most the end of the region the table covers. */
static int range_walk(struct pt *pt, uint64_t table, unsigned level, uint64_t va, uint64_t end,
                      enum range_op op, unsigned flags)
{
    uint64_t *t = table_at(pt, table);
    uint64_t size = level_size(level);
    while (va < end) {
        uint64_t slot_base = ALIGN_DOWN(va, size);
        uint64_t slot_end = end - slot_base > size ? slot_base + size : end;
        uint64_t *slot = &t[level_index(va, level)];
        uint64_t e = pte_load(slot);
        bool whole = va == slot_base && slot_end == slot_base + size;

        if (!pte_present(pt, e)) {
            if (op == OP_CHECK_FULL)
                return -E_NOENT;
        } else if (pte_leaf(pt, e, level) && level < PT_LEVELS) {
            switch (op) {
            case OP_CHECK_EMPTY:
                return -E_EXIST;
            case OP_CHECK_FULL:
                break;
            case OP_CLEAR:
            case OP_SET_FLAGS:
                if (!whole) {
                    /* Callers split the boundaries first; this only runs if they did not. */
                    int rc = split(pt, slot, level);
                    if (rc != 0)
                        return rc;
                    continue; /* revisit the slot, now a table */
                }
                if (op == OP_CLEAR) {
                    pte_store(slot, 0);
                    pt->pages_mapped[level]--;
                } else {
                    pte_store(slot, pt->fmt->leaf(leaf_addr(e, level), flags, level));
                }
                break;
            }
        } else if (pte_leaf(pt, e, level)) {
            return -E_INVAL; /* a leaf bit at the root: not produced by this builder */
        } else {
            if (op == OP_SET_FLAGS) {
                uint64_t want = pt->fmt->table(table_addr(e), flags, level);
                if ((e & want) != want)
                    pte_store(slot, e | want);
            }
            int rc = range_walk(pt, table_addr(e), level - 1, va, slot_end, op, flags);
            if (op == OP_CLEAR && table_empty(pt, table_addr(e))) {
                /* unlinked before it is freed: no walker finds it through this slot */
                pte_store(slot, 0);
                free_table(pt, table_addr(e));
            }
            if (rc != 0)
                return rc;
        }
        va = slot_end;
    }
    return 0;
}

static int walk_range(struct pt *pt, uint64_t va, uint64_t size, enum range_op op, unsigned flags)
{
    return range_walk(pt, pt->root, PT_LEVELS, va, va + size, op, flags);
}

/* ---- API -------------------------------------------------------------- */

int pt_init(struct pt *pt, const struct pt_format *fmt, const struct pt_mem *mem,
            enum pt_page_size max_page)
{
    if (!pt || !fmt || !mem || !mem->alloc_page || !mem->phys_to_virt || !mem->free_page)
        return -E_INVAL;
    if (max_page < PT_4K || max_page > PT_1G)
        return -E_INVAL;
    memset(pt, 0, sizeof(*pt));
    pt->fmt = fmt;
    pt->mem = mem;
    pt->max_page = max_page;
    return new_table(pt, &pt->root);
}

int pt_map(struct pt *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned flags)
{
    int rc = check_va_range(va, size);
    if (rc != 0)
        return rc;
    if (!IS_ALIGNED(pa, PAGE_SIZE) || !valid_flags(flags))
        return -E_INVAL;
    if (pa >= (1ULL << PT_PA_BITS) || size > (1ULL << PT_PA_BITS) - pa)
        return -E_RANGE;

    rc = walk_range(pt, va, size, OP_CHECK_EMPTY, 0);
    if (rc != 0)
        return rc;

    uint64_t done = 0;
    while (done < size) {
        uint64_t v = va + done, p = pa + done;
        unsigned level = pt->max_page;
        while (level > PT_4K &&
               (!IS_ALIGNED(v | p, level_size(level)) || size - done < level_size(level)))
            level--;
        uint64_t *slot;
        rc = walk_create(pt, v, level, flags, &slot);
        if (rc != 0)
            break;
        /* Empty tables are freed as they empty, but should one sit where a large leaf
         * goes (the range was checked empty), it is replaced and freed, not leaked. */
        uint64_t old = pte_load(slot);
        pte_store(slot, pt->fmt->leaf(p, flags, level));
        if (level > PT_4K && pte_present(pt, old) && !pte_leaf(pt, old, level))
            free_tree(pt, table_addr(old), level - 1);
        pt->pages_mapped[level]++;
        done += level_size(level);
    }
    if (rc != 0) {
        /* Undo: the range was empty, so clearing all of it removes exactly the leaves
         * written above and frees the tables allocated for them. */
        (void)walk_range(pt, va, size, OP_CLEAR, 0);
    }
    return rc;
}

int pt_unmap(struct pt *pt, uint64_t va, uint64_t size)
{
    int rc = check_va_range(va, size);
    if (rc != 0)
        return rc;
    /* Splitting first keeps a failed unmap from removing anything. */
    rc = split_at(pt, va);
    if (rc == 0)
        rc = split_at(pt, va + size);
    if (rc != 0)
        return rc;
    return walk_range(pt, va, size, OP_CLEAR, 0);
}

int pt_protect(struct pt *pt, uint64_t va, uint64_t size, unsigned flags)
{
    int rc = check_va_range(va, size);
    if (rc != 0)
        return rc;
    if (!valid_flags(flags))
        return -E_INVAL;
    rc = walk_range(pt, va, size, OP_CHECK_FULL, 0);
    if (rc == 0)
        rc = split_at(pt, va);
    if (rc == 0)
        rc = split_at(pt, va + size);
    if (rc != 0)
        return rc;
    return walk_range(pt, va, size, OP_SET_FLAGS, flags);
}

int pt_lookup(const struct pt *pt, uint64_t va, uint64_t *pa, unsigned *flags,
              enum pt_page_size *size)
{
    if (va >= (1ULL << PT_VA_BITS))
        return -E_NOENT;
    unsigned level;
    const uint64_t *slot = find_leaf(pt, va, &level);
    if (!slot)
        return -E_NOENT;
    uint64_t e = pte_load(slot);
    if (pa)
        *pa = leaf_addr(e, level) | (va & (level_size(level) - 1));
    if (flags)
        *flags = pt->fmt->leaf_flags(e);
    if (size)
        *size = (enum pt_page_size)level;
    return 0;
}
