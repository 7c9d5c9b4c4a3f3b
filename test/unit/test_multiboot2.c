/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The Multiboot2 boot information, built here the way GRUB lays it out, turned into a
 * struct boot_info; and every way it can be malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "core/multiboot2.h"

#define BASE 0x10000ull

static uint8_t mbi[4096] __attribute__((aligned(8)));
static size_t used;
static struct boot_info bi;
static struct refusal why;

static void put32(size_t at, uint32_t v)
{
    memcpy(mbi + at, &v, 4);
}
static void put64(size_t at, uint64_t v)
{
    memcpy(mbi + at, &v, 8);
}

/* Starts a tag; returns its offset. end_tag fixes its size and pads to 8. */
static size_t tag(uint32_t type)
{
    size_t at = used;
    put32(at, type);
    used += 8;
    return at;
}
static void end_tag(size_t at)
{
    put32(at + 4, (uint32_t)(used - at));
    used = (used + 7) & ~(size_t)7;
}

static void begin(void)
{
    memset(mbi, 0, sizeof(mbi));
    used = 8;
}
static size_t finish(void)
{
    end_tag(tag(0));
    put32(0, (uint32_t)used);
    return used;
}

static void module(uint32_t start, uint32_t end, const char *s)
{
    size_t at = tag(3);
    put32(used, start);
    put32(used + 4, end);
    used += 8;
    memcpy(mbi + used, s, strlen(s) + 1);
    used += strlen(s) + 1;
    end_tag(at);
}

static void mmap(const uint64_t (*e)[3], unsigned n, uint32_t entry_size)
{
    size_t at = tag(6);
    put32(used, entry_size);
    put32(used + 4, 0);
    used += 8;
    for (unsigned i = 0; i < n; i++) {
        put64(used, e[i][0]);
        put64(used + 8, e[i][1]);
        put32(used + 16, (uint32_t)e[i][2]);
        used += entry_size;
    }
    end_tag(at);
}

static size_t acpi(uint32_t type, unsigned bytes)
{
    size_t at = tag(type);
    memcpy(mbi + used, "RSD PTR ", 8);
    used += bytes;
    end_tag(at);
    return at + 8;
}

static const uint64_t ram[][3] = {{0, 0x9fc00, 1},          {0x9fc00, 0x400, 2},
                                  {0x100000, 0x7ee0000, 1}, {0x7fe0000, 0x20000, 3},
                                  {0x7f000000, 0x1000, 4},  {0xfffc0000, 0x40000, 2},
                                  {0x100000000, 0, 1},      {0x200000000, 0x1000, 5}};

/* A GRUB-like information: command line, loader name, memory map, two ACPI tags, modules. */
static size_t typical(void)
{
    begin();
    size_t at = tag(1);
    mbi[used++] = '\0'; /* GRUB's command line when the menu gives none */
    end_tag(at);
    mmap(ram, 8, 24);
    acpi(14, 20);
    acpi(15, 36);
    module(0x200000, 0x200123, "sidecore.cfg");
    module(0x201000, 0x301000, "hello.elf");
    module(0x400000, 0x400000, "  empty.img  extra words");
    return finish();
}

/* The type of the range holding address a, 0 if none does; every address in at most one. */
static uint32_t type_at(uint64_t a)
{
    uint32_t type = 0;
    for (uint32_t i = 0; i < bi.nmem; i++) {
        if (a - bi.mem[i].base < bi.mem[i].size) {
            assert_int_equal(type, 0);
            type = bi.mem[i].type;
        }
    }
    return type;
}

static void test_typical(void **state)
{
    (void)state;
    size_t n = typical();
    assert_int_equal(mb2_boot_info(mbi, n, BASE, &bi, &why), 0);
    assert_int_equal(bi.magic, BOOT_INFO_MAGIC);
    assert_int_equal(bi.loader, BOOT_LOADER_MULTIBOOT2);
    assert_int_equal(bi.config_text, 0x200000);
    assert_int_equal(bi.config_len, 0x123);
    assert_int_equal(bi.nfiles, 2);
    assert_string_equal(bi.files[0].name, "hello.elf");
    assert_int_equal(bi.files[0].address, 0x201000);
    assert_int_equal(bi.files[0].size, 0x100000);
    assert_string_equal(bi.files[1].name, "empty.img");
    assert_int_equal(bi.files[1].size, 0);
    /* 7 ranges, the empty one dropped and the types mapped; then the information's page
     * and the modules' carved out of the usable ones as the hypervisor's: 12 */
    assert_int_equal(bi.nmem, 12);
    static const uint64_t expect[][2] = {
        {0, BOOT_MEM_USABLE},
        {BASE, BOOT_MEM_HYPERVISOR},
        {BASE + 0xfff, BOOT_MEM_HYPERVISOR},
        {BASE + 0x1000, BOOT_MEM_USABLE},
        {0x9fc00, BOOT_MEM_RESERVED},
        {0x1fffff, BOOT_MEM_USABLE},
        {0x200000, BOOT_MEM_HYPERVISOR}, /* the configuration, rounded up to its page */
        {0x200fff, BOOT_MEM_HYPERVISOR},
        {0x201000, BOOT_MEM_HYPERVISOR},
        {0x300fff, BOOT_MEM_HYPERVISOR},
        {0x301000, BOOT_MEM_USABLE},
        {0x7fe0000, BOOT_MEM_ACPI_RECLAIM},
        {0x7f000000, BOOT_MEM_ACPI_NVS},
        {0xfffc0000, BOOT_MEM_RESERVED},
        {0x100000000ull, 0}, /* the empty range is gone */
        {0x200000000ull, BOOT_MEM_BAD},
    };
    for (unsigned i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
        assert_int_equal(type_at(expect[i][0]), expect[i][1]);
    /* the new RSDP, at its address inside the information */
    assert_memory_equal(mbi + (bi.rsdp - BASE), "RSD PTR ", 8);
    uint32_t type;
    memcpy(&type, mbi + (bi.rsdp - BASE) - 8, 4);
    assert_int_equal(type, 15);
}

static void test_old_rsdp_only_and_wide_entries(void **state)
{
    (void)state;
    begin();
    mmap(ram, 3, 32); /* a later entry format: 32 bytes, the first 24 as before */
    size_t rsdp = acpi(14, 20);
    module(0x200000, 0x200010, "sidecore.cfg");
    size_t n = finish();
    assert_int_equal(mb2_boot_info(mbi, n, BASE, &bi, &why), 0);
    assert_int_equal(bi.rsdp, BASE + rsdp);
    /* three ranges, two of them split by the information's page and the configuration's */
    assert_int_equal(bi.nmem, 7);
    assert_int_equal(type_at(0x9fc00), BOOT_MEM_RESERVED);
    assert_int_equal(type_at(0x7fdffff), BOOT_MEM_USABLE);
    assert_int_equal(type_at(0x7fe0000), 0);
}

static void command_line(const char *text)
{
    size_t at = tag(1);
    memcpy(mbi + used, text, strlen(text) + 1);
    used += strlen(text) + 1;
    end_tag(at);
}

/* config=NAME picks the configuration among the modules, wherever the command line is. */
static void test_command_line_names_the_configuration(void **state)
{
    (void)state;
    begin();
    mmap(ram, 3, 24);
    module(0x200000, 0x200010, "sidecore.cfg");
    module(0x201000, 0x201020, "node7.cfg");
    command_line("  config=node7.cfg ");
    size_t n = finish();
    assert_int_equal(mb2_boot_info(mbi, n, BASE, &bi, &why), 0);
    assert_int_equal(bi.config_text, 0x201000);
    assert_int_equal(bi.config_len, 0x20);
    assert_string_equal(bi.config_source, "node7.cfg");
    assert_int_equal(bi.nfiles, 1); /* the default one is an ordinary file now */
    assert_string_equal(bi.files[0].name, "sidecore.cfg");
    assert_int_equal(type_at(0x201000), BOOT_MEM_HYPERVISOR);
}

static void refused(size_t n, uint64_t base, const char *text)
{
    assert_int_equal(mb2_boot_info(mbi, n, base, &bi, &why), -E_INVAL);
    assert_non_null(strstr(why.text, text));
}

static void test_refusals(void **state)
{
    (void)state;
    size_t n = typical();
    refused(n - 8, BASE, "readable"); /* total_size past what can be read */
    refused(n, BASE + 4, "bytes at"); /* misaligned */
    refused(4, BASE, "bytes at");
    put32(0, 8);
    refused(n, BASE, "readable"); /* total too small for any tag */
    /* no end tag: the information stops after the last module */
    typical();
    put32(0, (uint32_t)(used - 8));
    refused(used - 8, BASE, "no end tag");

    static const char *const names[] = {"", "   ", "a\tb", "x\x7f"};
    for (size_t i = 0; i < 4; i++) {
        begin();
        mmap(ram, 1, 24);
        module(0x200000, 0x200010, names[i]);
        refused(finish(), BASE, "module");
    }
    char longname[80];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[79] = '\0';
    begin();
    mmap(ram, 1, 24);
    module(0x200000, 0x200010, longname);
    refused(finish(), BASE, "printable characters");

    begin();
    mmap(ram, 1, 24);
    module(0x200800, 0x200900, "sidecore.cfg"); /* not page aligned */
    refused(finish(), BASE, "not page aligned");
    begin();
    mmap(ram, 1, 24);
    module(0x201000, 0x200000, "x.elf"); /* ends before it starts */
    refused(finish(), BASE, "ends before");
    begin();
    mmap(ram, 1, 24);
    module(0x200000, 0x200010, "sidecore.cfg");
    module(0x201000, 0x201010, "sidecore.cfg");
    refused(finish(), BASE, "two modules");
    begin();
    mmap(ram, 1, 24);
    module(0x200000, 0x200000, "sidecore.cfg");
    refused(finish(), BASE, "configuration module sidecore.cfg is empty");
    begin();
    mmap(ram, 1, 24);
    module(0x200000, 0x200010, "sidecore.cfg");
    module(0x201000, 0x201010, "a.elf");
    module(0x202000, 0x202010, "a.elf extra");
    refused(finish(), BASE, "two modules named 'a.elf'");
    begin();
    mmap(ram, 1, 24);
    module(0x200000, 0x200010, "sidecore.cfg");
    for (unsigned i = 0; i <= BOOT_MAX_FILES; i++) {
        char name[8] = {'f', (char)('a' + i), 0};
        module(0x300000 + 0x1000 * i, 0x300000 + 0x1000 * i, name);
    }
    refused(finish(), BASE, "more than 16 modules");

    begin();
    mmap(ram, 1, 20); /* entries too small */
    module(0x200000, 0x200010, "sidecore.cfg");
    refused(finish(), BASE, "memory map entries of 20 bytes");
    begin();
    module(0x200000, 0x200010, "sidecore.cfg");
    refused(finish(), BASE, "no memory map");
    begin();
    mmap(ram, 1, 24);
    refused(finish(), BASE, "no module named sidecore.cfg");
    begin();
    static const uint64_t wrap[][3] = {{0xfffffffffffff000ull, 0x2000, 1}};
    mmap(wrap, 1, 24);
    refused(finish(), BASE, "wraps");
    begin();
    mmap(ram, 1, 24);
    acpi(15, 20); /* a new RSDP must have 36 bytes */
    refused(finish(), BASE, "ACPI tag 15");

    /* command lines: other words, an empty or too long name, a missing module */
    static const char *const lines[] = {"sidecore", "config=", "config=a.cfg x", "configx=a"};
    for (size_t i = 0; i < 4; i++) {
        begin();
        mmap(ram, 1, 24);
        module(0x200000, 0x200010, "sidecore.cfg");
        command_line(lines[i]);
        refused(finish(), BASE, "only config=NAME");
    }
    begin();
    mmap(ram, 1, 24);
    command_line("config=other.cfg");
    module(0x200000, 0x200010, "sidecore.cfg");
    refused(finish(), BASE, "no module named other.cfg");
    begin();
    mmap(ram, 1, 24);
    {
        size_t at = tag(1);
        memset(mbi + used, 'c', 12); /* no terminating NUL inside the tag */
        used += 12;
        end_tag(at);
    }
    refused(finish(), BASE, "not terminated");

    /* a tag whose size runs past the end, and one smaller than its header */
    n = typical();
    put32(8 + 4, (uint32_t)n);
    refused(n, BASE, "bytes");
    n = typical();
    put32(8 + 4, 4);
    refused(n, BASE, "bytes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typical),
        cmocka_unit_test(test_old_rsdp_only_and_wide_entries),
        cmocka_unit_test(test_command_line_names_the_configuration),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
