/* SPDX-License-Identifier: MIT */
/*
 * The probe's 32-bit entry, the same code for the native path (from
 * setup.S) and the PVH path (from the stub).  Entry: 32-bit protected mode,
 * paging off, ESI = zero page.  It is linked at PROBE_BASE; loaded
 * anywhere else (QEMU's native loader uses 0x100000) it first copies
 * itself there.
 */
#include "probe.h"

	.code32
	.section .text.entry, "ax"
	.globl probe_entry
probe_entry:
	/* The boot protocol hands EBX, EBP and EDI over as 0: ECX keeps their OR. */
	mov	%ebx, %ecx
	or	%ebp, %ecx
	or	%edi, %ecx
	/* The time of entry, for the stub's cost (tests/bench): EBX and EDI are free. */
	rdtsc
	mov	%eax, %ebx
	mov	%edx, %edi
	mov	%ecx, %edx
	cld
	/* Where were we loaded? */
	call	1f
1:	pop	%ebp
	sub	$(1b - probe_entry), %ebp
	cmp	$PROBE_BASE, %ebp
	je	2f

	/* Copy ourselves to PROBE_BASE, keeping ESI (in ESP: no stack until 2f), EDI and EDX. */
	mov	%esi, %esp
	mov	%edi, %eax
	mov	%ebp, %esi
	mov	$PROBE_BASE, %edi
	mov	$(_probe_file_end - PROBE_BASE), %ecx
	rep	movsb
	mov	%esp, %esi
	mov	%eax, %edi
	mov	$2f, %eax
	jmp	*%eax

2:	mov	$probe_stack_top, %esp
	push	%edx
	push	%edi
	push	%ebx
	push	%esi
	call	probe_main
	ud2

	.section .bss.stack, "aw", @nobits
	.balign 16
	.space	0x2000
probe_stack_top:
