/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* libFuzzer target: hypercall_dispatch with arbitrary registers against a fake partition. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/klib.h"
#include "guest-stubs/include/sidecore/abi.h"
#include "vmexit/hypercall.h"

/* Input layout (little endian):
 *   bytes  0-7   op (rax)
 *   bytes  8-15  a0 (rdi)
 *   bytes 16-23  a1 (rsi)
 *   bytes 24-31  a2 (rdx)
 *   byte  32     flags: bit 0 op %= SC_HC_COUNT + 1; bit 1 a0 %= RAM size + 256;
 *                bit 2 a1 %= SC_CONSOLE_MAX + 256; bit 3 a1 %= 256 (vCPU ids)
 *   byte  33     vCPU count of the partition
 *   byte  34     counters_of answers NULL for this vCPU id
 *   byte  35     steady_end's answer (low byte; the rest is fixed)
 *   bytes 36..   guest RAM; its size is the rest of the input clamped to [4 KiB, 64 KiB],
 *                zero-filled when the input is shorter */
#define HEADER_SIZE 36
#define RAM_MIN (4 * 1024)
#define RAM_MAX (64 * 1024)
#define MAX_IDS 256

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

struct world {
    uint8_t *ram;
    uint64_t ram_size;
    unsigned vcpu_count;
    unsigned null_for;
    uint64_t end_value;
    struct sc_exit_counters counters[MAX_IDS];
    /* what the callbacks saw */
    uint64_t a0; /* the console text must be a copy of RAM at a0 */
    unsigned console_calls, counters_calls, begin_calls, end_calls, exit_calls;
    size_t console_len; /* over the pieces of the text, in order */
    int64_t exit_status;
};

static const struct sc_exit_counters *f_counters_of(void *ctx, unsigned vcpu)
{
    struct world *w = ctx;
    w->counters_calls++;
    if (vcpu >= w->vcpu_count || vcpu >= MAX_IDS)
        __builtin_trap(); /* a vCPU the partition does not have */
    return vcpu == w->null_for ? NULL : &w->counters[vcpu];
}

static void f_console(void *ctx, const char *text, size_t len)
{
    struct world *w = ctx;
    w->console_calls++;
    uint64_t gpa = w->a0 + w->console_len; /* where this piece starts */
    w->console_len += len;
    if (w->console_len > SC_CONSOLE_MAX)
        __builtin_trap();
    if (gpa > w->ram_size || len > w->ram_size - gpa)
        __builtin_trap(); /* text from outside the partition */
    if (len && memcmp(text, w->ram + gpa, len) != 0)
        __builtin_trap();
    uintptr_t t = (uintptr_t)text, r = (uintptr_t)w->ram;
    if (len && t < r + w->ram_size && r < t + len)
        __builtin_trap(); /* must be a copy, not guest memory the guest may change */
}

static void f_steady_begin(void *ctx)
{
    ((struct world *)ctx)->begin_calls++;
}

static uint64_t f_steady_end(void *ctx)
{
    struct world *w = ctx;
    w->end_calls++;
    return w->end_value;
}

static void f_exit(void *ctx, int64_t status)
{
    struct world *w = ctx;
    w->exit_calls++;
    w->exit_status = status;
}

/* The ABI, written out independently of the dispatcher. */
static int64_t expected(const struct world *w, uint64_t op, uint64_t a0, uint64_t a1)
{
    unsigned __int128 end = (unsigned __int128)a0 + a1;
    switch (op) {
    case SC_HC_NULL:
    case SC_HC_EXIT:
    case SC_HC_STEADY_BEGIN:
        return 0;
    case SC_HC_CONSOLE_WRITE:
        if (a1 > SC_CONSOLE_MAX)
            return -E_INVAL;
        return end <= w->ram_size ? (int64_t)a1 : -E_FAULT;
    case SC_HC_EXIT_COUNTERS:
        if (a1 >= w->vcpu_count || a1 == w->null_for)
            return -E_INVAL;
        end = (unsigned __int128)a0 + sizeof(struct sc_exit_counters);
        return end <= w->ram_size ? 0 : -E_FAULT;
    case SC_HC_STEADY_END:
        return (int64_t)w->end_value;
    default:
        return -E_NOSYS;
    }
}

static struct world w;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEADER_SIZE)
        return 0;
    size_t n = size - HEADER_SIZE;
    uint64_t ram_size = n < RAM_MIN ? RAM_MIN : n > RAM_MAX ? RAM_MAX : n;
    uint64_t op = le64(data), a0 = le64(data + 8), a1 = le64(data + 16), a2 = le64(data + 24);
    uint8_t flags = data[32];
    if (flags & 1)
        op %= SC_HC_COUNT + 1;
    if (flags & 2)
        a0 %= ram_size + 256;
    if (flags & 4)
        a1 %= SC_CONSOLE_MAX + 256;
    if (flags & 8)
        a1 %= 256;

    memset(&w, 0, sizeof(w));
    w.ram_size = ram_size;
    w.vcpu_count = data[33];
    w.null_for = data[34];
    /* below 2^63: the callback's contract (a count of exits) */
    w.end_value = 0x123456789abc00ull | data[35];
    w.a0 = a0;
    for (unsigned i = 0; i < MAX_IDS; i++) {
        w.counters[i].total = 0x1000 + i;
        w.counters[i].steady = i;
        for (unsigned r = 0; r < SC_EXIT_REASONS; r++)
            w.counters[i].by_reason[r] = (uint64_t)i << 8 | r;
    }
    /* exact-size buffers, so any access past RAM is caught by ASan */
    w.ram = malloc(ram_size);
    uint8_t *before = malloc(ram_size);
    if (!w.ram || !before)
        abort();
    memset(w.ram, 0, ram_size);
    memcpy(w.ram, data + HEADER_SIZE, n < ram_size ? n : ram_size);
    memcpy(before, w.ram, ram_size);

    struct hc_context c = {
        .guest_base = w.ram,
        .guest_size = ram_size,
        .vcpu_id = 0,
        .vcpu_count = w.vcpu_count,
        .ctx = &w,
        .counters_of = f_counters_of,
        .console = f_console,
        .steady_begin = f_steady_begin,
        .steady_end = f_steady_end,
        .exit = f_exit,
    };
    int64_t rc = hypercall_dispatch(&c, op, a0, a1, a2);

    if (rc < 0 && rc != -E_INVAL && rc != -E_FAULT && rc != -E_NOSYS)
        __builtin_trap();
    if (rc != expected(&w, op, a0, a1))
        __builtin_trap();

    /* each callback only for its own opcode, at most once */
    unsigned calls =
        (w.console_calls != 0) + w.counters_calls + w.begin_calls + w.end_calls + w.exit_calls;
    if (calls > 1)
        __builtin_trap();
    if (w.console_calls && (op != SC_HC_CONSOLE_WRITE || rc != (int64_t)w.console_len))
        __builtin_trap();
    if (op == SC_HC_CONSOLE_WRITE && rc > 0 && w.console_len != (uint64_t)rc)
        __builtin_trap();
    if (w.counters_calls && op != SC_HC_EXIT_COUNTERS)
        __builtin_trap();
    if (w.begin_calls != (op == SC_HC_STEADY_BEGIN) || w.end_calls != (op == SC_HC_STEADY_END))
        __builtin_trap();
    if (w.exit_calls != (op == SC_HC_EXIT) || (w.exit_calls && w.exit_status != (int64_t)a0))
        __builtin_trap();

    /* guest RAM changes only where a successful SC_HC_EXIT_COUNTERS wrote the snapshot */
    if (op == SC_HC_EXIT_COUNTERS && rc == 0) {
        const size_t k = sizeof(struct sc_exit_counters);
        if (memcmp(w.ram + a0, &w.counters[a1], k) != 0 || memcmp(w.ram, before, a0) != 0 ||
            memcmp(w.ram + a0 + k, before + a0 + k, ram_size - a0 - k) != 0)
            __builtin_trap();
    } else if (memcmp(w.ram, before, ram_size) != 0) {
        __builtin_trap();
    }
    free(before);
    free(w.ram);
    return 0;
}
