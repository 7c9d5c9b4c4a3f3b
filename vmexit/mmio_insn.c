/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Decoding the MOV forms of an MMIO access (see mmio_insn.h). */
#include "vmexit/mmio_insn.h"

#include "core/klib.h"

#define REX_W 8
#define REX_R 4

/* Bytes of ModRM's memory operand after the ModRM byte itself: SIB and displacement. */
static int modrm_tail(const uint8_t *p, unsigned left, unsigned *tail)
{
    if (left < 1)
        return -E_INVAL;
    uint8_t modrm = p[0], mod = modrm >> 6, rm = modrm & 7;
    if (mod == 3)
        return -E_NOSYS; /* a register, not memory: no access to emulate */
    unsigned extra = 0;
    if (rm == 4) { /* SIB */
        if (left < 2)
            return -E_INVAL;
        extra = 1;
        if (mod == 0 && (p[1] & 7) == 5)
            extra += 4; /* no base: disp32 */
    } else if (mod == 0 && rm == 5) {
        extra = 4; /* rip-relative disp32 */
    }
    if (mod == 1)
        extra += 1;
    else if (mod == 2)
        extra += 4;
    *tail = extra;
    return 0;
}

static uint64_t little_endian(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t sign_extend(uint64_t v, unsigned from_bytes)
{
    unsigned shift = 64 - 8 * from_bytes;
    return (uint64_t)((int64_t)(v << shift) >> shift);
}

static uint64_t truncate(uint64_t v, unsigned bytes)
{
    return bytes >= 8 ? v : v & ((1ull << (8 * bytes)) - 1);
}

int mmio_insn_decode(const uint8_t *bytes, unsigned n, struct mmio_insn *out)
{
    if (n > MMIO_INSN_MAX)
        n = MMIO_INSN_MAX;
    unsigned i = 0;
    bool opsize16 = false;
    uint8_t rex = 0;
    for (;; i++) { /* legacy prefixes, then at most one REX right before the opcode */
        if (i >= n)
            return n == MMIO_INSN_MAX ? -E_NOSYS : -E_INVAL;
        uint8_t b = bytes[i];
        if (b == 0x66)
            opsize16 = true;
        else if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65 ||
                 b == 0x67)
            continue;
        else
            break;
    }
    if ((bytes[i] & 0xf0) == 0x40) {
        rex = bytes[i++];
        if (i >= n)
            return n == MMIO_INSN_MAX ? -E_NOSYS : -E_INVAL;
    }
    unsigned wide = (rex & REX_W) ? 8 : opsize16 ? 2 : 4;
    struct mmio_insn in = {0};
    uint8_t op = bytes[i++];
    bool byte_reg = false, needs_reg_zero = false;
    unsigned imm_bytes = 0;
    switch (op) {
    case 0x88: /* mov r/m8, r8 */
    case 0x8a: /* mov r8, r/m8 */
        in.size = 1;
        in.write = op == 0x88;
        byte_reg = true;
        break;
    case 0x89: /* mov r/m, r */
    case 0x8b: /* mov r, r/m */
        in.size = (uint8_t)wide;
        in.write = op == 0x89;
        break;
    case 0xc6: /* mov r/m8, imm8 */
        in.size = 1;
        in.write = in.has_imm = needs_reg_zero = true;
        imm_bytes = 1;
        break;
    case 0xc7: /* mov r/m, imm16/32 (sign-extended for 64) */
        in.size = (uint8_t)wide;
        in.write = in.has_imm = needs_reg_zero = true;
        imm_bytes = wide == 2 ? 2 : 4;
        break;
    case 0x0f: /* movzx r, r/m8 | r/m16 */
        if (i >= n)
            return n == MMIO_INSN_MAX ? -E_NOSYS : -E_INVAL;
        op = bytes[i++];
        if (op != 0xb6 && op != 0xb7)
            return -E_NOSYS;
        in.size = op == 0xb6 ? 1 : 2;
        in.reg_size = (uint8_t)wide;
        break;
    default:
        return -E_NOSYS;
    }
    unsigned tail;
    int rc = modrm_tail(bytes + i, i < n ? n - i : 0, &tail);
    if (rc)
        return rc == -E_INVAL && n == MMIO_INSN_MAX ? -E_NOSYS : rc;
    uint8_t modrm = bytes[i];
    uint8_t reg = (uint8_t)((modrm >> 3) & 7);
    if (needs_reg_zero && reg != 0)
        return -E_NOSYS; /* C6/C7 with /1../7: not a MOV */
    i += 1 + tail;
    if (i + imm_bytes > MMIO_INSN_MAX)
        return -E_NOSYS;
    if (i + imm_bytes > n)
        return -E_INVAL;
    if (imm_bytes)
        in.imm = truncate(sign_extend(little_endian(bytes + i, imm_bytes), imm_bytes), in.size);
    i += imm_bytes;
    in.len = (uint8_t)i;
    in.reg = (uint8_t)(reg | ((rex & REX_R) ? 8 : 0));
    if (byte_reg && !rex && reg >= 4 && !in.has_imm) {
        in.high_byte = true; /* AH, CH, DH, BH: bits 15:8 of rax, rcx, rdx, rbx */
        in.reg = (uint8_t)(reg - 4);
    }
    if (!in.reg_size)
        in.reg_size = in.size;
    *out = in;
    return 0;
}

uint64_t mmio_insn_merge(const struct mmio_insn *in, uint64_t old, uint64_t value)
{
    value = truncate(value, in->size);
    if (in->high_byte)
        return (old & ~0xff00ull) | (value << 8);
    switch (in->reg_size) {
    case 8:
    case 4: /* a 32-bit destination clears bits 63:32 */
        return value;
    case 2:
        return (old & ~0xffffull) | value;
    default:
        return (old & ~0xffull) | value;
    }
}

uint64_t mmio_insn_store_value(const struct mmio_insn *in, uint64_t reg_value)
{
    if (in->has_imm)
        return in->imm;
    if (in->high_byte)
        return (reg_value >> 8) & 0xff;
    return truncate(reg_value, in->size);
}
