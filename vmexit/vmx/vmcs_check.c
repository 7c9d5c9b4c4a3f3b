/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* VM-entry checks on the built VMCS (vmcs_check.h): controls (27.2.1), host state (27.2.2,
 * 27.2.3), guest state (27.3.1). Each refusal names the field and what is wrong. */
#include "vmexit/vmx/vmcs_check.h"

#include "core/klib.h"

#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_PCIDE (1ull << 17)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_RESERVED (~0xd01ull) /* SCE 0, LME 8, LMA 10, NXE 11 */
#define RFLAGS_FIXED1 (1ull << 1)
#define RFLAGS_RESERVED (~0x3f7fd7ull) /* 3, 5, 15 and 22-63 */
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_VM (1ull << 17)
#define SELECTOR_RPL_TI 7u
#define INTERRUPTIBILITY_STI 1u
#define INTERRUPTIBILITY_STI_AND_MOV_SS 3u
#define INTERRUPTIBILITY_RESERVED (~0x1full)
#define ACTIVITY_HLT 1
#define RFLAGS_TF (1ull << 8)
#define DEBUGCTL_BTF (1ull << 1)
#define PENDING_DBG_BS (1ull << 14)
#define PENDING_DBG_RESERVED (~0x1500full) /* B0-B3, enabled breakpoint 12, BS 14, RTM 16 */
#define X86_ERROR_CODE_VECTORS 0x60227d00u /* 8, 10-14, 17, 21, 29, 30 */

struct check {
    const struct vmcs_image *img;
    const struct vmx_caps *caps;
    struct refusal *why;
    uint64_t pa_limit; /* highest physical address */
};

static uint64_t get(const struct check *c, enum vmcs_field f)
{
    return vmcs_get(c->img, f, NULL);
}

static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Set where the CPU requires 1, clear where it requires 0. */
static bool fits(uint64_t value, uint64_t fixed0, uint64_t fixed1)
{
    return (value & fixed0) == fixed0 && (value & ~fixed1) == 0;
}

static int control(const struct check *c, enum vmcs_field f, uint64_t cap, const char *name)
{
    uint64_t v = get(c, f);
    if (!fits(v, (uint32_t)cap, cap >> 32) || (v >> 32))
        return refuse(c->why, E_INVAL,
                      "%s controls %llx: the CPU requires %llx set and allows "
                      "only %llx",
                      name, (unsigned long long)v, (unsigned long long)(uint32_t)cap,
                      (unsigned long long)(cap >> 32));
    return 0;
}

static int page_address(const struct check *c, enum vmcs_field f, const char *name)
{
    uint64_t a = get(c, f);
    if ((a & 0xfff) || a > c->pa_limit)
        return refuse(c->why, E_INVAL, "%s %llx is not a page inside the physical address width",
                      name, (unsigned long long)a);
    return 0;
}

static int check_controls(const struct check *c)
{
    const struct vmx_caps *k = c->caps;
    uint32_t pin = (uint32_t)get(c, VMCS_PIN_CONTROLS), proc = (uint32_t)get(c, VMCS_PROC_CONTROLS);
    uint32_t proc2 = (uint32_t)get(c, VMCS_PROC_CONTROLS2);
    uint32_t exit = (uint32_t)get(c, VMCS_EXIT_CONTROLS),
             entry = (uint32_t)get(c, VMCS_ENTRY_CONTROLS);
    int err = control(c, VMCS_PIN_CONTROLS, k->pin, "pin-based");
    if (!err)
        err = control(c, VMCS_PROC_CONTROLS, k->proc, "processor-based");
    if (!err && (proc & PROC_SECONDARY))
        err = control(c, VMCS_PROC_CONTROLS2, k->proc2, "secondary processor-based");
    if (!err)
        err = control(c, VMCS_EXIT_CONTROLS, k->exit, "VM-exit");
    if (!err)
        err = control(c, VMCS_ENTRY_CONTROLS, k->entry, "VM-entry");
    if (err)
        return err;
    if (!(proc & PROC_SECONDARY))
        proc2 = 0; /* the secondary controls count as 0 */
    if (get(c, VMCS_CR3_TARGET_COUNT) > 4)
        return refuse(c->why, E_INVAL, "CR3-target count %llu is above 4",
                      (unsigned long long)get(c, VMCS_CR3_TARGET_COUNT));
    if ((proc & PROC_IO_BITMAPS) && ((err = page_address(c, VMCS_IO_BITMAP_A, "I/O bitmap A")) ||
                                     (err = page_address(c, VMCS_IO_BITMAP_B, "I/O bitmap B"))))
        return err;
    if ((proc & PROC_MSR_BITMAPS) && (err = page_address(c, VMCS_MSR_BITMAP, "MSR bitmap")))
        return err;
    if ((pin & PIN_VIRTUAL_NMIS) && !(pin & PIN_NMI_EXITING))
        return refuse(c->why, E_INVAL, "virtual NMIs without NMI exiting");
    if ((proc & PROC_NMI_WINDOW) && !(pin & PIN_VIRTUAL_NMIS))
        return refuse(c->why, E_INVAL, "NMI-window exiting without virtual NMIs");
    if ((proc2 & PROC2_UNRESTRICTED) && !(proc2 & PROC2_EPT))
        return refuse(c->why, E_INVAL, "unrestricted guest without EPT");
    if ((proc2 & PROC2_VPID) && get(c, VMCS_VPID) == 0)
        return refuse(c->why, E_INVAL, "VPID enabled with VPID 0 (the host's)");
    if (proc2 & PROC2_EPT) {
        uint64_t eptp = get(c, VMCS_EPT_POINTER);
        uint64_t type = eptp & 7, walk = (eptp >> 3) & 7;
        if (type != EPTP_WB || !(k->ept_vpid & EPT_CAP_WB))
            return refuse(c->why, E_INVAL,
                          "EPT pointer %llx: memory type %llu is not the "
                          "write-back the CPU offers",
                          (unsigned long long)eptp, (unsigned long long)type);
        if (walk != 3 || !(k->ept_vpid & EPT_CAP_WALK_4))
            return refuse(c->why, E_INVAL, "EPT pointer %llx: walk length %llu is not 4",
                          (unsigned long long)eptp, (unsigned long long)walk + 1);
        if ((eptp & 0xf80) || (eptp & ~0xfffull) > c->pa_limit)
            return refuse(c->why, E_INVAL,
                          "EPT pointer %llx: reserved bits or beyond the "
                          "physical address width",
                          (unsigned long long)eptp);
    }
    if (get(c, VMCS_EXIT_MSR_STORE_COUNT) || get(c, VMCS_EXIT_MSR_LOAD_COUNT) ||
        get(c, VMCS_ENTRY_MSR_LOAD_COUNT))
        return refuse(c->why, E_INVAL, "MSR load/store lists are not used by this backend");
    uint64_t inject = get(c, VMCS_ENTRY_INTR_INFO);
    if (inject & EVENT_VALID) {
        uint32_t type = EVENT_TYPE(inject), vector = EVENT_VECTOR(inject);
        bool error = inject & EVENT_ERROR_VALID;
        bool wants_error = type == EVENT_TYPE_HW_EXCEPTION && vector < 32 &&
                           ((X86_ERROR_CODE_VECTORS >> vector) & 1);
        uint64_t len = get(c, VMCS_ENTRY_INSN_LEN);
        bool software = type == EVENT_TYPE_SW_INTERRUPT || type == EVENT_TYPE_PRIV_SW_EXCEPTION ||
                        type == EVENT_TYPE_SW_EXCEPTION;
        if ((inject & 0x7ffff000ull) || type == 1 || type == 7 ||
            (type == EVENT_TYPE_NMI && vector != 2) ||
            (type == EVENT_TYPE_HW_EXCEPTION && vector > 31) || error != wants_error ||
            (software && (len == 0 || len > 15)))
            return refuse(c->why, E_INVAL,
                          "entry event %llx (length %llu): reserved bits, or a "
                          "type, vector and error code that do not go together",
                          (unsigned long long)inject, (unsigned long long)len);
    }
    if (!(exit & EXIT_HOST_64))
        return refuse(c->why, E_INVAL, "VM-exit controls: no 64-bit host");
    if (!(entry & ENTRY_LOAD_EFER) || !(exit & EXIT_LOAD_EFER))
        return refuse(c->why, E_INVAL, "EFER is not loaded at entry and exit");
    return 0;
}

static bool pat_valid(uint64_t pat)
{
    for (unsigned i = 0; i < 8; i++) {
        unsigned t = (pat >> (8 * i)) & 0xff;
        if (t == 2 || t == 3 || t > 7)
            return false;
    }
    return true;
}

static int check_host(const struct check *c)
{
    const struct vmx_caps *k = c->caps;
    uint64_t cr0 = get(c, VMCS_HOST_CR0), cr4 = get(c, VMCS_HOST_CR4);
    if (!fits(cr0, k->cr0_fixed0, k->cr0_fixed1))
        return refuse(c->why, E_INVAL, "host CR0 %llx does not fit the VMX fixed bits",
                      (unsigned long long)cr0);
    if (!fits(cr4, k->cr4_fixed0, k->cr4_fixed1) || !(cr4 & CR4_PAE))
        return refuse(c->why, E_INVAL,
                      "host CR4 %llx does not fit the VMX fixed bits or lacks "
                      "PAE",
                      (unsigned long long)cr4);
    if (get(c, VMCS_HOST_CR3) > c->pa_limit)
        return refuse(c->why, E_INVAL, "host CR3 beyond the physical address width");
    static const enum vmcs_field sels[] = {VMCS_HOST_ES_SEL, VMCS_HOST_CS_SEL, VMCS_HOST_SS_SEL,
                                           VMCS_HOST_DS_SEL, VMCS_HOST_FS_SEL, VMCS_HOST_GS_SEL,
                                           VMCS_HOST_TR_SEL};
    for (unsigned i = 0; i < ARRAY_SIZE(sels); i++)
        if (get(c, sels[i]) & SELECTOR_RPL_TI)
            return refuse(c->why, E_INVAL, "host selector field %#x = %llx has RPL or TI set",
                          sels[i], (unsigned long long)get(c, sels[i]));
    if (!get(c, VMCS_HOST_CS_SEL) || !get(c, VMCS_HOST_TR_SEL))
        return refuse(c->why, E_INVAL, "host CS or TR selector is null");
    static const enum vmcs_field bases[] = {VMCS_HOST_FS_BASE,   VMCS_HOST_GS_BASE,
                                            VMCS_HOST_TR_BASE,   VMCS_HOST_GDTR_BASE,
                                            VMCS_HOST_IDTR_BASE, VMCS_HOST_RIP};
    for (unsigned i = 0; i < ARRAY_SIZE(bases); i++)
        if (!canonical(get(c, bases[i])))
            return refuse(c->why, E_INVAL, "host field %#x = %llx is not canonical", bases[i],
                          (unsigned long long)get(c, bases[i]));
    if ((get(c, VMCS_EXIT_CONTROLS) & EXIT_LOAD_PAT) && !pat_valid(get(c, VMCS_HOST_PAT)))
        return refuse(c->why, E_INVAL, "host PAT %llx has an invalid memory type",
                      (unsigned long long)get(c, VMCS_HOST_PAT));
    uint64_t efer = get(c, VMCS_HOST_EFER);
    if ((efer & EFER_RESERVED) || !(efer & EFER_LMA) || !(efer & EFER_LME))
        return refuse(c->why, E_INVAL, "host EFER %llx: reserved bits, or not long mode",
                      (unsigned long long)efer);
    return 0;
}

/* Limit and granularity agree: a limit with any of bits 11:0 clear needs G clear, one with
 * any of bits 31:20 set needs G set. */
static bool limit_fits(uint64_t limit, uint64_t ar)
{
    if ((limit & 0xfff) != 0xfff && (ar & AR_G))
        return false;
    if ((limit >> 20) && !(ar & AR_G))
        return false;
    return true;
}

/* CS, SS, DS, ES bases are 32-bit; FS and GS bases are canonical (27.3.1.2). */
static int check_segment(const struct check *c, enum vmcs_field sel, const char *name, bool cs)
{
    bool unrestricted = get(c, VMCS_PROC_CONTROLS2) & PROC2_UNRESTRICTED;
    bool fs_gs = sel == VMCS_GUEST_FS_SEL || sel == VMCS_GUEST_GS_SEL;
    uint64_t ar = get(c, VMCS_SEG_AR(sel));
    uint64_t limit = get(c, VMCS_SEG_LIMIT(sel));
    if (ar & AR_UNUSABLE)
        return cs ? refuse(c->why, E_INVAL, "guest CS is unusable") : 0;
    if (ar & 0xfffe0f00ull)
        return refuse(c->why, E_INVAL, "guest %s access rights %llx have reserved bits set", name,
                      (unsigned long long)ar);
    if (!(ar & AR_S) || !(ar & AR_P) || !(AR_TYPE(ar) & 1))
        return refuse(c->why, E_INVAL,
                      "guest %s access rights %llx: not a present, accessed "
                      "code or data segment",
                      name, (unsigned long long)ar);
    if (cs && !(AR_TYPE(ar) & 8) && !(unrestricted && AR_TYPE(ar) == 3))
        return refuse(c->why, E_INVAL, "guest CS type %llu is not code",
                      (unsigned long long)AR_TYPE(ar));
    if (sel == VMCS_GUEST_SS_SEL && AR_TYPE(ar) != 3 && AR_TYPE(ar) != 7)
        return refuse(c->why, E_INVAL, "guest SS type %llu is not read/write data",
                      (unsigned long long)AR_TYPE(ar));
    if (!limit_fits(limit, ar))
        return refuse(c->why, E_INVAL, "guest %s limit %llx disagrees with its granularity", name,
                      (unsigned long long)limit);
    uint64_t base = get(c, VMCS_SEG_BASE(sel));
    if (fs_gs ? !canonical(base) : (base >> 32) != 0)
        return refuse(c->why, E_INVAL, "guest %s base %llx: %s", name, (unsigned long long)base,
                      fs_gs ? "not canonical" : "bits 63:32 set");
    return 0;
}

static int check_guest_registers(const struct check *c, bool ia32e)
{
    const struct vmx_caps *k = c->caps;
    bool unrestricted = get(c, VMCS_PROC_CONTROLS2) & PROC2_UNRESTRICTED;
    uint64_t cr0 = get(c, VMCS_GUEST_CR0), cr4 = get(c, VMCS_GUEST_CR4);
    uint64_t fixed0 = k->cr0_fixed0 & (unrestricted ? ~(CR0_PE | CR0_PG) : ~0ull);
    if (!fits(cr0, fixed0, k->cr0_fixed1) || ((cr0 & CR0_PG) && !(cr0 & CR0_PE)))
        return refuse(c->why, E_INVAL, "guest CR0 %llx does not fit the VMX fixed bits",
                      (unsigned long long)cr0);
    if (!fits(cr4, k->cr4_fixed0, k->cr4_fixed1))
        return refuse(c->why, E_INVAL, "guest CR4 %llx does not fit the VMX fixed bits",
                      (unsigned long long)cr4);
    if (ia32e && (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE)))
        return refuse(c->why, E_INVAL, "IA-32e mode guest without CR0.PG and CR4.PAE");
    if (!ia32e && (cr4 & CR4_PCIDE))
        return refuse(c->why, E_INVAL, "guest CR4.PCIDE outside IA-32e mode");
    if (get(c, VMCS_GUEST_CR3) > c->pa_limit)
        return refuse(c->why, E_INVAL, "guest CR3 beyond the physical address width");
    if ((get(c, VMCS_ENTRY_CONTROLS) & ENTRY_LOAD_DEBUG) && (get(c, VMCS_GUEST_DR7) >> 32))
        return refuse(c->why, E_INVAL, "guest DR7 bits 63:32 are not zero");
    uint64_t efer = get(c, VMCS_GUEST_EFER);
    if ((efer & EFER_RESERVED) || ((efer & EFER_LMA) != 0) != ia32e ||
        ((cr0 & CR0_PG) && ((efer & EFER_LME) != 0) != ia32e))
        return refuse(c->why, E_INVAL,
                      "guest EFER %llx disagrees with the IA-32e mode guest "
                      "control",
                      (unsigned long long)efer);
    if ((get(c, VMCS_ENTRY_CONTROLS) & ENTRY_LOAD_PAT) && !pat_valid(get(c, VMCS_GUEST_PAT)))
        return refuse(c->why, E_INVAL, "guest PAT %llx has an invalid memory type",
                      (unsigned long long)get(c, VMCS_GUEST_PAT));
    uint64_t rflags = get(c, VMCS_GUEST_RFLAGS);
    if ((rflags & RFLAGS_RESERVED) || !(rflags & RFLAGS_FIXED1) || (ia32e && (rflags & RFLAGS_VM)))
        return refuse(c->why, E_INVAL, "guest RFLAGS %llx: reserved bits, or VM in IA-32e mode",
                      (unsigned long long)rflags);
    return 0;
}

static int check_guest_segments(const struct check *c, bool ia32e)
{
    int err = check_segment(c, VMCS_GUEST_CS_SEL, "CS", true);
    static const struct {
        enum vmcs_field sel;
        const char *name;
    } data[] = {{VMCS_GUEST_SS_SEL, "SS"},
                {VMCS_GUEST_DS_SEL, "DS"},
                {VMCS_GUEST_ES_SEL, "ES"},
                {VMCS_GUEST_FS_SEL, "FS"},
                {VMCS_GUEST_GS_SEL, "GS"}};
    for (unsigned i = 0; i < ARRAY_SIZE(data) && !err; i++)
        err = check_segment(c, data[i].sel, data[i].name, false);
    if (err)
        return err;
    uint64_t cs_ar = get(c, VMCS_GUEST_CS_AR), ss_ar = get(c, VMCS_GUEST_SS_AR);
    if (ia32e && (cs_ar & AR_L) && (cs_ar & AR_DB))
        return refuse(c->why, E_INVAL, "guest CS has both L and D/B set");
    /* a conforming CS (types 13, 15) may have a DPL below SS's */
    if (!(ss_ar & AR_UNUSABLE) && AR_DPL(ss_ar) != AR_DPL(cs_ar) && AR_TYPE(cs_ar) != 3 &&
        AR_TYPE(cs_ar) < 13)
        return refuse(c->why, E_INVAL, "guest SS DPL %u differs from CS DPL %u",
                      (unsigned)AR_DPL(ss_ar), (unsigned)AR_DPL(cs_ar));
    uint64_t tr_ar = get(c, VMCS_GUEST_TR_AR);
    if ((get(c, VMCS_GUEST_TR_SEL) & 4) || (tr_ar & AR_UNUSABLE) || !(tr_ar & AR_P) ||
        (tr_ar & AR_S) || (AR_TYPE(tr_ar) != 11 && (ia32e || AR_TYPE(tr_ar) != 3)) ||
        !limit_fits(get(c, VMCS_GUEST_TR_LIMIT), tr_ar))
        return refuse(c->why, E_INVAL,
                      "guest TR (access rights %llx) is not a present busy "
                      "TSS",
                      (unsigned long long)tr_ar);
    if ((tr_ar & 0xfffe0f00ull) || !canonical(get(c, VMCS_GUEST_TR_BASE)) ||
        !canonical(get(c, VMCS_GUEST_LDTR_BASE)))
        return refuse(c->why, E_INVAL,
                      "guest TR or LDTR: reserved access-right bits or a base "
                      "that is not canonical");
    uint64_t ldtr_ar = get(c, VMCS_GUEST_LDTR_AR);
    if (!(ldtr_ar & AR_UNUSABLE) && ((get(c, VMCS_GUEST_LDTR_SEL) & 4) || AR_TYPE(ldtr_ar) != 2 ||
                                     (ldtr_ar & AR_S) || !(ldtr_ar & AR_P)))
        return refuse(c->why, E_INVAL, "guest LDTR (access rights %llx) is not an LDT",
                      (unsigned long long)ldtr_ar);
    if (get(c, VMCS_GUEST_GDTR_LIMIT) > 0xffff || get(c, VMCS_GUEST_IDTR_LIMIT) > 0xffff ||
        !canonical(get(c, VMCS_GUEST_GDTR_BASE)) || !canonical(get(c, VMCS_GUEST_IDTR_BASE)))
        return refuse(c->why, E_INVAL,
                      "guest GDTR or IDTR: limit above 0xffff or base not "
                      "canonical");
    uint64_t rip = get(c, VMCS_GUEST_RIP);
    if ((ia32e && (cs_ar & AR_L)) ? !canonical(rip) : (rip >> 32) != 0)
        return refuse(c->why, E_INVAL, "guest RIP %llx does not fit its code size",
                      (unsigned long long)rip);
    return 0;
}

static int check_guest_non_register(const struct check *c)
{
    if (get(c, VMCS_GUEST_ACTIVITY) > 3)
        return refuse(c->why, E_INVAL, "guest activity state %llu is not 0-3",
                      (unsigned long long)get(c, VMCS_GUEST_ACTIVITY));
    uint64_t intr = get(c, VMCS_GUEST_INTERRUPTIBILITY);
    uint64_t rflags = get(c, VMCS_GUEST_RFLAGS);
    if ((intr & INTERRUPTIBILITY_RESERVED) ||
        ((intr & INTERRUPTIBILITY_STI) && !(rflags & RFLAGS_IF)) ||
        (intr & INTERRUPTIBILITY_STI_AND_MOV_SS) == INTERRUPTIBILITY_STI_AND_MOV_SS)
        return refuse(c->why, E_INVAL,
                      "guest interruptibility %llx: reserved bits, STI "
                      "blocking with IF clear, or STI and MOV-SS blocking both",
                      (unsigned long long)intr);
    if (get(c, VMCS_GUEST_ACTIVITY) == ACTIVITY_HLT && AR_DPL(get(c, VMCS_GUEST_SS_AR)) != 0)
        return refuse(c->why, E_INVAL, "guest halted (activity state 1) above CPL 0");
    /* a single step pending in an STI or MOV-SS shadow is recorded as BS (27.3.1.5) */
    uint64_t dbg = get(c, VMCS_GUEST_PENDING_DBG);
    if (dbg & PENDING_DBG_RESERVED)
        return refuse(c->why, E_INVAL, "guest pending debug exceptions %llx: reserved bits",
                      (unsigned long long)dbg);
    bool single_step = (rflags & RFLAGS_TF) && !(get(c, VMCS_GUEST_DEBUGCTL) & DEBUGCTL_BTF);
    if ((intr & INTERRUPTIBILITY_STI_AND_MOV_SS) && get(c, VMCS_GUEST_ACTIVITY) != ACTIVITY_HLT &&
        single_step != ((dbg & PENDING_DBG_BS) != 0))
        return refuse(c->why, E_INVAL,
                      "guest pending debug BS (%llx) disagrees with TF in an "
                      "STI or MOV-SS shadow",
                      (unsigned long long)dbg);
    if (get(c, VMCS_LINK_POINTER) != ~0ull)
        return refuse(c->why, E_INVAL, "VMCS link pointer %llx is not ~0 (no shadow VMCS)",
                      (unsigned long long)get(c, VMCS_LINK_POINTER));
    return 0;
}

/* Every field an entry reads must have been written: a missing one would hold whatever
 * VMCLEAR left. */
static const enum vmcs_field required_fields[] = {
    VMCS_PIN_CONTROLS, VMCS_PROC_CONTROLS, VMCS_EXIT_CONTROLS, VMCS_ENTRY_CONTROLS,
    VMCS_HOST_CR0,     VMCS_HOST_CR3,      VMCS_HOST_CR4,      VMCS_HOST_RIP,
    VMCS_HOST_CS_SEL,  VMCS_HOST_TR_SEL,   VMCS_HOST_GS_BASE,  VMCS_HOST_EFER,
    VMCS_GUEST_CR0,    VMCS_GUEST_CR3,     VMCS_GUEST_CR4,     VMCS_GUEST_RIP,
    VMCS_GUEST_RFLAGS, VMCS_GUEST_CS_AR,   VMCS_GUEST_TR_AR,   VMCS_GUEST_LDTR_AR,
    VMCS_GUEST_EFER,   VMCS_LINK_POINTER,  VMCS_EPT_POINTER,   VMCS_MSR_BITMAP,
};

int vmcs_check(const struct vmcs_image *img, const struct vmx_caps *caps, struct refusal *why)
{
    if (img->n > VMCS_IMAGE_MAX)
        return refuse(why, E_INVAL, "the VMCS image holds more than %u fields", VMCS_IMAGE_MAX);
    for (unsigned i = 0; i < ARRAY_SIZE(required_fields); i++) {
        bool present;
        vmcs_get(img, required_fields[i], &present);
        if (!present)
            return refuse(why, E_INVAL, "VMCS field %#x is never written", required_fields[i]);
    }
    if (caps->phys_bits < 32 || caps->phys_bits > 52)
        return refuse(why, E_INVAL, "physical address width %u is implausible", caps->phys_bits);
    struct check c = {img, caps, why, (1ull << caps->phys_bits) - 1};
    bool ia32e = get(&c, VMCS_ENTRY_CONTROLS) & ENTRY_GUEST_64;
    int err = check_controls(&c);
    if (!err)
        err = check_host(&c);
    if (!err)
        err = check_guest_registers(&c, ia32e);
    if (!err)
        err = check_guest_segments(&c, ia32e);
    if (!err)
        err = check_guest_non_register(&c);
    return err;
}
