/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Linux partitions (linux_boot.h): the partition's layout told to the kernel in its terms. */
#include "vmexit/linux_boot.h"

#include "core/boot_info.h"
#include "core/bzimage.h"
#include "core/klib.h"
#include "core/refusal.h"
#include "vmexit/vcpu.h"

#define CMDLINE_ROOM PAGE_SIZE /* SC_GPA_CMDLINE up to the next page of the layout */
/* RAM below 1 MiB for the kernel's real-mode trampoline (which a 64-bit start of its other
 * CPUs enters too): from above the boot structures to where a PC's EBDA would begin. */
#define LOW_RAM_START SC_GPA_BOOT_INFO(MAX_PARTITION_VCPUS)
#define LOW_RAM_END 0x9f000ull
_Static_assert(LOW_RAM_START < LOW_RAM_END, "some RAM below 1 MiB");
_Static_assert(SC_GPA_CMDLINE + PAGE_SIZE <= LOW_RAM_START, "boot structures below it");

_Static_assert(SC_GPA_ZERO_PAGE + BZ_ZERO_PAGE_SIZE <= SC_GPA_CMDLINE, "zero page fits");
_Static_assert(SC_GPA_CMDLINE + CMDLINE_ROOM <= SC_GPA_BOOT_INFO(0), "command line fits");

static const void *image_of(const struct partition *p)
{
    return (const void *)(uintptr_t)p->image->address;
}

bool linux_boot_detect(const struct partition *p)
{
    return bzimage_detect(image_of(p), p->image->size);
}

int linux_boot_check(struct partition *p, struct refusal *why)
{
    struct refusal inner;
    int rc =
        bzimage_parse(image_of(p), p->image->size, SC_GPA_IMAGE_MIN, p->stacks_gpa, &p->bz, &inner);
    if (rc)
        return refuse(why, -rc, "Linux image '%s' refused: %s", p->image->name, inner.text);
    size_t len = strlen(p->cfg->args);
    if (len > p->bz.cmdline_max || len >= CMDLINE_ROOM)
        return refuse(why, E_INVAL, "command line of %llu bytes; the kernel takes at most %u",
                      (unsigned long long)len, p->bz.cmdline_max);
    if (p->initrd) {
        /* below the kernel's limit and the stacks, clear of the kernel */
        rc = bzimage_place_initrd(&p->bz, p->initrd->size, SC_GPA_IMAGE_MIN, p->stacks_gpa,
                                  &p->initrd_gpa, &inner);
        if (rc)
            return refuse(why, -rc, "initrd '%s' refused: %s", p->initrd->name, inner.text);
    }
    p->entry = p->bz.entry_gpa;
    p->free_gpa = p->bz.load_gpa + p->bz.init_size;
    p->linux_boot = true;
    p->has_image = true;
    return 0;
}

/* The kernel's view of the partition: RAM below 1 MiB above the boot structures, and from
 * the image area to the stacks; the boot structures, the hole up to 2 MiB (the initial page
 * tables), the stacks and the ring window beyond RAM are reserved. */
static int build_e820(const struct partition *p, struct bz_e820 *e, struct refusal *why)
{
    const struct bz_range reserved[] = {
        {0, LOW_RAM_START},
        {LOW_RAM_END, SC_GPA_IMAGE_MIN - LOW_RAM_END},
        {p->stacks_gpa, p->size - p->stacks_gpa},
        {SC_GPA_RING_WINDOW, p->window_size},
    };
    return bzimage_e820(p->size, reserved, ARRAY_SIZE(reserved), e, why);
}

int linux_boot_load(struct partition *p, struct refusal *why)
{
    static struct bz_e820 e820[BZ_E820_MAX]; /* boot CPU, one partition at a time */
    uint8_t *guest = (uint8_t *)(uintptr_t)p->base;
    int n = build_e820(p, e820, why);
    if (n < 0)
        return n;
    bzimage_load(image_of(p), &p->bz, guest);
    if (p->initrd)
        memcpy(guest + p->initrd_gpa, (const void *)(uintptr_t)p->initrd->address, p->initrd->size);
    memcpy(guest + SC_GPA_CMDLINE, p->cfg->args, strlen(p->cfg->args) + 1);
    const struct bz_params params = {
        .cmdline_gpa = SC_GPA_CMDLINE,
        .cmdline = p->cfg->args,
        .initrd_gpa = p->initrd ? p->initrd_gpa : 0,
        .initrd_size = p->initrd ? p->initrd->size : 0,
        .e820 = e820,
        .e820_count = (unsigned)n,
    };
    return bzimage_zero_page(image_of(p), &p->bz, &params, guest + SC_GPA_ZERO_PAGE, why);
}
