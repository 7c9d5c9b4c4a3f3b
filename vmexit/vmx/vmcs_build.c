/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The VMCS's contents (vmcs_build.h). Like the VMCB on SVM: a guest core takes no exit in
 * its steady state, so physical interrupts go to the guest's IDT (no external-interrupt
 * exiting), HLT, PAUSE, RDTSC, CR3 accesses and INVLPG do not exit; the kick is an NMI,
 * which exits. */
#include "vmexit/vmx/vmcs_build.h"

#include "core/klib.h"
#include "guest-stubs/include/sidecore/abi.h"
#include "vmexit/x86.h"

#define GUEST_CR0 0x80010033ull /* PG, WP, NE, ET, MP, PE: as on SVM */
#define GUEST_CR4 0x20ull       /* PAE */
#define GUEST_EFER 0x500ull     /* LMA, LME */
#define GUEST_PAT 0x0007040600070406ull
#define CR0_PE 1ull
#define CR0_PG (1ull << 31)

void vmcs_set(struct vmcs_image *img, enum vmcs_field field, uint64_t value)
{
    unsigned n = img->n < VMCS_IMAGE_MAX ? img->n : VMCS_IMAGE_MAX;
    for (unsigned i = 0; i < n; i++) {
        if (img->w[i].field == field) {
            img->w[i].value = value;
            return;
        }
    }
    if (img->n < VMCS_IMAGE_MAX)
        img->w[img->n++] = (struct vmcs_write){field, value};
    else
        img->n = VMCS_IMAGE_MAX + 1; /* vmcs_check refuses an overflowed image */
}

uint64_t vmcs_get(const struct vmcs_image *img, enum vmcs_field field, bool *present)
{
    unsigned n = img->n < VMCS_IMAGE_MAX ? img->n : VMCS_IMAGE_MAX;
    for (unsigned i = 0; i < n; i++) {
        if (img->w[i].field == field) {
            if (present)
                *present = true;
            return img->w[i].value;
        }
    }
    if (present)
        *present = false;
    return 0;
}

int vmx_control(uint64_t cap, uint32_t required, uint32_t optional, const char *what, uint32_t *out,
                struct refusal *why)
{
    uint32_t must_be_one = (uint32_t)cap, may_be_one = (uint32_t)(cap >> 32);
    if (required & ~may_be_one)
        return refuse(why, E_NOSYS, "the CPU cannot set %s control bits %#x", what,
                      required & ~may_be_one);
    *out = must_be_one | required | (optional & may_be_one);
    return 0;
}

int vmcs_build_controls(struct vmcs_image *img, const struct vmx_caps *caps,
                        const struct vmcs_tables *t, struct refusal *why)
{
    uint32_t pin, proc, proc2, exit, entry;
    int err = vmx_control(caps->pin, PIN_NMI_EXITING, 0, "pin-based (NMI exiting)", &pin, why);
    if (!err)
        err = vmx_control(caps->proc, PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_SECONDARY, 0,
                          "processor-based (I/O and MSR bitmaps, secondary controls)", &proc, why);
    /* RDTSCP, INVPCID and XSAVES raise #UD in a guest unless enabled; WBINVD exits so
     * that a guest cannot flush caches others share (exit_cache.c) */
    if (!err)
        err = vmx_control(caps->proc2, PROC2_EPT | PROC2_UNRESTRICTED | PROC2_WBINVD,
                          PROC2_VPID | PROC2_RDTSCP | PROC2_INVPCID | PROC2_XSAVES,
                          "secondary (EPT, unrestricted guest, WBINVD exiting)", &proc2, why);
    if (!err)
        err = vmx_control(
            caps->exit,
            EXIT_HOST_64 | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT,
            EXIT_SAVE_DEBUG, "VM-exit (64-bit host, EFER and PAT save and load)", &exit, why);
    if (!err)
        err = vmx_control(caps->entry, ENTRY_GUEST_64 | ENTRY_LOAD_EFER | ENTRY_LOAD_PAT,
                          ENTRY_LOAD_DEBUG, "VM-entry (64-bit guest, EFER and PAT load)", &entry,
                          why);
    if (err)
        return err;
    if (!(caps->ept_vpid & EPT_CAP_WALK_4) || !(caps->ept_vpid & EPT_CAP_WB))
        return refuse(why, E_NOSYS,
                      "EPT without 4-level tables or write-back memory type "
                      "(IA32_VMX_EPT_VPID_CAP %llx)",
                      (unsigned long long)caps->ept_vpid);
    /* an unmap is followed by INVEPT: a CPU that cannot would keep stale translations */
    if (!(caps->ept_vpid & EPT_CAP_INVEPT) ||
        !(caps->ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)))
        return refuse(why, E_NOSYS,
                      "EPT without INVEPT (single- or all-context; IA32_VMX_EPT_VPID_CAP %llx)",
                      (unsigned long long)caps->ept_vpid);
    vmcs_set(img, VMCS_PIN_CONTROLS, pin);
    vmcs_set(img, VMCS_PROC_CONTROLS, proc);
    vmcs_set(img, VMCS_PROC_CONTROLS2, proc2);
    vmcs_set(img, VMCS_EXIT_CONTROLS, exit);
    vmcs_set(img, VMCS_ENTRY_CONTROLS, entry);
    /* an exception whose delivery raises it again loops inside the CPU, with no boundary
     * for the kick: intercepted, each one is an exit (exit_exception.c) */
    vmcs_set(img, VMCS_EXCEPTION_BITMAP, (1u << X86_DB) | (1u << X86_AC));
    vmcs_set(img, VMCS_PF_ERROR_MASK, 0);
    vmcs_set(img, VMCS_PF_ERROR_MATCH, 0);
    vmcs_set(img, VMCS_CR3_TARGET_COUNT, 0);
    vmcs_set(img, VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmcs_set(img, VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmcs_set(img, VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    /* the bits VMX fixes (CR0.NE, CR4.VMXE) are the hypervisor's: the guest reads its own
     * value from the shadow, and a write that changes one exits */
    vmcs_set(img, VMCS_CR0_MASK,
             ((caps->cr0_fixed0 & ~(CR0_PE | CR0_PG)) | ~caps->cr0_fixed1) & 0xffffffffull);
    vmcs_set(img, VMCS_CR4_MASK, (caps->cr4_fixed0 | ~caps->cr4_fixed1) & 0xffffffffull);
    vmcs_set(img, VMCS_IO_BITMAP_A, t->io_bitmap_a);
    vmcs_set(img, VMCS_IO_BITMAP_B, t->io_bitmap_b);
    vmcs_set(img, VMCS_MSR_BITMAP, t->msr_bitmap);
    vmcs_set(img, VMCS_EPT_POINTER, t->ept_root | EPTP_WALK_4 | EPTP_WB);
    if (proc2 & PROC2_VPID)
        vmcs_set(img, VMCS_VPID, t->vpid);
    if (proc2 & PROC2_XSAVES) /* XSAVES/XRSTORS enabled: no supervisor state exits */
        vmcs_set(img, VMCS_XSS_EXIT_BITMAP, 0);
    vmcs_set(img, VMCS_TSC_OFFSET, 0);
    return 0;
}

void vmcs_build_host(struct vmcs_image *img, const struct vmcs_host *h)
{
    vmcs_set(img, VMCS_HOST_CR0, h->cr0);
    vmcs_set(img, VMCS_HOST_CR3, h->cr3);
    vmcs_set(img, VMCS_HOST_CR4, h->cr4);
    vmcs_set(img, VMCS_HOST_CS_SEL, h->cs);
    vmcs_set(img, VMCS_HOST_SS_SEL, h->ss);
    vmcs_set(img, VMCS_HOST_DS_SEL, h->ds);
    vmcs_set(img, VMCS_HOST_ES_SEL, h->es);
    vmcs_set(img, VMCS_HOST_FS_SEL, h->fs);
    vmcs_set(img, VMCS_HOST_GS_SEL, h->gs);
    vmcs_set(img, VMCS_HOST_TR_SEL, h->tr);
    vmcs_set(img, VMCS_HOST_FS_BASE, h->fs_base);
    vmcs_set(img, VMCS_HOST_GS_BASE, h->gs_base);
    vmcs_set(img, VMCS_HOST_TR_BASE, h->tr_base);
    vmcs_set(img, VMCS_HOST_GDTR_BASE, h->gdtr_base);
    vmcs_set(img, VMCS_HOST_IDTR_BASE, h->idtr_base);
    vmcs_set(img, VMCS_HOST_SYSENTER_CS, 0);
    vmcs_set(img, VMCS_HOST_SYSENTER_ESP, 0);
    vmcs_set(img, VMCS_HOST_SYSENTER_EIP, 0);
    vmcs_set(img, VMCS_HOST_EFER, h->efer);
    vmcs_set(img, VMCS_HOST_PAT, h->pat);
    vmcs_set(img, VMCS_HOST_RIP, h->rip);
    /* HOST_RSP is written by the world switch before each entry */
}

static void segment(struct vmcs_image *img, enum vmcs_field sel, uint16_t selector, uint32_t ar,
                    uint32_t limit, uint64_t base)
{
    vmcs_set(img, sel, selector);
    vmcs_set(img, VMCS_SEG_LIMIT(sel), limit);
    vmcs_set(img, VMCS_SEG_AR(sel), ar);
    vmcs_set(img, VMCS_SEG_BASE(sel), base);
}

void vmcs_build_guest_reset(struct vmcs_image *img, const struct vmx_caps *caps, uint64_t rip,
                            uint64_t rsp)
{
    uint64_t cr0 = (GUEST_CR0 | (caps->cr0_fixed0 & ~(CR0_PE | CR0_PG))) & caps->cr0_fixed1;
    uint64_t cr4 = (GUEST_CR4 | caps->cr4_fixed0) & caps->cr4_fixed1;
    segment(img, VMCS_GUEST_CS_SEL, SC_GDT_CODE, AR_CODE64, 0xffffffff, 0);
    segment(img, VMCS_GUEST_DS_SEL, SC_GDT_DATA, AR_DATA, 0xffffffff, 0);
    segment(img, VMCS_GUEST_ES_SEL, SC_GDT_DATA, AR_DATA, 0xffffffff, 0);
    segment(img, VMCS_GUEST_SS_SEL, SC_GDT_DATA, AR_DATA, 0xffffffff, 0);
    segment(img, VMCS_GUEST_FS_SEL, SC_GDT_DATA, AR_DATA, 0xffffffff, 0);
    segment(img, VMCS_GUEST_GS_SEL, SC_GDT_DATA, AR_DATA, 0xffffffff, 0);
    segment(img, VMCS_GUEST_TR_SEL, 0, AR_TSS64_BUSY, 0x67, 0);
    segment(img, VMCS_GUEST_LDTR_SEL, 0, AR_UNUSABLE, 0, 0);
    vmcs_set(img, VMCS_GUEST_GDTR_BASE, SC_GPA_GDT);
    vmcs_set(img, VMCS_GUEST_GDTR_LIMIT, SC_GDT_DATA + 8 - 1);
    vmcs_set(img, VMCS_GUEST_IDTR_BASE, 0);
    vmcs_set(img, VMCS_GUEST_IDTR_LIMIT, 0);
    vmcs_set(img, VMCS_GUEST_CR0, cr0);
    vmcs_set(img, VMCS_CR0_SHADOW, GUEST_CR0);
    vmcs_set(img, VMCS_GUEST_CR3, SC_GPA_PAGE_TABLES);
    vmcs_set(img, VMCS_GUEST_CR4, cr4);
    vmcs_set(img, VMCS_CR4_SHADOW, GUEST_CR4);
    vmcs_set(img, VMCS_GUEST_EFER, GUEST_EFER);
    vmcs_set(img, VMCS_GUEST_PAT, GUEST_PAT);
    vmcs_set(img, VMCS_GUEST_DEBUGCTL, 0);
    vmcs_set(img, VMCS_GUEST_DR7, 0x400);
    vmcs_set(img, VMCS_GUEST_RFLAGS, 2); /* interrupts off until the guest has an IDT */
    vmcs_set(img, VMCS_GUEST_RIP, rip);
    vmcs_set(img, VMCS_GUEST_RSP, rsp);
    vmcs_set(img, VMCS_GUEST_SYSENTER_CS, 0);
    vmcs_set(img, VMCS_GUEST_SYSENTER_ESP, 0);
    vmcs_set(img, VMCS_GUEST_SYSENTER_EIP, 0);
    vmcs_set(img, VMCS_GUEST_ACTIVITY, 0);
    vmcs_set(img, VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmcs_set(img, VMCS_GUEST_PENDING_DBG, 0);
    vmcs_set(img, VMCS_LINK_POINTER, ~0ull);
    /* nothing carries over from before a stop: no event is injected at the new entry */
    vmcs_set(img, VMCS_ENTRY_INTR_INFO, 0);
    vmcs_set(img, VMCS_ENTRY_EXCEPTION_ERROR, 0);
    vmcs_set(img, VMCS_ENTRY_INSN_LEN, 0);
}
