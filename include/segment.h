/* SPDX-License-Identifier: MIT */
/*
 * GDT descriptors, built from their fields instead of written as raw hex
 * (the layout is the Intel SDM's, vol. 3A 3.4.5; Linux's asm/segment.h
 * builds them the same way).  Usable from C and from assembly.
 */
#ifndef PVHSTUB_SEGMENT_H
#define PVHSTUB_SEGMENT_H

#ifdef __ASSEMBLY__
#define _SEG_U64(x)	x
#else
#define _SEG_U64(x)	x##ULL
#endif

/*
 * GDT_ENTRY(flags, base, limit): flags holds the access byte in bits 0-7
 * (P, DPL, S, type) and the G, D/B and L bits in bits 12-15.
 */
#define GDT_ENTRY(flags, base, limit)					\
	((((base)  & _SEG_U64(0xff000000)) << (56 - 24)) |		\
	 (((flags) & _SEG_U64(0x0000f0ff)) << 40) |			\
	 (((limit) & _SEG_U64(0x000f0000)) << (48 - 16)) |		\
	 (((base)  & _SEG_U64(0x00ffffff)) << 16) |			\
	 (((limit) & _SEG_U64(0x0000ffff))))

/* Flat segments: base 0, limit 0xfffff in 4 KiB units (4 GiB). */
#define SEG_CODE32	0xc09a		/* G, D: 32-bit; present, ring 0, code, read. */
#define SEG_CODE64	0xa09a		/* G, L: 64-bit; present, ring 0, code, read. */
#define SEG_DATA	0xc092		/* G, B; present, ring 0, data, write. */
#define FLAT_LIMIT	0xfffff

#define GDT_FLAT(flags)	GDT_ENTRY(flags, 0, FLAT_LIMIT)

#ifndef __ASSEMBLY__
_Static_assert(GDT_FLAT(SEG_CODE32) == 0x00cf9a000000ffffULL, "flat 32-bit code");
_Static_assert(GDT_FLAT(SEG_CODE64) == 0x00af9a000000ffffULL, "flat 64-bit code");
_Static_assert(GDT_FLAT(SEG_DATA) == 0x00cf92000000ffffULL, "flat data");
#endif

#endif /* PVHSTUB_SEGMENT_H */
