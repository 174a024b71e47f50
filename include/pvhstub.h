/* SPDX-License-Identifier: MIT */
/*
 * The contract between the stub (guest side) and the wrap tool (host side).
 *
 * The stub is linked at STUB_BASE.  Its image opens with a struct
 * pvhstub_info, which the wrap tool fills in: where the payload's
 * protected-mode code was placed, the decompression window it will use,
 * and a copy of the payload's setup header.
 */
#ifndef PVHSTUB_PVHSTUB_H
#define PVHSTUB_PVHSTUB_H

#define STUB_BASE		0x100000	/* 1 MiB: every PVH loader accepts it. */
#define STUB_STACK_SIZE		0x2000
#define STUB_MAX_LOADED		0x4000		/* Code and data: 16 KiB at most. */
#define STUB_MAX_IMAGE		0x20000		/* With bss: 128 KiB. */
#define STUB_CMDLINE_SIZE	4096		/* Our copy of the command line. */
#define STUB_MAX_E820		1024		/* Entries we accept from a loader. */
/*
 * Work room: cutting RAM around the ISA hole and filling its gaps adds a few
 * entries (a real map cuts the hole into two or three pieces).
 */
#define STUB_E820_WORK		(STUB_MAX_E820 + 32)
#define STUB_E820_EXT_MAX	(STUB_E820_WORK - 128)

#define PVHSTUB_INFO_MAGIC	0x69485650	/* "PVHi" */
#define PVHSTUB_INFO_VERSION	1

/* pvhstub_info.flags */
#define PI_HANDOFF_32		(1 << 0)	/* 32-bit boot protocol handoff. */
#define PI_HANDOFF_64		(1 << 1)	/* 64-bit boot protocol handoff. */

/*
 * The wrap tool adds a note of its own to the image's PT_NOTE, after the
 * stub's Xen notes and outside every PT_LOAD: name "pvhstub", this type,
 * and the payload's kernel version string (NUL-terminated).  PVH loaders
 * look only for the Xen PHYS32_ENTRY note (type 18), and QEMU matches on
 * the type alone, so the type must not be 18.
 */
#define PVHSTUB_NOTE_NAME	"pvhstub"
#define PVHSTUB_NOTE_VERSION	0x70766801

/* The 64-bit handoff's identity map. */
#define STUB_PT_MAX_GIB		4		/* The identity map covers at most 4 GiB. */

#ifndef __ASSEMBLY__
#include <stdint.h>
#include <stddef.h>
#include "bootparam.h"

#define SETUP_HDR_MAX	(BZ_HDR_MAX_END - BZ_SETUP_SECTS_OFF)

struct pvhstub_info {
	uint32_t magic;			/* PVHSTUB_INFO_MAGIC once wrapped. */
	uint32_t version;
	uint32_t flags;			/* PI_* */
	uint32_t setup_hdr_len;		/* Valid bytes in setup_hdr. */
	uint64_t payload_addr;		/* Protected-mode code, = code32_start. */
	uint64_t payload_size;		/* Bytes of it in the image. */
	uint64_t window_start;		/* Where the decompressor will run: */
	uint64_t window_end;		/*   [start, end), reserved in the ELF. */
	uint64_t entry;			/* Address the handoff jumps to: code32_start,
					 * or the 64-bit entry (load + 0x200). */
	uint8_t  setup_hdr[SETUP_HDR_MAX]; /* Payload bytes from 0x1f1. */
	uint8_t  _pad[1];
} __attribute__((packed, aligned(8)));

_Static_assert(offsetof(struct pvhstub_info, setup_hdr) == 56, "info layout");
_Static_assert(sizeof(struct pvhstub_info) == 56 + SETUP_HDR_MAX + 1, "info size");

#endif /* !__ASSEMBLY__ */
#endif /* PVHSTUB_PVHSTUB_H */
