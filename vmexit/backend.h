/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* The vendor backend interface (AMD SVM, Intel VMX): mechanism only. A backend enters the
 * guest, decodes each exit into one vendor-neutral struct vcpu_exit and carries out what
 * the exit policy (exit.c and exit_*.c, written once) decides. It decides nothing itself:
 * which exits are errors, what a guest sees for a port or an MSR, when a partition stops
 * are the policy's. */
#ifndef VMEXIT_BACKEND_H
#define VMEXIT_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pgtable.h"
#include "core/refusal.h"

struct vcpu;
struct palloc;
struct guest_state;

/* Why the guest exited, in the policy's terms. A backend maps each of its exit codes to
 * one of these; a code it has no name for is VCPU_EXIT_UNKNOWN, never dropped. */
enum vcpu_exit_reason {
    VCPU_EXIT_CPUID,
    VCPU_EXIT_HYPERCALL, /* VMMCALL (SVM), VMCALL (VMX) */
    VCPU_EXIT_MSR_READ,  /* RDMSR */
    VCPU_EXIT_MSR_WRITE, /* WRMSR */
    VCPU_EXIT_IO,        /* IN, OUT, INS, OUTS */
    VCPU_EXIT_EXCEPTION, /* an intercepted exception */
    VCPU_EXIT_INVD,
    VCPU_EXIT_WBINVD,       /* WBINVD and WBNOINVD */
    VCPU_EXIT_XSETBV,       /* XSETBV (it always exits on VMX; SVM does not intercept it) */
    VCPU_EXIT_NMI,          /* a physical NMI: the hypervisor's kick */
    VCPU_EXIT_INTR,         /* a physical interrupt (not intercepted: never, by construction) */
    VCPU_EXIT_STAGE2_FAULT, /* nested page fault (SVM), EPT violation (VMX) */
    VCPU_EXIT_TRIPLE_FAULT, /* shutdown */
    VCPU_EXIT_ENTRY_FAILED, /* the CPU refused the guest state at entry */
    VCPU_EXIT_UNKNOWN,      /* any other exit code */
};

enum vcpu_access { VCPU_ACCESS_READ, VCPU_ACCESS_WRITE, VCPU_ACCESS_FETCH };

/* One exit, decoded. Only the member of the union that the reason names is filled. */
struct vcpu_exit {
    enum vcpu_exit_reason reason;
    uint8_t insn_len; /* of the exiting instruction (CPUID, hypercall, MSR, I/O, INVD,
                         WBINVD): what skip_instruction advances past */
    uint8_t cpl;      /* the guest's privilege level at the exit */
    uint64_t rip;     /* of the exiting instruction */
    union {
        struct {
            uint16_t port;
            uint8_t size; /* 1, 2 or 4 bytes */
            bool in, string, rep;
        } io;
        struct {
            uint32_t index; /* ecx */
            uint64_t value; /* writes: edx:eax */
        } msr;              /* and XSETBV's extended control register */
        struct {
            uint64_t gpa;
            enum vcpu_access access;
            /* not the instruction's own access to gpa: the CPU walking the guest's page
             * tables, or delivering an event (IDT, stack), faulted there */
            bool not_the_access;
        } fault;
        struct {
            uint8_t vector;
            bool has_error;
            uint32_t error;
        } exception;
    };
    /* the vendor's own exit code and information words, as they are, for the messages of
     * exits that stop a partition (named by vcpu_backend.hw_info_names) */
    uint32_t hw_code;
    uint64_t hw_info[2];
};

/* Guest registers a backend keeps outside struct guest_regs. */
enum vcpu_reg { VCPU_REG_RFLAGS, VCPU_REG_DR7, VCPU_REG_RSP };

struct vcpu_backend {
    const char *name;
    const char *hw_info_names[2];          /* e.g. "exitinfo1", "exitinfo2" */
    const struct pt_format *stage2_format; /* the nested tables' entry encoding */
    uint32_t boot_flags;                   /* SC_BOOT_* a guest needs (SC_BOOT_VMCALL) */

    /* ---- on the boot CPU */
    /* Can this machine run guests with this backend? Fill why on refusal. */
    int (*probe)(struct refusal *why);
    /* The largest page the nested tables may use (after a successful probe). */
    enum pt_page_size (*stage2_largest_page)(void);
    /* Allocate and build the vendor state of a vCPU, reset to its entry point. */
    int (*vcpu_prepare)(struct vcpu *v, struct palloc *pa);
    /* Reset to the initial 64-bit state at rip/rsp (abi.h; v->regs included) with no event
     * pending: nothing from before a stop may be delivered after it. Also on the vCPU's
     * core, outside its guest (SC_OP_VCPU_START). */
    void (*vcpu_reset)(struct vcpu *v, uint64_t rip, uint64_t rsp);

    /* ---- on the vCPU's own core */
    /* Turn virtualization on for this core and check the vCPU's state before its first
     * entry; on refusal, why is the whole message. */
    int (*cpu_enable)(struct vcpu *v, struct refusal *why);
    /* From hold_events to release_events, an event that asks this vCPU to leave its guest
     * (the kick NMI) is neither taken in the hypervisor nor lost: sent after the run loop's
     * checks, it makes the coming enter() return at once with an exit. SVM: CLGI/STGI. A
     * backend without a global interrupt flag (VMX) gives the same guarantee its own way. */
    void (*hold_events)(struct vcpu *v);
    void (*release_events)(struct vcpu *v); /* a held kick is taken here, harmlessly */
    /* Run the guest until its next exit; called and returns with events held. v->regs
     * (rax included) goes in and comes back; an event whose delivery the exit interrupted
     * is re-armed for the next entry (an inject_exception may replace it). */
    void (*enter)(struct vcpu *v);
    /* The exit enter() returned from, decoded. The guest state is left as the policy
     * expects of every vendor: after an intercepted #DB, DR6 holds what the CPU would
     * have written on delivery (SVM: so already; VMX: from the exit qualification). */
    void (*decode_exit)(const struct vcpu *v, struct vcpu_exit *out);
    /* Advance rip past the exiting instruction (len from decode_exit). */
    void (*skip_instruction)(struct vcpu *v, unsigned len);
    /* Deliver an exception at the next entry, as a fault at the current rip. */
    void (*inject_exception)(struct vcpu *v, unsigned vector, bool has_error, uint32_t error);
    uint64_t (*read_reg)(const struct vcpu *v, enum vcpu_reg reg);
    void (*write_reg)(struct vcpu *v, enum vcpu_reg reg, uint64_t value);
    /* Invalidate cached guest translations at the next entry (the nested tables changed). */
    void (*flush_guest_tlb)(struct vcpu *v);

    /* A vendor-neutral snapshot for dumps, while the vCPU is out of its guest. */
    void (*vcpu_state)(const struct vcpu *v, struct guest_state *out);
    /* After VCPU_EXIT_ENTRY_FAILED: the entry checks run again on the state the CPU refused;
     * true with why naming the field and the rule when one of them fails (the CPU may also
     * refuse for a reason they do not cover). */
    bool (*diagnose_entry)(const struct vcpu *v, struct refusal *why);
};

/* The backends compiled in, tried in turn by vcpu_backend_select. */
extern const struct vcpu_backend svm_backend;
extern const struct vcpu_backend vmx_backend;

/* For the backends: pages of their control structures and maps, zeroed, page aligned,
 * anywhere. 0 or -E_NOMEM. */
int backend_alloc_zeroed(struct palloc *pa, unsigned pages, uint64_t *out);

/* The backend chosen at boot, or NULL if this machine cannot run guests. */
extern const struct vcpu_backend *vcpu_backend;

/* Boot CPU: probe each compiled-in backend and keep the first that can run guests;
 * 0, or a negative errno and why names each backend's refusal. */
int vcpu_backend_select(struct refusal *why);

#endif
