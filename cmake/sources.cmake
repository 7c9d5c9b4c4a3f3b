# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
# Hardware-independent sources: compiled into the hypervisor and into the host tests.
set(SIDECORE_PORTABLE_SOURCES
  core/acpi.c
  core/boot_mem.c
  core/bzimage.c
  core/config.c
  core/config_lex.c
  core/elf.c
  core/exception_names.c
  core/fmt.c
  core/log_lock.c
  core/multiboot2.c
  core/palloc.c
  core/pgtable.c
  core/refusal.c
  core/reset_plan.c
  efi/memmap.c
  efi/netboot.c
  iommu/assign.c
  iommu/dmar.c
  iommu/iommu_acpi.c
  iommu/ivrs.c
  iommu/pci.c
  sidecore/blk.c
  sidecore/placement.c
  sidecore/ring.c
  sidecore/services.c
  sidecore/vpci.c
  vmexit/console_limit.c
  vmexit/cpuid.c
  vmexit/exit.c
  vmexit/exit_cache.c
  vmexit/exit_cpuid.c
  vmexit/exit_exception.c
  vmexit/exit_hypercall.c
  vmexit/exit_io.c
  vmexit/exit_mmio.c
  vmexit/exit_msr.c
  vmexit/exit_xsetbv.c
  vmexit/guest_walk.c
  vmexit/hypercall.c
  vmexit/icr.c
  vmexit/lifecycle.c
  vmexit/mmio_insn.c
  vmexit/msr_pass.c
  vmexit/npt.c
  vmexit/npt_retire.c
  vmexit/run.c
  vmexit/svm/vmcb_build.c
  vmexit/svm/vmcb_check.c
  vmexit/tlb_sync.c
  vmexit/vmx/vmcs_build.c
  vmexit/vmx/vmcs_check.c
)
list(REMOVE_DUPLICATES SIDECORE_PORTABLE_SOURCES)
list(TRANSFORM SIDECORE_PORTABLE_SOURCES PREPEND ${PROJECT_SOURCE_DIR}/)
