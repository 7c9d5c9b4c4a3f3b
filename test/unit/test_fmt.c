/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The hypervisor's own formatter, checked against the behaviour callers rely on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/fmt.h"

__attribute__((format(printf, 2, 3))) static void expect_fmt(const char *want, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));
}

static void test_integers(void **state)
{
    (void)state;
    expect_fmt("0 -1 42", "%d %d %u", 0, -1, 42u);
    expect_fmt("-9223372036854775808", "%lld", (long long)INT64_MIN);
    expect_fmt("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
    expect_fmt("ff FF 0x00000000000000ff", "%x %X 0x%016llx", 255u, 255u, 255ull);
    expect_fmt("[  7] [7  ] [007] [-07]", "[%3d] [%-3d] [%03d] [%03d]", 7, 7, 7, -7);
    expect_fmt("12345", "%zu", (size_t)12345);
}

static void test_strings_and_chars(void **state)
{
    (void)state;
    expect_fmt("a|  bc|de  |(null)", "%c|%4s|%-4s|%s", 'a', "bc", "de", (char *)NULL);
    expect_fmt("100%", "%d%%", 100);
    expect_fmt("0x0000000000001000", "%p", (void *)0x1000);
}

/* %#x, as vmexit/svm/svm.c's "unexpected exit %#x (...)" uses it: the flag must not
 * swallow the conversion (which lost the value and shifted every later argument). */
static void test_alternate_form(void **state)
{
    (void)state;
    expect_fmt("unexpected exit 0x400 (exitinfo1 1, exitinfo2 ffff)",
               "unexpected exit %#x (exitinfo1 %llx, exitinfo2 %llx)", 0x400u, 1ull, 0xffffull);
    expect_fmt("0x1f 0X1F 0 0", "%#x %#X %#x %#X", 0x1fu, 0x1fu, 0u, 0u);
    expect_fmt("0xffffffffffffffff", "%#llx", (unsigned long long)UINT64_MAX);
    expect_fmt("0x12345 0x10", "%#lx %#zx", 0x12345ul, (size_t)16);
    /* zeros go between the prefix and the digits; spaces before the prefix or after */
    expect_fmt("[0x0000001f] [    0x1f] [0x1f    ] [0000000000]",
               "[%#010x] [%#8x] [%#-8x] [%#010x]", 0x1fu, 0x1fu, 0x1fu, 0u);
    expect_fmt("[0x1f]", "[%#3x]", 0x1fu); /* a width smaller than the output */
    expect_fmt("port 0x3f8, then 7 and 'ok'", "port %#x, then %d and '%s'", 0x3f8u, 7, "ok");
}

/* Every conversion, flag, width and length modifier that a format string of the tree uses
 * (test/check_formats.py keeps the tree to what core/fmt.c implements). */
static void test_conversions_the_tree_uses(void **state)
{
    (void)state;
    expect_fmt("7 -7 7 -7", "%d %i %lld %zd", 7, -7, 7ll, (ptrdiff_t)-7);
    expect_fmt("4294967295 18446744073709551615 12", "%u %llu %zu", UINT32_MAX,
               (unsigned long long)UINT64_MAX, (size_t)12);
    expect_fmt("ff ff 000000ff 0a 00ff 00ff", "%x %llx %08x %02x %04x %04llx", 0xffu, 0xffull,
               0xffu, 0xau, 0xffu, 0xffull);
    expect_fmt("00000000deadbeef", "%016llx", 0xdeadbeefull);
    expect_fmt("[   5] [  5] [   5] [000005] [5 ]", "[%4llu] [%3u] [%4u] [%06llu] [%-2u]", 5ull, 5u,
               5u, 5ull, 5u);
    expect_fmt("[info ] [running  ] [  hello] [cpu                   ]",
               "[%-5s] [%-9s] [%7s] [%-22s]", "info", "running", "hello", "cpu");
    expect_fmt("[x] [  x] [x  ]", "[%c] [%3c] [%-3c]", 'x', 'x', 'x');
    expect_fmt("[   42] [42   ]", "[%*d] [%-*d]", 5, 42, 5, 42);
    expect_fmt("1 2", "%ld %lu", 1l, 2ul);
    expect_fmt("ABCDEF", "%X", 0xabcdefu);
}

static void test_truncation_reports_full_length(void **state)
{
    (void)state;
    char buf[6];
    int n = ksnprintf(buf, sizeof(buf), "hello %s", "world");
    assert_int_equal(n, 11);
    assert_string_equal(buf, "hello");
    assert_int_equal(ksnprintf(NULL, 0, "%d", 12345), 5);
}

static void test_sizes(void **state)
{
    (void)state;
    char buf[16];
    fmt_size(buf, sizeof(buf), 64ull << 30);
    assert_string_equal(buf, "64G");
    fmt_size(buf, sizeof(buf), (31ull << 30) / 10); /* 3.1 GiB */
    assert_string_equal(buf, "3.1G");
    fmt_size(buf, sizeof(buf), (3ull << 30) + (1ull << 30) / 5);
    assert_string_equal(buf, "3.2G");
    fmt_size(buf, sizeof(buf), 2ull << 20);
    assert_string_equal(buf, "2M");
    fmt_size(buf, sizeof(buf), (2ull << 20) - 1); /* rounds up into the next whole unit */
    assert_string_equal(buf, "2M");
    fmt_size(buf, sizeof(buf), 1000);
    assert_string_equal(buf, "1000B");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_strings_and_chars),
        cmocka_unit_test(test_alternate_form),
        cmocka_unit_test(test_conversions_the_tree_uses),
        cmocka_unit_test(test_truncation_reports_full_length),
        cmocka_unit_test(test_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
