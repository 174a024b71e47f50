/* SPDX-License-Identifier: MIT */
/*
 * The 64-bit probe's entries, at the start of its image as a bzImage's
 * are: the 32-bit one at offset 0 (code32_start: protected mode, paging
 * off, ESI = zero page), the 64-bit one at 0x200 (long mode, an identity
 * map, RSI = zero page).  The image is the same whether it runs from the
 * bzImage (where the stub or a native loader put it) or decompressed by
 * pvhstub wrap --decompress (at 16 MiB, or where KASLR moved it), so
 * everything here is position-independent: addresses come from %rip, or
 * from where the 32-bit entry finds itself.
 */
#include "probe.h"
#include "segment.h"

#define CR0_PE		0x1
#define CR0_PG		0x80000000
#define CR4_PAE		0x20
#define MSR_EFER	0xc0000080
#define EFER_LME	0x100
#define PTE_PW		0x3		/* present, writable */
#define PDE_2M		0x83		/* present, writable, 2 MiB page */
#define SEL_CODE64	0x10
#define SEL_DATA	0x18

	.section .text.entry, "ax"
	.code32
	.globl probe64_entry32
probe64_entry32:
	cld
	call	1f
1:	pop	%ebp				/* EBP: where 1b runs */
	lea	(probe_brk - 1b)(%ebp), %ebx	/* EBX: the page tables, then the scratch page */
	mov	%esi, PROBE64_SCR_BP(%ebx)
	rdtsc
	mov	%eax, PROBE64_SCR_TSC(%ebx)
	mov	%edx, PROBE64_SCR_TSC + 4(%ebx)

	/* Identity-map [0, 4 GiB) with 2 MiB pages: PML4, PDPT, 4 PDs. */
	mov	%ebx, %edi
	mov	$(6 * 0x1000 / 4), %ecx
	xor	%eax, %eax
	rep	stosl
	lea	(0x1000 + PTE_PW)(%ebx), %eax
	mov	%eax, (%ebx)
	lea	(0x2000 + PTE_PW)(%ebx), %eax
	lea	0x1000(%ebx), %edi
	mov	$4, %ecx
2:	mov	%eax, (%edi)
	add	$0x1000, %eax
	add	$8, %edi
	loop	2b
	mov	$PDE_2M, %eax
	lea	0x2000(%ebx), %edi
	mov	$2048, %ecx
3:	mov	%eax, (%edi)
	add	$0x200000, %eax
	add	$8, %edi
	loop	3b

	/* Long mode: our GDT, PAE, the tables, EFER.LME, paging. */
	movw	$(probe64_gdt_end - probe64_gdt - 1), PROBE64_SCR_GDTR(%ebx)
	lea	(probe64_gdt - 1b)(%ebp), %eax
	mov	%eax, PROBE64_SCR_GDTR + 2(%ebx)
	lgdt	PROBE64_SCR_GDTR(%ebx)
	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	%ebx, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	or	$(CR0_PG | CR0_PE), %eax
	mov	%eax, %cr0
	lea	PROBE64_SCR_STACK(%ebx), %esp
	push	$SEL_CODE64
	lea	(from32 - 1b)(%ebp), %eax
	push	%eax
	lret

	.code64
from32:
	mov	$SEL_DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	lea	probe_brk(%rip), %rbx
	mov	PROBE64_SCR_BP(%rbx), %esi
	mov	PROBE64_SCR_TSC(%rbx), %r12
	mov	$32, %r13d
	jmp	common

	.org	PROBE64_ENTRY64
	.globl probe64_entry64
probe64_entry64:
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	mov	%rdx, %r12
	mov	$64, %r13d
	cld

common:
	/* As Linux's clear_bss(): nobody moved or cleared our .bss. */
	mov	%rsi, %r14
	lea	__bss_start(%rip), %rdi
	lea	__bss_stop(%rip), %rcx
	sub	%rdi, %rcx
	xor	%eax, %eax
	rep	stosb
	lea	probe64_stack_top(%rip), %rsp
	mov	%r14, %rdi
	mov	%r12, %rsi
	mov	%r13d, %edx
	call	probe64_main
	ud2

	.section .rodata, "a"
	.balign	8
probe64_gdt:
	.quad	0
	.quad	0
	/* The accessed bits set: the CPU would set them, in bytes we hash. */
	.quad	GDT_FLAT(SEG_CODE64 | 1)	/* SEL_CODE64 */
	.quad	GDT_FLAT(SEG_DATA | 1)	/* SEL_DATA */
probe64_gdt_end:

	.section .bss.stack, "aw", @nobits
	.balign	16
	.space	0x4000
probe64_stack_top:

	.section .brk, "aw", @nobits
	.balign	0x1000
	.globl probe_brk
probe_brk:
	.space	PROBE64_BRK_SIZE
