/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The MMIO instruction decoder against encodings an assembler gives for the accesses Linux's
 * readX/writeX and hand-written guests make, and against bytes that are none of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "vmexit/mmio_insn.h"
#include "xorshift.h"

struct good {
    uint8_t bytes[15];
    uint8_t len, size, reg, reg_size;
    bool write, has_imm, high;
    uint64_t imm;
};

static void test_accepted_forms(void **state)
{
    (void)state;
    static const struct good cases[] = {
        /* mov [rdx], al / mov al, [rdx] */
        {{0x88, 0x02}, 2, 1, 0, 1, true, false, false, 0},
        {{0x8a, 0x02}, 2, 1, 0, 1, false, false, false, 0},
        /* mov [rsi+0x14], sil (REX: sil, not dh) */
        {{0x40, 0x88, 0x76, 0x14}, 4, 1, 6, 1, true, false, false, 0},
        /* mov [rsi+0x14], dh */
        {{0x88, 0x76, 0x14}, 3, 1, 2, 1, true, false, true, 0},
        /* mov word [rax], cx / mov cx, [rax] */
        {{0x66, 0x89, 0x08}, 3, 2, 1, 2, true, false, false, 0},
        {{0x66, 0x8b, 0x08}, 3, 2, 1, 2, false, false, false, 0},
        /* mov [rdi+rcx*4+0x100], r9d: SIB, disp32, REX.R */
        {{0x44, 0x89, 0x8c, 0x8f, 0x00, 0x01, 0x00, 0x00}, 8, 4, 9, 4, true, false, false, 0},
        /* mov r15, [r12]: REX.WRB, SIB for r12 */
        {{0x4d, 0x8b, 0x3c, 0x24}, 4, 8, 15, 8, false, false, false, 0},
        /* mov eax, [rip+0x1000] */
        {{0x8b, 0x05, 0x00, 0x10, 0x00, 0x00}, 6, 4, 0, 4, false, false, false, 0},
        /* mov eax, [0x1000] through SIB without base */
        {{0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00}, 7, 4, 0, 4, false, false, false, 0},
        /* mov byte [rbx], 0x80 */
        {{0xc6, 0x03, 0x80}, 3, 1, 0, 1, true, true, false, 0x80},
        /* mov word [rbx+8], 0xfffe */
        {{0x66, 0xc7, 0x43, 0x08, 0xfe, 0xff}, 6, 2, 0, 2, true, true, false, 0xfffe},
        /* mov qword [rbx], -2: imm32 sign-extended */
        {{0x48, 0xc7, 0x03, 0xfe, 0xff, 0xff, 0xff},
         7,
         8,
         0,
         8,
         true,
         true,
         false,
         0xfffffffffffffffeull},
        /* movzx eax, byte [rdi]; movzx r8, word [rdi] */
        {{0x0f, 0xb6, 0x07}, 3, 1, 0, 4, false, false, false, 0},
        {{0x4c, 0x0f, 0xb7, 0x07}, 4, 2, 8, 8, false, false, false, 0},
        /* a segment and an address-size prefix change the address only */
        {{0x65, 0x67, 0x8b, 0x07}, 4, 4, 0, 4, false, false, false, 0},
        /* 66 with REX.W: REX.W wins, a 64-bit access */
        {{0x66, 0x48, 0x89, 0x07}, 4, 8, 0, 8, true, false, false, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct good *g = &cases[i];
        struct mmio_insn in;
        assert_int_equal(mmio_insn_decode(g->bytes, MMIO_INSN_MAX, &in), 0);
        assert_int_equal(in.len, g->len);
        assert_int_equal(in.size, g->size);
        assert_int_equal(in.write, g->write);
        assert_int_equal(in.has_imm, g->has_imm);
        if (g->has_imm)
            assert_int_equal(in.imm, g->imm);
        else
            assert_int_equal(in.reg, g->reg);
        assert_int_equal(in.high_byte, g->high);
        if (!g->write)
            assert_int_equal(in.reg_size, g->reg_size);
        /* exactly len bytes are enough; one fewer is not */
        assert_int_equal(mmio_insn_decode(g->bytes, g->len, &in), 0);
        assert_int_equal(mmio_insn_decode(g->bytes, g->len - 1u, &in), -E_INVAL);
    }
}

static void test_refused_forms(void **state)
{
    (void)state;
    static const uint8_t bad[][15] = {
        {0x89, 0xc0},                   /* mov eax, eax: a register operand */
        {0xf0, 0x01, 0x07},             /* lock add */
        {0xf3, 0xa5},                   /* rep movsd */
        {0x01, 0x07},                   /* add [rdi], eax */
        {0xc7, 0x4f, 0x10, 1, 0, 0, 0}, /* c7 /1: not a MOV */
        {0x0f, 0xbe, 0x07},             /* movsx: not emulated */
        {0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
         0x66}, /* prefixes only, 15 of them */
        {0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x48, 0xc7, 0x84,
         0x24}, /* too long once the operands are counted */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct mmio_insn in;
        assert_int_equal(mmio_insn_decode(bad[i], MMIO_INSN_MAX, &in), -E_NOSYS);
    }
    struct mmio_insn in;
    assert_int_equal(mmio_insn_decode(bad[0], 0, &in), -E_INVAL);
}

static void test_values(void **state)
{
    (void)state;
    struct mmio_insn in;
    static const uint8_t mov_dh[] = {0x88, 0x76, 0x14};
    assert_int_equal(mmio_insn_decode(mov_dh, sizeof(mov_dh), &in), 0);
    assert_int_equal(mmio_insn_store_value(&in, 0x1234abcd), 0xab); /* dh of rdx */
    assert_int_equal(mmio_insn_merge(&in, 0x1111222233334444ull, 0x1ff), 0x111122223333ff44ull);
    static const uint8_t mov_ax[] = {0x66, 0x8b, 0x08};
    assert_int_equal(mmio_insn_decode(mov_ax, sizeof(mov_ax), &in), 0);
    assert_int_equal(mmio_insn_merge(&in, ~0ull, 0x12345), 0xffffffffffff2345ull);
    assert_int_equal(mmio_insn_store_value(&in, 0xdeadbeef), 0xbeef);
}

/* Any bytes: a verdict, never a read past n, a length within the architecture's. */
static void test_random_bytes(void **state)
{
    (void)state;
    uint64_t seed = 12345;
    for (unsigned i = 0; i < 300000; i++) {
        uint8_t b[MMIO_INSN_MAX];
        for (unsigned k = 0; k < sizeof(b); k++)
            b[k] = (uint8_t)xorshift64(&seed);
        if (i & 1) /* lean towards the accepted opcodes */
            b[i % 3] = (uint8_t)(0x88 + (xorshift64(&seed) & 3));
        unsigned n = (unsigned)(xorshift64(&seed) % (MMIO_INSN_MAX + 1));
        struct mmio_insn in;
        int rc = mmio_insn_decode(b, n, &in);
        assert_true(rc == 0 || rc == -E_NOSYS || rc == -E_INVAL);
        if (rc == 0) {
            assert_true(in.len >= 2 && in.len <= n);
            assert_true(in.size == 1 || in.size == 2 || in.size == 4 || in.size == 8);
            assert_true(in.reg < 16);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted_forms),
        cmocka_unit_test(test_refused_forms),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
