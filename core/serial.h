/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
/* 16550 UART output (polled, no interrupts). */
#ifndef CORE_SERIAL_H
#define CORE_SERIAL_H

#include <stddef.h>
#include <stdint.h>

void serial_init(uint16_t port);
void serial_write(const char *s, size_t n); /* "\n" becomes "\r\n" */
void serial_drain(void);                    /* wait until the transmitter is empty */
uint16_t serial_port(void);

#endif
