# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""Helpers behind tools/sidecore."""
