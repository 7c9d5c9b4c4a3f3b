/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* 16550 UART driver: 115200 8N1, polled. */
#include "core/serial.h"

#include "core/cpu.h"

#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_DLL 0 /* divisor low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20 /* holding register empty: may write */
#define LSR_TEMT 0x40 /* shift register empty too: everything sent */
#define LCR_DLAB 0x80
#define LCR_8N1 0x03

/* Bounded so that a missing UART cannot hang the hypervisor. */
#define UART_SPIN_LIMIT 100000

static uint16_t uart_port;

void serial_init(uint16_t port)
{
    uart_port = port;
    outb(port + UART_IER, 0);
    outb(port + UART_LCR, LCR_DLAB);
    outb(port + UART_DLL, 1); /* 115200 baud */
    outb(port + UART_DLM, 0);
    outb(port + UART_LCR, LCR_8N1);
    outb(port + UART_FCR, 0x07); /* enable and clear FIFOs */
    outb(port + UART_MCR, 0x03); /* DTR, RTS */
}

uint16_t serial_port(void)
{
    return uart_port;
}

static void put_raw(char c)
{
    for (unsigned i = 0; i < UART_SPIN_LIMIT && !(inb(uart_port + UART_LSR) & LSR_THRE); i++)
        cpu_relax();
    outb(uart_port + UART_THR, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
    if (!uart_port)
        return;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            put_raw('\r');
        put_raw(s[i]);
    }
}

void serial_drain(void)
{
    if (!uart_port)
        return;
    for (unsigned i = 0; i < UART_SPIN_LIMIT && !(inb(uart_port + UART_LSR) & LSR_TEMT); i++)
        cpu_relax();
}
