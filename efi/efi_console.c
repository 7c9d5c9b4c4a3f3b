/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* Loader messages on the firmware console. */
#include "efi/efi_console.h"

#include <stdarg.h>

#include "core/fmt.h"

static SIMPLE_TEXT_OUTPUT_INTERFACE *con_out;

void efi_console_init(EFI_SYSTEM_TABLE *st)
{
    con_out = st->ConOut;
}

static void output(const char *s)
{
    CHAR16 wide[256];
    unsigned n = 0;
    for (; *s; s++) {
        if (n + 3 >= sizeof(wide) / sizeof(wide[0])) {
            wide[n] = 0;
            con_out->OutputString(con_out, wide);
            n = 0;
        }
        if (*s == '\n')
            wide[n++] = '\r';
        wide[n++] = (CHAR16)(unsigned char)*s;
    }
    wide[n] = 0;
    if (con_out)
        con_out->OutputString(con_out, wide);
}

__attribute__((format(printf, 2, 0))) static void vprint(const char *prefix, const char *fmt,
                                                         va_list ap)
{
    char line[320];
    int n = ksnprintf(line, sizeof(line), "%s", prefix);
    n += kvsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    line[n] = '\0';
    output(line);
}

void efi_print(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint("sidecore-efi: ", fmt, ap);
    va_end(ap);
}

void efi_error(EFI_STATUS status, const char *fmt, ...)
{
    char msg[240];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    efi_print("error: %s (%s); returning to the firmware", msg, efi_status_name(status));
}

const char *efi_status_name(EFI_STATUS s)
{
    switch (s) {
    case EFI_SUCCESS:
        return "success";
    case EFI_NOT_FOUND:
        return "not found";
    case EFI_OUT_OF_RESOURCES:
        return "out of resources";
    case EFI_INVALID_PARAMETER:
        return "invalid parameter";
    case EFI_UNSUPPORTED:
        return "unsupported";
    case EFI_DEVICE_ERROR:
        return "device error";
    case EFI_BUFFER_TOO_SMALL:
        return "buffer too small";
    case EFI_LOAD_ERROR:
        return "load error";
    case EFI_BAD_BUFFER_SIZE:
        return "bad buffer size";
    case EFI_VOLUME_CORRUPTED:
        return "volume corrupted";
    default:
        return "firmware error";
    }
}
