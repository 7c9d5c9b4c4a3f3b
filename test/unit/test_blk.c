/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The io service's virtio-blk device model against a driver written here, on fake guest RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "guest-stubs/include/sidecore/abi.h"
#include "sidecore/blk.h"

#define RAM_SIZE (256 * 1024)
#define DISK_SIZE (64 * 1024)
#define CAPACITY (DISK_SIZE / SC_BLK_SECTOR)
#define SECTOR SC_BLK_SECTOR

/* Guest-physical layout the test driver uses. */
#define DESC 0x1000ull
#define AVAIL 0x3000ull
#define USED 0x4000ull
#define HEADERS 0x8000ull /* 16 bytes per request, 64 of them */
#define STATUS 0x9000ull  /* 1 byte per request */
#define DATA 0x10000ull   /* data buffers from here up */
#define DATA2 0x20000ull

#define W SC_VQ_DESC_F_WRITE
#define R 0
#define NEXT SC_VQ_DESC_F_NEXT
#define INDIRECT SC_VQ_DESC_F_INDIRECT

struct fixture {
    uint8_t *ram, *disk, *disk0; /* disk0: the image as it started */
    struct blk_backend b;
    struct blk_queue q;
    struct sc_vq_desc chain[BLK_QUEUE_MAX]; /* the backend's chain buffer */
    /* the driver */
    uint16_t size, avail_idx, used_seen, next_desc;
    unsigned nreq;
};

/* One buffer of a chain. */
struct seg {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
};

static uint8_t ram_pattern(size_t i)
{
    return (uint8_t)(i * 7 + 3);
}

static uint8_t disk_pattern(size_t i)
{
    return (uint8_t)(i * 13 + 1 + (i >> 9));
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->ram = aligned_alloc(4096, RAM_SIZE);
    f->disk = malloc(DISK_SIZE);
    f->disk0 = malloc(DISK_SIZE);
    if (!f->ram || !f->disk || !f->disk0)
        return -1;
    for (size_t i = 0; i < RAM_SIZE; i++)
        f->ram[i] = ram_pattern(i);
    memset(f->ram + DESC, 0, HEADERS - DESC); /* the rings start zeroed */
    for (size_t i = 0; i < DISK_SIZE; i++)
        f->disk[i] = disk_pattern(i);
    memcpy(f->disk0, f->disk, DISK_SIZE);
    f->b = (struct blk_backend){.guest = f->ram,
                                .guest_size = RAM_SIZE,
                                .disk = f->disk,
                                .disk_size = DISK_SIZE,
                                .chain = f->chain};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->ram);
    free(f->disk);
    free(f->disk0);
    free(f);
    return 0;
}

/* ---- The driver. */
static void put16(struct fixture *f, uint64_t gpa, uint16_t v)
{
    memcpy(f->ram + gpa, &v, sizeof(v));
}

static uint16_t get16(const struct fixture *f, uint64_t gpa)
{
    uint16_t v;
    memcpy(&v, f->ram + gpa, sizeof(v));
    return v;
}

static void put_desc(struct fixture *f, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    struct sc_vq_desc d = {.addr = addr, .len = len, .flags = flags, .next = next};
    memcpy(f->ram + DESC + 16ull * i, &d, sizeof(d));
}

/* Starts a queue of `size` at the indices the guest's rings hold now. */
static void start_queue(struct fixture *f, uint16_t size, uint8_t vector)
{
    f->size = size;
    f->avail_idx = get16(f, AVAIL + 2);
    f->used_seen = get16(f, USED + 2);
    f->next_desc = 0;
    assert_int_equal(blk_setup(&f->q, &f->b, DESC, AVAIL, USED, size, vector), 0);
    assert_true(f->q.ready);
    assert_false(f->q.broken);
}

/* Makes a chain of the segments from the next free descriptors and puts its head into the
 * avail ring (not yet published). */
static uint16_t add_chain(struct fixture *f, const struct seg *s, unsigned n)
{
    uint16_t mask = (uint16_t)(f->size - 1);
    uint16_t head = f->next_desc & mask;
    for (unsigned k = 0; k < n; k++) {
        uint16_t i = (uint16_t)(f->next_desc + k) & mask;
        uint16_t next = (uint16_t)(f->next_desc + k + 1) & mask;
        bool more = k + 1 < n;
        put_desc(f, i, s[k].addr, s[k].len, (uint16_t)(s[k].flags | (more ? NEXT : 0)),
                 more ? next : 0);
    }
    f->next_desc = (uint16_t)(f->next_desc + n);
    put16(f, AVAIL + 4 + 2ull * (f->avail_idx & mask), head);
    f->avail_idx++;
    return head;
}

static void publish(struct fixture *f)
{
    put16(f, AVAIL + 2, f->avail_idx);
}

/* A request: header {type, sector}, the data segments, a status byte (preset to 0xee).
 * Returns the head; *status_gpa says where its status goes. */
static uint16_t add_req(struct fixture *f, uint32_t type, uint64_t sector, const struct seg *data,
                        unsigned ndata, uint64_t *status_gpa)
{
    struct seg s[16];
    assert_true(ndata + 2 <= ARRAY_SIZE(s));
    uint64_t hdr = HEADERS + 16ull * (f->nreq % 64), st = STATUS + f->nreq % 64;
    f->nreq++;
    struct sc_blk_req_header h = {.type = type, .reserved = 0, .sector = sector};
    memcpy(f->ram + hdr, &h, sizeof(h));
    f->ram[st] = 0xee;
    s[0] = (struct seg){hdr, 16, R};
    for (unsigned k = 0; k < ndata; k++)
        s[k + 1] = data[k];
    s[ndata + 1] = (struct seg){st, 1, W};
    if (status_gpa)
        *status_gpa = st;
    return add_chain(f, s, ndata + 2);
}

static struct sc_vq_used_elem used_at(const struct fixture *f, uint16_t k)
{
    struct sc_vq_used_elem e;
    memcpy(&e, f->ram + USED + 4 + 8ull * (k & (f->size - 1)), sizeof(e));
    return e;
}

/* The next completion must be {head, len} with this status. */
static void expect_completion(struct fixture *f, uint16_t head, uint64_t status_gpa, uint8_t status,
                              uint32_t len)
{
    assert_true((uint16_t)(get16(f, USED + 2) - f->used_seen) >= 1);
    struct sc_vq_used_elem e = used_at(f, f->used_seen);
    assert_int_equal(e.id, head);
    assert_int_equal(e.len, len);
    assert_int_equal(f->ram[status_gpa], status);
    f->used_seen++;
}

/* One request, one poll, its completion checked. */
static void run_one(struct fixture *f, uint32_t type, uint64_t sector, const struct seg *data,
                    unsigned ndata, uint8_t status, uint32_t len)
{
    uint64_t st;
    uint16_t head = add_req(f, type, sector, data, ndata, &st);
    publish(f);
    assert_int_equal(blk_poll(&f->q, &f->b, 16), 1);
    expect_completion(f, head, st, status, len);
    assert_int_equal(get16(f, USED + 2), f->used_seen);
}

static void assert_disk_untouched(const struct fixture *f)
{
    assert_memory_equal(f->disk, f->disk0, DISK_SIZE);
}

static void assert_ram_pattern(const struct fixture *f, uint64_t gpa, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (f->ram[gpa + i] != ram_pattern(gpa + i))
            fail_msg("guest byte 0x%llx changed", (unsigned long long)(gpa + i));
}

/* ---- Setup. */
static void test_setup_validation(void **state)
{
    struct fixture *f = *state;
    struct blk_queue q;
    const struct blk_backend *b = &f->b;
    memset(&q, 0x5a, sizeof(q));
    q.ready = q.broken = q.notify = false; /* bools: a value a bool may hold */
    struct blk_queue before = q;
#define BAD(rc, d, a, u, s, v)                                                                     \
    do {                                                                                           \
        assert_int_equal(blk_setup(&q, b, (d), (a), (u), (s), (v)), (rc));                         \
        assert_memory_equal(&q, &before, sizeof(q)); /* a refused setup changes nothing */         \
    } while (0)
    /* alignment: desc 16, avail 2, used 4 */
    BAD(-E_INVAL, DESC + 8, AVAIL, USED, 16, 0);
    BAD(-E_INVAL, DESC + 1, AVAIL, USED, 16, 0);
    BAD(-E_INVAL, DESC, AVAIL + 1, USED, 16, 0);
    BAD(-E_INVAL, DESC, AVAIL, USED + 2, 16, 0);
    BAD(-E_INVAL, DESC, AVAIL, USED + 1, 16, 0);
    /* size: a power of two, 1..256 */
    BAD(-E_INVAL, DESC, AVAIL, USED, 0, 0);
    BAD(-E_INVAL, DESC, AVAIL, USED, 3, 0);
    BAD(-E_INVAL, DESC, AVAIL, USED, 96, 0);
    BAD(-E_INVAL, DESC, AVAIL, USED, 512, 0);
    BAD(-E_INVAL, DESC, AVAIL, USED, 257, 0);
    BAD(-E_INVAL, DESC, AVAIL, USED, 1ull << 32 | 16, 0);
    /* vector: 0 (polled) or 32..SC_VECTOR_MAX */
    BAD(-E_INVAL, DESC, AVAIL, USED, 16, 1);
    BAD(-E_INVAL, DESC, AVAIL, USED, 16, 31);
    BAD(-E_INVAL, DESC, AVAIL, USED, 16, 256);
    BAD(-E_INVAL, DESC, AVAIL, USED, 16, 1ull << 32 | 0x40);
    /* every ring entirely inside RAM */
    BAD(-E_FAULT, RAM_SIZE - 16 * 15, AVAIL, USED, 16, 0);
    BAD(-E_FAULT, RAM_SIZE, AVAIL, USED, 16, 0);
    BAD(-E_FAULT, DESC, RAM_SIZE - (4 + 2 * 16) + 2, USED, 16, 0);
    BAD(-E_FAULT, DESC, AVAIL, RAM_SIZE - (4 + 8 * 16) + 4, 16, 0);
    BAD(-E_FAULT, ~0ull & ~15ull, AVAIL, USED, 16, 0);
    BAD(-E_FAULT, DESC, ~0ull & ~1ull, USED, 16, 0);
    BAD(-E_FAULT, DESC, AVAIL, ~0ull & ~3ull, 16, 0);
#undef BAD
    /* the host mapping must allow the idx atomics */
    struct blk_backend odd = {f->ram + 1, RAM_SIZE - 1, f->disk, DISK_SIZE, f->chain};
    assert_int_equal(blk_setup(&q, &odd, DESC, AVAIL, USED, 16, 0), -E_INVAL);
    assert_memory_equal(&q, &before, sizeof(q));

    /* what is accepted: every size, both ends of the vectors, rings flush with the end of RAM */
    for (uint64_t size = 1; size <= 256; size *= 2) {
        assert_int_equal(blk_setup(&q, b, DESC, AVAIL, USED, size, 0), 0);
        assert_int_equal(q.size, size);
    }
    assert_int_equal(blk_setup(&q, b, DESC, AVAIL, USED, 16, 32), 0);
    assert_int_equal(q.vector, 32);
    assert_int_equal(blk_setup(&q, b, DESC, AVAIL, USED, 16, SC_VECTOR_MAX), 0);
    assert_int_equal(q.vector, SC_VECTOR_MAX);
    assert_int_equal(blk_setup(&q, b, DESC, AVAIL, USED, 16, 0x100), -E_INVAL);
    assert_int_equal(blk_setup(&q, b, RAM_SIZE - 16 * 16, RAM_SIZE - (4 + 2 * 16),
                               RAM_SIZE - (4 + 8 * 16), 16, 0),
                     0);
    assert_int_equal(blk_setup(&q, b, 0, 0, 0, 1, 0),
                     0); /* overlapping rings: the guest's business */
}

static void test_setup_starts_at_guest_indices(void **state)
{
    struct fixture *f = *state;
    struct blk_queue q = {0};
    assert_int_equal(blk_poll(&q, &f->b, 16), 0); /* never set up: nothing to serve */
    put16(f, AVAIL + 2, 7);
    put16(f, USED + 2, 5);
    start_queue(f, 8, 0);
    assert_int_equal(f->q.last_avail, 7);
    assert_int_equal(f->q.used_idx, 5);
    assert_int_equal(f->q.completed, 0);
    assert_int_equal(f->q.errors, 0);
    assert_int_equal(f->q.vector, 0);
    assert_int_equal(blk_poll(&f->q, &f->b, 16), 0); /* the 7 before setup are not served */
    assert_int_equal(get16(f, USED + 2), 5);

    /* the next request goes to avail->ring[7] and used->ring[5] */
    uint64_t st;
    f->next_desc = 3;
    uint16_t head = add_req(f, SC_BLK_T_FLUSH, 0, NULL, 0, &st);
    assert_int_equal(head, 3);
    assert_int_equal(get16(f, AVAIL + 4 + 2 * 7), 3);
    publish(f);
    assert_int_equal(blk_poll(&f->q, &f->b, 16), 1);
    expect_completion(f, 3, st, SC_BLK_S_OK, 1);
    assert_int_equal(get16(f, USED + 2), 6);
    struct sc_vq_used_elem e;
    memcpy(&e, f->ram + USED + 4 + 8 * 5, sizeof(e));
    assert_int_equal(e.id, 3);
}

/* ---- Requests. */
static void fill(uint8_t *p, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seed + i * 31 + (i >> 8));
}

static void test_write_then_read_back(void **state)
{
    struct fixture *f = *state;
    start_queue(f, 16, 0);
    uint8_t want[8 * SECTOR];
    fill(want, sizeof(want), 0x42);
    memcpy(f->ram + DATA, want, sizeof(want));

    struct seg out = {DATA, 8 * SECTOR, R};
    run_one(f, SC_BLK_T_OUT, 10, &out, 1, SC_BLK_S_OK, 1); /* nothing written to the guest */
    assert_memory_equal(f->disk + 10 * SECTOR, want, sizeof(want));
    assert_memory_equal(f->disk, f->disk0, 10 * SECTOR);
    assert_memory_equal(f->disk + 18 * SECTOR, f->disk0 + 18 * SECTOR, DISK_SIZE - 18 * SECTOR);

    struct seg in = {DATA2, 8 * SECTOR, W};
    run_one(f, SC_BLK_T_IN, 10, &in, 1, SC_BLK_S_OK, 8 * SECTOR + 1);
    assert_memory_equal(f->ram + DATA2, want, sizeof(want));
    assert_ram_pattern(f, DATA2 + 8 * SECTOR, 64); /* not a byte beyond */
    assert_ram_pattern(f, DATA2 - 64, 64);

    /* a read of untouched sectors returns the image as it was, the first and last sector too */
    struct seg first = {DATA2, SECTOR, W};
    run_one(f, SC_BLK_T_IN, 0, &first, 1, SC_BLK_S_OK, SECTOR + 1);
    assert_memory_equal(f->ram + DATA2, f->disk0, SECTOR);
    run_one(f, SC_BLK_T_IN, CAPACITY - 1, &first, 1, SC_BLK_S_OK, SECTOR + 1);
    assert_memory_equal(f->ram + DATA2, f->disk0 + DISK_SIZE - SECTOR, SECTOR);
    memcpy(f->ram + DATA, want, SECTOR);
    run_one(f, SC_BLK_T_OUT, CAPACITY - 1, &out, 0, SC_BLK_S_OK, 1); /* no data: 0 sectors */
    struct seg last = {DATA, SECTOR, R};
    run_one(f, SC_BLK_T_OUT, CAPACITY - 1, &last, 1, SC_BLK_S_OK, 1);
    assert_memory_equal(f->disk + DISK_SIZE - SECTOR, want, SECTOR);
    assert_int_equal(f->q.completed, 6);
    assert_int_equal(f->q.errors, 0);
}

static void test_multi_descriptor_chains(void **state)
{
    struct fixture *f = *state;
    start_queue(f, 16, 0);
    uint8_t want[4 * SECTOR];
    fill(want, sizeof(want), 7);
    /* a write gathered from four buffers of odd sizes, scattered and out of order in RAM */
    struct seg out[] = {
        {DATA + 0x3000, 100, R},
        {DATA + 0x1003, 412, R},
        {DATA + 0x0800, 1024, R},
        {DATA + 0x2001, 512, R},
    };
    size_t off = 0;
    for (size_t k = 0; k < ARRAY_SIZE(out); k++) {
        memcpy(f->ram + out[k].addr, want + off, out[k].len);
        off += out[k].len;
    }
    assert_int_equal(off, sizeof(want));
    run_one(f, SC_BLK_T_OUT, 33, out, ARRAY_SIZE(out), SC_BLK_S_OK, 1);
    assert_memory_equal(f->disk + 33 * SECTOR, want, sizeof(want));
    assert_memory_equal(f->disk + 37 * SECTOR, f->disk0 + 37 * SECTOR, SECTOR);

    /* read back scattered into three buffers (one empty) */
    struct seg in[] = {
        {DATA2 + 0x801, 1000, W},
        {DATA2 + 0x100, 0, W},
        {DATA2 + 0x2000, 1048, W},
    };
    run_one(f, SC_BLK_T_IN, 33, in, ARRAY_SIZE(in), SC_BLK_S_OK, 4 * SECTOR + 1);
    assert_memory_equal(f->ram + DATA2 + 0x801, want, 1000);
    assert_memory_equal(f->ram + DATA2 + 0x2000, want + 1000, 1048);
    assert_ram_pattern(f, DATA2 + 0x801 + 1000, 16);
    assert_ram_pattern(f, DATA2 + 0x2000 + 1048, 16);
    assert_ram_pattern(f, DATA2 + 0x100, 16);

    /* the longest chain a queue of 16 allows: header, 14 data, status */
    struct seg many[14];
    for (unsigned k = 0; k < 14; k++)
        many[k] = (struct seg){DATA + 0x8000 + SECTOR * k, SECTOR, W};
    run_one(f, SC_BLK_T_IN, 100, many, 14, SC_BLK_S_OK, 14 * SECTOR + 1);
    assert_memory_equal(f->ram + DATA + 0x8000, f->disk0 + 100 * SECTOR, 14 * SECTOR);
    assert_int_equal(f->q.errors, 0);
}

static void test_flush(void **state)
{
    struct fixture *f = *state;
    start_queue(f, 8, 0);
    run_one(f, SC_BLK_T_FLUSH, 0, NULL, 0, SC_BLK_S_OK, 1);
    run_one(f, SC_BLK_T_FLUSH, ~0ull, NULL, 0, SC_BLK_S_OK, 1); /* the sector is ignored */
    assert_disk_untouched(f);
    assert_ram_pattern(f, DATA, 0x10000);
    assert_int_equal(f->q.completed, 2);
    assert_int_equal(f->q.errors, 0);
}

static void test_get_id(void **state)
{
    struct fixture *f = *state;
    static const char id[20] = "sidecore-blk";
    start_queue(f, 8, 0);

    struct seg exact = {DATA, 20, W};
    run_one(f, SC_BLK_T_GET_ID, 0, &exact, 1, SC_BLK_S_OK, 21);
    assert_memory_equal(f->ram + DATA, id, 20);
    assert_ram_pattern(f, DATA + 20, 16);

    struct seg big = {DATA + 0x100, 64, W}; /* 20 bytes at most */
    run_one(f, SC_BLK_T_GET_ID, 0, &big, 1, SC_BLK_S_OK, 21);
    assert_memory_equal(f->ram + DATA + 0x100, id, 20);
    assert_ram_pattern(f, DATA + 0x100 + 20, 44);

    struct seg small = {DATA + 0x200, 8, W};
    run_one(f, SC_BLK_T_GET_ID, 0, &small, 1, SC_BLK_S_OK, 9);
    assert_memory_equal(f->ram + DATA + 0x200, "sidecore", 8);
    assert_ram_pattern(f, DATA + 0x208, 16);

    struct seg split[] = {{DATA + 0x300, 5, W}, {DATA + 0x400, 30, W}};
    run_one(f, SC_BLK_T_GET_ID, 0, split, 2, SC_BLK_S_OK, 21);
    assert_memory_equal(f->ram + DATA + 0x300, "sidec", 5);
    assert_memory_equal(f->ram + DATA + 0x400, id + 5, 15);
    assert_ram_pattern(f, DATA + 0x400 + 15, 15);

    /* device-readable id buffer: wrong direction */
    struct seg readable = {DATA + 0x500, 20, R};
    run_one(f, SC_BLK_T_GET_ID, 0, &readable, 1, SC_BLK_S_IOERR, 1);
    assert_ram_pattern(f, DATA + 0x500, 20);
    assert_disk_untouched(f);
    assert_int_equal(f->q.completed, 5);
    assert_int_equal(f->q.errors, 1);
}

static void test_unsupported_type(void **state)
{
    struct fixture *f = *state;
    start_queue(f, 8, 0);
    static const uint32_t types[] = {2, 3, 5, 7, 11, 13, 0xffffffffu};
    struct seg data = {DATA, SECTOR, W};
    for (size_t i = 0; i < ARRAY_SIZE(types); i++)
        run_one(f, types[i], 0, &data, 1, SC_BLK_S_UNSUPP, 1);
    assert_ram_pattern(f, DATA, SECTOR);
    assert_disk_untouched(f);
    assert_int_equal(f->q.completed, ARRAY_SIZE(types));
    assert_int_equal(f->q.errors, ARRAY_SIZE(types));
}

static void test_sector_out_of_range(void **state)
{
    struct fixture *f = *state;
    start_queue(f, 8, 0);
    struct seg out1 = {DATA, SECTOR, R}, out2 = {DATA, 2 * SECTOR, R};
    struct seg in1 = {DATA2, SECTOR, W}, in2 = {DATA2, 2 * SECTOR, W};
    run_one(f, SC_BLK_T_OUT, CAPACITY, &out1, 1, SC_BLK_S_IOERR, 1);
    run_one(f, SC_BLK_T_OUT, CAPACITY - 1, &out2, 1, SC_BLK_S_IOERR, 1);
    run_one(f, SC_BLK_T_OUT, ~0ull, &out1, 1, SC_BLK_S_IOERR, 1);
    run_one(f, SC_BLK_T_OUT, ~0ull / SECTOR + 1, &out1, 1, SC_BLK_S_IOERR, 1); /* wraps bytes */
    run_one(f, SC_BLK_T_IN, CAPACITY, &in1, 1, SC_BLK_S_IOERR, 1);
    run_one(f, SC_BLK_T_IN, CAPACITY - 1, &in2, 1, SC_BLK_S_IOERR, 1);
    run_one(f, SC_BLK_T_IN, 1ull << 63, &in1, 1, SC_BLK_S_IOERR, 1);
    /* not a whole number of sectors */
    struct seg part_out = {DATA, SECTOR + 1, R}, part_in = {DATA2, 511, W};
    run_one(f, SC_BLK_T_OUT, 0, &part_out, 1, SC_BLK_S_IOERR, 1);
    run_one(f, SC_BLK_T_IN, 0, &part_in, 1, SC_BLK_S_IOERR, 1);
    assert_disk_untouched(f);
    assert_ram_pattern(f, DATA2, 2 * SECTOR);
    assert_int_equal(f->q.completed, 9);
    assert_int_equal(f->q.errors, 9);
    /* the whole disk at once is fine */
    struct seg all = {DATA, DISK_SIZE, W};
    run_one(f, SC_BLK_T_IN, 0, &all, 1, SC_BLK_S_OK, DISK_SIZE + 1);
    assert_memory_equal(f->ram + DATA, f->disk0, DISK_SIZE);
}

static void test_data_outside_ram(void **state)
{
    struct fixture *f = *state;
    start_queue(f, 8, 0);
    static const struct seg bad[] = {
        {RAM_SIZE - 256, SECTOR, W},
        {RAM_SIZE, SECTOR, W},
        {~0ull - 100, SECTOR, W},
        {1ull << 40, SECTOR, W},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        run_one(f, SC_BLK_T_IN, 0, &bad[i], 1, SC_BLK_S_IOERR, 1);
        struct seg out = bad[i];
        out.flags = R;
        run_one(f, SC_BLK_T_OUT, 0, &out, 1, SC_BLK_S_IOERR, 1);
    }
    /* one good buffer and one outside: nothing moves at all */
    struct seg mixed[] = {{DATA, SECTOR, W}, {RAM_SIZE - 100, SECTOR, W}};
    run_one(f, SC_BLK_T_IN, 0, mixed, 2, SC_BLK_S_IOERR, 1);
    assert_ram_pattern(f, DATA, SECTOR);
    struct seg mixed_out[] = {{DATA, SECTOR, R}, {RAM_SIZE - 100, SECTOR, R}};
    run_one(f, SC_BLK_T_OUT, 0, mixed_out, 2, SC_BLK_S_IOERR, 1);
    struct seg flush_bad = {RAM_SIZE, 1, R};
    run_one(f, SC_BLK_T_FLUSH, 0, &flush_bad, 1, SC_BLK_S_IOERR, 1);
    struct seg id_bad = {RAM_SIZE - 10, 20, W};
    run_one(f, SC_BLK_T_GET_ID, 0, &id_bad, 1, SC_BLK_S_IOERR, 1);
    assert_ram_pattern(f, RAM_SIZE - 300, 300);
    /* flush with the end of RAM is inside */
    struct seg at_end = {RAM_SIZE - SECTOR, SECTOR, W};
    run_one(f, SC_BLK_T_IN, 2, &at_end, 1, SC_BLK_S_OK, SECTOR + 1);
    assert_memory_equal(f->ram + RAM_SIZE - SECTOR, f->disk0 + 2 * SECTOR, SECTOR);
    assert_disk_untouched(f);
    assert_int_equal(f->q.completed, 13);
    assert_int_equal(f->q.errors, 12);
}

static void test_wrong_directions(void **state)
{
    struct fixture *f = *state;
    start_queue(f, 8, 0);
    /* data in the wrong direction */
    struct seg in_readable = {DATA, SECTOR, R};
    run_one(f, SC_BLK_T_IN, 0, &in_readable, 1, SC_BLK_S_IOERR, 1);
    struct seg out_writable = {DATA, SECTOR, W};
    run_one(f, SC_BLK_T_OUT, 0, &out_writable, 1, SC_BLK_S_IOERR, 1);
    struct seg in_mixed[] = {{DATA, SECTOR, W}, {DATA + SECTOR, SECTOR, R}};
    run_one(f, SC_BLK_T_IN, 0, in_mixed, 2, SC_BLK_S_IOERR, 1);
    assert_ram_pattern(f, DATA, 2 * SECTOR);
    assert_disk_untouched(f);

    /* an unusable header: completed with len 0, status IOERR */
    uint64_t hdr = HEADERS + 0x400, st = STATUS + 0x100;
    struct sc_blk_req_header h = {.type = SC_BLK_T_OUT, .sector = 0};
    memcpy(f->ram + hdr, &h, sizeof(h));
    struct seg d = {DATA, SECTOR, R};
    const struct seg chains[][3] = {
        {{hdr, 16, W}, d, {st, 1, W}},          /* device-writable header */
        {{hdr, 8, R}, d, {st, 1, W}},           /* too short */
        {{hdr, 32, R}, d, {st, 1, W}},          /* too long */
        {{RAM_SIZE - 8, 16, R}, d, {st, 1, W}}, /* outside RAM */
        {{~0ull - 7, 16, R}, d, {st, 1, W}},    /* wraps */
    };
    for (size_t i = 0; i < ARRAY_SIZE(chains); i++) {
        f->ram[st] = 0xee;
        uint16_t head = add_chain(f, chains[i], 3);
        publish(f);
        assert_int_equal(blk_poll(&f->q, &f->b, 8), 1);
        expect_completion(f, head, st, SC_BLK_S_IOERR, 0);
    }
    /* a chain of the status byte alone has no header */
    struct seg lone = {st, 1, W};
    f->ram[st] = 0xee;
    uint16_t head = add_chain(f, &lone, 1);
    publish(f);
    assert_int_equal(blk_poll(&f->q, &f->b, 8), 1);
    expect_completion(f, head, st, SC_BLK_S_IOERR, 0);
    assert_disk_untouched(f);
    assert_int_equal(f->q.completed, 9);
    assert_int_equal(f->q.errors, 9);
    assert_false(f->q.broken);
}

/* A request whose status byte cannot be written breaks the queue. */
static void expect_breaks(struct fixture *f, const struct seg *chain, unsigned n)
{
    start_queue(f, 8, 0);
    uint64_t st;
    uint16_t good = add_req(f, SC_BLK_T_FLUSH, 0, NULL, 0, &st);
    add_chain(f, chain, n);
    publish(f);
    /* the request before it completes, then the queue breaks */
    assert_int_equal(blk_poll(&f->q, &f->b, 8), -E_BADMSG);
    assert_true(f->q.broken);
    expect_completion(f, good, st, SC_BLK_S_OK, 1);
    assert_int_equal(get16(f, USED + 2), f->used_seen);
    assert_int_equal(f->q.completed, 1);
    assert_int_equal(blk_poll(&f->q, &f->b, 8), -E_BADMSG);
    assert_disk_untouched(f);
}

static void test_unusable_status(void **state)
{
    struct fixture *f = *state;
    uint64_t hdr = HEADERS + 0x400, st = STATUS + 0x100;
    struct sc_blk_req_header h = {.type = SC_BLK_T_OUT, .sector = 0};
    memcpy(f->ram + hdr, &h, sizeof(h));
    const struct seg d = {DATA, SECTOR, R}, hd = {hdr, 16, R};
    const struct seg readable[] = {hd, d, {st, 1, R}};
    const struct seg two_bytes[] = {hd, d, {st, 2, W}};
    const struct seg empty[] = {hd, d, {st, 0, W}};
    const struct seg outside[] = {hd, d, {RAM_SIZE, 1, W}};
    const struct seg wraps[] = {hd, d, {~0ull, 1, W}};
    const struct seg indirect[] = {hd, d, {st, 1, W | INDIRECT}};
    expect_breaks(f, readable, 3);
    expect_breaks(f, two_bytes, 3);
    expect_breaks(f, empty, 3);
    expect_breaks(f, outside, 3);
    expect_breaks(f, wraps, 3);
    expect_breaks(f, indirect, 3);
    expect_breaks(f, &readable[2], 1);
}

static void test_indirect_unsupported(void **state)
{
    struct fixture *f = *state;
    start_queue(f, 8, 0);
    uint64_t hdr = HEADERS + 0x400, st = STATUS + 0x100;
    struct sc_blk_req_header h = {.type = SC_BLK_T_IN, .sector = 0};
    memcpy(f->ram + hdr, &h, sizeof(h));
    const struct seg chains[][3] = {
        {{hdr, 16, R}, {DATA, 16 * 4, INDIRECT}, {st, 1, W}},
        {{hdr, 16, R | INDIRECT}, {DATA, SECTOR, W}, {st, 1, W}},
        {{hdr, 16, R}, {DATA, SECTOR, W | INDIRECT}, {st, 1, W}},
    };
    for (size_t i = 0; i < ARRAY_SIZE(chains); i++) {
        f->ram[st] = 0xee;
        uint16_t head = add_chain(f, chains[i], 3);
        publish(f);
        assert_int_equal(blk_poll(&f->q, &f->b, 8), 1);
        expect_completion(f, head, st, SC_BLK_S_UNSUPP, 1);
    }
    assert_ram_pattern(f, DATA, SECTOR);
    assert_int_equal(f->q.errors, 3);
}

static void test_descriptor_loop(void **state)
{
    struct fixture *f = *state;
    /* 0 -> 1 -> 2 -> 0: a loop never reaches a status byte */
    start_queue(f, 8, 0);
    uint64_t hdr = HEADERS;
    put_desc(f, 0, hdr, 16, NEXT, 1);
    put_desc(f, 1, DATA, SECTOR, W | NEXT, 2);
    put_desc(f, 2, STATUS, 1, W | NEXT, 0);
    put16(f, AVAIL + 4, 0);
    f->avail_idx++;
    publish(f);
    assert_int_equal(blk_poll(&f->q, &f->b, 8), -E_BADMSG);
    assert_true(f->q.broken);
    assert_int_equal(get16(f, USED + 2), f->used_seen);
    assert_int_equal(f->q.completed, 0);
    /* it stays broken, even once the guest repairs the chain */
    put_desc(f, 2, STATUS, 1, W, 0);
    assert_int_equal(blk_poll(&f->q, &f->b, 8), -E_BADMSG);

    /* a descriptor pointing at itself, in a queue of one */
    put16(f, AVAIL + 2, 0);
    put16(f, USED + 2, 0);
    start_queue(f, 1, 0);
    put_desc(f, 0, STATUS, 1, W | NEXT, 0);
    put16(f, AVAIL + 4, 0);
    f->avail_idx++;
    publish(f);
    assert_int_equal(blk_poll(&f->q, &f->b, 8), -E_BADMSG);

    /* the longest chain that is not a loop: all 8 descriptors */
    start_queue(f, 8, 0);
    struct seg eight[6];
    for (unsigned k = 0; k < 6; k++)
        eight[k] = (struct seg){DATA + SECTOR * k, SECTOR, W};
    run_one(f, SC_BLK_T_IN, 0, eight, 6, SC_BLK_S_OK, 6 * SECTOR + 1);

    /* a next index outside the table, a head outside the table */
    start_queue(f, 8, 0);
    put_desc(f, 0, hdr, 16, NEXT, 8);
    put16(f, AVAIL + 4 + 2 * (f->avail_idx & 7), 0);
    f->avail_idx++;
    publish(f);
    assert_int_equal(blk_poll(&f->q, &f->b, 8), -E_BADMSG);
    start_queue(f, 8, 0);
    put16(f, AVAIL + 4 + 2 * (f->avail_idx & 7), 8);
    f->avail_idx++;
    publish(f);
    assert_int_equal(blk_poll(&f->q, &f->b, 8), -E_BADMSG);
    assert_disk_untouched(f);
}

static void test_avail_idx_jumps_ahead(void **state)
{
    struct fixture *f = *state;
    start_queue(f, 8, 0);
    /* exactly size pending is fine (one-descriptor chains: no header, IOERR, len 0) */
    uint16_t heads[8];
    for (unsigned i = 0; i < 8; i++) {
        struct seg lone = {STATUS + i, 1, W};
        f->ram[STATUS + i] = 0xee;
        heads[i] = add_chain(f, &lone, 1);
    }
    publish(f);
    assert_int_equal(blk_poll(&f->q, &f->b, 100), 8);
    for (unsigned i = 0; i < 8; i++)
        expect_completion(f, heads[i], STATUS + i, SC_BLK_S_IOERR, 0);
    /* size + 1 ahead: broken, and broken it stays */
    put16(f, AVAIL + 2, (uint16_t)(f->avail_idx + 9));
    assert_int_equal(blk_poll(&f->q, &f->b, 8), -E_BADMSG);
    assert_true(f->q.broken);
    put16(f, AVAIL + 2, f->avail_idx);
    assert_int_equal(blk_poll(&f->q, &f->b, 8), -E_BADMSG);
    assert_int_equal(blk_poll(&f->q, &f->b, 0), -E_BADMSG);
    assert_int_equal(f->q.completed, 8);
    /* "behind" is ahead too, modulo 2^16 */
    start_queue(f, 8, 0);
    put16(f, AVAIL + 2, (uint16_t)(f->avail_idx - 1));
    assert_int_equal(blk_poll(&f->q, &f->b, 0), -E_BADMSG);
    /* setting the queue up again is a reset */
    put16(f, AVAIL + 2, 0);
    put16(f, USED + 2, 0);
    start_queue(f, 8, 0);
    run_one(f, SC_BLK_T_FLUSH, 0, NULL, 0, SC_BLK_S_OK, 1);
    assert_int_equal(f->q.completed, 1);
}

static void test_max_honoured_in_order(void **state)
{
    struct fixture *f = *state;
    start_queue(f, 32, 0);
    uint16_t heads[9];
    uint64_t st[9];
    for (unsigned i = 0; i < 9; i++) {
        struct seg in = {DATA + SECTOR * i, SECTOR, W};
        heads[i] = add_req(f, SC_BLK_T_IN, 20 + i, &in, 1, &st[i]);
    }
    publish(f);
    assert_int_equal(blk_poll(&f->q, &f->b, 0), 0);
    assert_int_equal(get16(f, USED + 2), f->used_seen);
    static const unsigned passes[][2] = {{3, 3}, {1, 1}, {0, 0}, {2, 2}, {100, 3}, {5, 0}};
    unsigned done = 0;
    for (size_t p = 0; p < ARRAY_SIZE(passes); p++) {
        assert_int_equal(blk_poll(&f->q, &f->b, passes[p][0]), passes[p][1]);
        done += passes[p][1];
        assert_int_equal((uint16_t)(get16(f, USED + 2) - f->used_seen), passes[p][1]);
        for (unsigned k = 0; k < passes[p][1]; k++) {
            unsigned i = done - passes[p][1] + k;
            expect_completion(f, heads[i], st[i], SC_BLK_S_OK, SECTOR + 1);
        }
        /* not one beyond: the next status byte is still the driver's */
        if (done < 9)
            assert_int_equal(f->ram[st[done]], 0xee);
    }
    for (unsigned i = 0; i < 9; i++)
        assert_memory_equal(f->ram + DATA + SECTOR * i, f->disk0 + (20 + i) * SECTOR, SECTOR);
    assert_int_equal(f->q.completed, 9);
}

static void test_idx_wraparound(void **state)
{
    struct fixture *f = *state;
    put16(f, AVAIL + 2, 0xfffd);
    put16(f, USED + 2, 0xfffd);
    start_queue(f, 4, 0);
    uint8_t want[SECTOR];
    for (unsigned i = 0; i < 10; i++) {
        fill(want, SECTOR, (uint8_t)i);
        memcpy(f->ram + DATA, want, SECTOR);
        struct seg out = {DATA, SECTOR, R};
        f->next_desc = 0;
        uint64_t st;
        uint16_t head = add_req(f, SC_BLK_T_OUT, i, &out, 1, &st);
        /* in RAM, the avail entry and the used element sit at idx % 4 */
        assert_int_equal(get16(f, AVAIL + 4 + 2 * ((0xfffd + i) & 3)), head);
        publish(f);
        assert_int_equal(blk_poll(&f->q, &f->b, 4), 1);
        struct sc_vq_used_elem e;
        memcpy(&e, f->ram + USED + 4 + 8 * ((0xfffd + i) & 3), sizeof(e));
        assert_int_equal(e.id, head);
        expect_completion(f, head, st, SC_BLK_S_OK, 1);
        assert_int_equal(get16(f, USED + 2), (uint16_t)(0xfffd + i + 1));
        assert_memory_equal(f->disk + i * SECTOR, want, SECTOR);
    }
    assert_int_equal(get16(f, USED + 2), 7);
    assert_int_equal(f->q.last_avail, 7);

    /* a full queue's worth published across the wrap in one go */
    put16(f, AVAIL + 2, 0xfffe);
    put16(f, USED + 2, 0xfffe);
    start_queue(f, 4, 0);
    uint16_t heads[2];
    uint64_t st[2];
    heads[0] = add_req(f, SC_BLK_T_FLUSH, 0, NULL, 0, &st[0]);
    heads[1] = add_req(f, SC_BLK_T_FLUSH, 0, NULL, 0, &st[1]);
    publish(f);
    assert_int_equal(get16(f, AVAIL + 2), 0);
    assert_int_equal(blk_poll(&f->q, &f->b, 4), 2);
    expect_completion(f, heads[0], st[0], SC_BLK_S_OK, 1);
    expect_completion(f, heads[1], st[1], SC_BLK_S_OK, 1);
    assert_int_equal(get16(f, USED + 2), 0);
}

static void test_used_idx_is_the_devices(void **state)
{
    struct fixture *f = *state;
    start_queue(f, 8, 0);
    run_one(f, SC_BLK_T_FLUSH, 0, NULL, 0, SC_BLK_S_OK, 1);
    /* the guest scribbles over used->idx: the device keeps counting from its own copy */
    put16(f, USED + 2, 0x1234);
    uint64_t st;
    uint16_t head = add_req(f, SC_BLK_T_FLUSH, 0, NULL, 0, &st);
    publish(f);
    assert_int_equal(blk_poll(&f->q, &f->b, 8), 1);
    assert_int_equal(get16(f, USED + 2), 2);
    expect_completion(f, head, st, SC_BLK_S_OK, 1);
}

static void test_counters(void **state)
{
    struct fixture *f = *state;
    start_queue(f, 16, 0);
    struct seg in = {DATA, SECTOR, W}, bad = {RAM_SIZE, SECTOR, W};
    uint16_t heads[5];
    uint64_t st[5];
    heads[0] = add_req(f, SC_BLK_T_IN, 0, &in, 1, &st[0]);
    heads[1] = add_req(f, SC_BLK_T_IN, 0, &bad, 1, &st[1]);
    heads[2] = add_req(f, 99, 0, NULL, 0, &st[2]);
    heads[3] = add_req(f, SC_BLK_T_FLUSH, 0, NULL, 0, &st[3]);
    heads[4] = add_req(f, SC_BLK_T_IN, CAPACITY, &in, 1, &st[4]);
    publish(f);
    assert_int_equal(blk_poll(&f->q, &f->b, 16), 5);
    expect_completion(f, heads[0], st[0], SC_BLK_S_OK, SECTOR + 1);
    expect_completion(f, heads[1], st[1], SC_BLK_S_IOERR, 1);
    expect_completion(f, heads[2], st[2], SC_BLK_S_UNSUPP, 1);
    expect_completion(f, heads[3], st[3], SC_BLK_S_OK, 1);
    expect_completion(f, heads[4], st[4], SC_BLK_S_IOERR, 1);
    assert_int_equal(f->q.completed, 5);
    assert_int_equal(f->q.errors, 3);
    /* a pass with nothing new changes nothing */
    assert_int_equal(blk_poll(&f->q, &f->b, 16), 0);
    assert_int_equal(f->q.completed, 5);
    assert_int_equal(f->q.errors, 3);
}

/* ---- Notification mode: used->flags tells the driver whether to notify. */
static void test_notify_mode(void **state)
{
    struct fixture *f = *state;
    put16(f, USED, 0xabcd); /* whatever the guest left there */
    start_queue(f, 8, 0);
    assert_false(f->q.notify);
    assert_int_equal(get16(f, USED), SC_VQ_USED_F_NO_NOTIFY); /* polled: the default */
    blk_set_notify(&f->q, &f->b, true);
    assert_int_equal(get16(f, USED), 0);
    /* a new setup (a driver's reset) keeps the mode and writes it again */
    put16(f, USED, SC_VQ_USED_F_NO_NOTIFY);
    start_queue(f, 8, 0);
    assert_true(f->q.notify);
    assert_int_equal(get16(f, USED), 0);
    blk_set_notify(&f->q, &f->b, false);
    assert_int_equal(get16(f, USED), SC_VQ_USED_F_NO_NOTIFY);
    /* requests are served the same either way: the mode only says who starts serving */
    uint64_t st;
    uint16_t head = add_req(f, SC_BLK_T_FLUSH, 0, NULL, 0, &st);
    publish(f);
    assert_int_equal(blk_poll(&f->q, &f->b, 16), 1);
    expect_completion(f, head, st, SC_BLK_S_OK, 1);
    assert_int_equal(get16(f, USED), SC_VQ_USED_F_NO_NOTIFY); /* completions keep the flags */
    /* a queue never set up: the mode is kept, nothing is written */
    struct blk_queue idle = {0};
    put16(f, USED, 0x1234);
    blk_set_notify(&idle, &f->b, true);
    assert_true(idle.notify);
    assert_int_equal(get16(f, USED), 0x1234);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_setup_validation),
        T(test_setup_starts_at_guest_indices),
        T(test_write_then_read_back),
        T(test_multi_descriptor_chains),
        T(test_flush),
        T(test_get_id),
        T(test_unsupported_type),
        T(test_sector_out_of_range),
        T(test_data_outside_ram),
        T(test_wrong_directions),
        T(test_unusable_status),
        T(test_indirect_unsupported),
        T(test_descriptor_loop),
        T(test_avail_idx_jumps_ahead),
        T(test_max_honoured_in_order),
        T(test_idx_wraparound),
        T(test_used_idx_is_the_devices),
        T(test_counters),
        T(test_notify_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
