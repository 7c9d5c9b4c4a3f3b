/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Guest console lines: splitting, the per-request bound and the partition's token bucket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guest-stubs/include/sidecore/abi.h"
#include "vmexit/console_limit.h"

#define HZ 1000000ull /* a 1 MHz TSC keeps the arithmetic readable */
#define PER_LINE (HZ / CONSOLE_LINES_PER_SECOND)

/* A sink that records lines; admission through a bucket at a fake clock, or always. */
struct rec {
    struct console_bucket bucket;
    bool use_bucket;
    uint64_t now;
    unsigned admits;
    unsigned lines;
    char line[8][CONSOLE_LINE_MAX];
};

static bool rec_admit(void *ctx)
{
    struct rec *r = ctx;
    r->admits++;
    return !r->use_bucket || console_bucket_take(&r->bucket, r->now);
}

static void rec_emit(void *ctx, const char *line)
{
    struct rec *r = ctx;
    assert_true(strlen(line) < CONSOLE_LINE_MAX);
    if (r->lines < 8)
        strcpy(r->line[r->lines], line);
    r->lines++;
}

static struct console_request feed(struct rec *r, struct console_stream *s, const char *text,
                                   size_t n)
{
    struct console_sink sink = {r, rec_admit, rec_emit};
    struct console_request req = {0};
    console_feed(s, text, n, &sink, &req);
    return req;
}

static void test_lines_split_and_sanitized(void **state)
{
    (void)state;
    struct rec r = {0};
    struct console_stream s = {0};
    const char text[] = "ab\ncd\x1b[2J\tx\nef";
    struct console_request q = feed(&r, &s, text, sizeof(text) - 1);
    assert_int_equal(q.printed, 2);
    assert_int_equal(q.dropped, 0);
    assert_string_equal(r.line[0], "ab");
    assert_string_equal(r.line[1], "cd?[2J?x");
    /* the partial line waits for the next request, which completes it */
    q = feed(&r, &s, "gh\n", 3);
    assert_int_equal(q.printed, 1);
    assert_string_equal(r.line[2], "efgh");
    /* an empty line is a line */
    q = feed(&r, &s, "\n", 1);
    assert_int_equal(q.printed, 1);
    assert_string_equal(r.line[3], "");
    /* a tty's "\r\n" ends one line; a carriage return alone moves nothing back */
    q = feed(&r, &s, "tty\r\nab\rcd\n", 12);
    assert_int_equal(q.printed, 2);
    assert_string_equal(r.line[4], "tty");
    assert_string_equal(r.line[5], "abcd");
}

static void test_long_line_cut(void **state)
{
    (void)state;
    struct rec r = {0};
    struct console_stream s = {0};
    char text[2 * CONSOLE_LINE_MAX];
    memset(text, 'x', sizeof(text));
    struct console_request q = feed(&r, &s, text, sizeof(text));
    assert_int_equal(q.printed, 2); /* two full lines of 199; the rest waits */
    assert_int_equal(strlen(r.line[0]), CONSOLE_LINE_MAX - 1);
    assert_int_equal(s.len, sizeof(text) - 2 * (CONSOLE_LINE_MAX - 1));
}

/* The finding: one request of SC_CONSOLE_MAX newlines was SC_CONSOLE_MAX UART lines. */
static void test_request_of_newlines_bounded(void **state)
{
    (void)state;
    struct rec r = {0};
    struct console_stream s = {0};
    static char text[SC_CONSOLE_MAX];
    memset(text, '\n', sizeof(text));
    struct console_request q = feed(&r, &s, text, sizeof(text));
    assert_int_equal(q.printed, CONSOLE_LINES_PER_REQUEST);
    assert_int_equal(r.lines, CONSOLE_LINES_PER_REQUEST);
    assert_int_equal(q.dropped, SC_CONSOLE_MAX - CONSOLE_LINES_PER_REQUEST);
    /* past the request's bound the partition's budget is not even asked */
    assert_int_equal(r.admits, CONSOLE_LINES_PER_REQUEST);
    /* the next request has its own bound */
    q = feed(&r, &s, "a\nb\n", 4);
    assert_int_equal(q.printed, 2);
    assert_int_equal(q.dropped, 0);
}

static void test_bucket_burst_then_rate(void **state)
{
    (void)state;
    struct console_bucket b;
    console_bucket_init(&b, HZ, CONSOLE_LINES_PER_SECOND, CONSOLE_BURST_LINES,
                        CONSOLE_NOTICE_SECONDS);
    uint64_t t = 5 * HZ;
    for (unsigned i = 0; i < CONSOLE_BURST_LINES; i++)
        assert_true(console_bucket_take(&b, t));
    assert_false(console_bucket_take(&b, t));
    assert_false(console_bucket_take(&b, t + PER_LINE - 1));
    assert_true(console_bucket_take(&b, t + PER_LINE));
    assert_false(console_bucket_take(&b, t + PER_LINE));
    /* a fraction of a line is kept: 1.5 lines, then 0.5 more make a second one */
    t += PER_LINE;
    assert_true(console_bucket_take(&b, t + PER_LINE + PER_LINE / 2));
    assert_false(console_bucket_take(&b, t + PER_LINE + PER_LINE / 2));
    assert_true(console_bucket_take(&b, t + 2 * PER_LINE));
    /* one second earns CONSOLE_LINES_PER_SECOND lines */
    t += 2 * PER_LINE;
    unsigned n = 0;
    while (console_bucket_take(&b, t + HZ))
        n++;
    assert_int_equal(n, CONSOLE_LINES_PER_SECOND);
}

static void test_bucket_idle_capped_at_burst(void **state)
{
    (void)state;
    struct console_bucket b;
    console_bucket_init(&b, HZ, CONSOLE_LINES_PER_SECOND, CONSOLE_BURST_LINES,
                        CONSOLE_NOTICE_SECONDS);
    assert_true(console_bucket_take(&b, HZ));
    uint64_t later = HZ + 3600 * HZ, n = 0;
    while (console_bucket_take(&b, later))
        n++;
    assert_int_equal(n, CONSOLE_BURST_LINES);
    /* the TSC of the first use is arbitrary: a huge one must not overflow anything */
    console_bucket_init(&b, HZ, CONSOLE_LINES_PER_SECOND, CONSOLE_BURST_LINES,
                        CONSOLE_NOTICE_SECONDS);
    for (n = 0; console_bucket_take(&b, UINT64_MAX - 1); n++)
        ;
    assert_int_equal(n, CONSOLE_BURST_LINES);
}

/* Cores read their own TSC: a take may see an earlier time than the last one. */
static void test_bucket_time_going_back(void **state)
{
    (void)state;
    struct console_bucket b;
    console_bucket_init(&b, HZ, CONSOLE_LINES_PER_SECOND, 2, CONSOLE_NOTICE_SECONDS);
    uint64_t t = 100 * HZ;
    assert_true(console_bucket_take(&b, t));
    assert_true(console_bucket_take(&b, t));
    assert_false(console_bucket_take(&b, t - 10 * HZ));
    assert_false(console_bucket_take(&b, t - 1));
    assert_true(console_bucket_take(&b, t + PER_LINE));
    assert_false(console_bucket_take(&b, t + PER_LINE));
}

static void test_notice_rate_limited(void **state)
{
    (void)state;
    struct console_bucket b;
    console_bucket_init(&b, HZ, CONSOLE_LINES_PER_SECOND, CONSOLE_BURST_LINES,
                        CONSOLE_NOTICE_SECONDS);
    uint64_t t = 7 * HZ, period = CONSOLE_NOTICE_SECONDS * HZ;
    assert_false(console_bucket_dropped(&b, t, 0)); /* nothing dropped: nothing to say */
    assert_true(console_bucket_dropped(&b, t, 4092));
    assert_false(console_bucket_dropped(&b, t + 1, 10));
    assert_false(console_bucket_dropped(&b, t - HZ, 1)); /* an earlier TSC */
    assert_false(console_bucket_dropped(&b, t + period - 1, 1));
    assert_true(console_bucket_dropped(&b, t + period, 1));
    assert_false(console_bucket_dropped(&b, t + period + 1, 1));
    assert_int_equal(b.dropped, 4092 + 10 + 1 + 1 + 1 + 1);
}

/* A flood through the whole path: every request full of newlines, for 5 simulated
 * seconds. The partition prints at most the burst plus the rate, each request at most its
 * bound, and every line is either printed or counted. */
static void test_flood_bounded(void **state)
{
    (void)state;
    struct rec r = {.use_bucket = true};
    console_bucket_init(&r.bucket, HZ, CONSOLE_LINES_PER_SECOND, CONSOLE_BURST_LINES,
                        CONSOLE_NOTICE_SECONDS);
    struct console_stream s = {0};
    static char text[SC_CONSOLE_MAX];
    memset(text, '\n', sizeof(text));
    const unsigned requests = 5000, seconds = 5;
    uint64_t t0 = 42 * HZ, printed = 0, dropped = 0;
    for (unsigned i = 0; i < requests; i++) {
        r.now = t0 + (uint64_t)i * seconds * HZ / requests;
        struct console_request q = feed(&r, &s, text, sizeof(text));
        assert_true(q.printed <= CONSOLE_LINES_PER_REQUEST);
        printed += q.printed;
        dropped += q.dropped;
    }
    assert_int_equal(printed + dropped, (uint64_t)requests * SC_CONSOLE_MAX);
    assert_true(printed <= CONSOLE_BURST_LINES + seconds * CONSOLE_LINES_PER_SECOND);
    assert_true(printed >= CONSOLE_BURST_LINES + (seconds - 1) * CONSOLE_LINES_PER_SECOND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_split_and_sanitized),
        cmocka_unit_test(test_long_line_cut),
        cmocka_unit_test(test_request_of_newlines_bounded),
        cmocka_unit_test(test_bucket_burst_then_rate),
        cmocka_unit_test(test_bucket_idle_capped_at_burst),
        cmocka_unit_test(test_bucket_time_going_back),
        cmocka_unit_test(test_notice_rate_limited),
        cmocka_unit_test(test_flood_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
