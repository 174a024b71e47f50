/* SPDX-License-Identifier: MIT */
/* The 64-bit probe's bulk: pseudo-random bytes (mkprobe.py blob): it spans more than a 2 MiB slot. */
	.section .rodata.blob, "a"
	.balign	8
	.globl	probe_blob, probe_blob_end
probe_blob:
	.incbin	PROBE_BLOB
probe_blob_end:
