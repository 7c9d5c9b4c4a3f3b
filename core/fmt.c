/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Freestanding formatter; the same file is unit-tested on the host. */
#include "core/fmt.h"

#include "core/klib.h"

struct out {
    char *buf;
    size_t size;
    size_t len; /* characters the full output needs */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width, bool left, char pad)
{
    size_t fill = width > 0 && (size_t)width > n ? (size_t)width - n : 0;
    if (!left)
        for (size_t i = 0; i < fill; i++)
            put(o, pad);
    for (size_t i = 0; i < n; i++)
        put(o, s[i]);
    if (left)
        for (size_t i = 0; i < fill; i++)
            put(o, ' ');
}

static size_t utoa(char *tmp, uint64_t v, unsigned base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    size_t n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    for (size_t i = 0; i < n / 2; i++) {
        char t = tmp[i];
        tmp[i] = tmp[n - 1 - i];
        tmp[n - 1 - i] = t;
    }
    return n;
}

/* [sign or 0x prefix][zeros][digits]: with the '0' flag the zeros go between the prefix
 * and the digits, as in C; otherwise the padding is spaces on the side `left` says. */
static void put_number(struct out *o, uint64_t v, const char *prefix, unsigned base, bool upper,
                       int width, bool left, char pad)
{
    char digits[24];
    size_t n = utoa(digits, v, base, upper), np = strlen(prefix);
    size_t fill = width > 0 && (size_t)width > np + n ? (size_t)width - np - n : 0;
    if (!left && pad == ' ')
        put_padded(o, "", 0, (int)fill, false, ' ');
    put_padded(o, prefix, np, 0, false, ' ');
    put_padded(o, digits, n, (int)(n + (!left && pad == '0' ? fill : 0)), false, '0');
    if (left)
        put_padded(o, "", 0, (int)fill, false, ' ');
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};

    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        p++;
        bool left = false, alt = false;
        char pad = ' ';
        for (;; p++) {
            if (*p == '-')
                left = true;
            else if (*p == '0')
                pad = '0';
            else if (*p == '#')
                alt = true; /* %#x: 0x before a nonzero value */
            else
                break;
        }
        int width = 0;
        if (*p == '*') {
            width = va_arg(ap, int);
            p++;
        }
        while (*p >= '0' && *p <= '9')
            width = width * 10 + (*p++ - '0');
        int lng = 0; /* 0 int, 1 long, 2 long long, 3 size_t */
        if (*p == 'l') {
            lng = 1;
            if (*++p == 'l') {
                lng = 2;
                p++;
            }
        } else if (*p == 'z') {
            lng = 3;
            p++;
        }
        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = lng == 0   ? va_arg(ap, int)
                        : lng == 1 ? va_arg(ap, long)
                        : lng == 2 ? va_arg(ap, long long)
                                   : (int64_t)va_arg(ap, size_t);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            put_number(&o, mag, v < 0 ? "-" : "", 10, false, width, left, pad);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = lng == 0   ? va_arg(ap, unsigned)
                         : lng == 1 ? va_arg(ap, unsigned long)
                         : lng == 2 ? va_arg(ap, unsigned long long)
                                    : va_arg(ap, size_t);
            bool upper = *p == 'X';
            const char *prefix = alt && v && *p != 'u' ? (upper ? "0X" : "0x") : "";
            put_number(&o, v, prefix, *p == 'u' ? 10 : 16, upper, width, left, pad);
            break;
        }
        case 'p':
            put_number(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), "0x", 16, false, 18, false,
                       '0');
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            put_padded(&o, s, strlen(s), width, left, ' ');
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            put_padded(&o, &c, 1, width, left, ' ');
            break;
        }
        case '%':
            put(&o, '%');
            break;
        case '\0':
            p--; /* a lone '%' at the end: stop without reading past */
            break;
        default:
            put(&o, '%');
            put(&o, *p);
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

void fmt_size(char *buf, size_t size, uint64_t bytes)
{
    static const char units[] = {'B', 'K', 'M', 'G', 'T'};
    unsigned u = 0;
    uint64_t scale = 1;
    while (u + 1 < sizeof(units) && bytes >= scale * 1024)
        scale *= 1024, u++;
    uint64_t whole = bytes / scale;
    uint64_t tenths = ((bytes % scale) * 10 + scale / 2) / scale; /* nearest tenth */
    if (tenths == 10)
        whole++, tenths = 0;
    if (tenths == 0 || u == 0)
        ksnprintf(buf, size, "%llu%c", (unsigned long long)whole, units[u]);
    else
        ksnprintf(buf, size, "%llu.%llu%c", (unsigned long long)whole, (unsigned long long)tenths,
                  units[u]);
}
