/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The VMCS the VMX backend builds (vmcs_build.c) passes the VM-entry checks (vmcs_check.c)
 * with the capabilities of the emulated Ice Lake the Bochs tests run on; the controls are
 * the minimal-exit set; a CPU missing what the backend needs is refused by name; and each
 * check refuses the broken field it is there for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/klib.h"
#include "vmexit/vmx/vmcs_build.h"
#include "vmexit/vmx/vmcs_check.h"
#include "vmexit/x86.h"

/* allowed 0-settings in the low word, allowed 1-settings in the high word */
#define CAP(must, may) (((uint64_t)(may) << 32) | (uint32_t)(must))

static const struct vmx_caps icelake = {
    .basic = (1ull << 55) | (4096ull << 32) | 4, /* true controls, 4 KiB regions, revision 4 */
    .pin = CAP(0x16, 0x7f),
    .proc = CAP(0x04006172, 0xfff9fffe),
    .proc2 = CAP(0, 0x015fbfff),
    .exit = CAP(0x00036dfb, 0x003fefff),
    .entry = CAP(0x000011fb, 0x0000f3ff),
    .cr0_fixed0 = 0x80000021,
    .cr0_fixed1 = 0xffffffff,
    .cr4_fixed0 = 0x2000,
    .cr4_fixed1 = 0x772fff,
    .ept_vpid = 0xf0106334141ull,
    .phys_bits = 39,
};

static const struct vmcs_tables tables = {0x10000, 0x11000, 0x12000, 0x200000, 1};
static const struct vmcs_host host = {
    .cr0 = 0x80050033,
    .cr3 = 0x300000,
    .cr4 = 0x22a0,
    .cs = 8,
    .ss = 0x10,
    .ds = 0x10,
    .es = 0x10,
    .fs = 0,
    .gs = 0,
    .tr = 0x18,
    .fs_base = 0,
    .gs_base = 0x401000,
    .tr_base = 0x402000,
    .gdtr_base = 0x403000,
    .idtr_base = 0x404000,
    .efer = 0xd01,
    .pat = 0x0007040600070406ull,
    .rip = 0x1001234,
};

static struct vmcs_image img;
static struct refusal why;

static void build(const struct vmx_caps *caps)
{
    memset(&img, 0, sizeof(img));
    assert_int_equal(vmcs_build_controls(&img, caps, &tables, &why), 0);
    vmcs_build_host(&img, &host);
    vmcs_build_guest_reset(&img, caps, 0x200000, 0x1000000);
}

static uint64_t get(enum vmcs_field f)
{
    bool present;
    uint64_t v = vmcs_get(&img, f, &present);
    assert_true(present);
    return v;
}

static void test_built_vmcs_passes_the_entry_checks(void **state)
{
    (void)state;
    build(&icelake);
    assert_int_equal(vmcs_check(&img, &icelake, &why), 0);

    /* exits: NMI (the kick) yes; external interrupts, HLT, PAUSE, RDTSC, CR3, MOV DR no */
    uint64_t pin = get(VMCS_PIN_CONTROLS), proc = get(VMCS_PROC_CONTROLS);
    uint64_t proc2 = get(VMCS_PROC_CONTROLS2);
    assert_true(pin & PIN_NMI_EXITING);
    assert_false(pin & PIN_EXTERNAL_INTERRUPT);
    assert_int_equal(proc & (PROC_HLT | PROC_PAUSE | PROC_RDTSC | PROC_CR3_LOAD | PROC_CR3_STORE |
                             PROC_MOV_DR | PROC_UNCONDITIONAL_IO | PROC_INVLPG | PROC_MWAIT),
                     0);
    assert_int_equal(proc & (PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_SECONDARY),
                     PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_SECONDARY);
    assert_int_equal(proc & 0x04006172, 0x04006172); /* the bits the CPU forces stay */
    assert_int_equal(proc2 & (PROC2_EPT | PROC2_UNRESTRICTED | PROC2_VPID | PROC2_WBINVD),
                     PROC2_EPT | PROC2_UNRESTRICTED | PROC2_VPID | PROC2_WBINVD);
    assert_int_equal(get(VMCS_EXCEPTION_BITMAP), (1u << X86_DB) | (1u << X86_AC));
    assert_int_equal(get(VMCS_EPT_POINTER), 0x200000 | EPTP_WALK_4 | EPTP_WB);
    assert_int_equal(get(VMCS_VPID), 1);
    assert_int_equal(get(VMCS_XSS_EXIT_BITMAP), 0); /* XSAVES enabled: nothing exits */
    assert_int_equal(get(VMCS_MSR_BITMAP), 0x12000);
    /* CR0.NE and CR4.VMXE are the hypervisor's; the guest reads its own values */
    assert_int_equal(get(VMCS_CR0_MASK), 0x20);
    assert_true(get(VMCS_CR4_MASK) & 0x2000);
    assert_true(get(VMCS_GUEST_CR4) & 0x2000);
    assert_false(get(VMCS_CR4_SHADOW) & 0x2000);
    assert_int_equal(get(VMCS_GUEST_CR0), 0x80010033);
    assert_int_equal(get(VMCS_GUEST_RIP), 0x200000);
    assert_int_equal(get(VMCS_GUEST_RSP), 0x1000000);
    assert_int_equal(get(VMCS_LINK_POINTER), ~0ull);
    assert_int_equal(get(VMCS_ENTRY_INTR_INFO), 0);
    assert_int_equal(get(VMCS_HOST_RIP), 0x1001234);
    assert_int_equal(get(VMCS_HOST_GS_BASE), 0x401000);
}

static void test_without_true_controls_forced_bits_are_kept(void **state)
{
    (void)state;
    struct vmx_caps old = icelake;
    old.proc = CAP(0x0401e172, 0xfff9fffe); /* CR3-load/store exiting forced on */
    build(&old);
    assert_int_equal(get(VMCS_PROC_CONTROLS) & (PROC_CR3_LOAD | PROC_CR3_STORE),
                     PROC_CR3_LOAD | PROC_CR3_STORE);
    assert_int_equal(vmcs_check(&img, &old, &why), 0);
}

static void refused_build(const struct vmx_caps *caps, const char *text)
{
    memset(&img, 0, sizeof(img));
    assert_int_equal(vmcs_build_controls(&img, caps, &tables, &why), -E_NOSYS);
    assert_non_null(strstr(why.text, text));
}

static void test_a_cpu_missing_what_is_needed_is_refused_by_name(void **state)
{
    (void)state;
    struct vmx_caps c = icelake;
    c.proc2 = CAP(0, 0x015fbfff & ~PROC2_EPT);
    refused_build(&c, "secondary (EPT, unrestricted guest, WBINVD exiting) control bits 0x2");
    c = icelake;
    c.proc2 = CAP(0, 0x015fbfff & ~PROC2_UNRESTRICTED);
    refused_build(&c, "secondary (EPT, unrestricted guest, WBINVD exiting) control bits 0x80");
    c = icelake;
    c.proc2 = CAP(0, 0x015fbfff & ~PROC2_WBINVD); /* a guest's WBINVD would flush shared caches */
    refused_build(&c, "control bits 0x40");
    c = icelake;
    c.ept_vpid &= ~(EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL);
    refused_build(&c, "without INVEPT");
    c = icelake;
    c.pin = CAP(0x16, 0x77);
    refused_build(&c, "pin-based (NMI exiting)");
    c = icelake;
    c.proc = CAP(0x04006172, 0x7ff9fffe);
    refused_build(&c, "secondary controls");
    c = icelake;
    c.exit = CAP(0x00036dfb, 0x000fefff);
    refused_build(&c, "EFER and PAT save and load");
    c = icelake;
    c.ept_vpid &= ~EPT_CAP_WB;
    refused_build(&c, "write-back");
    /* optional ones are simply left out */
    c = icelake;
    c.proc2 = CAP(0, PROC2_EPT | PROC2_UNRESTRICTED | PROC2_WBINVD);
    build(&c);
    assert_int_equal(get(VMCS_PROC_CONTROLS2), PROC2_EPT | PROC2_UNRESTRICTED | PROC2_WBINVD);
    bool present;
    vmcs_get(&img, VMCS_VPID, &present);
    assert_false(present);
    assert_int_equal(vmcs_check(&img, &c, &why), 0);
}

static void refused(enum vmcs_field f, uint64_t value, const char *text)
{
    build(&icelake);
    vmcs_set(&img, f, value);
    if (vmcs_check(&img, &icelake, &why) != -E_INVAL)
        fail_msg("field %#x = %llx was not refused", f, (unsigned long long)value);
    if (!strstr(why.text, text))
        fail_msg("field %#x = %llx: \"%s\" does not say \"%s\"", f, (unsigned long long)value,
                 why.text, text);
}

static void test_each_check_refuses_its_field(void **state)
{
    (void)state;
    /* controls */
    refused(VMCS_PIN_CONTROLS, 0x1e | PIN_VIRTUAL_NMIS | (1u << 30), "pin-based controls");
    refused(VMCS_PROC_CONTROLS, 0x92006172 & ~0x100u, "processor-based controls");
    refused(VMCS_PIN_CONTROLS, 0x16 | PIN_VIRTUAL_NMIS, "virtual NMIs without NMI exiting");
    refused(VMCS_PROC_CONTROLS2, PROC2_UNRESTRICTED, "unrestricted guest without EPT");
    refused(VMCS_VPID, 0, "VPID 0");
    refused(VMCS_EPT_POINTER, 0x200000 | (2 << 3) | 6, "walk length 3 is not 4");
    refused(VMCS_EPT_POINTER, 0x200000 | (3 << 3) | 0, "memory type 0");
    refused(VMCS_EPT_POINTER, (1ull << 40) | (3 << 3) | 6, "beyond the physical address width");
    refused(VMCS_MSR_BITMAP, 0x12800, "MSR bitmap 12800");
    refused(VMCS_IO_BITMAP_B, 1ull << 45, "I/O bitmap B");
    refused(VMCS_CR3_TARGET_COUNT, 5, "CR3-target count 5");
    refused(VMCS_ENTRY_MSR_LOAD_COUNT, 1, "MSR load/store lists");
    refused(VMCS_ENTRY_INTR_INFO, EVENT_VALID | (1u << 20) | 13, "reserved bits");
    /* host state */
    refused(VMCS_HOST_CR4, 0x22a0 & ~0x2000u, "host CR4");
    refused(VMCS_HOST_CR4, 0x2080, "lacks PAE");
    refused(VMCS_HOST_CR0, 0x80050013, "host CR0"); /* NE clear */
    refused(VMCS_HOST_SS_SEL, 0x13, "RPL or TI");
    refused(VMCS_HOST_TR_SEL, 0, "CS or TR selector is null");
    refused(VMCS_HOST_GS_BASE, 0x0000800000000000ull, "not canonical");
    refused(VMCS_HOST_EFER, 0x101, "host EFER"); /* LME without LMA */
    /* guest state */
    refused(VMCS_GUEST_CR0, 0x80010013, "guest CR0"); /* NE clear */
    refused(VMCS_GUEST_CR4, 0x20, "guest CR4");       /* VMXE clear */
    refused(VMCS_GUEST_CR4, 0x2000, "without CR0.PG and CR4.PAE");
    refused(VMCS_GUEST_EFER, 0x100, "disagrees with the IA-32e mode guest");
    refused(VMCS_GUEST_DR7, 1ull << 32, "DR7"); /* DR7 is loaded (load debug controls) */
    refused(VMCS_GUEST_PAT, 0x0007040600070402ull, "invalid memory type");
    refused(VMCS_GUEST_RFLAGS, 0, "RFLAGS");
    refused(VMCS_GUEST_RFLAGS, 0x2 | (1ull << 17), "RFLAGS");
    refused(VMCS_GUEST_CS_AR, AR_CODE64 | AR_DB, "both L and D/B");
    refused(VMCS_GUEST_CS_AR, 0x1 | AR_S | AR_P | AR_G, "not code"); /* read-only data */
    refused(VMCS_GUEST_CS_AR, AR_UNUSABLE, "CS is unusable");
    refused(VMCS_GUEST_SS_AR, AR_DATA | (3u << 5), "SS DPL 3 differs");
    refused(VMCS_GUEST_DS_AR, AR_DATA & ~AR_P, "not a present");
    refused(VMCS_GUEST_DS_LIMIT, 0xfffff000, "granularity");
    refused(VMCS_GUEST_TR_AR, AR_UNUSABLE, "busy TSS");
    refused(VMCS_GUEST_TR_AR, 0x89, "busy TSS"); /* available, not busy */
    refused(VMCS_GUEST_LDTR_AR, 0x82 | AR_S, "not an LDT");
    refused(VMCS_GUEST_GDTR_LIMIT, 0x10000, "GDTR or IDTR");
    refused(VMCS_GUEST_RIP, 0x0000800000000000ull, "RIP");
    refused(VMCS_GUEST_ACTIVITY, 5, "activity state 5");
    refused(VMCS_GUEST_INTERRUPTIBILITY, 1, "STI blocking with IF clear");
    refused(VMCS_LINK_POINTER, 0, "link pointer");
    refused(VMCS_GUEST_SS_AR, 0xb | AR_S | AR_P | AR_DB | AR_G, "SS type 11");
    refused(VMCS_GUEST_DS_BASE, 1ull << 32, "bits 63:32 set");
    refused(VMCS_GUEST_FS_BASE, 0x0000800000000000ull, "not canonical");
    refused(VMCS_GUEST_TR_BASE, 0x0000800000000000ull, "TR or LDTR");
    refused(VMCS_GUEST_CR3, 0x110000 | (1ull << 63), "guest CR3");
    refused(VMCS_GUEST_INTERRUPTIBILITY, 3, "STI and MOV-SS blocking both");
    refused(VMCS_GUEST_PENDING_DBG, 1ull << 20, "reserved bits");
    refused(VMCS_ENTRY_INTR_INFO, EVENT_VALID | (EVENT_TYPE_NMI << 8) | 3, "do not go together");
    refused(VMCS_ENTRY_INTR_INFO, EVENT_VALID | (EVENT_TYPE_HW_EXCEPTION << 8) | 13,
            "do not go together"); /* #GP without its error code */
    refused(VMCS_ENTRY_INTR_INFO, EVENT_VALID | (EVENT_TYPE_SW_INTERRUPT << 8) | 0x80,
            "length 0"); /* INT n without its length */
    refused(VMCS_HOST_PAT, 0x0007040600070402ull, "host PAT");
    /* each refused above, here the same fields in a state the CPU takes */
    static const struct {
        enum vmcs_field f;
        uint64_t v;
    } fine[] = {
        {VMCS_GUEST_CR0, 0xa0010033},    /* NW without CD: no entry check forbids it */
        {VMCS_GUEST_SS_AR, AR_DATA | 4}, /* expand-down data */
        {VMCS_GUEST_CS_AR, 0xf | AR_S | AR_P | AR_L | AR_G | (0u << 5)}, /* conforming */
        {VMCS_ENTRY_INTR_INFO,
         EVENT_VALID | EVENT_ERROR_VALID | (EVENT_TYPE_HW_EXCEPTION << 8) | 13},
        {VMCS_GUEST_INTERRUPTIBILITY, 2}, /* MOV-SS blocking, TF clear, BS clear */
    };
    for (unsigned i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
        build(&icelake);
        vmcs_set(&img, fine[i].f, fine[i].v);
        if (vmcs_check(&img, &icelake, &why))
            fail_msg("field %#x = %llx refused: %s", fine[i].f, (unsigned long long)fine[i].v,
                     why.text);
    }
    /* a single step in a MOV-SS shadow: refused without BS, taken with it */
    build(&icelake);
    vmcs_set(&img, VMCS_GUEST_RFLAGS, 0x102);
    vmcs_set(&img, VMCS_GUEST_INTERRUPTIBILITY, 2);
    assert_int_equal(vmcs_check(&img, &icelake, &why), -E_INVAL);
    assert_non_null(strstr(why.text, "BS"));
    vmcs_set(&img, VMCS_GUEST_PENDING_DBG, 1u << 14);
    assert_int_equal(vmcs_check(&img, &icelake, &why), 0);
}

static void test_an_unwritten_or_overflowed_image_is_refused(void **state)
{
    (void)state;
    build(&icelake);
    /* drop the host RIP: the entry would load whatever VMCLEAR left */
    for (unsigned i = 0; i < img.n; i++)
        if (img.w[i].field == VMCS_HOST_RIP)
            img.w[i] = img.w[--img.n];
    assert_int_equal(vmcs_check(&img, &icelake, &why), -E_INVAL);
    assert_non_null(strstr(why.text, "0x6c16 is never written"));
    build(&icelake);
    for (unsigned f = 0; f < VMCS_IMAGE_MAX; f++)
        vmcs_set(&img, (enum vmcs_field)(0x7000 + 2 * f), 0); /* made-up fields, to fill it */
    assert_int_equal(vmcs_check(&img, &icelake, &why), -E_INVAL);
    assert_non_null(strstr(why.text, "more than"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_built_vmcs_passes_the_entry_checks),
        cmocka_unit_test(test_without_true_controls_forced_bits_are_kept),
        cmocka_unit_test(test_a_cpu_missing_what_is_needed_is_refused_by_name),
        cmocka_unit_test(test_each_check_refuses_its_field),
        cmocka_unit_test(test_an_unwritten_or_overflowed_image_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
