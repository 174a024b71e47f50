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
#define STUB_MAX_LOADED		0x5800		/* Code and data: 22 KiB at most. */
#define STUB_MAX_IMAGE		0x28000		/* With bss: 160 KiB. */
#define STUB_CMDLINE_SIZE	4096		/* Our copy of the command line. */
#define STUB_MAX_E820		1024		/* Entries we accept from a loader. */
/*
 * Work room: cutting RAM around the ISA hole and filling its gaps adds a few
 * entries (a real map cuts the hole into two or three pieces).
 */
#define STUB_E820_WORK		(STUB_MAX_E820 + 32)
#define STUB_E820_EXT_MAX	(STUB_E820_WORK - 128)

#define PVHSTUB_INFO_MAGIC	0x69485650	/* "PVHi" */
#define PVHSTUB_INFO_VERSION	4	/* 2 added KASLR for a pre-decompressed kernel,
					 * 3 move_size, 4 an initrd and command line
					 * of the image's own. */

/* pvhstub_info.flags */
#define PI_HANDOFF_32		(1 << 0)	/* 32-bit boot protocol handoff. */
#define PI_HANDOFF_64		(1 << 1)	/* 64-bit boot protocol handoff. */
/*
 * A pre-decompressed kernel (a vmlinux, or --decompress): the kernel's own
 * decompressor, which does KASLR, does not run, so the stub does it.
 */
#define PI_KASLR_VIRT		(1 << 2)	/* Randomize the virtual offset. */
#define PI_KASLR_PHYS		(1 << 3)	/* Also move the kernel to a random slot. */
#define PI_KASLR_NONE		(1 << 4)	/* Could not keep it: warn at boot. */
/* The payload is Linux (its version string, or "Linux version" in a vmlinux). */
#define PI_LINUX		(1 << 5)
/*
 * Which command line the kernel gets when the image carries one
 * (pvhstub_info.cmdline_len): by default the loader's when it is not
 * empty, else the image's (systemd-stub's rule without Secure Boot).
 */
#define PI_CMDLINE_EMBEDDED	(1 << 6)	/* Always the image's; the loader's is ignored. */
#define PI_CMDLINE_APPEND	(1 << 7)	/* The image's, a blank, then the loader's. */

/*
 * The kernel's relocation table, as the wrap tool keeps it (at
 * pvhstub_info.relocs_addr): this header, then three lists, each of
 * count[i] sites.  A site is an offset from the kernel's start
 * (window_start), and the lists are sorted: each site is stored as its
 * distance from the one before (the first from 0), as a little-endian
 * 16-bit number; a distance of 0, or of 64 KiB or more, is a 16-bit 0 and
 * then the distance in 32 bits.  (A fixed width keeps the stub's loop
 * short: it runs once per site, 200,000 times for a distro kernel.)  At a site the stub adds the virtual offset to a
 * 64-bit value (RELOCS_64), adds it to a 32-bit one (RELOCS_32), or
 * subtracts it from a 32-bit one (RELOCS_32_INV), as Linux's decompressor
 * does with the table the kernel build appends to vmlinux.
 */
#define PVHSTUB_RELOCS_MAGIC	0x72485650	/* "PVHr" */
#define RELOCS_64		0
#define RELOCS_32		1
#define RELOCS_32_INV		2
#define RELOCS_LISTS		3

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
#define STUB_PT_MAX_GIB		4		/* It covers [0, 4 GiB) at most, */
#define STUB_SLOT_MAX_GIB	512		/*   and a KASLR slot below 512 GiB (one PDPT). */

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
	/* Version 2: KASLR for a pre-decompressed kernel (PI_KASLR_*). */
	uint64_t relocs_addr;		/* struct pvhstub_relocs, or 0 */
	uint64_t kernel_end;		/* The kernel is [window_start, kernel_end). */
	uint64_t virt_limit;		/* Its virtual end may not pass this
					 * (KERNEL_IMAGE_SIZE), counted like
					 * the physical address. */
	uint32_t relocs_size;		/* Header and lists. */
	/* Version 3: the physical move copies only [window_start, + move_size);
	 * the rest of the kernel, up to kernel_end, is what it clears or
	 * scratches before reading (.bss, .brk, .init.scratch).  0: all of it. */
	uint32_t move_size;
	/*
	 * Version 4: what the image carries of its own (pvhstub wrap
	 * --initrd, --cmdline, a UKI's sections), in a PT_LOAD of its own.
	 * The initrd's parts are one run of bytes, each padded with zeros to
	 * 4 bytes; the stub puts the loader's module 0 after them.  The
	 * command line has no NUL.  Sizes 0: none.
	 */
	uint64_t initrd_addr;
	uint64_t initrd_size;
	uint32_t cmdline_addr;
	uint32_t cmdline_len;
} __attribute__((packed, aligned(8)));

struct pvhstub_relocs {
	uint32_t magic;			/* PVHSTUB_RELOCS_MAGIC */
	uint32_t count[RELOCS_LISTS];
	uint32_t size;			/* Bytes of the lists, after this header. */
	uint32_t source_lists;		/* Lists in the kernel's own table: 3 (64-bit, inverse
					   32-bit, 32-bit: up to 6.14) or 2 (no inverse list:
					   6.15 on).  For inspect; the stub ignores it. */
};

#define PVHSTUB_INFO_V1_SIZE	(56 + SETUP_HDR_MAX + 1)
_Static_assert(offsetof(struct pvhstub_info, setup_hdr) == 56, "info layout");
_Static_assert(offsetof(struct pvhstub_info, relocs_addr) == PVHSTUB_INFO_V1_SIZE, "info v1");
_Static_assert(sizeof(struct pvhstub_info) == PVHSTUB_INFO_V1_SIZE + 56, "info size");
_Static_assert(sizeof(struct pvhstub_relocs) == 24, "relocs header");

#endif /* !__ASSEMBLY__ */
#endif /* PVHSTUB_PVHSTUB_H */
