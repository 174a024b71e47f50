/* SPDX-License-Identifier: MIT */
/*
 * pvhload: a test-only PVH chain loader.  QEMU boots it with -kernel; it
 * enters the next image's PVH entry with the start_info the test placed
 * (pvhload.c says what it does before).  QEMU's PVH entry state (flat
 * 32-bit segments, paging off) is kept as is.
 */
#include "elfnote.h"
#include <xen/elfnote.h>

	.code32
	.text
	.globl pvhload_start
pvhload_start:
	mov	$pvhload_stack_top, %esp
	cld
	push	%ebx
	call	pvhload_main
	ud2
ELFNOTE(Xen, XEN_ELFNOTE_PHYS32_ENTRY, .long pvhload_start; .long 0)

	/* chain(start_info, entry): enter the next PVH image. */
	.globl chain
chain:
	mov	4(%esp), %ebx
	mov	8(%esp), %eax
	jmp	*%eax

	.section .bss, "aw", @nobits
	.balign 16
	.space	0x2000
pvhload_stack_top:
