/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The VMCB (AMD APM vol. 2, appendix B): control area at 0, state save area at
 * 0x400. Every field used is at a checked offset. */
#ifndef VMEXIT_SVM_VMCB_H
#define VMEXIT_SVM_VMCB_H

#include <stddef.h>
#include <stdint.h>

struct vmcb_seg {
    uint16_t selector;
    uint16_t attrib; /* type[3:0] S[4] DPL[6:5] P[7] AVL[8] L[9] D/B[10] G[11] */
    uint32_t limit;
    uint64_t base;
} __attribute__((packed));

struct vmcb_control {
    uint16_t intercept_cr_read;    /* 0x000 */
    uint16_t intercept_cr_write;   /* 0x002 */
    uint16_t intercept_dr_read;    /* 0x004 */
    uint16_t intercept_dr_write;   /* 0x006 */
    uint32_t intercept_exceptions; /* 0x008 */
    uint32_t intercept_misc1;      /* 0x00c */
    uint32_t intercept_misc2;      /* 0x010 */
    uint8_t reserved_014[0x03c - 0x014];
    uint16_t pause_filter_threshold; /* 0x03c */
    uint16_t pause_filter_count;     /* 0x03e */
    uint64_t iopm_base_pa;           /* 0x040 */
    uint64_t msrpm_base_pa;          /* 0x048 */
    uint64_t tsc_offset;             /* 0x050 */
    uint32_t guest_asid;             /* 0x058 */
    uint8_t tlb_control;             /* 0x05c */
    uint8_t reserved_05d[3];
    uint64_t vintr;            /* 0x060: V_TPR, V_IRQ, V_INTR_MASKING (bit 24) ... */
    uint64_t interrupt_shadow; /* 0x068 */
    uint64_t exitcode;         /* 0x070 */
    uint64_t exitinfo1;        /* 0x078 */
    uint64_t exitinfo2;        /* 0x080 */
    uint64_t exitintinfo;      /* 0x088 */
    uint64_t np_control;       /* 0x090: bit 0 NP_ENABLE */
    uint64_t avic_apic_bar;    /* 0x098 */
    uint64_t ghcb_pa;          /* 0x0a0 */
    uint64_t eventinj;         /* 0x0a8 */
    uint64_t n_cr3;            /* 0x0b0 */
    uint64_t lbr_virt;         /* 0x0b8 */
    uint32_t clean_bits;       /* 0x0c0 */
    uint32_t reserved_0c4;
    uint64_t next_rip;      /* 0x0c8 (NRIPS only) */
    uint8_t insn_len;       /* 0x0d0 (decode assists only) */
    uint8_t insn_bytes[15]; /* 0x0d1 */
    uint8_t reserved_0e0[0x400 - 0x0e0];
} __attribute__((packed));

struct vmcb_state {
    struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400..0x49f */
    uint8_t reserved_4a0[0x4cb - 0x4a0];
    uint8_t cpl; /* 0x4cb */
    uint32_t reserved_4cc;
    uint64_t efer; /* 0x4d0 */
    uint8_t reserved_4d8[0x548 - 0x4d8];
    uint64_t cr4;    /* 0x548 */
    uint64_t cr3;    /* 0x550 */
    uint64_t cr0;    /* 0x558 */
    uint64_t dr7;    /* 0x560 */
    uint64_t dr6;    /* 0x568 */
    uint64_t rflags; /* 0x570 */
    uint64_t rip;    /* 0x578 */
    uint8_t reserved_580[0x5d8 - 0x580];
    uint64_t rsp; /* 0x5d8 */
    uint8_t reserved_5e0[0x5f8 - 0x5e0];
    uint64_t rax;            /* 0x5f8 */
    uint64_t star;           /* 0x600 */
    uint64_t lstar;          /* 0x608 */
    uint64_t cstar;          /* 0x610 */
    uint64_t sfmask;         /* 0x618 */
    uint64_t kernel_gs_base; /* 0x620 */
    uint64_t sysenter_cs;    /* 0x628 */
    uint64_t sysenter_esp;   /* 0x630 */
    uint64_t sysenter_eip;   /* 0x638 */
    uint64_t cr2;            /* 0x640 */
    uint8_t reserved_648[0x668 - 0x648];
    uint64_t g_pat; /* 0x668 */
    uint8_t reserved_670[0x1000 - 0x670];
} __attribute__((packed));

struct vmcb {
    struct vmcb_control control;
    struct vmcb_state state;
} __attribute__((packed));

#define VMCB_CHECK(type, field, off) _Static_assert(offsetof(type, field) == (off), #field)
VMCB_CHECK(struct vmcb_control, intercept_exceptions, 0x008);
VMCB_CHECK(struct vmcb_control, intercept_misc1, 0x00c);
VMCB_CHECK(struct vmcb_control, intercept_misc2, 0x010);
VMCB_CHECK(struct vmcb_control, pause_filter_threshold, 0x03c);
VMCB_CHECK(struct vmcb_control, iopm_base_pa, 0x040);
VMCB_CHECK(struct vmcb_control, msrpm_base_pa, 0x048);
VMCB_CHECK(struct vmcb_control, tsc_offset, 0x050);
VMCB_CHECK(struct vmcb_control, guest_asid, 0x058);
VMCB_CHECK(struct vmcb_control, tlb_control, 0x05c);
VMCB_CHECK(struct vmcb_control, vintr, 0x060);
VMCB_CHECK(struct vmcb_control, exitcode, 0x070);
VMCB_CHECK(struct vmcb_control, exitinfo1, 0x078);
VMCB_CHECK(struct vmcb_control, exitinfo2, 0x080);
VMCB_CHECK(struct vmcb_control, exitintinfo, 0x088);
VMCB_CHECK(struct vmcb_control, np_control, 0x090);
VMCB_CHECK(struct vmcb_control, eventinj, 0x0a8);
VMCB_CHECK(struct vmcb_control, n_cr3, 0x0b0);
VMCB_CHECK(struct vmcb_control, clean_bits, 0x0c0);
VMCB_CHECK(struct vmcb_control, next_rip, 0x0c8);
VMCB_CHECK(struct vmcb_control, insn_bytes, 0x0d1);
VMCB_CHECK(struct vmcb, state, 0x400);
VMCB_CHECK(struct vmcb, state.cs, 0x410);
VMCB_CHECK(struct vmcb, state.gdtr, 0x460);
VMCB_CHECK(struct vmcb, state.idtr, 0x480);
VMCB_CHECK(struct vmcb, state.tr, 0x490);
VMCB_CHECK(struct vmcb, state.cpl, 0x4cb);
VMCB_CHECK(struct vmcb, state.efer, 0x4d0);
VMCB_CHECK(struct vmcb, state.cr4, 0x548);
VMCB_CHECK(struct vmcb, state.cr3, 0x550);
VMCB_CHECK(struct vmcb, state.cr0, 0x558);
VMCB_CHECK(struct vmcb, state.dr7, 0x560);
VMCB_CHECK(struct vmcb, state.rflags, 0x570);
VMCB_CHECK(struct vmcb, state.rip, 0x578);
VMCB_CHECK(struct vmcb, state.rsp, 0x5d8);
VMCB_CHECK(struct vmcb, state.rax, 0x5f8);
VMCB_CHECK(struct vmcb, state.star, 0x600);
VMCB_CHECK(struct vmcb, state.kernel_gs_base, 0x620);
VMCB_CHECK(struct vmcb, state.cr2, 0x640);
VMCB_CHECK(struct vmcb, state.g_pat, 0x668);
_Static_assert(sizeof(struct vmcb) == 0x1000, "one page: control area + state save area");
_Static_assert(sizeof(struct vmcb_seg) == 16, "segment");

/* intercept_exceptions: bit n intercepts exception vector n (exit code 0x40 + n) */
#define SVM_INTERCEPT_EXCEPTION(vector) (1u << (vector))
/* intercept_misc1 */
#define SVM_INTERCEPT_INTR (1u << 0)
#define SVM_INTERCEPT_NMI (1u << 1)
#define SVM_INTERCEPT_SMI (1u << 2)
#define SVM_INTERCEPT_INIT (1u << 3)
#define SVM_INTERCEPT_CPUID (1u << 18)
#define SVM_INTERCEPT_INVD (1u << 22)
#define SVM_INTERCEPT_HLT (1u << 24)
#define SVM_INTERCEPT_INVLPG (1u << 25)
#define SVM_INTERCEPT_IOIO (1u << 27)
#define SVM_INTERCEPT_MSR (1u << 28)
#define SVM_INTERCEPT_SHUTDOWN (1u << 31)
/* intercept_misc2 */
#define SVM_INTERCEPT_VMRUN (1u << 0) /* required by VMRUN's consistency checks */
#define SVM_INTERCEPT_VMMCALL (1u << 1)
#define SVM_INTERCEPT_VMLOAD (1u << 2)
#define SVM_INTERCEPT_VMSAVE (1u << 3)
#define SVM_INTERCEPT_STGI (1u << 4)
#define SVM_INTERCEPT_CLGI (1u << 5)
#define SVM_INTERCEPT_SKINIT (1u << 6)
#define SVM_INTERCEPT_WBINVD (1u << 9) /* WBINVD and WBNOINVD */

#define SVM_VINTR_MASKING (1ull << 24)
#define SVM_NP_ENABLE 1ull
#define SVM_TLB_FLUSH_ALL 1

/* EVENTINJ / EXITINTINFO */
#define SVM_EVENT_VALID (1ull << 31)
#define SVM_EVENT_ERROR_VALID (1ull << 11)
#define SVM_EVENT_TYPE_MASK (7ull << 8)
#define SVM_EVENT_TYPE_INTR (0ull << 8)
#define SVM_EVENT_TYPE_NMI (2ull << 8)
#define SVM_EVENT_TYPE_EXCEPTION (3ull << 8)
#define SVM_EVENT_TYPE_SOFT_INT (4ull << 8)
#define SVM_EVENT_ERROR_SHIFT 32 /* the error code is bits 63:32 */

/* Segment attributes in VMCB form. */
#define VMCB_ATTR_L (1u << 9)   /* 64-bit code segment */
#define VMCB_ATTR_DB (1u << 10) /* default operand size 32 */
#define SVM_ATTR_CODE64 0x029b  /* P, S, type 0xb, L */
#define SVM_ATTR_DATA 0x0c93    /* P, S, type 0x3, D/B, G */
#define SVM_ATTR_TSS64 0x008b   /* P, type 0xb (busy 64-bit TSS) */
#define SVM_ATTR_LDT 0x0082

/* Exit codes (APM vol. 2, appendix C) used by the dispatcher. */
#define SVM_EXIT_EXCEPTION_BASE 0x40
#define SVM_EXIT_EXCEPTION(vector) (SVM_EXIT_EXCEPTION_BASE + (vector))
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_SMI 0x62
#define SVM_EXIT_INIT 0x63
#define SVM_EXIT_VINTR 0x64
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_INVD 0x76
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_IOIO 0x7b
#define SVM_EXIT_MSR 0x7c
#define SVM_EXIT_SHUTDOWN 0x7f
#define SVM_EXIT_VMRUN 0x80
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_VMLOAD 0x82
#define SVM_EXIT_VMSAVE 0x83
#define SVM_EXIT_STGI 0x84
#define SVM_EXIT_CLGI 0x85
#define SVM_EXIT_SKINIT 0x86
#define SVM_EXIT_WBINVD 0x89
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID 0xffffffffu /* compare the low 32 bits: QEMU returns -1 in 64 */

/* The intercept vectors are laid out like the exit codes (APM vol. 2, table C-1): bit n
 * of intercept_exceptions exits with 0x40 + n, bit n of intercept_misc1 with 0x60 + n,
 * bit n of intercept_misc2 with 0x80 + n. Checking every bit used against its exit code
 * catches a wrong bit or a wrong code. */
#define SVM_MISC1_EXIT(bit) (SVM_EXIT_INTR + __builtin_ctz(bit))
#define SVM_MISC2_EXIT(bit) (SVM_EXIT_VMRUN + __builtin_ctz(bit))
_Static_assert(SVM_EXIT_EXCEPTION(0) == 0x40 && SVM_EXIT_EXCEPTION(31) == 0x5f &&
                   SVM_EXIT_EXCEPTION(32) == SVM_EXIT_INTR,
               "32 exception exit codes, then the misc1 ones");
_Static_assert(SVM_MISC1_EXIT(SVM_INTERCEPT_INTR) == SVM_EXIT_INTR, "INTR");
_Static_assert(SVM_MISC1_EXIT(SVM_INTERCEPT_NMI) == SVM_EXIT_NMI, "NMI");
_Static_assert(SVM_MISC1_EXIT(SVM_INTERCEPT_SMI) == SVM_EXIT_SMI, "SMI");
_Static_assert(SVM_MISC1_EXIT(SVM_INTERCEPT_INIT) == SVM_EXIT_INIT, "INIT");
_Static_assert(SVM_MISC1_EXIT(SVM_INTERCEPT_CPUID) == SVM_EXIT_CPUID, "CPUID");
_Static_assert(SVM_MISC1_EXIT(SVM_INTERCEPT_INVD) == SVM_EXIT_INVD, "INVD");
_Static_assert(SVM_MISC1_EXIT(SVM_INTERCEPT_HLT) == SVM_EXIT_HLT, "HLT");
_Static_assert(SVM_MISC1_EXIT(SVM_INTERCEPT_IOIO) == SVM_EXIT_IOIO, "IOIO");
_Static_assert(SVM_MISC1_EXIT(SVM_INTERCEPT_MSR) == SVM_EXIT_MSR, "MSR");
_Static_assert(SVM_MISC1_EXIT(SVM_INTERCEPT_SHUTDOWN) == SVM_EXIT_SHUTDOWN, "SHUTDOWN");
_Static_assert(SVM_MISC2_EXIT(SVM_INTERCEPT_VMRUN) == SVM_EXIT_VMRUN, "VMRUN");
_Static_assert(SVM_MISC2_EXIT(SVM_INTERCEPT_VMMCALL) == SVM_EXIT_VMMCALL, "VMMCALL");
_Static_assert(SVM_MISC2_EXIT(SVM_INTERCEPT_VMLOAD) == SVM_EXIT_VMLOAD, "VMLOAD");
_Static_assert(SVM_MISC2_EXIT(SVM_INTERCEPT_VMSAVE) == SVM_EXIT_VMSAVE, "VMSAVE");
_Static_assert(SVM_MISC2_EXIT(SVM_INTERCEPT_STGI) == SVM_EXIT_STGI, "STGI");
_Static_assert(SVM_MISC2_EXIT(SVM_INTERCEPT_CLGI) == SVM_EXIT_CLGI, "CLGI");
_Static_assert(SVM_MISC2_EXIT(SVM_INTERCEPT_SKINIT) == SVM_EXIT_SKINIT, "SKINIT");
_Static_assert(SVM_MISC2_EXIT(SVM_INTERCEPT_WBINVD) == SVM_EXIT_WBINVD, "WBINVD");

#define MSR_VM_CR 0xc0010114
#define MSR_VM_HSAVE_PA 0xc0010117
#define VM_CR_SVMDIS (1u << 4)
#define EFER_SVME (1ull << 12)

#endif
