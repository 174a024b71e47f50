/*
 * The 64-bit probe, laid out as Linux's vmlinux is: linked at virtual
 * PROBE64_KOFF + 16 MiB, loaded at physical 16 MiB, entered (as a
 * decompressed kernel) at the physical address of its 64-bit entry.  With
 * PROBE_PERCPU, a per-CPU area linked at 0 in a PT_LOAD of its own, as x86-64
 * Linux had up to 6.14.  What the kernel needs in place ends at _moved_end;
 * .bss and .brk follow, which it clears or fills itself.
 */
#include "probe.h"

OUTPUT_FORMAT("elf64-x86-64")
OUTPUT_ARCH(i386:x86-64)
ENTRY(phys_probe64_entry64)
PHDRS
{
	text PT_LOAD FLAGS(5);
	data PT_LOAD FLAGS(6);
#ifdef PROBE_PERCPU
	percpu PT_LOAD FLAGS(6);
#endif
	tail PT_LOAD FLAGS(6);
}
SECTIONS
{
	/*
	 * No gaps between the segments: the probe hashes every byte from
	 * _text to _moved_end, and an ELF loader defines none in a gap (a
	 * loader may leave anything there, an initrd too).  Each section ends
	 * 8-aligned, where the next begins.
	 */
	. = PROBE64_KOFF + PROBE64_PHYS;
	_text = .;
	.text : AT(ADDR(.text) - PROBE64_KOFF) { *(.text.entry) *(.text .text.*) . = ALIGN(8); } :text
	.rodata : AT(ADDR(.rodata) - PROBE64_KOFF) {
		*(.rodata.sites) *(.rodata .rodata.*) . = ALIGN(8);
	} :text
	.data : AT(ADDR(.data) - PROBE64_KOFF) {
		*(.data.sites) *(.data) *(.data.rel .data.rel.*) . = ALIGN(8);
	} :data
#ifdef PROBE_PERCPU
	__per_cpu_load = .;
	.data..percpu 0 : AT(__per_cpu_load - PROBE64_KOFF) { *(.data..percpu) . = ALIGN(8); } :percpu
	. = __per_cpu_load + SIZEOF(.data..percpu);
#endif
	.tail : AT(ADDR(.tail) - PROBE64_KOFF) { *(.data.tail) . = ALIGN(8); } :tail
	_moved_end = .;
	.bss : AT(ADDR(.bss) - PROBE64_KOFF) {
		__bss_start = .;
		*(.bss .bss.*) *(COMMON)
		. = ALIGN(8);
		__bss_stop = .;
	} :tail
	.brk : AT(ADDR(.brk) - PROBE64_KOFF) { *(.brk) } :tail
	_end = .;
	phys_probe64_entry64 = probe64_entry64 - PROBE64_KOFF;
	/DISCARD/ : { *(.note.gnu.property) *(.comment) *(.eh_frame) *(.note.GNU-stack) }
}
ASSERT(probe64_entry32 == _text, "the 32-bit entry must open the image")
ASSERT(probe64_entry64 == _text + PROBE64_ENTRY64, "the 64-bit entry must be at 0x200")
