/* SPDX-License-Identifier: MIT */
/*
 * The 64-bit probe's relocation sites: its only absolute addresses, in
 * three runs of PROBE64_SITES_RUN bytes (after the code, in .data, and in
 * the last bytes the kernel needs in place), so that a relocation walk or
 * a move that misses part of the kernel shows.  Each run holds two 64-bit
 * sites (R_X86_64_64), two 32-bit sign-extended ones (R_X86_64_32S) and,
 * with a zero-based per-CPU area (PROBE_PERCPU: Linux up to 6.14, whose
 * table has three lists), two inverse 32-bit ones: PC-relative references
 * from the kernel to the per-CPU area, which shrink as the kernel moves up.
 * Without one (Linux 6.15 on: two lists) those two are constants.
 * mkprobe.py makes the relocation table from these sites, as Linux's
 * arch/x86/tools/relocs does from vmlinux's.
 */
#include "probe.h"

.macro	site32s target
	.reloc	., R_X86_64_32S, \target
	.long	0
.endm

.macro	run name, t64a, t64b, t32a, t32b, pcpu
	.balign	8
	.globl	\name
\name:
	.quad	\t64a
	.quad	\t64b
	site32s	\t32a
	site32s	\t32b
#ifdef PROBE_PERCPU
	.long	\pcpu - .
	.long	\pcpu + 8 - .
#else
	.long	0x2d6c6973, 0x74732d32	/* "sil-2-st": no per-CPU area */
#endif
.endm

	.section .rodata.sites, "a"
	run	probe_sites_a, _text, probe_blob+0x1234, probe64_entry64, _text+0x10, probe_pcpu_a

	.section .data.sites, "aw"
	run	probe_sites_b, probe_blob, probe_sites_c, probe_blob_end-8, probe_sites_a, probe_pcpu_b

	.section .data.tail, "aw"
	run	probe_sites_c, probe_sites_b, _end, __bss_start, probe_sites_c, probe_pcpu_a
	.ascii	"probe64: the last byte the kernel needs in place"
	.balign	8

#ifdef PROBE_PERCPU
	.section .data..percpu, "aw"
	.balign	8
probe_pcpu_a:
	.quad	0x706370755f610000, 1
probe_pcpu_b:
	.quad	0x706370755f620000, 2
#endif
