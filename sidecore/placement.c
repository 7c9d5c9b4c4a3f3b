/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Round-robin placement of rings on the side cores that run their service. */
#include "sidecore/placement.h"

#include "core/klib.h"

/* The cpu of the idx-th side core (configuration order) that runs service s. */
static uint16_t nth_with(const struct config *cfg, unsigned s, unsigned idx)
{
    for (unsigned i = 0; i < cfg->nsidecores; i++)
        if ((cfg->sidecores[i].services & (1u << s)) && idx-- == 0)
            return (uint16_t)cfg->sidecores[i].cpu;
    return 0; /* not reached: idx < the number of such side cores */
}

int placement_compute(const struct config *cfg, unsigned nvcpus_total,
                      uint16_t (*serving_cpu)[SC_SERVICES])
{
    for (unsigned s = 0; s < SC_SERVICES; s++) {
        unsigned n = 0;
        for (unsigned i = 0; i < cfg->nsidecores; i++)
            n += (cfg->sidecores[i].services & (1u << s)) != 0;
        if (n == 0)
            return -E_INVAL;
        for (unsigned k = 0; k < nvcpus_total; k++)
            serving_cpu[k][s] = nth_with(cfg, s, k % n);
    }
    return 0;
}
