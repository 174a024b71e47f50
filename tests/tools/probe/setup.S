/* SPDX-License-Identifier: MIT */
/*
 * The probe's real-mode setup: what Linux's arch/x86/boot does for a native
 * boot, cut to the bone.  QEMU's Linux loader (-kernel on -M pc, through
 * SeaBIOS and linuxboot) loads this part at 0x10000 and enters it at
 * 0x1020:0000 with DS = ES = SS = 0x1000.  We then:
 *   - copy the setup header, as the loader filled it in, into a zero page;
 *   - read the memory map with INT 15h, AX = E820h;
 *   - mask the PICs, as Linux's mask_all_interrupts() does;
 *   - enter 32-bit protected mode with BOOT_CS/BOOT_DS;
 *   - jump to code32_start with ESI = the zero page, as the boot protocol says.
 */
#include "bootparam.h"
#include "probe.h"
#include "segment.h"

#define SMAP	0x534d4150

	.code16
	.section .text, "ax"
	.globl _start
_start:
	.fill BZ_SETUP_SECTS_OFF, 1, 0

	/* The setup header (boot.rst): protocol 2.15, relocatable, bzImage. */
	.byte	PROBE_SETUP_SECTS	/* 0x1f1 setup_sects */
	.word	0			/* 0x1f2 root_flags */
	.long	0			/* 0x1f4 syssize: mkprobe.py sets it */
	.word	0			/* 0x1f8 ram_size */
	.word	0xffff			/* 0x1fa vid_mode */
	.word	0			/* 0x1fc root_dev */
	.word	0xaa55			/* 0x1fe boot_flag */
	.byte	0xeb, start_of_setup - 1f /* 0x200 jump */
1:	.ascii	"HdrS"			/* 0x202 header */
	.word	0x020f			/* 0x206 version */
	.long	0			/* 0x208 realmode_swtch */
	.word	0			/* 0x20c start_sys_seg */
	.word	probe_version - 0x200	/* 0x20e kernel_version */
	.byte	0			/* 0x210 type_of_loader */
	.byte	LOADED_HIGH		/* 0x211 loadflags */
	.word	0			/* 0x212 setup_move_size */
	.long	0x100000		/* 0x214 code32_start */
	.long	0			/* 0x218 ramdisk_image */
	.long	0			/* 0x21c ramdisk_size */
	.long	0			/* 0x220 bootsect_kludge */
	.word	0			/* 0x224 heap_end_ptr */
	.byte	0, 0			/* 0x226 ext_loader_ver, ext_loader_type */
	.long	0			/* 0x228 cmd_line_ptr */
	.long	0x7fffffff		/* 0x22c initrd_addr_max */
	.long	PROBE_ALIGN		/* 0x230 kernel_alignment */
	.byte	1			/* 0x234 relocatable_kernel */
	.byte	21			/* 0x235 min_alignment */
	.word	0			/* 0x236 xloadflags */
	.long	2047			/* 0x238 cmdline_size */
	.long	0			/* 0x23c hardware_subarch */
	.quad	0			/* 0x240 hardware_subarch_data */
	.long	0			/* 0x248 payload_offset */
	.long	0			/* 0x24c payload_length */
	.quad	0			/* 0x250 setup_data */
	.quad	PROBE_BASE		/* 0x258 pref_address */
	.long	0			/* 0x260 init_size: mkprobe.py sets it */
	/* Not 0, so that a header copied short shows: the probe prints both, nobody follows them. */
	.long	0x5a0			/* 0x264 handover_offset */
	.long	0x4b0			/* 0x268 kernel_info_offset */

start_of_setup:
	cli
	cld
	/* Run with CS = DS, so that offsets in this file are addresses. */
	pushw	%ds
	pushw	$1f
	lretw
1:
	mov	%ds, %ax
	mov	%ax, %es
	mov	%ax, %ss
	mov	$PROBE_STACK, %sp

	/* A clean zero page, then the setup header as the loader left it. */
	mov	$PROBE_ZERO_PAGE, %di
	mov	$2048, %cx
	xor	%ax, %ax
	rep	stosw
	mov	$BZ_SETUP_SECTS_OFF, %si
	mov	$PROBE_ZERO_PAGE + BZ_SETUP_SECTS_OFF, %di
	movzbw	BZ_JUMP_OFF + 1, %cx
	add	$BZ_HEADER_OFF - BZ_SETUP_SECTS_OFF, %cx
	rep	movsb

	/* The memory map: INT 15h E820h, at most 128 entries. */
	xor	%ebx, %ebx
	mov	$PROBE_ZERO_PAGE + 0x2d0, %di
	xor	%bp, %bp
2:	mov	$0xe820, %eax
	mov	$SMAP, %edx
	mov	$20, %ecx
	int	$0x15
	jc	3f
	cmp	$SMAP, %eax
	jne	3f
	add	$20, %di
	inc	%bp
	cmp	$E820_MAX_ENTRIES_ZEROPAGE, %bp
	je	3f
	test	%ebx, %ebx
	jnz	2b
3:	mov	%bp, %ax
	mov	%al, PROBE_ZERO_PAGE + 0x1e8

	/* As Linux's setup (pm.c): mask every PIC line but the primary's cascade. */
	mov	$0xff, %al
	outb	%al, $0xa1
	mov	$0xfb, %al
	outb	%al, $0x21

	/* Linear addresses: of this segment, the zero page, the GDT, the 32-bit code. */
	xor	%ebx, %ebx
	mov	%ds, %bx
	shl	$4, %ebx
	lea	gdt(%ebx), %eax
	mov	%eax, gdt_desc + 2
	lea	pm32(%ebx), %eax
	mov	%eax, pm32_ptr
	lea	PROBE_ZERO_PAGE(%ebx), %esi

	/* Protected mode, then reload CS with BOOT_CS. */
	lgdtl	gdt_desc
	mov	%cr0, %eax
	or	$1, %eax
	mov	%eax, %cr0
	ljmpl	*pm32_ptr

	.code32
pm32:
	/* The 32-bit boot protocol: DS/ES/SS = BOOT_DS, ESI = zero page, EBP/EDI/EBX = 0. */
	mov	$BOOT_DS, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	xor	%ebp, %ebp
	xor	%edi, %edi
	xor	%ebx, %ebx
	jmp	*0x214(%esi)		/* code32_start */

	.balign 8
gdt:
	.quad	0
	.quad	0
	.quad	GDT_FLAT(SEG_CODE32)	/* BOOT_CS */
	.quad	GDT_FLAT(SEG_DATA)	/* BOOT_DS */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	0
pm32_ptr:
	.long	0
	.word	BOOT_CS

probe_version:
	.asciz	"pvhstub-probe"
	.org	(PROBE_SETUP_SECTS + 1) * 512
