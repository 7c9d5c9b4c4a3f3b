/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Round-robin placement of rings on the side cores that run their service. */
#include "sidecore/placement.h"

#include "core/klib.h"

int placement_compute(const struct config *cfg, unsigned nvcpus_total,
                      uint16_t (*serving_cpu)[SC_SERVICES])
{
    for (unsigned s = 0; s < SC_SERVICES; s++) {
        uint16_t cores[CONFIG_MAX_CPUS];
        unsigned n = 0;
        for (unsigned i = 0; i < cfg->nsidecores; i++)
            if (cfg->sidecores[i].services & (1u << s))
                cores[n++] = (uint16_t)cfg->sidecores[i].cpu;
        if (n == 0)
            return -E_INVAL;
        for (unsigned k = 0; k < nvcpus_total; k++)
            serving_cpu[k][s] = cores[k % n];
    }
    return 0;
}
