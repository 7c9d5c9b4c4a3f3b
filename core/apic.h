/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Local APIC access in xAPIC (MMIO) or x2APIC (MSR) mode, chosen once at boot. */
#ifndef CORE_APIC_H
#define CORE_APIC_H

#include <stdbool.h>
#include <stdint.h>

/* Boot CPU: pick x2APIC if the CPU has it, remember the MMIO base otherwise. */
void apic_init_bsp(uint64_t mmio_base);
/* Every CPU (the boot CPU too): switch to the chosen mode and software-enable. */
void apic_init_cpu(void);
bool apic_x2apic_mode(void);
uint32_t apic_read_id(void);
void apic_eoi(void);
/* Each returns 0, or -E_TIMEDOUT if the previous IPI is still pending delivery. */
int apic_send_init(uint32_t apic_id);
int apic_send_sipi(uint32_t apic_id, uint8_t page);
int apic_send_fixed(uint32_t apic_id, uint8_t vector);
int apic_send_nmi(uint32_t apic_id);
/* Is vector in service (delivered, not yet ended by an EOI)? */
bool apic_in_service(uint8_t vector);
/* The timer's input clock in Hz (divide by 1), once apic_timer_calibrate ran; else 0. */
uint64_t apic_timer_hz(void);
uint64_t apic_mmio_base(void);
/* Boot CPU: measure the LAPIC timer against the TSC, for apic_sleep_us. */
void apic_timer_calibrate(void);
void apic_sleep_us(uint64_t us);
/* Stop and mask this core's LAPIC timer (a guest may leave it running). */
void apic_timer_stop(void);
/* After a guest left this core: take back the LAPIC state it could set natively. The task
 * priority back to 0 and the APIC software-enabled (else the hypervisor's wake-ups would be
 * held off), every local interrupt source masked, the timer stopped, and each interrupt the
 * guest left in service ended. */
void apic_reclaim_from_guest(void);
/* A guest's write of an LVT (x2APIC MSR msr) that the exit policy accepted: 0, or -E_INVAL
 * if this LAPIC has no such LVT. */
int apic_write_guest_lvt(uint32_t msr, uint32_t value);

#endif
