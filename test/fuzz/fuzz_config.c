/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Fuzzes the configuration parser and validator, checking what callers rely on afterwards. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/config.h"
#include "core/klib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "test/fuzz/fuzz_input.h"

static void check_errors(const struct cfg_errors *errs, const struct config *cfg)
{
    CHECK(errs->count <= CONFIG_MAX_ERRORS);
    for (unsigned i = 0; i < errs->count; i++) {
        const struct cfg_error *e = &errs->e[i];
        CHECK(memchr(e->msg, '\0', sizeof(e->msg)) != NULL);
        CHECK(e->msg[0] != '\0');
        CHECK(e->line <= cfg->last_line);
    }
}

static bool name_ok(const char *s, size_t size, const char *extra)
{
    size_t n = strnlen(s, size);
    if (n == 0 || n == size)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              strchr(extra, c)))
            return false;
    }
    return true;
}

static void check_config(const struct config *cfg)
{
    CHECK(cfg->nsidecores <= CONFIG_MAX_CPUS);
    CHECK(cfg->npartitions <= CONFIG_MAX_PARTITIONS);
    CHECK(cfg->console_port != 0);
    CHECK(cfg->ap_timeout_ms >= 1 && cfg->ap_timeout_ms <= 60000);
    CHECK(cfg->offline_cpu == -1 || (cfg->offline_cpu > 0 && cfg->offline_cpu < CONFIG_MAX_CPUS));
    CHECK(cfg->fault_cpu >= -1 && cfg->fault_cpu < CONFIG_MAX_CPUS);
    CHECK(cfg->overflow_cpu == -1 ||
          (cfg->overflow_cpu > 0 && cfg->overflow_cpu < CONFIG_MAX_CPUS));
    CHECK(cfg->log_fault_cpu == -1 ||
          (cfg->log_fault_cpu > 0 && cfg->log_fault_cpu < CONFIG_MAX_CPUS));
    for (unsigned i = 0; i < cfg->nsidecores; i++) {
        const struct cfg_sidecore *sc = &cfg->sidecores[i];
        CHECK(sc->cpu < CONFIG_MAX_CPUS);
        CHECK(sc->services != 0 && sc->services < (1u << SERVICE_COUNT));
        CHECK(sc->spin_iterations >= 1 && sc->sleep_us >= 1);
        CHECK(sc->line >= 1 && sc->line <= cfg->last_line);
        struct cpu_role r = config_cpu_role(cfg, sc->cpu);
        CHECK(r.kind == ROLE_SIDECORE && r.index <= i);
    }
    for (unsigned i = 0; i < cfg->npartitions; i++) {
        const struct cfg_partition *p = &cfg->partitions[i];
        CHECK(p->memory != 0 && p->memory % (2 * MiB) == 0);
        CHECK(name_ok(p->name, sizeof(p->name), "_-"));
        CHECK(p->image[0] == '\0' || name_ok(p->image, sizeof(p->image), "._/-"));
        CHECK(memchr(p->args, '\0', sizeof(p->args)) != NULL);
        CHECK(cpu_set_count(&p->cpus) >= 1);
        CHECK(p->line >= 1 && p->line <= cfg->last_line);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config cfg;
    static struct cfg_errors errs;
    int r = config_parse((const char *)data, size, &cfg, &errs);
    CHECK(r == 0 || r == -E_INVAL);
    CHECK((r == 0) == (errs.count == 0 && errs.dropped == 0));
    CHECK(errs.dropped == 0 || errs.count == CONFIG_MAX_ERRORS);
    check_errors(&errs, &cfg);
    check_config(&cfg);

    /* the machine: up to 256 cores, up to 16G free in 2M steps (or odd sizes) */
    struct machine_facts m = {1, 0};
    if (size >= 1)
        m.ncpus = 1u + data[0];
    if (size >= 3)
        m.free_bytes = ((uint64_t)data[1] << 8 | data[2]) * (2 * MiB) + (data[1] & 1 ? 4096 : 0);
    unsigned before = errs.count + errs.dropped;
    int v = config_validate(&cfg, &m, &errs);
    CHECK(v == 0 || v == -E_INVAL);
    CHECK((v == 0) == (errs.count + errs.dropped == before));
    check_errors(&errs, &cfg);
    return 0;
}
