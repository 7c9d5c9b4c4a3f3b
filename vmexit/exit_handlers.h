/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The exit handlers (exit_*.c), called by exit_dispatch only, and the helpers they share.
 * Each counts its exit and decides; the backend only carries out. */
#ifndef VMEXIT_EXIT_HANDLERS_H
#define VMEXIT_EXIT_HANDLERS_H

#include "vmexit/exit.h"

enum exit_action exit_cpuid(const struct exit_ctx *c, const struct vcpu_exit *e);
enum exit_action exit_hypercall(const struct exit_ctx *c, const struct vcpu_exit *e);
enum exit_action exit_msr(const struct exit_ctx *c, const struct vcpu_exit *e);
enum exit_action exit_io(const struct exit_ctx *c, const struct vcpu_exit *e);
enum exit_action exit_exception(const struct exit_ctx *c, const struct vcpu_exit *e);
enum exit_action exit_cache_flush(const struct exit_ctx *c, const struct vcpu_exit *e);
enum exit_action exit_xsetbv(const struct exit_ctx *c, const struct vcpu_exit *e);
enum exit_action exit_stage2_fault(const struct exit_ctx *c, const struct vcpu_exit *e);

/* Stop the partition with a formatted reason; returns EXIT_LEAVE. */
enum exit_action exit_stop(const struct exit_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Stop for an exit without a handler, naming the vendor's exit code and information. */
enum exit_action exit_unexpected(const struct exit_ctx *c, const struct vcpu_exit *e);
/* One formatted warning line. */
/* IA32_APIC_BASE as the guest reads it (exit_msr.c). */
uint64_t msr_apic_base(bool x2apic, unsigned vcpu_id);
void exit_warn(const struct exit_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* #GP(0), as the CPU raises it for an instruction the guest may not use. */
void exit_inject_gp(const struct exit_ctx *c);

#endif
