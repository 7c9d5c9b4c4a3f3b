/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The configuration file: parsed and validated with line-numbered errors (docs/configuration.md) */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/log_level.h"

#define CONFIG_MAX_CPUS 1024
#define CONFIG_MAX_PARTITIONS 16
#define CONFIG_MAX_PARTITION_CPUS 64 /* vCPUs of one partition (vmexit/vcpu.h holds them) */
#define CONFIG_MAX_ERRORS 16
#define CONFIG_MAX_DEVICES 8 /* PCI functions one partition owns */

enum service { SERVICE_PT, SERVICE_IRQ, SERVICE_IO, SERVICE_COUNT };
const char *service_name(enum service s); /* "pt", "irq", "io" */

enum poll_policy { POLL_SPIN, POLL_ADAPTIVE };
const char *poll_policy_name(enum poll_policy p); /* "spin", "adaptive" */

enum shutdown_method { SHUTDOWN_AUTO, SHUTDOWN_DEBUG_EXIT, SHUTDOWN_RESET, SHUTDOWN_HALT };

/* A set of CPU indices 0..CONFIG_MAX_CPUS-1; indices outside are never members. */
struct cpu_set {
    uint64_t bits[CONFIG_MAX_CPUS / 64];
};
bool cpu_set_has(const struct cpu_set *s, unsigned cpu);
void cpu_set_add(struct cpu_set *s, unsigned cpu);
unsigned cpu_set_count(const struct cpu_set *s);

struct cfg_sidecore {
    unsigned cpu;
    unsigned services; /* bit (1u << enum service) */
    enum poll_policy poll;
    uint32_t spin_iterations;
    uint32_t sleep_us;
    unsigned line;
};

/* A PCI function by its address: segment, and bus << 8 | device << 3 | function. */
struct cfg_pci_function {
    uint16_t segment;
    uint16_t bdf;
};

struct cfg_partition {
    char name[32];
    struct cpu_set cpus;
    uint64_t memory;
    char image[64];         /* "" when none */
    char disk[64];          /* the io service's block device image; "" when none */
    char initrd[64];        /* a Linux image's initial RAM disk; "" when none */
    bool lapic_passthrough; /* lapic=passthrough: in xAPIC mode the guest may reach the ICR */
    char args[256];         /* the guest's command line (a Linux image: the kernel's) */
    unsigned ndevices;      /* devices=: the PCI functions handed to it */
    struct cfg_pci_function devices[CONFIG_MAX_DEVICES];
    unsigned line;
};

struct config {
    uint16_t console_port;
    enum log_level log_level;
    uint32_t ap_timeout_ms;
    uint32_t run_timeout_ms; /* partitions still running then are stopped */
    enum shutdown_method shutdown;
    bool iommu_off;      /* boot iommu=off: devices handed over without DMA confinement */
    unsigned iommu_line; /* the line that said so, for the warning */
    bool dump_acpi;
    bool dma_canaries; /* debug dma_canaries=yes: pages a device must not reach, checked */
    int offline_cpu;   /* -1: none */
    int fault_cpu;     /* -1: none */
    int silent_cpu;    /* -1: none; else this AP never acknowledges its role (a lost wake-up) */
    int overflow_cpu;  /* -1: none */
    int log_fault_cpu; /* -1: none */
    /* SC_HC_NULL keeps its guest core in the hypervisor this long; 0: off */
    uint32_t slow_trap_ms;
    unsigned nsidecores;
    struct cfg_sidecore sidecores[CONFIG_MAX_CPUS];
    unsigned npartitions;
    struct cfg_partition partitions[CONFIG_MAX_PARTITIONS];
    unsigned last_line; /* number of lines in the file, for end-of-file errors */
};

struct cfg_error {
    unsigned line;
    char msg[160];
};

struct cfg_errors {
    unsigned count;
    unsigned dropped;
    struct cfg_error e[CONFIG_MAX_ERRORS];
};

struct machine_facts {
    unsigned ncpus;
    uint64_t free_bytes;
};

void config_defaults(struct config *cfg);

/* Syntax and per-line checks; collects every error (up to CONFIG_MAX_ERRORS, the rest counted
 * in dropped). Starts from config_defaults() and an empty errs; only lines without errors are
 * stored in cfg. Returns 0 or -E_INVAL. */
int config_parse(const char *text, size_t len, struct config *cfg, struct cfg_errors *errs);

/* Cross-line checks and checks against the machine; appends to errs. Returns 0 or -E_INVAL. */
int config_validate(const struct config *cfg, const struct machine_facts *m,
                    struct cfg_errors *errs);

enum cpu_role_kind { ROLE_UNUSED, ROLE_SIDECORE, ROLE_GUEST };
struct cpu_role {
    enum cpu_role_kind kind;
    unsigned index; /* into sidecores[] or partitions[] */
    unsigned line;
};

/* The first side core line, else the first partition, that names cpu. */
struct cpu_role config_cpu_role(const struct config *cfg, unsigned cpu);

#endif
