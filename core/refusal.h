/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Refusal reasons: the one way a function says in words why it refused its input. */
#ifndef CORE_REFUSAL_H
#define CORE_REFUSAL_H

#define REFUSAL_MAX 128

/* Why an operation refused its input: filled once by the code that refuses, read by the caller
 * that reports it. A longer reason is truncated; text is always NUL-terminated once filled. */
struct refusal {
    char text[REFUSAL_MAX];
};

/* Fill r (when not NULL) from fmt and return -err, so that refusing is one statement:
 *     return refuse(r, E_INVAL, "...", ...);  */
int refuse(struct refusal *r, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
