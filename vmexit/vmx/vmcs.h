/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Intel VMX architecture (SDM vol. 3C): the VMCS field encodings (appendix B), the VMX
 * capability MSRs (appendix A), the control bits the backend uses (chapter 25), exit
 * reasons (appendix C) and the event information formats. Only architectural facts. */
#ifndef VMEXIT_VMX_VMCS_H
#define VMEXIT_VMX_VMCS_H

#include <stdint.h>

/* A field's encoding: bit 0 high half of a 64-bit field, bits 9:1 index, bits 11:10 type
 * (control, read-only data, guest state, host state), bits 14:13 width (16-bit, 64-bit,
 * 32-bit, natural). */
#define VMCS_WIDTH(f) (((f) >> 13) & 3u)
#define VMCS_TYPE(f) (((f) >> 10) & 3u)
enum vmcs_width { VMCS_W16 = 0, VMCS_W64 = 1, VMCS_W32 = 2, VMCS_WNAT = 3 };
enum vmcs_type { VMCS_CONTROL = 0, VMCS_READ_ONLY = 1, VMCS_GUEST = 2, VMCS_HOST = 3 };

enum vmcs_field {
    /* 16-bit */
    VMCS_VPID = 0x0000,
    VMCS_GUEST_ES_SEL = 0x0800,
    VMCS_GUEST_CS_SEL = 0x0802,
    VMCS_GUEST_SS_SEL = 0x0804,
    VMCS_GUEST_DS_SEL = 0x0806,
    VMCS_GUEST_FS_SEL = 0x0808,
    VMCS_GUEST_GS_SEL = 0x080a,
    VMCS_GUEST_LDTR_SEL = 0x080c,
    VMCS_GUEST_TR_SEL = 0x080e,
    VMCS_HOST_ES_SEL = 0x0c00,
    VMCS_HOST_CS_SEL = 0x0c02,
    VMCS_HOST_SS_SEL = 0x0c04,
    VMCS_HOST_DS_SEL = 0x0c06,
    VMCS_HOST_FS_SEL = 0x0c08,
    VMCS_HOST_GS_SEL = 0x0c0a,
    VMCS_HOST_TR_SEL = 0x0c0c,
    /* 64-bit */
    VMCS_IO_BITMAP_A = 0x2000,
    VMCS_IO_BITMAP_B = 0x2002,
    VMCS_MSR_BITMAP = 0x2004,
    VMCS_EXIT_MSR_STORE_ADDR = 0x2006,
    VMCS_EXIT_MSR_LOAD_ADDR = 0x2008,
    VMCS_ENTRY_MSR_LOAD_ADDR = 0x200a,
    VMCS_TSC_OFFSET = 0x2010,
    VMCS_EPT_POINTER = 0x201a,
    VMCS_XSS_EXIT_BITMAP = 0x202c,
    VMCS_GUEST_PHYSICAL_ADDRESS = 0x2400,
    VMCS_LINK_POINTER = 0x2800,
    VMCS_GUEST_DEBUGCTL = 0x2802,
    VMCS_GUEST_PAT = 0x2804,
    VMCS_GUEST_EFER = 0x2806,
    VMCS_HOST_PAT = 0x2c00,
    VMCS_HOST_EFER = 0x2c02,
    /* 32-bit */
    VMCS_PIN_CONTROLS = 0x4000,
    VMCS_PROC_CONTROLS = 0x4002,
    VMCS_EXCEPTION_BITMAP = 0x4004,
    VMCS_PF_ERROR_MASK = 0x4006,
    VMCS_PF_ERROR_MATCH = 0x4008,
    VMCS_CR3_TARGET_COUNT = 0x400a,
    VMCS_EXIT_CONTROLS = 0x400c,
    VMCS_EXIT_MSR_STORE_COUNT = 0x400e,
    VMCS_EXIT_MSR_LOAD_COUNT = 0x4010,
    VMCS_ENTRY_CONTROLS = 0x4012,
    VMCS_ENTRY_MSR_LOAD_COUNT = 0x4014,
    VMCS_ENTRY_INTR_INFO = 0x4016,
    VMCS_ENTRY_EXCEPTION_ERROR = 0x4018,
    VMCS_ENTRY_INSN_LEN = 0x401a,
    VMCS_PROC_CONTROLS2 = 0x401e,
    VMCS_INSN_ERROR = 0x4400,
    VMCS_EXIT_REASON = 0x4402,
    VMCS_EXIT_INTR_INFO = 0x4404,
    VMCS_EXIT_INTR_ERROR = 0x4406,
    VMCS_IDT_VECTORING_INFO = 0x4408,
    VMCS_IDT_VECTORING_ERROR = 0x440a,
    VMCS_EXIT_INSN_LEN = 0x440c,
    VMCS_GUEST_ES_LIMIT = 0x4800,
    VMCS_GUEST_CS_LIMIT = 0x4802,
    VMCS_GUEST_SS_LIMIT = 0x4804,
    VMCS_GUEST_DS_LIMIT = 0x4806,
    VMCS_GUEST_FS_LIMIT = 0x4808,
    VMCS_GUEST_GS_LIMIT = 0x480a,
    VMCS_GUEST_LDTR_LIMIT = 0x480c,
    VMCS_GUEST_TR_LIMIT = 0x480e,
    VMCS_GUEST_GDTR_LIMIT = 0x4810,
    VMCS_GUEST_IDTR_LIMIT = 0x4812,
    VMCS_GUEST_ES_AR = 0x4814,
    VMCS_GUEST_CS_AR = 0x4816,
    VMCS_GUEST_SS_AR = 0x4818,
    VMCS_GUEST_DS_AR = 0x481a,
    VMCS_GUEST_FS_AR = 0x481c,
    VMCS_GUEST_GS_AR = 0x481e,
    VMCS_GUEST_LDTR_AR = 0x4820,
    VMCS_GUEST_TR_AR = 0x4822,
    VMCS_GUEST_INTERRUPTIBILITY = 0x4824,
    VMCS_GUEST_ACTIVITY = 0x4826,
    VMCS_GUEST_SYSENTER_CS = 0x482a,
    VMCS_HOST_SYSENTER_CS = 0x4c00,
    /* natural width */
    VMCS_CR0_MASK = 0x6000,
    VMCS_CR4_MASK = 0x6002,
    VMCS_CR0_SHADOW = 0x6004,
    VMCS_CR4_SHADOW = 0x6006,
    VMCS_EXIT_QUALIFICATION = 0x6400,
    VMCS_GUEST_LINEAR_ADDRESS = 0x640a,
    VMCS_GUEST_CR0 = 0x6800,
    VMCS_GUEST_CR3 = 0x6802,
    VMCS_GUEST_CR4 = 0x6804,
    VMCS_GUEST_ES_BASE = 0x6806,
    VMCS_GUEST_CS_BASE = 0x6808,
    VMCS_GUEST_SS_BASE = 0x680a,
    VMCS_GUEST_DS_BASE = 0x680c,
    VMCS_GUEST_FS_BASE = 0x680e,
    VMCS_GUEST_GS_BASE = 0x6810,
    VMCS_GUEST_LDTR_BASE = 0x6812,
    VMCS_GUEST_TR_BASE = 0x6814,
    VMCS_GUEST_GDTR_BASE = 0x6816,
    VMCS_GUEST_IDTR_BASE = 0x6818,
    VMCS_GUEST_DR7 = 0x681a,
    VMCS_GUEST_RSP = 0x681c,
    VMCS_GUEST_RIP = 0x681e,
    VMCS_GUEST_RFLAGS = 0x6820,
    VMCS_GUEST_PENDING_DBG = 0x6822,
    VMCS_GUEST_SYSENTER_ESP = 0x6824,
    VMCS_GUEST_SYSENTER_EIP = 0x6826,
    VMCS_HOST_CR0 = 0x6c00,
    VMCS_HOST_CR3 = 0x6c02,
    VMCS_HOST_CR4 = 0x6c04,
    VMCS_HOST_FS_BASE = 0x6c06,
    VMCS_HOST_GS_BASE = 0x6c08,
    VMCS_HOST_TR_BASE = 0x6c0a,
    VMCS_HOST_GDTR_BASE = 0x6c0c,
    VMCS_HOST_IDTR_BASE = 0x6c0e,
    VMCS_HOST_SYSENTER_ESP = 0x6c10,
    VMCS_HOST_SYSENTER_EIP = 0x6c12,
    VMCS_HOST_RSP = 0x6c14,
    VMCS_HOST_RIP = 0x6c16,
};

/* A guest segment's limit, access-rights and base fields from its selector field: the four
 * sit at the same index in their width's group (selector 0x08xx, limit 0x48xx, AR 0x48xx +
 * 0x14, base 0x68xx + 0x06). */
#define VMCS_SEG_LIMIT(sel) ((enum vmcs_field)(0x4800u + ((sel)&0xffu)))
#define VMCS_SEG_AR(sel) ((enum vmcs_field)(0x4814u + ((sel)&0xffu)))
#define VMCS_SEG_BASE(sel) ((enum vmcs_field)(0x6806u + ((sel)&0xffu)))
_Static_assert(VMCS_SEG_LIMIT(VMCS_GUEST_TR_SEL) == VMCS_GUEST_TR_LIMIT &&
                   VMCS_SEG_AR(VMCS_GUEST_ES_SEL) == VMCS_GUEST_ES_AR &&
                   VMCS_SEG_BASE(VMCS_GUEST_LDTR_SEL) == VMCS_GUEST_LDTR_BASE,
               "segment fields share their index across widths");

_Static_assert(VMCS_WIDTH(VMCS_VPID) == VMCS_W16 && VMCS_TYPE(VMCS_GUEST_CS_SEL) == VMCS_GUEST,
               "16-bit fields");
_Static_assert(VMCS_WIDTH(VMCS_EPT_POINTER) == VMCS_W64 &&
                   VMCS_TYPE(VMCS_GUEST_PHYSICAL_ADDRESS) == VMCS_READ_ONLY,
               "64-bit fields");
_Static_assert(VMCS_WIDTH(VMCS_EXIT_REASON) == VMCS_W32 &&
                   VMCS_TYPE(VMCS_HOST_SYSENTER_CS) == VMCS_HOST,
               "32-bit fields");
_Static_assert(VMCS_WIDTH(VMCS_HOST_RIP) == VMCS_WNAT && VMCS_TYPE(VMCS_GUEST_RIP) == VMCS_GUEST,
               "natural-width fields");

/* Capability MSRs (appendix A). Each controls MSR: allowed 0-settings in bits 31:0 (a 1
 * there must be 1), allowed 1-settings in bits 63:32 (a 0 there must be 0). */
#define MSR_FEATURE_CONTROL 0x3a
#define FEATURE_CONTROL_LOCK (1ull << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ull << 2)
#define MSR_VMX_BASIC 0x480
#define MSR_VMX_PINBASED 0x481
#define MSR_VMX_PROCBASED 0x482
#define MSR_VMX_EXIT 0x483
#define MSR_VMX_ENTRY 0x484
#define MSR_VMX_MISC 0x485
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR0_FIXED1 0x487
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_CR4_FIXED1 0x489
#define MSR_VMX_PROCBASED2 0x48b
#define MSR_VMX_EPT_VPID_CAP 0x48c
#define MSR_VMX_TRUE_PINBASED 0x48d
#define MSR_VMX_TRUE_PROCBASED 0x48e
#define MSR_VMX_TRUE_EXIT 0x48f
#define MSR_VMX_TRUE_ENTRY 0x490
#define VMX_BASIC_REVISION(b) ((uint32_t)(b)&0x7fffffffu)
#define VMX_BASIC_REGION_BYTES(b) ((uint32_t)((b) >> 32) & 0x1fffu)
#define VMX_BASIC_TRUE_CONTROLS (1ull << 55)
#define EPT_CAP_WALK_4 (1ull << 6)
#define EPT_CAP_WB (1ull << 14)
#define EPT_CAP_2M (1ull << 16)
#define EPT_CAP_1G (1ull << 17)
#define EPT_CAP_INVEPT (1ull << 20)
#define EPT_CAP_INVEPT_SINGLE (1ull << 25)
#define EPT_CAP_INVEPT_ALL (1ull << 26)
#define EPT_CAP_INVVPID (1ull << 32)

/* Pin-based controls */
#define PIN_EXTERNAL_INTERRUPT (1u << 0)
#define PIN_NMI_EXITING (1u << 3)
#define PIN_VIRTUAL_NMIS (1u << 5)
/* Primary processor-based controls */
#define PROC_INTERRUPT_WINDOW (1u << 2)
#define PROC_HLT (1u << 7)
#define PROC_INVLPG (1u << 9)
#define PROC_MWAIT (1u << 10)
#define PROC_RDPMC (1u << 11)
#define PROC_RDTSC (1u << 12)
#define PROC_CR3_LOAD (1u << 15)
#define PROC_CR3_STORE (1u << 16)
#define PROC_CR8_LOAD (1u << 19)
#define PROC_CR8_STORE (1u << 20)
#define PROC_TPR_SHADOW (1u << 21)
#define PROC_NMI_WINDOW (1u << 22)
#define PROC_MOV_DR (1u << 23)
#define PROC_UNCONDITIONAL_IO (1u << 24)
#define PROC_IO_BITMAPS (1u << 25)
#define PROC_MONITOR_TRAP (1u << 27)
#define PROC_MSR_BITMAPS (1u << 28)
#define PROC_MONITOR (1u << 29)
#define PROC_PAUSE (1u << 30)
#define PROC_SECONDARY (1u << 31)
/* Secondary processor-based controls */
#define PROC2_EPT (1u << 1)
#define PROC2_RDTSCP (1u << 3)
#define PROC2_VPID (1u << 5)
#define PROC2_WBINVD (1u << 6)
#define PROC2_UNRESTRICTED (1u << 7)
#define PROC2_INVPCID (1u << 12)
#define PROC2_XSAVES (1u << 20)
/* VM-exit controls */
#define EXIT_SAVE_DEBUG (1u << 2)
#define EXIT_HOST_64 (1u << 9)
#define EXIT_SAVE_PAT (1u << 18)
#define EXIT_LOAD_PAT (1u << 19)
#define EXIT_SAVE_EFER (1u << 20)
#define EXIT_LOAD_EFER (1u << 21)
/* VM-entry controls */
#define ENTRY_LOAD_DEBUG (1u << 2)
#define ENTRY_GUEST_64 (1u << 9)
#define ENTRY_LOAD_PAT (1u << 14)
#define ENTRY_LOAD_EFER (1u << 15)

/* EPT pointer: memory type WB, a 4-level walk (length - 1 in bits 5:3) */
#define EPTP_WB 6ull
#define EPTP_WALK_4 (3ull << 3)

/* Exit reasons (basic reason in bits 15:0; bit 31: the VM entry failed) */
enum vmx_exit_reason {
    VMX_EXIT_EXCEPTION_NMI = 0,
    VMX_EXIT_EXTERNAL_INTERRUPT = 1,
    VMX_EXIT_TRIPLE_FAULT = 2,
    VMX_EXIT_INIT = 3,
    VMX_EXIT_SIPI = 4,
    VMX_EXIT_NMI_WINDOW = 8,
    VMX_EXIT_CPUID = 10,
    VMX_EXIT_HLT = 12,
    VMX_EXIT_INVD = 13,
    VMX_EXIT_VMCALL = 18,
    VMX_EXIT_CR_ACCESS = 28,
    VMX_EXIT_IO = 30,
    VMX_EXIT_RDMSR = 31,
    VMX_EXIT_WRMSR = 32,
    VMX_EXIT_INVALID_GUEST_STATE = 33,
    VMX_EXIT_MSR_LOADING = 34,
    VMX_EXIT_MACHINE_CHECK_ENTRY = 41,
    VMX_EXIT_EPT_VIOLATION = 48,
    VMX_EXIT_EPT_MISCONFIG = 49,
    VMX_EXIT_WBINVD = 54,
    VMX_EXIT_XSETBV = 55,
};
#define VMX_EXIT_REASON_BASIC(r) ((r)&0xffffu)
#define VMX_EXIT_ENTRY_FAILED (1u << 31)

/* Event information (exit interruption, IDT vectoring, entry injection): vector in bits
 * 7:0, type in 10:8, error code valid 11, NMI unblocking by IRET 12 (exits), valid 31. */
#define EVENT_VECTOR(i) ((i)&0xffu)
#define EVENT_TYPE(i) (((i) >> 8) & 7u)
#define EVENT_TYPE_EXTERNAL 0u
#define EVENT_TYPE_NMI 2u
#define EVENT_TYPE_HW_EXCEPTION 3u
#define EVENT_TYPE_SW_INTERRUPT 4u
#define EVENT_TYPE_PRIV_SW_EXCEPTION 5u
#define EVENT_TYPE_SW_EXCEPTION 6u
#define EVENT_ERROR_VALID (1u << 11)
#define EVENT_NMI_UNBLOCKED_BY_IRET (1u << 12)
#define EVENT_VALID (1u << 31)

/* I/O exit qualification: size - 1 in bits 2:0, IN bit 3, string 4, REP 5, port 31:16 */
#define IO_QUAL_SIZE(q) (((q)&7u) + 1u)
#define IO_QUAL_IN (1u << 3)
#define IO_QUAL_STRING (1u << 4)
#define IO_QUAL_REP (1u << 5)
#define IO_QUAL_PORT(q) ((uint16_t)((q) >> 16))
/* EPT violation qualification */
#define EPT_QUAL_READ (1u << 0)
#define EPT_QUAL_WRITE (1u << 1)
#define EPT_QUAL_FETCH (1u << 2)
#define EPT_QUAL_LINEAR_VALID (1u << 7)
#define EPT_QUAL_TRANSLATED (1u << 8) /* with bit 7: the access itself, not a table walk */
/* #DB exit qualification: B0-B3, BD, BS as DR6 has them */
#define DB_QUAL_DR6_BITS 0x600fu

/* Segment access rights: type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14, G 15, unusable 16 */
#define AR_TYPE(a) ((a)&0xfu)
#define AR_S (1u << 4)
#define AR_DPL(a) (((a) >> 5) & 3u)
#define AR_P (1u << 7)
#define AR_L (1u << 13)
#define AR_DB (1u << 14)
#define AR_G (1u << 15)
#define AR_UNUSABLE (1u << 16)
#define AR_CODE64 (0xbu | AR_S | AR_P | AR_L | AR_G) /* execute/read, accessed */
#define AR_DATA (0x3u | AR_S | AR_P | AR_DB | AR_G)  /* read/write, accessed */
#define AR_TSS64_BUSY (0xbu | AR_P)

_Static_assert(AR_CODE64 == 0xa09b && AR_DATA == 0xc093 && AR_TSS64_BUSY == 0x8b,
               "access rights as the SDM's examples give them");

#endif
