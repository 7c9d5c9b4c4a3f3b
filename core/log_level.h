/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The sidecore authors */
#ifndef CORE_LOG_LEVEL_H
#define CORE_LOG_LEVEL_H

/* Ordered: a configured level prints itself and everything above it. */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

#endif
