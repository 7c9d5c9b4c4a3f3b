/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* sidecore-check: a configuration checked on the host with the hypervisor's own parser and
 * validation (core/config.c, compiled for the host), before any machine is booted.
 *
 *   sidecore-check FILE [--cpus N] [--memory SIZE] [--acpi DIR]
 *
 * Errors are printed "FILE:LINE: message", with the file name as given; the status is 0 or 1
 * (2: the command line itself is wrong). Without a machine description the checks that need
 * one (which cores exist, how much memory is free) are left out and the output says so.
 * --acpi DIR takes the target's ACPI tables: `tools/sidecore dump-acpi` files (SIG@ADDR.bin)
 * or a copy of Linux's /sys/firmware/acpi/tables; the CPU count is the MADT's enabled CPUs,
 * read by the hypervisor's own ACPI parser (core/acpi.c). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/acpi.h"
#include "core/config.h"

#define MAX_CONFIG_BYTES (1u << 20)
#define MAX_TABLES 64
#define SYNTHETIC_BASE 0x100000ull /* where tables without addresses are placed */

struct table {
    uint64_t pa;
    uint8_t *bytes;
    uint32_t len;
};

static struct table tables[MAX_TABLES + 2];
static unsigned ntables;
static struct config cfg;
static struct cfg_errors errs;
static struct acpi_info acpi;

static const void *map_table(void *ctx, uint64_t pa, uint64_t len)
{
    (void)ctx;
    for (unsigned i = 0; i < ntables; i++)
        if (pa >= tables[i].pa && pa - tables[i].pa <= tables[i].len &&
            len <= tables[i].len - (pa - tables[i].pa))
            return tables[i].bytes + (pa - tables[i].pa);
    return NULL;
}

static uint8_t *read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(max + 1);
    *len = buf ? fread(buf, 1, max + 1, f) : 0;
    fclose(f);
    if (buf && *len > max) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    return buf;
}

/* false when the folder holds more tables than are read (MAX_TABLES); the two made-up root
 * tables of a sysfs copy have room of their own */
static bool add_table(uint64_t pa, uint8_t *bytes, size_t len, unsigned limit)
{
    if (ntables >= limit)
        return false;
    tables[ntables++] = (struct table){pa, bytes, (uint32_t)len};
    return true;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void checksum(uint8_t *p, size_t len, size_t at)
{
    uint8_t sum = 0;
    p[at] = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    p[at] = (uint8_t)(0x100 - sum);
}

/* Tables without addresses (Linux's sysfs copy): an RSDP and an XSDT made up to list them,
 * so the same parser reads them the same way. */
static uint64_t synthesize_root(void)
{
    unsigned n = ntables;
    static uint8_t xsdt[36 + 8 * MAX_TABLES], rsdp[36];
    memcpy(xsdt, "XSDT", 4);
    xsdt[8] = 1;
    memcpy(xsdt + 10, "SCCHCK", 6);
    for (unsigned i = 0; i < n; i++)
        put_le(xsdt + 36 + 8 * i, tables[i].pa, 8);
    put_le(xsdt + 4, 36 + 8 * n, 4);
    checksum(xsdt, 36 + 8 * n, 9);
    uint64_t xsdt_pa = SYNTHETIC_BASE - 0x10000;
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "SCCHCK", 6);
    rsdp[15] = 2;
    put_le(rsdp + 20, 36, 4);
    put_le(rsdp + 24, xsdt_pa, 8);
    checksum(rsdp, 20, 8);
    checksum(rsdp, 36, 32);
    add_table(xsdt_pa, xsdt, 36 + 8 * n, MAX_TABLES + 2);
    add_table(SYNTHETIC_BASE - 0x20000, rsdp, sizeof(rsdp), MAX_TABLES + 2);
    return SYNTHETIC_BASE - 0x20000;
}

/* The CPUs the MADT of DIR lists as enabled; -1 after saying why not. */
static long acpi_cpus(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "sidecore-check: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    uint64_t rsdp = 0, next = SYNTHETIC_BASE;
    unsigned with_address = 0, without = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char sig[5] = {0};
        uint64_t pa = 0;
        const char *at = strchr(e->d_name, '@');
        bool has_address = at && sscanf(at + 1, "%" SCNx64, &pa) == 1;
        /* a dump's SIG@ADDR.bin, or sysfs's SIG (SSDT1 and the like too); nothing else */
        if (e->d_name[0] == '.' || strlen(e->d_name) < 4 || (at && !has_address) ||
            (!at && strlen(e->d_name) > 5))
            continue;
        memcpy(sig, e->d_name, 4);
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) || !S_ISREG(st.st_mode))
            continue; /* sysfs's data/ and dynamic/ folders */
        size_t len;
        uint8_t *bytes = read_file(path, 16u << 20, &len);
        if (!bytes || len < 8) {
            free(bytes);
            continue;
        }
        if (!has_address) {
            pa = next;
            next += (len + 0xfff) & ~(size_t)0xfff;
        }
        if (!add_table(pa, bytes, len, MAX_TABLES)) {
            fprintf(stderr, "sidecore-check: %s: more than %u tables\n", dir, MAX_TABLES);
            free(bytes);
            closedir(d);
            return -1;
        }
        with_address += has_address;
        without += !has_address;
        if (!strcmp(sig, "RSDP") || (len >= 20 && !memcmp(bytes, "RSD PTR ", 8)))
            rsdp = pa;
    }
    closedir(d);
    if (with_address && without) {
        fprintf(stderr,
                "sidecore-check: %s: tables with and without addresses (SIG@ADDR.bin "
                "beside SIG): one layout or the other\n",
                dir);
        return -1;
    }
    if (!with_address)
        rsdp = synthesize_root();
    struct refusal why;
    struct acpi_mem mem = {NULL, map_table};
    if (!rsdp || acpi_parse(&mem, rsdp, &acpi, &why)) {
        fprintf(stderr, "sidecore-check: %s: the ACPI tables do not parse: %s\n", dir,
                rsdp ? why.text : "no RSDP");
        return -1;
    }
    if (acpi.ncpus == 0) {
        fprintf(stderr, "sidecore-check: %s: the MADT lists no enabled CPU\n", dir);
        return -1;
    }
    return (long)acpi.ncpus;
}

/* "64G", "512M", "1048576": bytes, or 0 if it is not a size. */
static uint64_t parse_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    unsigned shift = 0;
    switch (*end) {
    case 'K':
    case 'k':
        shift = 10;
        end++;
        break;
    case 'M':
    case 'm':
        shift = 20;
        end++;
        break;
    case 'G':
    case 'g':
        shift = 30;
        end++;
        break;
    case 'T':
    case 't':
        shift = 40;
        end++;
        break;
    default:
        break;
    }
    if (end == s || *end || v == 0 || v > (UINT64_MAX >> shift))
        return 0;
    return (uint64_t)v << shift;
}

static int usage(void)
{
    fprintf(stderr, "usage: sidecore-check FILE [--cpus N] [--memory SIZE] [--acpi DIR]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *file = NULL, *acpi_dir = NULL;
    long cpus = 0;
    uint64_t memory = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cpus") && i + 1 < argc) {
            char *end;
            cpus = strtol(argv[++i], &end, 0);
            if (*end || cpus <= 0 || cpus > CONFIG_MAX_CPUS)
                return usage();
        } else if (!strcmp(argv[i], "--memory") && i + 1 < argc) {
            if (!(memory = parse_size(argv[++i])))
                return usage();
        } else if (!strcmp(argv[i], "--acpi") && i + 1 < argc) {
            acpi_dir = argv[++i];
        } else if (argv[i][0] != '-' && !file) {
            file = argv[i];
        } else {
            return usage();
        }
    }
    if (!file || (acpi_dir && cpus)) /* the tables' count or the one given, not both */
        return usage();
    size_t len;
    char *text = (char *)read_file(file, MAX_CONFIG_BYTES, &len);
    if (!text) {
        fprintf(stderr, "%s: %s\n", file, strerror(errno));
        return 1;
    }
    if (acpi_dir && !cpus && (cpus = acpi_cpus(acpi_dir)) < 0)
        return 1;
    config_defaults(&cfg);
    int rc = config_parse(text, len, &cfg, &errs);
    /* what is not known about the machine is taken as no limit: those checks are left out */
    struct machine_facts facts = {cpus ? (unsigned)cpus : CONFIG_MAX_CPUS,
                                  memory ? memory : UINT64_MAX};
    if (!rc)
        config_validate(&cfg, &facts, &errs);
    for (unsigned i = 0; i < errs.count; i++)
        printf("%s:%u: %s\n", file, errs.e[i].line, errs.e[i].msg);
    if (errs.dropped)
        printf("%s: %u more errors not shown\n", file, errs.dropped);
    if (errs.count || errs.dropped)
        return 1;
    char cpu_text[48] = "no CPU count given (--cpus or --acpi)";
    if (cpus)
        snprintf(cpu_text, sizeof(cpu_text), "%ld CPUs", cpus);
    printf("%s: ok: %u side cores, %u partitions; checked with %s and %s\n", file, cfg.nsidecores,
           cfg.npartitions, cpu_text,
           memory ? "the memory given" : "no memory size given (--memory)");
    return 0;
}
