/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Choosing the backend at boot: each one compiled in is probed in turn. */
#include "vmexit/backend.h"

#include "core/fmt.h"
#include "core/klib.h"
#include "core/palloc.h"
#include "core/refusal.h"

const struct vcpu_backend *vcpu_backend;

int backend_alloc_zeroed(struct palloc *pa, unsigned pages, uint64_t *out)
{
    int rc = palloc_alloc(pa, pages * PAGE_SIZE, PAGE_SIZE, 0, out);
    if (!rc)
        memset((void *)(uintptr_t)*out, 0, pages * PAGE_SIZE);
    return rc;
}

static const struct vcpu_backend *const backends[] = {&svm_backend, &vmx_backend};

int vcpu_backend_select(struct refusal *why)
{
    int rc = -E_NOSYS;
    char all[REFUSAL_MAX] = ""; /* the reasons joined, refused as one */
    unsigned used = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(backends); i++) {
        struct refusal one;
        rc = backends[i]->probe(&one);
        if (!rc) {
            vcpu_backend = backends[i];
            return 0;
        }
        /* one backend: its reason as it is; several: each named */
        if (used < sizeof(all))
            used += (unsigned)ksnprintf(all + used, sizeof(all) - used, "%s%s%s%s", i ? "; " : "",
                                        ARRAY_SIZE(backends) > 1 ? backends[i]->name : "",
                                        ARRAY_SIZE(backends) > 1 ? ": " : "", one.text);
    }
    return refuse(why, -rc, "%s", all);
}
