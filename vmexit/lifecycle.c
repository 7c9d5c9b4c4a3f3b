/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Partition lifecycle transitions, each one compare-and-swap on (state, exited). */
#include "vmexit/lifecycle.h"

#include "core/klib.h"

#define WORD(state, exited) ((uint64_t)(state) << 32 | (uint32_t)(exited))
#define STATE_OF(w) ((enum partition_state)((w) >> 32))
#define EXITED_OF(w) ((uint32_t)(w))

void life_init(struct partition_life *l, uint32_t nvcpus)
{
    l->nvcpus = nvcpus;
    __atomic_store_n(&l->word, WORD(PARTITION_IDLE, 0), __ATOMIC_RELEASE);
}

enum partition_state life_state(const struct partition_life *l)
{
    return STATE_OF(__atomic_load_n(&l->word, __ATOMIC_ACQUIRE));
}

uint32_t life_exited(const struct partition_life *l)
{
    return EXITED_OF(__atomic_load_n(&l->word, __ATOMIC_ACQUIRE));
}

typedef bool (*life_step)(const struct partition_life *l, uint64_t w, uint64_t *next);

/* Applies step until the compare-and-swap lands (the old and new words in *from, *to), or
 * returns false when step refuses the word it sees. */
static bool transition(struct partition_life *l, life_step step, uint64_t *from, uint64_t *to)
{
    uint64_t w = __atomic_load_n(&l->word, __ATOMIC_ACQUIRE), n;
    do {
        if (!step(l, w, &n))
            return false;
    } while (
        !__atomic_compare_exchange_n(&l->word, &w, n, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    *from = w;
    *to = n;
    return true;
}

static bool next_enter(const struct partition_life *l, uint64_t w, uint64_t *n)
{
    (void)l;
    *n = WORD(PARTITION_RUNNING, EXITED_OF(w));
    return STATE_OF(w) == PARTITION_IDLE;
}

void life_enter(struct partition_life *l)
{
    uint64_t from, to;
    transition(l, next_enter, &from, &to);
}

static bool next_exited(const struct partition_life *l, uint64_t w, uint64_t *n)
{
    kassert(EXITED_OF(w) <= l->nvcpus);
    uint32_t exited = EXITED_OF(w) + 1;
    enum partition_state s = STATE_OF(w);
    if (exited == l->nvcpus && s == PARTITION_RUNNING)
        s = PARTITION_FINISHED;
    *n = WORD(s, exited);
    return EXITED_OF(w) < l->nvcpus; /* never counts past every vCPU */
}

bool life_vcpu_exited(struct partition_life *l)
{
    uint64_t from, to;
    return transition(l, next_exited, &from, &to) && STATE_OF(from) == PARTITION_RUNNING &&
           STATE_OF(to) == PARTITION_FINISHED;
}

static bool next_resume(const struct partition_life *l, uint64_t w, uint64_t *n)
{
    /* a finished partition has every vCPU exited; one that runs has fewer */
    kassert(STATE_OF(w) != PARTITION_FINISHED || EXITED_OF(w) == l->nvcpus);
    *n = WORD(STATE_OF(w), EXITED_OF(w) - 1);
    return STATE_OF(w) == PARTITION_RUNNING && EXITED_OF(w) > 0;
}

bool life_vcpu_resume(struct partition_life *l)
{
    uint64_t from, to;
    return transition(l, next_resume, &from, &to);
}

static bool next_stop(const struct partition_life *l, uint64_t w, uint64_t *n)
{
    (void)l;
    *n = WORD(PARTITION_STOPPED, EXITED_OF(w));
    return STATE_OF(w) == PARTITION_IDLE || STATE_OF(w) == PARTITION_RUNNING;
}

bool life_stop(struct partition_life *l)
{
    uint64_t from, to;
    return transition(l, next_stop, &from, &to);
}
