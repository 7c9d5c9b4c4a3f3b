/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* What of a guest's console text reaches the UART: the text is cut into lines, and each
 * line is printed whole or dropped whole. A request (one hypercall or ring request, up to
 * SC_CONSOLE_MAX bytes) prints at most CONSOLE_LINES_PER_REQUEST lines, and a partition at
 * most CONSOLE_LINES_PER_SECOND lines a second on average, in bursts of at most
 * CONSOLE_BURST_LINES (a token bucket on the TSC). Lines beyond either bound are dropped
 * and counted. Hardware-independent: the caller supplies the time and the locking. */
#ifndef VMEXIT_CONSOLE_LIMIT_H
#define VMEXIT_CONSOLE_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_LINE_MAX 200 /* a longer line is cut: 199 characters and a terminator */
#define CONSOLE_LINES_PER_REQUEST 4
#define CONSOLE_LINES_PER_SECOND 64
/* large enough for the benchmark's bursts (hundreds of NOISE or console-probe lines) */
#define CONSOLE_BURST_LINES 1024
#define CONSOLE_NOTICE_SECONDS 10 /* at most one "dropped" notice per partition this often */

/* One producer's partial line (a vCPU has one per transport: trap and ring). */
struct console_stream {
    char line[CONSOLE_LINE_MAX];
    unsigned len;
};

/* Where the complete lines of one request go. admit takes one line of the partition's
 * budget (false: drop it); emit prints it (NUL-terminated, printable ASCII only). */
struct console_sink {
    void *ctx;
    bool (*admit)(void *ctx);
    void (*emit)(void *ctx, const char *line);
};

struct console_request {
    unsigned printed;
    uint64_t dropped;
};

/* Feeds the text of one request into the stream: control characters become '?', a line
 * ends at '\n' or when the buffer is full; a partial line waits for the next request. */
void console_feed(struct console_stream *s, const char *text, size_t n,
                  const struct console_sink *sink, struct console_request *req);

/* The token bucket of one partition. Not thread safe: the caller locks. */
struct console_bucket {
    uint64_t ticks_per_line; /* TSC ticks that earn one line */
    uint64_t last;           /* TSC up to which tokens were credited */
    uint64_t tokens;
    uint64_t burst;
    uint64_t notice_ticks;
    uint64_t last_notice;
    bool noticed;
    uint64_t dropped; /* lines dropped over the whole run */
};

void console_bucket_init(struct console_bucket *b, uint64_t tsc_hz, unsigned lines_per_second,
                         unsigned burst, unsigned notice_seconds);
/* One line at TSC now: true if the partition may print it (a token is taken). A now
 * earlier than the last one seen (another core's TSC) credits nothing. */
bool console_bucket_take(struct console_bucket *b, uint64_t now);
/* Counts n dropped lines at TSC now; true if a notice is due: the first drop, then at most
 * one per notice period. */
bool console_bucket_dropped(struct console_bucket *b, uint64_t now, uint64_t n);

#endif
