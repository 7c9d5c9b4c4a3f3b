# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
# cmake -DIN=asm_offsets.s -DOUT=asm_offsets.h -P asm_offsets.cmake: the "->NAME value" lines
# the compiler left in IN become "#define NAME value" lines in OUT.
file(STRINGS ${IN} lines REGEX "->[A-Z0-9_]+ [0-9]+")
set(text "/* generated from vmexit/asm_offsets.c: do not edit */\n#pragma once\n")
foreach(line ${lines})
  string(REGEX MATCH "->([A-Z0-9_]+) ([0-9]+)" _ "${line}")
  string(APPEND text "#define ${CMAKE_MATCH_1} ${CMAKE_MATCH_2}\n")
endforeach()
file(WRITE ${OUT}.tmp "${text}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
