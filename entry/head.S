/* SPDX-License-Identifier: MIT */
/*
 * The PVH entry point.  Contract, from Xen's docs/misc/pvh.pandoc:
 *
 *  - 32-bit protected mode, paging disabled: CR0 has PE (and ET) set,
 *    CR4 is 0.
 *  - CS is a flat 4 GiB 32-bit code segment; DS, ES and SS are flat 4 GiB
 *    data segments.  Their selector values are unspecified (QEMU uses
 *    0x08/0x10, Xen leaves 0), so we load our own GDT first.
 *  - EBX holds the physical address of struct hvm_start_info.
 *  - Interrupts are off.  There is no stack and no IDT.
 *
 * We keep EBX, load a GDT whose selectors are those of the Linux 32-bit
 * boot protocol, set up a stack and call C.  C returns only through
 * handoff32() or handoff64(), which enter the kernel.
 */
#include "bootparam.h"
#include "pvhstub.h"
#include "elfnote.h"
#include "segment.h"
#include <xen/elfnote.h>

#define X86_CR0_PE	(1 << 0)
#define X86_CR0_PG	(1 << 31)
#define X86_CR4_PAE	(1 << 5)
#define X86_CR4_LA57	(1 << 12)
#define MSR_EFER	0xc0000080
#define EFER_LME	(1 << 8)

	.code32
	.section .text.head, "ax"

	.globl pvh_start
pvh_start:
	/* Load our GDT: the loader's selectors mean nothing to us. */
	lgdt	%cs:gdt_desc
	ljmp	$BOOT_CS, $1f
1:
	/* Reload every data segment register. */
	mov	$BOOT_DS, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs

	/* Our own stack; string instructions count upwards. */
	mov	$stack_top, %esp
	cld

	/* stub_main(start_info) never returns.  C passes arguments in
	 * EAX, EDX and ECX (-mregparm=3). */
	mov	%ebx, %eax
	call	stub_main
	ud2
/* An 8-byte descriptor: QEMU reads 8 bytes in ELF64, rust-vmm reads 4. */
ELFNOTE(Xen, XEN_ELFNOTE_PHYS32_ENTRY, .long pvh_start; .long 0)

/*
 * handoff32(bp, entry): the Linux 32-bit boot protocol.  CS is BOOT_CS and
 * DS, ES, SS are BOOT_DS already; ESI holds the zero page; EBP, EDI and EBX
 * must be 0; interrupts stay off.
 */
	.text
	.globl handoff32
handoff32:
	mov	%eax, %esi
	xor	%ebx, %ebx
	xor	%ebp, %ebp
	xor	%edi, %edi
	jmp	*%edx

/*
 * handoff64(bp, entry, root, la57): the Linux 64-bit boot protocol.  Long
 * mode with our identity map (root: a PML4, or with la57 a PML5, for
 * 5-level paging, which can be turned on only before paging is); CS is
 * BOOT_CS, now a 64-bit code segment; DS, ES, SS are BOOT_DS; RSI holds
 * the zero page; interrupts stay off.  First, when kernel_move has qwords,
 * the kernel moves to its KASLR slot (kaslr/randomize.c), 8 bytes a step,
 * backwards if the slot overlaps it from above, and entry moves with it.
 * The stub, its stack, page tables and zero page lie outside the slot.
 */
	.globl handoff64
handoff64:
	mov	4(%esp), %ebx		/* la57: the fourth argument, on the stack */
	mov	%eax, %esi
	mov	%edx, %edi
	mov	%ecx, %eax

	/* Our 64-bit GDT, then PAE (and LA57), the page tables, EFER.LME and paging. */
	lgdt	gdt64_desc
	mov	%eax, %cr3
	mov	%cr4, %eax
	or	$X86_CR4_PAE, %eax
	test	%ebx, %ebx
	jz	2f
	or	$X86_CR4_LA57, %eax
2:	mov	%eax, %cr4
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	or	$(X86_CR0_PG | X86_CR0_PE), %eax
	mov	%eax, %cr0
	ljmp	$BOOT_CS, $1f

	.code64
1:	mov	$BOOT_DS, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	/* The upper halves are undefined after the switch: zero-extend. */
	mov	%esi, %esi
	mov	%edi, %edi
	lea	kernel_move(%rip), %rax
	mov	16(%rax), %rcx		/* qwords */
	test	%rcx, %rcx
	jz	5f
	mov	%rsi, %r8		/* the zero page */
	mov	(%rax), %rsi		/* src */
	mov	8(%rax), %rdx		/* dst */
	add	%rdx, %rdi		/* entry += dst - src */
	sub	%rsi, %rdi
	mov	%rdi, %r9
	mov	%rdx, %rdi
	cmp	%rsi, %rdi
	jbe	4f			/* dst below src: forwards */
	lea	(%rsi,%rcx,8), %rdx
	cmp	%rdx, %rdi
	jae	4f			/* no overlap: forwards */
	lea	-8(%rsi,%rcx,8), %rsi	/* dst overlaps src from above: backwards */
	lea	-8(%rdi,%rcx,8), %rdi
	std
4:	rep movsq
	cld
	mov	%r8, %rsi
	mov	%r9, %rdi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
5:	mov	%rdi, %rax
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%ebx, %ebx
	xor	%ebp, %ebp
	xor	%edi, %edi
	jmp	*%rax
	.code32

	.section .rodata
	.balign 8
gdt64:
	.quad	0			/* 0x00: null */
	.quad	0			/* 0x08: unused */
	.quad	GDT_FLAT(SEG_CODE64)	/* 0x10: BOOT_CS, 64-bit code */
	.quad	GDT_FLAT(SEG_DATA)	/* 0x18: BOOT_DS, flat 4 GiB data */
gdt64_end:
	.balign 4
	.word	0
gdt64_desc:
	.word	gdt64_end - gdt64 - 1
	.long	gdt64

	.balign 8
gdt:
	.quad	0			/* 0x00: null */
	.quad	0			/* 0x08: unused */
	.quad	GDT_FLAT(SEG_CODE32)	/* 0x10: BOOT_CS, flat 4 GiB code */
	.quad	GDT_FLAT(SEG_DATA)	/* 0x18: BOOT_DS, flat 4 GiB data */
gdt_end:
	.balign 4
	.word	0
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt

	.section .bss.stack, "aw", @nobits
	.balign 16
	.space	STUB_STACK_SIZE
stack_top:
