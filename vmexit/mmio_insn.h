/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The instruction behind a trapped access to an emulated device register (MMIO). SVM as
 * QEMU emulates it, and VMX, give only the faulting guest-physical address: the access's
 * size, direction and register come from the instruction bytes, decoded here.
 *
 * Portable (host-tested and fuzzed). Only 64-bit mode, and only the forms device drivers
 * use for register accesses (Linux's readb..readq/writeb..writeq are MOVs): MOV between a
 * register and memory (88, 89, 8A, 8B), MOV of an immediate to memory (C6 /0, C7 /0) and
 * MOVZX from memory (0F B6, 0F B7), with the prefixes 66, REX and the segment and
 * address-size overrides (which change the address, not the access: the fault gives the
 * address). Anything else is refused; the caller stops the guest with the bytes. */
#ifndef VMEXIT_MMIO_INSN_H
#define VMEXIT_MMIO_INSN_H

#include <stdbool.h>
#include <stdint.h>

#define MMIO_INSN_MAX 15 /* the architectural limit of an instruction's length */

struct mmio_insn {
    uint8_t len;      /* bytes, prefixes included: what rip advances by */
    uint8_t size;     /* of the memory access: 1, 2, 4 or 8 */
    bool write;       /* memory is written (from reg or imm); else read into reg */
    bool has_imm;     /* writes: the value is imm, not a register */
    uint64_t imm;     /* already sign-extended to size */
    uint8_t reg;      /* general register number (0 rax .. 15 r15) */
    bool high_byte;   /* byte register 4..7 without REX: AH, CH, DH, BH (bits 15:8 of reg-4) */
    uint8_t reg_size; /* reads: the register width written (size, or wider for MOVZX) */
};

/* 0, or -E_NOSYS (an instruction this emulator does not know, or a register operand
 * instead of memory), or -E_INVAL (the bytes end before the instruction does: n too small). */
int mmio_insn_decode(const uint8_t *bytes, unsigned n, struct mmio_insn *out);

/* What a read of `value` (size bytes) makes of the register's old contents: a 32-bit
 * destination zero-extends, 8- and 16-bit ones keep the other bits. */
uint64_t mmio_insn_merge(const struct mmio_insn *in, uint64_t old, uint64_t value);

/* The value a write stores, from the register's contents (or the immediate). */
uint64_t mmio_insn_store_value(const struct mmio_insn *in, uint64_t reg_value);

#endif
