/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Partitions: guest memory, image, nested tables and vCPUs, built by the boot
 * CPU before any guest core starts; then run, watched and reported. */
#ifndef VMEXIT_PARTITION_H
#define VMEXIT_PARTITION_H

#include <stdint.h>

#include "core/refusal.h"
#include "vmexit/vcpu.h"

struct palloc;
struct cfg_partition;
struct boot_file;

extern struct partition partitions[];
extern unsigned partition_count;

/* Boot CPU, before any AP starts: take partition index from its configuration
 * and check it (sizes, the ELF image against the partition's image area).
 * Nothing is written to its memory yet. -errno with why (may be NULL) filled on refusal. */
/* The loaded files a partition's configuration names (NULL: not named). */
struct partition_files {
    const struct boot_file *image, *disk, *initrd;
};
int partition_check(unsigned index, const struct cfg_partition *cfg, uint64_t base,
                    const struct partition_files *files, struct refusal *why);
/* Boot CPU, with the APs parked: zero its memory, load the image, write the
 * boot information, the GDT and the guest's identity map, map the nested
 * tables, prepare the vCPUs. (Heavy memory work waits until the firmware's
 * spinning APs are parked: under an emulator they slow the boot CPU badly.)
 * -errno with why (may be NULL) filled on refusal. */
int partition_build(unsigned index, struct palloc *pa, struct refusal *why);
/* The vCPU pinned to a physical CPU, or NULL. */
struct vcpu *partition_vcpu_of_cpu(unsigned cpu);
/* Guest core: enter the vCPU and run it until it exits or is stopped. */
void partition_run_vcpu(struct vcpu *v);
/* Boot CPU: wait until every partition with an image finished or stopped;
 * stop the rest at the time-out. idle() runs between checks (a side-core pass
 * when the boot CPU is a side core, else a sleep). */
void partition_wait_all(uint32_t timeout_ms, void (*idle)(void));
/* Per-partition exit counters and RESULT lines; returns true if all passed. */
bool partition_report(void);
/* Stop a partition that is still running: record why and kick its vCPUs (all but
 * except_vcpu, -1 for none) out of their guests by NMI. false if it had already
 * stopped or finished. */
bool partition_stop(struct partition *p, const char *reason, int except_vcpu);
/* A guest core tells the boot CPU that a partition changed state. */
void partition_notify_coordinator(void);
const char *partition_state_name(uint32_t state);

/* Boot CPU: each partition's line of the memory layout (core/report.h). */
void partition_report_memory(void);

#endif
