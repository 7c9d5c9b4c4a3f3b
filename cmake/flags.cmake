# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
# Compiler flags shared by every target, and the freestanding set for the hypervisor.

set(SIDECORE_WARNINGS
  -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wpointer-arith -Wcast-qual -Wformat=2 -Wundef -Wvla -Wimplicit-fallthrough
  -Wno-unused-parameter)

execute_process(COMMAND ${CMAKE_C_COMPILER} -print-resource-dir
  OUTPUT_VARIABLE CLANG_RESOURCE_DIR OUTPUT_STRIP_TRAILING_WHITESPACE)

# No libc, no red zone (interrupts arrive on our stack), no SSE/x87 state in
# the hypervisor, position-independent so the EFI loader can relocate it.
# Frames stay small: a CPU stack is 16 KiB (core/percpu.h), the trap path nests
# several handlers (hypercall, ring operation, block queue), and a frame larger than
# the 4 KiB guard page below each stack could step over it (core/stacks.c).
set(SIDECORE_FREESTANDING_FLAGS
  --target=x86_64-unknown-elf -std=c11 -ffreestanding -nostdinc
  -isystem ${CLANG_RESOURCE_DIR}/include
  -fpic -fno-stack-protector -fno-builtin -fno-strict-aliasing
  -mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mno-avx -mno-3dnow
  -fshort-wchar -O2 -g -Wframe-larger-than=1024
  ${SIDECORE_WARNINGS})

set(SIDECORE_HOST_SANITIZERS -fsanitize=address,undefined -fno-sanitize-recover=all
  -fno-omit-frame-pointer)

function(sidecore_freestanding target)
  target_compile_options(${target} PRIVATE ${SIDECORE_FREESTANDING_FLAGS})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR})
endfunction()
