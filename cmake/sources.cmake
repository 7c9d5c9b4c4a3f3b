# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
# Hardware-independent sources: compiled into the hypervisor and into the host tests.
set(SIDECORE_PORTABLE_SOURCES
  core/fmt.c
)
list(TRANSFORM SIDECORE_PORTABLE_SOURCES PREPEND ${PROJECT_SOURCE_DIR}/)
