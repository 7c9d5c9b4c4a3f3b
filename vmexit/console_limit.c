/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Guest console lines and their bounds (console_limit.h). Text is only copied and
 * scanned, which is cheap; what costs is a line written to the UART under the global log
 * lock, so that is what the bounds count. */
#include "vmexit/console_limit.h"

static void line_done(const char *line, const struct console_sink *sink,
                      struct console_request *req)
{
    /* the request's own bound first: past it no token is spent */
    if (req->printed < CONSOLE_LINES_PER_REQUEST && sink->admit(sink->ctx)) {
        sink->emit(sink->ctx, line);
        req->printed++;
    } else {
        req->dropped++;
    }
}

void console_feed(struct console_stream *s, const char *text, size_t n,
                  const struct console_sink *sink, struct console_request *req)
{
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (c == '\r')
            continue; /* a tty ends its lines with "\r\n" (the hvc console): one line end */
        if (c == '\n' || s->len == CONSOLE_LINE_MAX - 1) {
            s->line[s->len] = '\0';
            line_done(s->line, sink, req);
            s->len = 0;
            if (c == '\n')
                continue;
        }
        /* no control characters: a guest may neither forge lines nor drive the terminal */
        s->line[s->len++] = (c >= 0x20 && c < 0x7f) ? c : '?';
    }
}

void console_bucket_init(struct console_bucket *b, uint64_t tsc_hz, unsigned lines_per_second,
                         unsigned burst, unsigned notice_seconds)
{
    uint64_t per_line = lines_per_second ? tsc_hz / lines_per_second : tsc_hz;
    *b = (struct console_bucket){
        .ticks_per_line = per_line ? per_line : 1,
        .last = 0, /* the first take fills the bucket */
        .tokens = burst,
        .burst = burst,
        .notice_ticks = tsc_hz * notice_seconds,
    };
}

bool console_bucket_take(struct console_bucket *b, uint64_t now)
{
    if (now > b->last) {
        uint64_t earned = (now - b->last) / b->ticks_per_line;
        if (earned >= b->burst - b->tokens) {
            b->tokens = b->burst; /* full: idle time beyond this earns nothing */
            b->last = now;
        } else {
            b->tokens += earned;
            b->last += earned * b->ticks_per_line; /* the fraction of a line is kept */
        }
    }
    if (!b->tokens)
        return false;
    b->tokens--;
    return true;
}

bool console_bucket_dropped(struct console_bucket *b, uint64_t now, uint64_t n)
{
    if (!n)
        return false;
    b->dropped += n;
    if (b->noticed && (now < b->last_notice || now - b->last_notice < b->notice_ticks))
        return false;
    b->noticed = true;
    b->last_notice = now;
    return true;
}
