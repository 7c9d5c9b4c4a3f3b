/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Cross-core work (core/cpu_work.c) with threads as CPUs: bits and their payloads, the wake
 * kinds, the re-send schedule, and posters racing owners that sleep on part of their bits.
 * Also built with ThreadSanitizer, which checks that every payload read happens after its
 * write through the post and the take alone. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/cpu_work.h"
#include "core/klib.h"

#define CPUS 3
#define POSTERS 4
#define POSTS_EACH 4000
/* A wait that would only end by a re-send fails the test (the stress passes no re-send):
 * far longer than any scheduling delay, so only a lost wake-up reaches it. */
#define LOST_WAKE_US (60ull * 1000 * 1000)

/* ---- the platform: one mutex and condition per CPU stand for its halt and its wake-up */

struct fake_cpu {
    struct cpu_mailbox mb;
    pthread_mutex_t lock;
    pthread_cond_t woken_cond;
    bool woken;
    bool asleep;                   /* in cpu_work_sleep's wait, under lock */
    unsigned nmi_wakes, ipi_wakes; /* under lock */
    unsigned drop;                 /* wakes still to lose, as an emulator did */
};

static struct fake_cpu fake[CPUS];

struct cpu_mailbox *cpu_work_mailbox(unsigned cpu)
{
    return &fake[cpu].mb;
}

void cpu_work_send_wake(unsigned cpu, bool nmi)
{
    struct fake_cpu *c = &fake[cpu];
    pthread_mutex_lock(&c->lock);
    *(nmi ? &c->nmi_wakes : &c->ipi_wakes) += 1;
    if (c->drop)
        c->drop--;
    else {
        c->woken = true;
        pthread_cond_signal(&c->woken_cond);
    }
    pthread_mutex_unlock(&c->lock);
}

uint64_t cpu_work_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void cpu_work_relax(void)
{
    sched_yield();
}

/* The lock plays "interrupts off": the mailbox is tested once under it, as before the hlt;
 * then, like the hlt, only a wake ends the sleep (not a bit set meanwhile, not a spurious
 * return of the condition wait). */
void cpu_work_sleep(struct cpu_mailbox *mb, uint32_t mask)
{
    struct fake_cpu *c = (struct fake_cpu *)((char *)mb - offsetof(struct fake_cpu, mb));
    pthread_mutex_lock(&c->lock);
    if (!cpu_work_pending(mb, mask)) {
        c->asleep = true;
        while (!c->woken)
            pthread_cond_wait(&c->woken_cond, &c->lock);
    }
    c->asleep = false;
    c->woken = false;
    pthread_mutex_unlock(&c->lock);
}

static int reset(void **state)
{
    (void)state;
    for (unsigned i = 0; i < CPUS; i++) {
        fake[i] = (struct fake_cpu){.woken = false};
        pthread_mutex_init(&fake[i].lock, NULL);
        pthread_cond_init(&fake[i].woken_cond, NULL);
    }
    return 0;
}

static unsigned wakes(unsigned cpu)
{
    pthread_mutex_lock(&fake[cpu].lock);
    unsigned n = fake[cpu].nmi_wakes + fake[cpu].ipi_wakes;
    pthread_mutex_unlock(&fake[cpu].lock);
    return n;
}

/* ---- single-threaded rules */

static void test_a_bit_wakes_once_until_taken(void **state)
{
    (void)state;
    cpu_work_post(1, CPU_WORK_COMMAND);
    cpu_work_post(1, CPU_WORK_COMMAND); /* its wake is still owed: no second one */
    assert_int_equal(wakes(1), 1);
    assert_int_equal(fake[1].mb.posts, 1);
    assert_int_equal(cpu_work_take(&fake[1].mb, CPU_WORK_COMMAND), CPU_WORK_COMMAND);
    assert_int_equal(cpu_work_take(&fake[1].mb, CPU_WORK_COMMAND), 0);
    cpu_work_post(1, CPU_WORK_COMMAND); /* taken since: a new wake */
    assert_int_equal(wakes(1), 2);
}

static void test_a_new_bit_wakes_even_if_another_is_pending(void **state)
{
    (void)state;
    cpu_work_post(1, CPU_WORK_VCPU_KICK);
    cpu_work_post(1, CPU_WORK_VCPU_STOP);
    assert_int_equal(wakes(1), 2);
}

static void test_take_leaves_the_other_bits(void **state)
{
    (void)state;
    cpu_work_post(2, CPU_WORK_VCPU_KICK | CPU_WORK_VCPU_STOP | CPU_WORK_COMMAND);
    assert_int_equal(cpu_work_take(&fake[2].mb, CPU_WORK_VCPU_STOP | CPU_WORK_VCPU_START),
                     CPU_WORK_VCPU_STOP);
    assert_true(cpu_work_pending(&fake[2].mb, CPU_WORK_VCPU_KICK));
    assert_true(cpu_work_pending(&fake[2].mb, CPU_WORK_COMMAND));
    assert_false(cpu_work_pending(&fake[2].mb, CPU_WORK_VCPU_STOP));
}

static void test_guest_cores_are_woken_by_nmi(void **state)
{
    (void)state;
    cpu_work_set_wake(1, true);
    cpu_work_post(1, CPU_WORK_TLB_FLUSH);
    cpu_work_post(2, CPU_WORK_COORDINATOR);
    cpu_work_resend(1);
    assert_int_equal(fake[1].nmi_wakes, 2);
    assert_int_equal(fake[1].ipi_wakes, 0);
    assert_int_equal(fake[2].ipi_wakes, 1);
    assert_int_equal(fake[2].nmi_wakes, 0);
    assert_int_equal(fake[1].mb.resends, 1);
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

static void resend_to_1(void *arg)
{
    (void)arg;
    cpu_work_resend(1);
}

static void test_wait_gives_up_after_its_time_out(void **state)
{
    (void)state;
    uint64_t t0 = cpu_work_now_us();
    assert_int_equal(cpu_work_wait(never, resend_to_1, NULL, 3 * CPU_WORK_RESEND_US), -E_TIMEDOUT);
    assert_true(cpu_work_now_us() - t0 >= 3 * CPU_WORK_RESEND_US);
}

/* ---- an owner thread that acknowledges commands, as an AP's command loop */

static uint32_t command, acked; /* command: the payload; acked: atomic */

static void *command_loop(void *arg)
{
    (void)arg;
    struct cpu_mailbox *mb = &fake[1].mb;
    uint32_t done = 0;
    for (;;) {
        cpu_work_take(mb, CPU_WORK_COMMAND);
        uint32_t cmd = __atomic_load_n(&command, __ATOMIC_ACQUIRE);
        if (cmd == done) {
            cpu_work_sleep(mb, CPU_WORK_COMMAND);
            continue;
        }
        done = cmd;
        __atomic_store_n(&acked, cmd, __ATOMIC_RELEASE);
        if (cmd == 99)
            return NULL;
    }
}

static bool command_acked(void *arg)
{
    return __atomic_load_n(&acked, __ATOMIC_ACQUIRE) == *(uint32_t *)arg;
}

static void post_command(uint32_t cmd)
{
    __atomic_store_n(&command, cmd, __ATOMIC_RELEASE);
    cpu_work_post(1, CPU_WORK_COMMAND);
}

static void test_lost_wakes_are_made_up_by_resends(void **state)
{
    (void)state;
    command = acked = 0;
    fake[1].drop = 3; /* the post's wake and the first two re-sends are lost */
    pthread_t t;
    pthread_create(&t, NULL, command_loop, NULL);
    for (bool asleep = false; !asleep; sched_yield()) { /* so that only a wake ends it */
        pthread_mutex_lock(&fake[1].lock);
        asleep = fake[1].asleep;
        pthread_mutex_unlock(&fake[1].lock);
    }
    uint32_t want = 7;
    post_command(want);
    assert_int_equal(cpu_work_wait(command_acked, resend_to_1, &want, LOST_WAKE_US), 0);
    assert_true(fake[1].mb.resends >= 3); /* nothing else could have woken it */
    want = 99;
    post_command(want);
    assert_int_equal(cpu_work_wait(command_acked, resend_to_1, &want, LOST_WAKE_US), 0);
    pthread_join(t, NULL);
}

/* ---- the stress: POSTERS threads each own one bit on every CPU and its payload there.
 * CPU 0's owner sleeps on all bits; CPU 1's on the even posters' bits only, the way a
 * parked vCPU sleeps on some of its work and leaves the rest for its run loop; CPU 2's
 * takes with an empty sleep in between. Each post waits until its payload was read. */

static uint64_t payload[CPUS][POSTERS];  /* written by its poster, read by the owner */
static uint64_t consumed[CPUS][POSTERS]; /* atomic: the last payload the owner read */
static int owners_stop;                  /* atomic */
static int errors;                       /* atomic */

#define ALL_BITS ((1u << POSTERS) - 1)
#define EVEN_BITS 0x5u

static void no_resend(void *arg)
{
    (void)arg;
}

static void consume(unsigned cpu, uint32_t bits)
{
    for (unsigned p = 0; p < POSTERS; p++) {
        if (!(bits & (1u << p)))
            continue;
        uint64_t want = __atomic_load_n(&consumed[cpu][p], __ATOMIC_RELAXED) + 1;
        if (payload[cpu][p] != want) /* plain read: ordered by the post and the take alone */
            __atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&consumed[cpu][p], want, __ATOMIC_RELEASE);
    }
}

static void *owner(void *arg)
{
    unsigned cpu = (unsigned)(uintptr_t)arg;
    struct cpu_mailbox *mb = &fake[cpu].mb;
    while (!__atomic_load_n(&owners_stop, __ATOMIC_ACQUIRE)) {
        if (cpu == 1) {
            /* the sleep's part first; the rest only now and then, as a run loop would */
            consume(cpu, cpu_work_take(mb, EVEN_BITS));
            cpu_work_sleep(mb, EVEN_BITS);
            consume(cpu, cpu_work_take(mb, ALL_BITS & ~EVEN_BITS));
        } else {
            consume(cpu, cpu_work_take(mb, ALL_BITS));
            if (cpu == 0)
                cpu_work_sleep(mb, ALL_BITS);
            else
                sched_yield();
        }
    }
    return NULL;
}

struct wait_arg {
    unsigned cpu, poster;
    uint64_t seq;
};

static bool payload_consumed(void *arg)
{
    const struct wait_arg *w = arg;
    return __atomic_load_n(&consumed[w->cpu][w->poster], __ATOMIC_ACQUIRE) == w->seq;
}

static void *poster(void *arg)
{
    unsigned p = (unsigned)(uintptr_t)arg;
    for (uint64_t seq = 1; seq <= POSTS_EACH; seq++) {
        unsigned cpu = (unsigned)((seq + p) % CPUS);
        payload[cpu][p] = __atomic_load_n(&consumed[cpu][p], __ATOMIC_ACQUIRE) + 1;
        cpu_work_post(cpu, 1u << p);
        struct wait_arg w = {cpu, p, payload[cpu][p]};
        /* no re-send: every post's own wake must do (CPU 1's sleep ends on any wake, and
         * then it takes the bits it does not sleep on too) */
        if (cpu_work_wait(payload_consumed, no_resend, &w, LOST_WAKE_US)) {
            __atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED);
            return NULL;
        }
    }
    return NULL;
}

static void test_posters_race_owners_without_loss(void **state)
{
    (void)state;
    memset(payload, 0, sizeof(payload));
    memset(consumed, 0, sizeof(consumed));
    owners_stop = errors = 0;
    cpu_work_set_wake(1, true);
    pthread_t owners[CPUS], posters[POSTERS];
    for (unsigned i = 0; i < CPUS; i++)
        pthread_create(&owners[i], NULL, owner, (void *)(uintptr_t)i);
    for (unsigned i = 0; i < POSTERS; i++)
        pthread_create(&posters[i], NULL, poster, (void *)(uintptr_t)i);
    for (unsigned i = 0; i < POSTERS; i++)
        pthread_join(posters[i], NULL);
    __atomic_store_n(&owners_stop, 1, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < CPUS; i++)
        cpu_work_send_wake(i, false); /* out of their sleeps */
    for (unsigned i = 0; i < CPUS; i++)
        pthread_join(owners[i], NULL);
    assert_int_equal(errors, 0);
    uint64_t total = 0;
    for (unsigned c = 0; c < CPUS; c++)
        for (unsigned p = 0; p < POSTERS; p++)
            total += consumed[c][p];
    assert_int_equal(total, (uint64_t)POSTERS * POSTS_EACH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_a_bit_wakes_once_until_taken, reset),
        cmocka_unit_test_setup(test_a_new_bit_wakes_even_if_another_is_pending, reset),
        cmocka_unit_test_setup(test_take_leaves_the_other_bits, reset),
        cmocka_unit_test_setup(test_guest_cores_are_woken_by_nmi, reset),
        cmocka_unit_test_setup(test_wait_gives_up_after_its_time_out, reset),
        cmocka_unit_test_setup(test_lost_wakes_are_made_up_by_resends, reset),
        cmocka_unit_test_setup(test_posters_race_owners_without_loss, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
