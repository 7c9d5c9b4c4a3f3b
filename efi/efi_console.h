/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Printing through the firmware console (OVMF mirrors it to the serial port). */
#ifndef EFI_EFI_CONSOLE_H
#define EFI_EFI_CONSOLE_H

#include <efi.h>

void efi_console_init(EFI_SYSTEM_TABLE *st);
void efi_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "sidecore-efi: error: ..." — tools/sidecore watches for this prefix. */
void efi_error(EFI_STATUS status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *efi_status_name(EFI_STATUS status);

#endif
