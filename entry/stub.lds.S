/* SPDX-License-Identifier: MIT */
/*
 * The stub image: one PT_LOAD at STUB_BASE holding the info block, code,
 * data and bss, and one PT_NOTE with the Xen notes.  The wrap tool adds the
 * payload and writes the final ELF64.
 */
#include "pvhstub.h"

OUTPUT_FORMAT("elf32-i386")
OUTPUT_ARCH(i386)
ENTRY(pvh_start)

PHDRS
{
	image PT_LOAD FLAGS(7);
	note PT_NOTE FLAGS(4);
}

SECTIONS
{
	. = STUB_BASE;
	_image_start = .;

	.info : { KEEP(*(.pvhinfo)) } :image
	.text : { *(.text.head) *(.text .text.*) } :image
	_etext = .;
	.rodata : { *(.rodata .rodata.*) } :image
	.data : { *(.data .data.*) } :image
	.notes : { KEEP(*(.note.Xen)) } :image :note
	_edata = .;

	/* The image ends on a page boundary, and its PT_LOAD says so (memsz). */
	.bss (NOLOAD) : {
		*(.bss .bss.*)
		*(COMMON)
		. = ALIGN(4096);
	} :image
	_image_end = .;

	.rel.dyn : { *(.rel.*) *(.rela.*) }

	/DISCARD/ : {
		*(.note.gnu.property) *(.note.GNU-stack) *(.comment)
		*(.eh_frame) *(.note.gnu.build-id)
	}
}

ASSERT(pvhstub_info == STUB_BASE, "the info block must open the image")
ASSERT(pvh_start >= ADDR(.text) && pvh_start < _etext, "the PVH entry must lie in .text")
ASSERT(SIZEOF(.rel.dyn) == 0, "the stub must need no run-time relocations")
ASSERT(_edata - _image_start <= STUB_MAX_LOADED, "stub code and data exceed their budget")
ASSERT(_image_end - _image_start <= STUB_MAX_IMAGE, "the stub image exceeds its budget")
ASSERT(ALIGNOF(.bss) >= 16, "bss alignment")
