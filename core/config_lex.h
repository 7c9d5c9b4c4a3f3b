/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Internal to the config parser: lines, key=value tokens, numbers, sizes and lists. */
#ifndef CORE_CONFIG_LEX_H
#define CORE_CONFIG_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

#define CFG_LINE_MAX 255 /* characters per line, without the line ending */
#define CFG_CLIP 40      /* longest piece of user text quoted in a message */

/* Appends one error, or counts it in dropped when errs is full. */
void cfg_error(struct cfg_errors *errs, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies s into buf (size > 4), ending in "..." when it does not fit; returns buf. */
const char *cfg_clip(char *buf, size_t size, const char *s);

/* One line of the input: the text without '\n' and a '\r' before it. */
struct cfg_line {
    const char *p;
    size_t n;
    unsigned no; /* 1-based */
};

/* Splits the next line off [*cur, end); false when the input is used up. */
bool cfg_next_line(const char **cur, const char *end, unsigned *lineno, struct cfg_line *ln);

/* Reports an over-long line or a control character (NUL included); false if so. */
bool cfg_line_chars_ok(const struct cfg_line *ln, struct cfg_errors *errs);

/* Walks one line: the directive word, then key=value pairs. Keys and values are copied,
 * NUL-terminated and unescaped, into buf; each call to cfg_next_pair reuses it. */
struct cfg_lexer {
    const char *p, *end;
    unsigned line;
    char word[CFG_LINE_MAX + 1];
    char buf[CFG_LINE_MAX + 2];
    const char *key, *val;
};

void cfg_lexer_init(struct cfg_lexer *lx, const struct cfg_line *ln);
/* The directive word into lx->word; false for a blank or comment-only line. */
bool cfg_next_word(struct cfg_lexer *lx);
/* 1: a pair in lx->key/lx->val; 0: end of line; -E_INVAL: syntax error (reported). */
int cfg_next_pair(struct cfg_lexer *lx, struct cfg_errors *errs);

/* Value parsers: each reports its own error naming key, and returns false on error. */
bool cfg_number(const char *key, const char *val, uint64_t min, uint64_t max, uint64_t *out,
                unsigned line, struct cfg_errors *errs);
bool cfg_size(const char *key, const char *val, uint64_t *out, unsigned line,
              struct cfg_errors *errs);
bool cfg_cpu_list(const char *key, const char *val, struct cpu_set *out, unsigned line,
                  struct cfg_errors *errs);
/* Index of val in words[0..n), or -1 with an error listing the words. */
int cfg_choice(const char *key, const char *val, const char *const *words, unsigned n,
               unsigned line, struct cfg_errors *errs);
/* Writes "a, b or c" into buf. */
void cfg_word_list(char *buf, size_t size, const char *const *words, unsigned n);

#endif
