/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The configuration parser and validator: good files, every error message with its line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/klib.h"

#ifndef SIDECORE_SOURCE_DIR
#error "test/CMakeLists.txt passes SIDECORE_SOURCE_DIR to test_config"
#endif

static struct config cfg; /* large: kept off the stack */
static struct cfg_errors errs;

/* Every service placed on core 0: a prefix that validates on its own (it is line 1). */
#define SC0 "sidecore cpu=0 services=pt,irq,io\n"

static const struct machine_facts machine4 = {4, 512 * MiB};

static int parse(const char *text)
{
    return config_parse(text, strlen(text), &cfg, &errs);
}

static void expect_error_at(unsigned i, unsigned line, const char *msg)
{
    assert_true(i < errs.count);
    assert_string_equal(errs.e[i].msg, msg);
    assert_int_equal(errs.e[i].line, line);
}

/* Parsing text gives exactly one error. */
static void expect_parse_error(const char *text, unsigned line, const char *msg)
{
    assert_int_equal(parse(text), -E_INVAL);
    expect_error_at(0, line, msg);
    assert_int_equal(errs.count, 1);
    assert_int_equal(errs.dropped, 0);
}

/* text parses cleanly, and validating it against m gives exactly one error. */
static void expect_check_error(const char *text, const struct machine_facts *m, unsigned line,
                               const char *msg)
{
    assert_int_equal(parse(text), 0);
    assert_int_equal(config_validate(&cfg, m, &errs), -E_INVAL);
    expect_error_at(0, line, msg);
    assert_int_equal(errs.count, 1);
    assert_int_equal(errs.dropped, 0);
}

static void expect_valid(const char *text, const struct machine_facts *m)
{
    int r = parse(text);
    if (r == 0)
        r = config_validate(&cfg, m, &errs);
    if (errs.count)
        print_error("line %u: %s\n", errs.e[0].line, errs.e[0].msg);
    assert_int_equal(r, 0);
    assert_int_equal(errs.count, 0);
}

/* ---- good files ---- */

static void test_defaults(void **state)
{
    (void)state;
    assert_int_equal(config_parse(NULL, 0, &cfg, &errs), 0);
    assert_int_equal(cfg.console_port, 0x3f8);
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_int_equal(cfg.ap_timeout_ms, 1000);
    assert_int_equal(cfg.shutdown, SHUTDOWN_AUTO);
    assert_false(cfg.dump_acpi);
    assert_int_equal(cfg.offline_cpu, -1);
    assert_int_equal(cfg.fault_cpu, -1);
    assert_int_equal(cfg.overflow_cpu, -1);
    assert_int_equal(cfg.slow_trap_ms, 0);
    assert_int_equal(cfg.nsidecores, 0);
    assert_int_equal(cfg.npartitions, 0);
    assert_int_equal(cfg.last_line, 0);

    assert_int_equal(parse("console\nboot\ndebug\n" SC0), 0);
    assert_int_equal(cfg.console_port, 0x3f8);
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_int_equal(cfg.ap_timeout_ms, 1000);
    assert_int_equal(cfg.shutdown, SHUTDOWN_AUTO);
    assert_int_equal(cfg.offline_cpu, -1);
    assert_int_equal(cfg.sidecores[0].poll, POLL_SPIN);
    assert_int_equal(cfg.sidecores[0].spin_iterations, 100000);
    assert_int_equal(cfg.sidecores[0].sleep_us, 100);
    assert_int_equal(cfg.last_line, 4);
}

static const char full_example[] =
    "# every key\n"
    "console port=0x2f8 log=debug\n"
    "boot ap_timeout_ms=250 shutdown=debug-exit\n"
    "sidecore cpu=0 services=pt,irq poll=spin\n"
    "sidecore cpu=7 services=io poll=adaptive spin=5000 sleep_us=20\n"
    "partition name=bench-1 cpus=1-3,5 memory=1G image=guests/bench.elf args=\"--n 4\"\n"
    "partition name=io_test cpus=4,6 memory=0x10m\n"
    "debug dump_acpi=yes offline_cpu=6 fault_cpu=5 slow_trap_ms=750\n";

static void test_full_example(void **state)
{
    (void)state;
    const struct machine_facts m = {8, 4 * GiB};
    expect_valid(full_example, &m);
    assert_int_equal(cfg.console_port, 0x2f8);
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_int_equal(cfg.ap_timeout_ms, 250);
    assert_int_equal(cfg.shutdown, SHUTDOWN_DEBUG_EXIT);
    assert_true(cfg.dump_acpi);
    assert_int_equal(cfg.offline_cpu, 6);
    assert_int_equal(cfg.fault_cpu, 5);
    assert_int_equal(cfg.slow_trap_ms, 750);
    assert_int_equal(cfg.last_line, 8);

    assert_int_equal(cfg.nsidecores, 2);
    const struct cfg_sidecore *a = &cfg.sidecores[0], *b = &cfg.sidecores[1];
    assert_int_equal(a->cpu, 0);
    assert_int_equal(a->services, (1u << SERVICE_PT) | (1u << SERVICE_IRQ));
    assert_int_equal(a->poll, POLL_SPIN);
    assert_int_equal(a->line, 4);
    assert_int_equal(b->cpu, 7);
    assert_int_equal(b->services, 1u << SERVICE_IO);
    assert_int_equal(b->poll, POLL_ADAPTIVE);
    assert_int_equal(b->spin_iterations, 5000);
    assert_int_equal(b->sleep_us, 20);
    assert_int_equal(b->line, 5);

    assert_int_equal(cfg.npartitions, 2);
    const struct cfg_partition *p = &cfg.partitions[0], *q = &cfg.partitions[1];
    assert_string_equal(p->name, "bench-1");
    assert_int_equal(cpu_set_count(&p->cpus), 4);
    assert_true(cpu_set_has(&p->cpus, 1) && cpu_set_has(&p->cpus, 3) && cpu_set_has(&p->cpus, 5));
    assert_false(cpu_set_has(&p->cpus, 4));
    assert_int_equal(p->memory, GiB);
    assert_string_equal(p->image, "guests/bench.elf");
    assert_string_equal(p->args, "--n 4");
    assert_int_equal(p->line, 6);
    assert_string_equal(q->name, "io_test");
    assert_int_equal(q->memory, 16 * MiB);
    assert_string_equal(q->image, "");
    assert_string_equal(q->args, "");
    assert_int_equal(q->line, 7);
}

static void test_values_and_choices(void **state)
{
    (void)state;
    assert_int_equal(parse("console port=65535 log=error\nboot shutdown=halt\n"
                           "partition name=p cpus=0x1-0X3 memory=2048k\ndebug dump_acpi=no\n"),
                     0);
    assert_int_equal(cfg.console_port, 0xffff);
    assert_int_equal(cfg.log_level, LOG_ERROR);
    assert_int_equal(cfg.shutdown, SHUTDOWN_HALT);
    assert_int_equal(cfg.partitions[0].memory, 2 * MiB);
    assert_int_equal(cpu_set_count(&cfg.partitions[0].cpus), 3);
    assert_false(cfg.dump_acpi);
    assert_int_equal(parse("console log=warn\nboot shutdown=reset ap_timeout_ms=60000\n"), 0);
    assert_int_equal(cfg.log_level, LOG_WARN);
    assert_int_equal(cfg.shutdown, SHUTDOWN_RESET);
    assert_int_equal(cfg.ap_timeout_ms, 60000);
    assert_int_equal(parse("partition name=big cpus=255 memory=16383G\n"), 0);
    assert_int_equal(cfg.partitions[0].memory, 16383 * GiB);
    assert_true(cpu_set_has(&cfg.partitions[0].cpus, 255));
    assert_int_equal(parse("sidecore cpu=0 services=io,pt poll=adaptive spin=1000000000 "
                           "sleep_us=1000000\n"),
                     0);
    assert_int_equal(cfg.sidecores[0].spin_iterations, 1000000000);
    assert_int_equal(cfg.sidecores[0].sleep_us, 1000000);
}

static void test_comments_quotes_crlf(void **state)
{
    (void)state;
    static const char text[] =
        "  # indented comment\r\n"
        "\r\n"
        "\t\n"
        "console\tport=0x3F8   log=\"warn\" # trailing comment\r\n"
        "sidecore cpu=0 services=pt,irq,io# comment right after a value\r\n"
        "partition name=\"q\" cpus=\"1\" memory=2M args=\"say \\\"hi\\\" \\\\ # not a comment\"\r\n"
        "partition name=r cpus=2 memory=2M args=\"\" image=a.b_c/d-e\r\n"
        "# the last line has no newline\r\n"
        "partition name=s cpus=3 memory=4M";
    expect_valid(text, &machine4);
    assert_int_equal(cfg.console_port, 0x3f8);
    assert_int_equal(cfg.log_level, LOG_WARN);
    assert_int_equal(cfg.npartitions, 3);
    assert_string_equal(cfg.partitions[0].name, "q");
    assert_string_equal(cfg.partitions[0].args, "say \"hi\" \\ # not a comment");
    assert_string_equal(cfg.partitions[1].args, "");
    assert_string_equal(cfg.partitions[1].image, "a.b_c/d-e");
    assert_int_equal(cfg.partitions[2].line, 9);
    assert_int_equal(cfg.partitions[2].memory, 4 * MiB);
    assert_int_equal(cfg.last_line, 9);

    assert_int_equal(parse("\n\n"), 0);
    assert_int_equal(cfg.last_line, 2);
    assert_int_equal(parse("console\r"), 0);
    assert_int_equal(cfg.last_line, 1);
}

static void test_service_on_several_side_cores(void **state)
{
    (void)state;
    expect_valid("sidecore cpu=0 services=pt,irq,io\nsidecore cpu=1 services=io,pt\n"
                 "sidecore cpu=2 services=io\npartition name=g cpus=3 memory=64M\n",
                 &machine4);
    assert_int_equal(cfg.nsidecores, 3);
    assert_int_equal(cfg.sidecores[1].services, (1u << SERVICE_PT) | (1u << SERVICE_IO));
    assert_int_equal(cfg.sidecores[2].services, 1u << SERVICE_IO);
}

static void test_side_cores_only(void **state)
{
    (void)state;
    expect_valid("sidecore cpu=0 services=pt\nsidecore cpu=3 services=irq,io\n", &machine4);
    assert_int_equal(cfg.npartitions, 0);
}

static void test_default_file(void **state)
{
    (void)state;
    static char text[8192];
    FILE *f = fopen(SIDECORE_SOURCE_DIR "/efi/sidecore.cfg", "rb");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    assert_true(n > 0 && n < sizeof(text) - 1);
    text[n] = '\0';
    const struct machine_facts m = {4, 512 * MiB};
    expect_valid(text, &m);
    assert_int_equal(cfg.console_port, 0x3f8);
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_int_equal(cfg.nsidecores, 1);
    assert_int_equal(cfg.sidecores[0].cpu, 0);
    assert_int_equal(cfg.sidecores[0].services, 7);
    assert_int_equal(cfg.sidecores[0].poll, POLL_SPIN);
    assert_int_equal(cfg.npartitions, 2);
    assert_string_equal(cfg.partitions[0].name, "bench");
    assert_int_equal(cfg.partitions[0].memory, 32 * MiB);
    assert_string_equal(cfg.partitions[0].image, "bench.elf");
    assert_string_equal(cfg.partitions[0].disk, "bench.img");
    assert_string_equal(cfg.partitions[0].args, "mode=ops n=30");
    assert_int_equal(cpu_set_count(&cfg.partitions[0].cpus), 2);
    assert_string_equal(cfg.partitions[1].name, "demo");
    assert_string_equal(cfg.partitions[1].image, "hello.elf");
    assert_string_equal(cfg.partitions[1].disk, "");
    /* x2APIC is the platform: the default trusts no partition with the raw xAPIC ICR */
    assert_false(cfg.partitions[0].lapic_passthrough || cfg.partitions[1].lapic_passthrough);
    for (unsigned cpu = 1; cpu < 4; cpu++)
        assert_int_equal(config_cpu_role(&cfg, cpu).kind, ROLE_GUEST);
    assert_int_equal(config_cpu_role(&cfg, 3).index, 1);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(service_name(SERVICE_PT), "pt");
    assert_string_equal(service_name(SERVICE_IRQ), "irq");
    assert_string_equal(service_name(SERVICE_IO), "io");
    assert_string_equal(service_name(SERVICE_COUNT), "?");
    assert_string_equal(poll_policy_name(POLL_SPIN), "spin");
    assert_string_equal(poll_policy_name(POLL_ADAPTIVE), "adaptive");
}

static void test_cpu_set(void **state)
{
    (void)state;
    struct cpu_set s = {{0}};
    assert_int_equal(cpu_set_count(&s), 0);
    cpu_set_add(&s, 0);
    cpu_set_add(&s, 63);
    cpu_set_add(&s, 64);
    cpu_set_add(&s, 255);
    cpu_set_add(&s, CONFIG_MAX_CPUS); /* out of range: ignored */
    assert_int_equal(cpu_set_count(&s), 4);
    assert_true(cpu_set_has(&s, 63) && cpu_set_has(&s, 64) && cpu_set_has(&s, 255));
    assert_false(cpu_set_has(&s, 1));
    assert_false(cpu_set_has(&s, CONFIG_MAX_CPUS));
}

static void test_cpu_roles(void **state)
{
    (void)state;
    assert_int_equal(parse("sidecore cpu=0 services=pt,irq\n"
                           "partition name=a cpus=1,3 memory=2M\n"
                           "sidecore cpu=2 services=io\n"
                           "partition name=b cpus=4-5 memory=2M\n"),
                     0);
    static const struct {
        unsigned cpu;
        enum cpu_role_kind kind;
        unsigned index, line;
    } want[] = {
        {0, ROLE_SIDECORE, 0, 1}, {1, ROLE_GUEST, 0, 2},    {2, ROLE_SIDECORE, 1, 3},
        {3, ROLE_GUEST, 0, 2},    {4, ROLE_GUEST, 1, 4},    {5, ROLE_GUEST, 1, 4},
        {6, ROLE_UNUSED, 0, 0},   {255, ROLE_UNUSED, 0, 0}, {1000, ROLE_UNUSED, 0, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        struct cpu_role r = config_cpu_role(&cfg, want[i].cpu);
        assert_int_equal(r.kind, want[i].kind);
        assert_int_equal(r.index, want[i].index);
        assert_int_equal(r.line, want[i].line);
    }
}

/* ---- line and token errors ---- */

static void test_err_long_line(void **state)
{
    (void)state;
    char text[400];
    int n = snprintf(text, sizeof(text), "console\npartition name=p cpus=1 memory=2M args=\"");
    memset(text + n, 'a', 300);
    strcpy(text + n + 300, "\"\nboot ap_timeout_ms=5\n");
    expect_parse_error(text, 2, "line is 341 characters long (at most 255)");
    /* 255 characters is fine; the \r of a CRLF line does not count; 256 is too long */
    memset(text, ' ', 256);
    memcpy(text, "console", 7);
    strcpy(text + 255, "\r\n");
    assert_int_equal(parse(text), 0);
    text[255] = ' ';
    strcpy(text + 256, "\r\n");
    expect_parse_error(text, 1, "line is 256 characters long (at most 255)");
}

static void test_err_nul_byte(void **state)
{
    (void)state;
    static const char text[] = "console\nconsole\0 port=1\nboot\n";
    assert_int_equal(config_parse(text, sizeof(text) - 1, &cfg, &errs), -E_INVAL);
    assert_int_equal(errs.count, 1);
    expect_error_at(0, 2, "invalid character 0x00 in column 8");
    assert_int_equal(cfg.last_line, 3);
    /* a NUL inside a comment is just as invalid */
    static const char text2[] = "# a \0 comment\n";
    assert_int_equal(config_parse(text2, sizeof(text2) - 1, &cfg, &errs), -E_INVAL);
    expect_error_at(0, 1, "invalid character 0x00 in column 5");
}

static void test_err_control_character(void **state)
{
    (void)state;
    expect_parse_error("console\rport=1\n", 1, "invalid character 0x0d in column 8");
    expect_parse_error("\n\n# \x1b[31m\n", 3, "invalid character 0x1b in column 3");
}

static void test_err_unknown_directive(void **state)
{
    (void)state;
    expect_parse_error("console\nconsol port=1\n", 2,
                       "unknown directive 'consol' (expected console, boot, sidecore, partition "
                       "or debug)");
    expect_parse_error("port=1\n", 1,
                       "unknown directive 'port=1' (expected console, boot, sidecore, partition "
                       "or debug)");
}

static void test_err_unknown_key(void **state)
{
    (void)state;
    expect_parse_error("\nsidecore cpu=1 services=pt polling=spin\n", 2,
                       "unknown key 'polling' for 'sidecore' (expected cpu, services, poll, spin "
                       "or sleep_us)");
    expect_parse_error("console speed=9600\n", 1,
                       "unknown key 'speed' for 'console' (expected port or log)");
}

static void test_err_key_twice(void **state)
{
    (void)state;
    expect_parse_error("console port=1 log=info port=2\n", 1, "key 'port' is given twice");
}

static void test_err_missing_equals(void **state)
{
    (void)state;
    expect_parse_error("\n\nconsole port 0x3f8\n", 3,
                       "missing '=' after 'port' (expected key=value)");
    expect_parse_error("console port#=1\n", 1, "missing '=' after 'port' (expected key=value)");
}

static void test_err_missing_key(void **state)
{
    (void)state;
    expect_parse_error("console =1\n", 1, "missing key before '='");
}

static void test_err_missing_value(void **state)
{
    (void)state;
    expect_parse_error("console port= log=info\n", 1, "missing value for 'port'");
    expect_parse_error("console port=#1\n", 1, "missing value for 'port'");
}

static void test_err_unterminated_quote(void **state)
{
    (void)state;
    expect_parse_error("partition name=p cpus=1 memory=2M args=\"abc # def\n", 1,
                       "unterminated quoted value for 'args'");
    expect_parse_error("partition name=p cpus=1 memory=2M args=\"abc\\\"", 1,
                       "unterminated quoted value for 'args'");
}

static void test_err_unknown_escape(void **state)
{
    (void)state;
    expect_parse_error("partition name=p cpus=1 memory=2M args=\"a\\nb\"\n", 1,
                       "unknown escape '\\n' in the value of 'args' (only \\\" and \\\\)");
}

static void test_err_text_after_quote(void **state)
{
    (void)state;
    expect_parse_error("partition name=\"p\"cpus=1 memory=2M\n", 1,
                       "missing space after the quoted value of 'name'");
}

static void test_err_quote_inside_bare_value(void **state)
{
    (void)state;
    expect_parse_error("partition name=p cpus=1 memory=2M args=a\"b c\"\n", 1,
                       "unexpected '\"' in the value of 'args' (quote the whole value)");
}

static void test_err_missing_required_key(void **state)
{
    (void)state;
    expect_parse_error(SC0 "partition name=p memory=2M\n", 2,
                       "missing required key 'cpus' for 'partition'");
    expect_parse_error("sidecore services=pt\n", 1, "missing required key 'cpu' for 'sidecore'");
    assert_int_equal(parse("partition\n"), -E_INVAL);
    assert_int_equal(errs.count, 3);
    expect_error_at(0, 1, "missing required key 'name' for 'partition'");
    expect_error_at(1, 1, "missing required key 'cpus' for 'partition'");
    expect_error_at(2, 1, "missing required key 'memory' for 'partition'");
}

static void test_err_repeated_single_directives(void **state)
{
    (void)state;
    expect_parse_error("console\n# x\nconsole port=0x2f8\n", 3,
                       "more than one 'console' line (first on line 1)");
    assert_int_equal(cfg.console_port, 0x3f8); /* the second line is not applied */
    expect_parse_error("boot\nboot\n", 2, "more than one 'boot' line (first on line 1)");
    expect_parse_error("\ndebug\ndebug dump_acpi=yes\n", 3,
                       "more than one 'debug' line (first on line 2)");
    assert_false(cfg.dump_acpi);
    /* a first line with an error still counts as the first */
    assert_int_equal(parse("console port=0\nconsole\n"), -E_INVAL);
    expect_error_at(1, 2, "more than one 'console' line (first on line 1)");
}

/* ---- value errors ---- */

static void test_err_bad_number(void **state)
{
    (void)state;
    expect_parse_error("console port=0x3g8\n", 1,
                       "'port' must be a number (decimal or 0x hex), not '0x3g8'");
    expect_parse_error("console port=12abc\n", 1,
                       "'port' must be a number (decimal or 0x hex), not '12abc'");
    expect_parse_error("console port=0x\n", 1,
                       "'port' must be a number (decimal or 0x hex), not '0x'");
    expect_parse_error("console port=-1\n", 1,
                       "'port' must be a number (decimal or 0x hex), not '-1'");
}

static void test_err_number_overflow(void **state)
{
    (void)state;
    expect_parse_error("boot ap_timeout_ms=18446744073709551616\n", 1,
                       "'ap_timeout_ms' value '18446744073709551616' does not fit in 64 bits");
    expect_parse_error("boot ap_timeout_ms=0x10000000000000000\n", 1,
                       "'ap_timeout_ms' value '0x10000000000000000' does not fit in 64 bits");
    /* the largest 64-bit value parses, and is then out of range */
    expect_parse_error("boot ap_timeout_ms=18446744073709551615\n", 1,
                       "'ap_timeout_ms' must be in 1..60000, not 18446744073709551615");
}

static void test_err_port_range(void **state)
{
    (void)state;
    expect_parse_error("console port=0\n", 1, "'port' must be in 1..65535, not 0");
    expect_parse_error("console port=0x10000\n", 1, "'port' must be in 1..65535, not 65536");
}

static void test_err_log_level(void **state)
{
    (void)state;
    expect_parse_error("console log=verbose\n", 1,
                       "'log' must be debug, info, warn or error, not 'verbose'");
    expect_parse_error("console log=INFO\n", 1,
                       "'log' must be debug, info, warn or error, not 'INFO'");
}

static void test_err_boot_values(void **state)
{
    (void)state;
    expect_parse_error("boot ap_timeout_ms=0\n", 1, "'ap_timeout_ms' must be in 1..60000, not 0");
    expect_parse_error("boot ap_timeout_ms=60001\n", 1,
                       "'ap_timeout_ms' must be in 1..60000, not 60001");
    expect_parse_error("boot shutdown=poweroff\n", 1,
                       "'shutdown' must be auto, debug-exit, reset or halt, not 'poweroff'");
}

static void test_err_sidecore_cpu(void **state)
{
    (void)state;
    expect_parse_error("sidecore cpu=1024 services=pt\n", 1, "'cpu' must be in 0..1023, not 1024");
}

static void test_err_services(void **state)
{
    (void)state;
    expect_parse_error("sidecore cpu=0 services=pt,pf\n", 1,
                       "unknown service 'pf' in 'services' (expected pt, irq or io)");
    expect_parse_error("sidecore cpu=0 services=io,pt,io\n", 1,
                       "service 'io' is listed twice in 'services'");
    expect_parse_error("sidecore cpu=0 services=pt,,io\n", 1,
                       "'services' has an empty element in 'pt,,io'");
    expect_parse_error("sidecore cpu=0 services=pt,\n", 1,
                       "'services' has an empty element in 'pt,'");
    expect_parse_error("sidecore cpu=0 services=\"\"\n", 1,
                       "'services' has an empty element in ''");
}

static void test_err_poll(void **state)
{
    (void)state;
    expect_parse_error("sidecore cpu=0 services=pt poll=busy\n", 1,
                       "'poll' must be spin or adaptive, not 'busy'");
    expect_parse_error("sidecore cpu=0 services=pt poll=adaptive spin=0\n", 1,
                       "'spin' must be in 1..1000000000, not 0");
    expect_parse_error("sidecore cpu=0 services=pt poll=adaptive spin=1000000001\n", 1,
                       "'spin' must be in 1..1000000000, not 1000000001");
    expect_parse_error("sidecore cpu=0 services=pt poll=adaptive sleep_us=1000001\n", 1,
                       "'sleep_us' must be in 1..1000000, not 1000001");
}

static void test_err_adaptive_only(void **state)
{
    (void)state;
    expect_parse_error("sidecore spin=10 cpu=0 services=pt\n", 1,
                       "'spin' only applies with poll=adaptive");
    expect_parse_error("sidecore sleep_us=10 cpu=0 services=pt poll=spin\n", 1,
                       "'sleep_us' only applies with poll=adaptive");
    assert_int_equal(cfg.nsidecores, 0);
}

static void test_err_partition_name(void **state)
{
    (void)state;
    expect_parse_error("partition name=a.b cpus=1 memory=2M\n", 1,
                       "'name' must be 1 to 31 characters of A-Z a-z 0-9 _ -, not 'a.b'");
    expect_parse_error("partition name=\"\" cpus=1 memory=2M\n", 1,
                       "'name' must be 1 to 31 characters of A-Z a-z 0-9 _ -, not ''");
    expect_parse_error("partition name=abcdefghijklmnopqrstuvwxyz012345 cpus=1 memory=2M\n", 1,
                       "'name' must be 1 to 31 characters of A-Z a-z 0-9 _ -, not "
                       "'abcdefghijklmnopqrstuvwxyz012345'");
    assert_int_equal(parse("partition name=abcdefghijklmnopqrstuvwxyz01234 cpus=1 memory=2M\n"), 0);
    /* long values are clipped in messages */
    expect_parse_error("partition name=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ cpus=1 "
                       "memory=2M\n",
                       1,
                       "'name' must be 1 to 31 characters of A-Z a-z 0-9 _ -, not "
                       "'abcdefghijklmnopqrstuvwxyz0123456789...'");
}

static void test_err_cpu_list(void **state)
{
    (void)state;
    expect_parse_error("partition name=p cpus=1,,3 memory=2M\n", 1,
                       "'cpus' has an empty element in '1,,3'");
    expect_parse_error("partition name=p cpus=1-x memory=2M\n", 1,
                       "'cpus' must list cpus and ranges like 1-3,5, not '1-x'");
    expect_parse_error("partition name=p cpus=1,2-3-4 memory=2M\n", 1,
                       "'cpus' must list cpus and ranges like 1-3,5, not '2-3-4'");
    expect_parse_error("partition name=p cpus=-2 memory=2M\n", 1,
                       "'cpus' must list cpus and ranges like 1-3,5, not '-2'");
    expect_parse_error("partition name=p cpus=5,3-1 memory=2M\n", 1,
                       "'cpus' has a reversed range '3-1' (write the lower cpu first)");
    expect_parse_error("partition name=p cpus=1-3,2 memory=2M\n", 1,
                       "cpu 2 is listed twice in 'cpus'");
    expect_parse_error("partition name=p cpus=1,0x400 memory=2M\n", 1,
                       "cpu 0x400 in 'cpus' is out of range (0..1023)");
    expect_parse_error("partition name=p cpus=1-99999999999999999999 memory=2M\n", 1,
                       "cpu 1-99999999999999999999 in 'cpus' is out of range (0..1023)");
}

static void test_err_memory_size(void **state)
{
    (void)state;
    expect_parse_error("partition name=p cpus=1 memory=64MB\n", 1,
                       "'memory' must be a size like 64M or 2G (a number, then K, M or G), not "
                       "'64MB'");
    expect_parse_error("partition name=p cpus=1 memory=G\n", 1,
                       "'memory' must be a size like 64M or 2G (a number, then K, M or G), not "
                       "'G'");
    expect_parse_error("partition name=p cpus=1 memory=3M\n", 1,
                       "'memory' must be a nonzero multiple of 2M, not '3M'");
    expect_parse_error("partition name=p cpus=1 memory=0\n", 1,
                       "'memory' must be a nonzero multiple of 2M, not '0'");
    expect_parse_error("partition name=p cpus=1 memory=1024k\n", 1,
                       "'memory' must be a nonzero multiple of 2M, not '1024k'");
    expect_parse_error("partition name=p cpus=1 memory=17179869184G\n", 1,
                       "'memory' value '17179869184G' does not fit in 64 bits");
    expect_parse_error("partition name=p cpus=1 memory=99999999999999999999\n", 1,
                       "'memory' value '99999999999999999999' does not fit in 64 bits");
    assert_int_equal(parse("partition name=p cpus=1 memory=17179869182G\n"), 0);
    assert_int_equal(cfg.partitions[0].memory, 17179869182ull << 30);
}

static void test_lapic_key(void **state)
{
    (void)state;
    const struct machine_facts m = {4, 512 * MiB};
    expect_valid("sidecore cpu=0 services=pt,irq,io\n"
                 "partition name=p cpus=1 memory=2M lapic=passthrough\n"
                 "partition name=q cpus=2 memory=2M\n",
                 &m);
    assert_true(cfg.partitions[0].lapic_passthrough);
    assert_false(cfg.partitions[1].lapic_passthrough);
    expect_parse_error("partition name=p cpus=1 memory=2M lapic=trap\n", 1,
                       "'lapic' must be passthrough, not 'trap'");
}

static void test_err_image(void **state)
{
    (void)state;
    expect_parse_error("partition name=p cpus=1 memory=2M image=\"my guest.elf\"\n", 1,
                       "'image' must be 1 to 63 characters of A-Z a-z 0-9 . _ / -, not "
                       "'my guest.elf'");
    expect_parse_error("partition name=p cpus=1 memory=2M image=\"\"\n", 1,
                       "'image' must be 1 to 63 characters of A-Z a-z 0-9 . _ / -, not ''");
}

static void test_err_debug(void **state)
{
    (void)state;
    expect_parse_error("debug dump_acpi=true\n", 1, "'dump_acpi' must be yes or no, not 'true'");
    expect_parse_error("debug offline_cpu=0\n", 1,
                       "'offline_cpu' cannot be 0: the boot CPU is always running");
    expect_parse_error("debug fault_cpu=1024\n", 1, "'fault_cpu' must be in 0..1023, not 1024");
    expect_parse_error("debug fault_cpu=0\n", 1,
                       "'fault_cpu' cannot be 0: the boot CPU takes no role fault");
    expect_parse_error("debug silent_cpu=0\n", 1,
                       "'silent_cpu' cannot be 0: the boot CPU hands out the roles");
    assert_int_equal(parse("debug silent_cpu=700\n"), 0);
    assert_int_equal(cfg.silent_cpu, 700);
    assert_int_equal(parse("debug fault_cpu=1 offline_cpu=255\n"), 0);
    assert_int_equal(cfg.fault_cpu, 1);
    assert_int_equal(cfg.offline_cpu, 255);
    assert_int_equal(cfg.overflow_cpu, -1);
    expect_parse_error("debug overflow_cpu=0\n", 1,
                       "'overflow_cpu' cannot be 0: the boot CPU takes no role fault");
    expect_parse_error("debug overflow_cpu=1024\n", 1,
                       "'overflow_cpu' must be in 0..1023, not 1024");
    assert_int_equal(parse("debug overflow_cpu=3\n"), 0);
    assert_int_equal(cfg.overflow_cpu, 3);
    assert_int_equal(cfg.fault_cpu, -1);
    assert_int_equal(cfg.log_fault_cpu, -1);
    expect_parse_error("debug log_fault_cpu=0\n", 1,
                       "'log_fault_cpu' cannot be 0: the boot CPU takes no role fault");
    assert_int_equal(parse("debug log_fault_cpu=2 overflow_cpu=1\n"), 0);
    assert_int_equal(cfg.log_fault_cpu, 2);
    assert_int_equal(cfg.overflow_cpu, 1);
    expect_parse_error("debug slow_trap_ms=60001\n", 1,
                       "'slow_trap_ms' must be in 0..60000, not 60001");
    assert_int_equal(parse("debug slow_trap_ms=0\n"), 0);
    assert_int_equal(cfg.slow_trap_ms, 0);
}

/* ---- limits, several errors ---- */

static void test_err_too_many_partitions(void **state)
{
    (void)state;
    static char text[4096];
    size_t n = 0;
    for (unsigned i = 0; i <= CONFIG_MAX_PARTITIONS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "partition name=p%u cpus=%u memory=2M\n",
                              i, i + 1);
    expect_parse_error(text, 17, "too many partitions (at most 16)");
    assert_int_equal(cfg.npartitions, CONFIG_MAX_PARTITIONS);
    assert_string_equal(cfg.partitions[15].name, "p15");
}

static void test_err_too_many_side_cores(void **state)
{
    (void)state;
    static char text[65536];
    size_t n = 0;
    for (unsigned i = 0; i <= CONFIG_MAX_CPUS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "sidecore cpu=%u services=pt\n",
                              i % CONFIG_MAX_CPUS);
    expect_parse_error(text, 1025, "too many side cores (at most 1024)");
    assert_int_equal(cfg.nsidecores, CONFIG_MAX_CPUS);
}

/* Cores far above 255 (x2APIC machines) are ordinary cores; a partition wider than the
 * vCPU limit is refused by name, on its line. */
static void test_many_cores_and_partition_width(void **state)
{
    (void)state;
    const struct machine_facts big = {1024, 64 * GiB};
    expect_valid("sidecore cpu=0 services=pt,irq,io\n"
                 "partition name=high cpus=256-287 memory=64M\n"
                 "partition name=top cpus=1000-1023 memory=64M\n",
                 &big);
    assert_true(cpu_set_has(&cfg.partitions[1].cpus, 1023));
    assert_int_equal(config_cpu_role(&cfg, 1023).kind, ROLE_GUEST);
    expect_check_error("sidecore cpu=0 services=pt,irq,io\n"
                       "partition name=wide cpus=1-65 memory=64M\n",
                       &big, 2,
                       "partition 'wide' has 65 cores; a partition may have at most 64 vCPUs");
    expect_parse_error("partition name=p cpus=1024 memory=2M\n", 1,
                       "cpu 1024 in 'cpus' is out of range (0..1023)");
}

/* devices=: PCI functions as lspci -D prints them, with or without the segment. */
static void test_devices(void **state)
{
    (void)state;
    expect_valid(SC0 "boot iommu=off\n"
                     "partition name=a cpus=1 memory=16M devices=00:02.0,0001:3b:1f.7,ff:00.1\n",
                 &machine4);
    const struct cfg_partition *p = &cfg.partitions[0];
    assert_int_equal(p->ndevices, 3);
    assert_int_equal(p->devices[0].segment, 0);
    assert_int_equal(p->devices[0].bdf, 0x0010);
    assert_int_equal(p->devices[1].segment, 1);
    assert_int_equal(p->devices[1].bdf, 0x3b << 8 | 0x1f << 3 | 7);
    assert_int_equal(p->devices[2].bdf, 0xff01);
    assert_true(cfg.iommu_off);
    assert_int_equal(cfg.iommu_line, 2);
    expect_valid(SC0 "partition name=a cpus=1 memory=16M\n", &machine4);
    assert_false(cfg.iommu_off);
    assert_int_equal(cfg.partitions[0].ndevices, 0);
}

static void test_err_devices(void **state)
{
    (void)state;
    static const char *const bad[] = {"00:20.0",       "00:02.8", "100:00.0",
                                      "0:0:0:0.0",     "00:02",   "00:02.0.1",
                                      "10000:00:02.0", "zz:00.0", ""};
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        char text[160], msg[200];
        snprintf(text, sizeof(text), SC0 "partition name=a cpus=1 memory=16M devices=%s\n", bad[i]);
        if (!bad[i][0])
            continue; /* an empty value is the lexer's error */
        snprintf(msg, sizeof(msg),
                 "'devices': '%s' is not a PCI function ([segment:]bus:device.function in hex, "
                 "as lspci -D prints it, e.g. 0000:3b:00.0)",
                 bad[i]);
        expect_parse_error(text, 2, msg);
    }
    expect_parse_error(SC0 "partition name=a cpus=1 memory=16M devices=00:02.0,0000:00:02.0\n", 2,
                       "'devices' names 0000:00:02.0 twice");
    expect_parse_error(SC0 "partition name=a cpus=1 memory=16M devices=0:1.0,0:2.0,0:3.0,0:4.0,"
                           "0:5.0,0:6.0,0:7.0,0:8.0,0:9.0\n",
                       2, "'devices': at most 8 PCI functions per partition");
    expect_parse_error(SC0 "boot iommu=maybe\n", 2, "'iommu' must be on or off, not 'maybe'");
}

/* A PCI function has one owner: the second partition that names it is refused. */
static void test_err_device_owned_twice(void **state)
{
    (void)state;
    expect_check_error(SC0 "partition name=a cpus=1 memory=16M devices=00:03.0\n"
                           "partition name=b cpus=2 memory=16M devices=00:04.0,0000:00:03.0\n",
                       &machine4, 3,
                       "partition 'b': PCI function 0000:00:03.0 is already owned by partition "
                       "'a' (line 2)");
}

/* One disk file for two partitions would be one writable device shared across the
 * isolation boundary. */
static void test_err_disk_shared(void **state)
{
    (void)state;
    expect_check_error("sidecore cpu=0 services=pt,irq,io\n"
                       "partition name=writer cpus=1 memory=16M disk=shared.img\n"
                       "partition name=reader cpus=2 memory=16M disk=other.img\n"
                       "partition name=spy cpus=3 memory=16M disk=shared.img\n",
                       &machine4, 4,
                       "partition 'spy': disk 'shared.img' is already the disk of partition "
                       "'writer' (line 2); each partition needs its own disk file");
    expect_check_error("sidecore cpu=0 services=pt,irq,io\n"
                       "partition name=reader cpus=1 memory=16M disk=other.elf\n"
                       "partition name=victim cpus=2 memory=16M image=other.elf\n",
                       &machine4, 2,
                       "partition 'reader': disk 'other.elf' is the image of "
                       "partition 'victim' (line 3)");
    /* an initrd holds what its partition boots with (keys, configuration) */
    expect_check_error("sidecore cpu=0 services=pt,irq,io\n"
                       "partition name=reader cpus=1 memory=16M disk=ram.cpio\n"
                       "partition name=victim cpus=2 memory=64M image=bzImage initrd=ram.cpio\n",
                       &machine4, 2,
                       "partition 'reader': disk 'ram.cpio' is the initrd of "
                       "partition 'victim' (line 3)");
    /* a partition's own image as its disk exposes nothing of anyone else */
    expect_valid("sidecore cpu=0 services=pt,irq,io\n"
                 "partition name=self cpus=1 memory=16M image=a.elf disk=a.elf\n",
                 &machine4);
}

/* A Linux image takes an initrd; an initrd alone has nobody to hand it to. */
static void test_initrd_needs_an_image(void **state)
{
    (void)state;
    expect_valid("sidecore cpu=0 services=pt,irq,io\n"
                 "partition name=linux cpus=1-2 memory=64M image=bzImage initrd=initrd.cpio "
                 "args=\"console=hvc0 rdinit=/init\"\n",
                 &machine4);
    assert_string_equal(cfg.partitions[0].initrd, "initrd.cpio");
    assert_string_equal(cfg.partitions[0].args, "console=hvc0 rdinit=/init");
    expect_check_error("sidecore cpu=0 services=pt,irq,io\n"
                       "partition name=lost cpus=1 memory=16M initrd=initrd.cpio\n",
                       &machine4, 2,
                       "partition 'lost': initrd 'initrd.cpio' without an image to hand it to");
    expect_parse_error("partition name=p cpus=1 memory=2M initrd=bad*name\n", 1,
                       "'initrd' must be 1 to 63 characters of A-Z a-z 0-9 . _ / -, not "
                       "'bad*name'");
}

static void test_too_many_errors(void **state)
{
    (void)state;
    static char text[4096];
    size_t n = 0;
    for (unsigned i = 0; i < 20; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "bogus%u\n", i);
    assert_int_equal(parse(text), -E_INVAL);
    assert_int_equal(errs.count, CONFIG_MAX_ERRORS);
    assert_int_equal(errs.dropped, 4);
    expect_error_at(15, 16,
                    "unknown directive 'bogus15' (expected console, boot, sidecore, partition or "
                    "debug)");
    /* validation keeps counting into dropped */
    assert_int_equal(config_validate(&cfg, &machine4, &errs), -E_INVAL);
    assert_int_equal(errs.count, CONFIG_MAX_ERRORS);
    assert_int_equal(errs.dropped, 7);
}

static void test_several_errors(void **state)
{
    (void)state;
    static const char text[] = "console port=99999 log=loud\n"         /* 1: two errors */
                               "sidecore cpu=0 services=pt\n"          /* 2: fine */
                               "\n"                                    /* 3 */
                               "partition name=ok cpus=1 memory=2M\n"  /* 4: fine */
                               "partition name=x cpus=3-2 memory=5M\n" /* 5: two errors */
                               "frobnicate\n"                          /* 6 */
                               "sidecore cpu=1\n";                     /* 7 */
    assert_int_equal(parse(text), -E_INVAL);
    assert_int_equal(errs.count, 6);
    expect_error_at(0, 1, "'port' must be in 1..65535, not 99999");
    expect_error_at(1, 1, "'log' must be debug, info, warn or error, not 'loud'");
    expect_error_at(2, 5, "'cpus' has a reversed range '3-2' (write the lower cpu first)");
    expect_error_at(3, 5, "'memory' must be a nonzero multiple of 2M, not '5M'");
    expect_error_at(4, 6,
                    "unknown directive 'frobnicate' (expected console, boot, sidecore, partition "
                    "or debug)");
    expect_error_at(5, 7, "missing required key 'services' for 'sidecore'");
    /* only the good lines are stored */
    assert_int_equal(cfg.console_port, 0x3f8);
    assert_int_equal(cfg.nsidecores, 1);
    assert_int_equal(cfg.npartitions, 1);
    assert_string_equal(cfg.partitions[0].name, "ok");
    assert_int_equal(cfg.last_line, 7);

    /* validation appends its own errors after the parse errors */
    assert_int_equal(config_validate(&cfg, &machine4, &errs), -E_INVAL);
    assert_int_equal(errs.count, 8);
    expect_error_at(6, 7, "service 'irq' is not placed on any side core");
    expect_error_at(7, 7, "service 'io' is not placed on any side core");
}

/* ---- validation ---- */

static void test_check_core_missing(void **state)
{
    (void)state;
    expect_check_error(SC0 "sidecore cpu=9 services=pt\n", &machine4, 2,
                       "core 9 does not exist (this machine has 4 cores)");
    /* the lowest missing core of a partition is named once */
    expect_check_error(SC0 "partition name=p cpus=2-7,12 memory=2M\n", &machine4, 2,
                       "core 4 does not exist (this machine has 4 cores)");
    const struct machine_facts one = {1, GiB};
    expect_check_error(SC0 "partition name=p cpus=1 memory=2M\n", &one, 2,
                       "core 1 does not exist (this machine has 1 core)");
}

static void test_check_side_core_in_partition(void **state)
{
    (void)state;
    expect_check_error(SC0 "sidecore cpu=2 services=io\n"
                           "partition name=bench cpus=1-3 memory=2M\n",
                       &machine4, 3, "core 2 is both a side core and in partition 'bench'");
}

static void test_check_partitions_overlap(void **state)
{
    (void)state;
    expect_check_error(SC0 "partition name=a cpus=1,3 memory=2M\n"
                           "partition name=b cpus=2-3 memory=2M\n",
                       &machine4, 3, "core 3 is in partitions 'a' and 'b'");
}

static void test_check_side_core_twice(void **state)
{
    (void)state;
    expect_check_error(SC0 "\n\nsidecore cpu=1 services=pt\nsidecore cpu=1 services=io\n",
                       &machine4, 5, "core 1 is listed as a side core twice (first on line 4)");
}

static void test_check_boot_cpu_guest(void **state)
{
    (void)state;
    expect_check_error("sidecore cpu=1 services=pt,irq,io\npartition name=p cpus=0,2 memory=2M\n",
                       &machine4, 2, "core 0 is the boot CPU and cannot be a guest core");
}

static void test_check_partition_memory(void **state)
{
    (void)state;
    const struct machine_facts m = {4, (31 * GiB) / 10};
    expect_check_error(SC0 "partition name=bench cpus=1-3 memory=64G\n", &m, 2,
                       "partition 'bench': 64G of memory requested, 3.1G free");
    const struct machine_facts exact = {4, 64 * MiB};
    expect_valid(SC0 "partition name=a cpus=1 memory=64M\n", &exact);
}

static void test_check_total_memory(void **state)
{
    (void)state;
    const struct machine_facts m = {4, 64 * MiB};
    expect_check_error(SC0 "partition name=a cpus=1 memory=32M\n"
                           "partition name=b cpus=2 memory=32M\n"
                           "partition name=c cpus=3 memory=32M\n# end\n",
                       &m, 4, "partitions need 96M in total, 64M free");
    /* one partition too big: its own error and the total */
    assert_int_equal(parse(SC0 "partition name=a cpus=1 memory=128M\n"
                               "partition name=b cpus=2 memory=2M\n"),
                     0);
    assert_int_equal(config_validate(&cfg, &m, &errs), -E_INVAL);
    assert_int_equal(errs.count, 2);
    expect_error_at(0, 2, "partition 'a': 128M of memory requested, 64M free");
    expect_error_at(1, 3, "partitions need 130M in total, 64M free");
}

static void test_check_partition_twice(void **state)
{
    (void)state;
    expect_check_error(SC0
                       "\npartition name=x cpus=1 memory=2M\npartition name=x cpus=2 memory=2M\n",
                       &machine4, 4, "partition 'x' is defined twice (first on line 3)");
}

static void test_check_service_missing(void **state)
{
    (void)state;
    expect_check_error("sidecore cpu=0 services=pt,irq\npartition name=p cpus=1 memory=2M\n\n",
                       &machine4, 3, "service 'io' is not placed on any side core");
    assert_int_equal(parse("# nothing\n"), 0);
    assert_int_equal(config_validate(&cfg, &machine4, &errs), -E_INVAL);
    assert_int_equal(errs.count, 3);
    expect_error_at(0, 1, "service 'pt' is not placed on any side core");
    expect_error_at(1, 1, "service 'irq' is not placed on any side core");
    expect_error_at(2, 1, "service 'io' is not placed on any side core");
}

static void test_check_several(void **state)
{
    (void)state;
    static const char text[] = "sidecore cpu=0 services=pt,irq\n"      /* 1 */
                               "sidecore cpu=5 services=io\n"          /* 2 */
                               "partition name=a cpus=0-1 memory=2M\n" /* 3 */
                               "partition name=a cpus=1 memory=2M\n"   /* 4 */
                               "# end\n";                              /* 5 */
    assert_int_equal(parse(text), 0);
    assert_int_equal(config_validate(&cfg, &machine4, &errs), -E_INVAL);
    assert_int_equal(errs.count, 4);
    expect_error_at(0, 2, "core 5 does not exist (this machine has 4 cores)");
    expect_error_at(1, 3, "core 0 is the boot CPU and cannot be a guest core");
    expect_error_at(2, 4, "partition 'a' is defined twice (first on line 3)");
    expect_error_at(3, 4, "core 1 is in partitions 'a' and 'a'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full_example),
        cmocka_unit_test(test_values_and_choices),
        cmocka_unit_test(test_comments_quotes_crlf),
        cmocka_unit_test(test_service_on_several_side_cores),
        cmocka_unit_test(test_side_cores_only),
        cmocka_unit_test(test_default_file),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_cpu_set),
        cmocka_unit_test(test_cpu_roles),
        cmocka_unit_test(test_err_long_line),
        cmocka_unit_test(test_err_nul_byte),
        cmocka_unit_test(test_err_control_character),
        cmocka_unit_test(test_err_unknown_directive),
        cmocka_unit_test(test_err_unknown_key),
        cmocka_unit_test(test_err_key_twice),
        cmocka_unit_test(test_err_missing_equals),
        cmocka_unit_test(test_err_missing_key),
        cmocka_unit_test(test_err_missing_value),
        cmocka_unit_test(test_err_unterminated_quote),
        cmocka_unit_test(test_err_unknown_escape),
        cmocka_unit_test(test_err_text_after_quote),
        cmocka_unit_test(test_err_quote_inside_bare_value),
        cmocka_unit_test(test_err_missing_required_key),
        cmocka_unit_test(test_err_repeated_single_directives),
        cmocka_unit_test(test_err_bad_number),
        cmocka_unit_test(test_err_number_overflow),
        cmocka_unit_test(test_err_port_range),
        cmocka_unit_test(test_err_log_level),
        cmocka_unit_test(test_err_boot_values),
        cmocka_unit_test(test_err_sidecore_cpu),
        cmocka_unit_test(test_err_services),
        cmocka_unit_test(test_err_poll),
        cmocka_unit_test(test_err_adaptive_only),
        cmocka_unit_test(test_err_partition_name),
        cmocka_unit_test(test_err_cpu_list),
        cmocka_unit_test(test_err_memory_size),
        cmocka_unit_test(test_err_image),
        cmocka_unit_test(test_lapic_key),
        cmocka_unit_test(test_err_debug),
        cmocka_unit_test(test_err_too_many_partitions),
        cmocka_unit_test(test_err_too_many_side_cores),
        cmocka_unit_test(test_too_many_errors),
        cmocka_unit_test(test_many_cores_and_partition_width),
        cmocka_unit_test(test_err_disk_shared),
        cmocka_unit_test(test_initrd_needs_an_image),
        cmocka_unit_test(test_several_errors),
        cmocka_unit_test(test_check_core_missing),
        cmocka_unit_test(test_check_side_core_in_partition),
        cmocka_unit_test(test_check_partitions_overlap),
        cmocka_unit_test(test_check_side_core_twice),
        cmocka_unit_test(test_check_boot_cpu_guest),
        cmocka_unit_test(test_check_partition_memory),
        cmocka_unit_test(test_check_total_memory),
        cmocka_unit_test(test_check_partition_twice),
        cmocka_unit_test(test_check_service_missing),
        cmocka_unit_test(test_check_several),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_err_devices),
        cmocka_unit_test(test_err_device_owned_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
