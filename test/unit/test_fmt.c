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

static void expect_fmt(const char *want, const char *fmt, ...)
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
        cmocka_unit_test(test_truncation_reports_full_length),
        cmocka_unit_test(test_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
