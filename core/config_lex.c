/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Config parser, lower half: lines, key=value tokens and value syntax (numbers, sizes, lists). */
#include "core/config_lex.h"

#include <stdarg.h>

#include "core/fmt.h"
#include "core/klib.h"

void cfg_error(struct cfg_errors *errs, unsigned line, const char *fmt, ...)
{
    if (errs->count >= CONFIG_MAX_ERRORS) {
        errs->dropped++;
        return;
    }
    struct cfg_error *e = &errs->e[errs->count++];
    va_list ap;
    va_start(ap, fmt);
    e->line = line;
    kvsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
}

const char *cfg_clip(char *buf, size_t size, const char *s)
{
    size_t n = strlen(s);
    if (n < size) {
        memcpy(buf, s, n + 1);
        return buf;
    }
    memcpy(buf, s, size - 4);
    memcpy(buf + size - 4, "...", 4);
    return buf;
}

/* ---- lines ---- */

bool cfg_next_line(const char **cur, const char *end, unsigned *lineno, struct cfg_line *ln)
{
    const char *p = *cur;
    if (p >= end)
        return false;
    const char *nl = p;
    while (nl < end && *nl != '\n')
        nl++;
    ln->p = p;
    ln->n = (size_t)(nl - p);
    if (ln->n && p[ln->n - 1] == '\r')
        ln->n--;
    ln->no = ++*lineno;
    *cur = nl < end ? nl + 1 : end;
    return true;
}

bool cfg_line_chars_ok(const struct cfg_line *ln, struct cfg_errors *errs)
{
    if (ln->n > CFG_LINE_MAX) {
        cfg_error(errs, ln->no, "line is %zu characters long (at most %d)", ln->n, CFG_LINE_MAX);
        return false;
    }
    for (size_t i = 0; i < ln->n; i++) {
        unsigned char c = (unsigned char)ln->p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            cfg_error(errs, ln->no, "invalid character 0x%02x in column %zu", c, i + 1);
            return false;
        }
    }
    return true;
}

/* ---- tokens ---- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Skips blanks; true when nothing but a comment is left. */
static bool at_end(struct cfg_lexer *lx)
{
    while (lx->p < lx->end && is_space(*lx->p))
        lx->p++;
    return lx->p >= lx->end || *lx->p == '#';
}

/* The next character ends a bare word. */
static bool word_ends(const struct cfg_lexer *lx)
{
    return lx->p >= lx->end || is_space(*lx->p) || *lx->p == '#';
}

void cfg_lexer_init(struct cfg_lexer *lx, const struct cfg_line *ln)
{
    lx->p = ln->p;
    lx->end = ln->p + ln->n;
    lx->line = ln->no;
    lx->word[0] = '\0';
    lx->key = lx->val = lx->buf;
}

bool cfg_next_word(struct cfg_lexer *lx)
{
    if (at_end(lx))
        return false;
    size_t n = 0;
    while (!word_ends(lx))
        lx->word[n++] = *lx->p++;
    lx->word[n] = '\0';
    return true;
}

static int bare_value(struct cfg_lexer *lx, char *o, struct cfg_errors *errs)
{
    char clip[CFG_CLIP];
    while (!word_ends(lx)) {
        if (*lx->p == '"') {
            cfg_error(errs, lx->line,
                      "unexpected '\"' in the value of '%s' (quote the whole value)",
                      cfg_clip(clip, sizeof(clip), lx->key));
            return -E_INVAL;
        }
        *o++ = *lx->p++;
    }
    *o = '\0';
    if (lx->val[0] == '\0') {
        cfg_error(errs, lx->line, "missing value for '%s'", cfg_clip(clip, sizeof(clip), lx->key));
        return -E_INVAL;
    }
    return 1;
}

static int quoted_value(struct cfg_lexer *lx, char *o, struct cfg_errors *errs)
{
    char clip[CFG_CLIP];
    const char *key = cfg_clip(clip, sizeof(clip), lx->key);
    lx->p++; /* the opening quote */
    for (;;) {
        if (lx->p >= lx->end) {
            cfg_error(errs, lx->line, "unterminated quoted value for '%s'", key);
            return -E_INVAL;
        }
        char c = *lx->p++;
        if (c == '"')
            break;
        if (c == '\\' && lx->p < lx->end) {
            c = *lx->p++;
            if (c != '"' && c != '\\') {
                cfg_error(errs, lx->line,
                          "unknown escape '\\%c' in the value of '%s' (only \\\" and \\\\)", c,
                          key);
                return -E_INVAL;
            }
        }
        *o++ = c;
    }
    *o = '\0';
    if (!word_ends(lx)) {
        cfg_error(errs, lx->line, "missing space after the quoted value of '%s'", key);
        return -E_INVAL;
    }
    return 1;
}

int cfg_next_pair(struct cfg_lexer *lx, struct cfg_errors *errs)
{
    char clip[CFG_CLIP];
    if (at_end(lx))
        return 0;
    /* key, '\0', value, '\0' fit: the line has at most CFG_LINE_MAX characters and '=' */
    char *o = lx->buf;
    lx->key = o;
    while (!word_ends(lx) && *lx->p != '=')
        *o++ = *lx->p++;
    *o++ = '\0';
    if (lx->key[0] == '\0') {
        cfg_error(errs, lx->line, "missing key before '='");
        return -E_INVAL;
    }
    if (lx->p >= lx->end || *lx->p != '=') {
        cfg_error(errs, lx->line, "missing '=' after '%s' (expected key=value)",
                  cfg_clip(clip, sizeof(clip), lx->key));
        return -E_INVAL;
    }
    lx->p++;
    lx->val = o;
    if (lx->p < lx->end && *lx->p == '"')
        return quoted_value(lx, o, errs);
    return bare_value(lx, o, errs);
}

/* ---- numbers, sizes, lists ---- */

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

/* Parses s[0..n): 0, -E_INVAL (not a number) or -E_OVERFLOW (more than 64 bits). */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    unsigned base = 10;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        n -= 2;
    }
    if (n == 0)
        return -E_INVAL;
    for (size_t i = 0; i < n; i++)
        if (digit_value(s[i]) >= (int)base)
            return -E_INVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)digit_value(s[i]);
        if (v > (UINT64_MAX - d) / base)
            return -E_OVERFLOW;
        v = v * base + d;
    }
    *out = v;
    return 0;
}

bool cfg_number(const char *key, const char *val, uint64_t min, uint64_t max, uint64_t *out,
                unsigned line, struct cfg_errors *errs)
{
    char clip[CFG_CLIP];
    uint64_t v = 0;
    int r = parse_u64(val, strlen(val), &v);
    if (r == -E_INVAL) {
        cfg_error(errs, line, "'%s' must be a number (decimal or 0x hex), not '%s'", key,
                  cfg_clip(clip, sizeof(clip), val));
        return false;
    }
    if (r == -E_OVERFLOW) {
        cfg_error(errs, line, "'%s' value '%s' does not fit in 64 bits", key,
                  cfg_clip(clip, sizeof(clip), val));
        return false;
    }
    if (v < min || v > max) {
        cfg_error(errs, line, "'%s' must be in %llu..%llu, not %llu", key, (unsigned long long)min,
                  (unsigned long long)max, (unsigned long long)v);
        return false;
    }
    *out = v;
    return true;
}

static unsigned size_shift(char c)
{
    switch (c) {
    case 'k':
    case 'K':
        return 10;
    case 'm':
    case 'M':
        return 20;
    case 'g':
    case 'G':
        return 30;
    }
    return 0;
}

bool cfg_size(const char *key, const char *val, uint64_t *out, unsigned line,
              struct cfg_errors *errs)
{
    char clip[CFG_CLIP];
    size_t n = strlen(val);
    unsigned shift = n ? size_shift(val[n - 1]) : 0;
    uint64_t v = 0;
    int r = parse_u64(val, shift ? n - 1 : n, &v);
    if (r == 0 && v > (UINT64_MAX >> shift))
        r = -E_OVERFLOW;
    if (r == -E_INVAL) {
        cfg_error(errs, line,
                  "'%s' must be a size like 64M or 2G (a number, then K, M or G), not '%s'", key,
                  cfg_clip(clip, sizeof(clip), val));
        return false;
    }
    if (r == -E_OVERFLOW) {
        cfg_error(errs, line, "'%s' value '%s' does not fit in 64 bits", key,
                  cfg_clip(clip, sizeof(clip), val));
        return false;
    }
    v <<= shift;
    if (v == 0 || !IS_ALIGNED(v, 2 * MiB)) {
        cfg_error(errs, line, "'%s' must be a nonzero multiple of 2M, not '%s'", key,
                  cfg_clip(clip, sizeof(clip), val));
        return false;
    }
    *out = v;
    return true;
}

/* One list element "a" or "a-b" in s[0..n); reports and returns false on error. */
static bool cpu_range(const char *key, const char *s, size_t n, struct cpu_set *set, unsigned line,
                      struct cfg_errors *errs)
{
    char el[CFG_LINE_MAX + 1], clip[CFG_CLIP];
    memcpy(el, s, n);
    el[n] = '\0';
    size_t dash = 0;
    while (dash < n && s[dash] != '-')
        dash++;
    uint64_t lo = 0, hi = 0;
    int r = parse_u64(s, dash, &lo);
    int r2 = r;
    if (dash < n)
        r2 = parse_u64(s + dash + 1, n - dash - 1, &hi);
    else
        hi = lo;
    if (r == -E_INVAL || r2 == -E_INVAL) {
        cfg_error(errs, line, "'%s' must list cpus and ranges like 1-3,5, not '%s'", key,
                  cfg_clip(clip, sizeof(clip), el));
        return false;
    }
    if (r || r2 || lo >= CONFIG_MAX_CPUS || hi >= CONFIG_MAX_CPUS) {
        cfg_error(errs, line, "cpu %s in '%s' is out of range (0..%d)",
                  cfg_clip(clip, sizeof(clip), el), key, CONFIG_MAX_CPUS - 1);
        return false;
    }
    if (lo > hi) {
        cfg_error(errs, line, "'%s' has a reversed range '%s' (write the lower cpu first)", key,
                  cfg_clip(clip, sizeof(clip), el));
        return false;
    }
    for (uint64_t c = lo; c <= hi; c++) {
        if (cpu_set_has(set, (unsigned)c)) {
            cfg_error(errs, line, "cpu %u is listed twice in '%s'", (unsigned)c, key);
            return false;
        }
        cpu_set_add(set, (unsigned)c);
    }
    return true;
}

bool cfg_cpu_list(const char *key, const char *val, struct cpu_set *out, unsigned line,
                  struct cfg_errors *errs)
{
    char clip[CFG_CLIP];
    struct cpu_set set = {{0}};
    const char *s = val;
    for (;;) {
        size_t n = 0;
        while (s[n] && s[n] != ',')
            n++;
        if (n == 0) {
            cfg_error(errs, line, "'%s' has an empty element in '%s'", key,
                      cfg_clip(clip, sizeof(clip), val));
            return false;
        }
        if (!cpu_range(key, s, n, &set, line, errs))
            return false;
        if (!s[n])
            break;
        s += n + 1;
    }
    *out = set;
    return true;
}

void cfg_word_list(char *buf, size_t size, const char *const *words, unsigned n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < n && len < size; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        int w = ksnprintf(buf + len, size - len, "%s%s", sep, words[i]);
        len += w > 0 ? (size_t)w : 0;
    }
}

int cfg_choice(const char *key, const char *val, const char *const *words, unsigned n,
               unsigned line, struct cfg_errors *errs)
{
    char list[80], clip[CFG_CLIP];
    for (unsigned i = 0; i < n; i++)
        if (strcmp(val, words[i]) == 0)
            return (int)i;
    cfg_word_list(list, sizeof(list), words, n);
    cfg_error(errs, line, "'%s' must be %s, not '%s'", key, list,
              cfg_clip(clip, sizeof(clip), val));
    return -1;
}
