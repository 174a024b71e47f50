/* SPDX-License-Identifier: MIT */
/*
 * The translator: hvm_start_info in, struct boot_params out.
 *
 * Pure C: no asm, no I/O, no globals.  Guest memory is reached only through
 * struct guest_mem, which bounds-checks every range, so the same code runs
 * in the stub (identity mapping below 4 GiB) and in host tests (a buffer).
 */
#ifndef PVHSTUB_TRANSLATE_H
#define PVHSTUB_TRANSLATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdarg.h>
#include <xen/arch-x86/hvm/start_info.h>
#include "bootparam.h"
#include "pvhstub.h"

/* Size of struct hvm_start_info as each version defines it. */
#define START_INFO_V0_SIZE	40
#define START_INFO_V1_SIZE	56
_Static_assert(sizeof(struct hvm_start_info) == START_INFO_V1_SIZE, "start_info v1");
_Static_assert(offsetof(struct hvm_start_info, memmap_paddr) == START_INFO_V0_SIZE,
	       "start_info v0 ends where memmap_paddr starts");

/* Bounds we impose on what a loader hands us. */
#define CMDLINE_SCAN_MAX	65536	/* No NUL within this: the cmdline is bad. */
#define MODULES_MAX		1024

struct guest_mem {
	/* A pointer to [paddr, paddr + len), or NULL if it is not all readable. */
	void *(*map)(const struct guest_mem *mem, uint64_t paddr, uint64_t len);
	void *ctx;
};

/* A half-open physical range [start, end). */
struct range {
	uint64_t start, end;
};

enum subarch_policy {
	SUBARCH_AUTO,		/* XEN on Xen with a 64-bit kernel, else PC. */
	SUBARCH_FORCE_PC,
	SUBARCH_FORCE_XEN,
};

/*
 * The stub's copy of the start_info, in a setup_data node: on Xen,
 * hardware_subarch_data points at the copy, and Linux reserves every
 * setup_data node (its decompressor's KASLR avoids them too), so the
 * pointer stays good for as long as the kernel cares to read it.
 */
#define SETUP_PVHSTUB_START_INFO	0x69737670	/* "pvsi"; Linux ignores types it does not know. */
struct start_info_node {
	uint64_t next;			/* A struct setup_data header, */
	uint32_t type, len;
	struct hvm_start_info si;	/*   then its data. */
} __attribute__((packed, aligned(8)));
_Static_assert(offsetof(struct start_info_node, si) == sizeof(struct setup_data), "setup_data node");

/* A buffer inside the stub image: where we write it, and its guest address. */
struct stub_buf {
	void *ptr;
	uint64_t paddr;
	uint32_t size;
};

struct translate_in {
	const struct guest_mem *mem;
	uint64_t start_info_paddr;
	const struct pvhstub_info *payload;
	struct range stub;		/* The stub image, bss included. */
	bool xen;			/* Xen's CPUID signature is present. */
	enum subarch_policy subarch;
	/* A memory map from elsewhere (XENMEM_memory_map), for v0. */
	const struct boot_e820_entry *fw_map;
	uint32_t fw_map_entries;
	/* Buffers the result lives in; all inside the stub image. */
	struct stub_buf cmdline;	/* STUB_CMDLINE_SIZE bytes */
	struct stub_buf e820_ext;	/* setup_data + STUB_E820_EXT_MAX entries */
	struct stub_buf start_info;	/* A struct start_info_node */
	struct boot_e820_entry *work;	/* STUB_E820_WORK entries */
	bool bp_zeroed;			/* The zero page is all zeros: skip clearing it. */
};

/* translate_out.warnings */
#define TW_CMDLINE_TRUNCATED	(1 << 0)
#define TW_EXTRA_MODULES	(1 << 1)
#define TW_EMPTY_INITRD		(1 << 2)
#define TW_RSDP_UNSUPPORTED	(1 << 3)	/* Protocol < 2.14 drops it. */
#define TW_FUTURE_VERSION	(1 << 4)
#define TW_BAD_OPTION		(1 << 5)	/* pvhstub.subarch= with a bad value */
#define TW_E820_TRUNCATED	(1 << 6)	/* Protocol < 2.09 has no setup_data for entries past 128. */
#define TW_DOM0_LINUX		(1 << 7)	/* SIF_INITDOMAIN, and the payload is Linux. */

struct translate_out {
	uint32_t warnings;		/* TW_* */
	uint32_t version;		/* start_info version seen */
	uint32_t cmdline_len;		/* Length of the loader's cmdline. */
	uint32_t cmdline_full;		/* Of the one the kernel gets, before truncation. */
	uint8_t cmdline_from;		/* CMDLINE_FROM_*: whose the kernel got. */
	uint32_t nr_modules;
	uint32_t e820_entries;		/* Total, zero page plus setup_data. */
	bool debug;			/* "pvhstub.debug" was on the cmdline. */
	bool nokaslr;			/* So was "nokaslr", */
	bool no5lvl;			/*   and "no5lvl". */
	int subarch;			/* pvhstub.subarch=: a subarch_policy, or -1 */
	struct initrd_move {		/* The caller moves the initrd: */
		uint64_t src, dst, size;	/* size 0: no move. */
	} initrd_move,			/* the loader's module 0, */
	  initrd_move_own;		/* and the image's own initrd, before it. */
	char msg[192];			/* Why translation failed. */
};

/* translate_out.cmdline_from */
#define CMDLINE_FROM_LOADER	(1 << 0)
#define CMDLINE_FROM_IMAGE	(1 << 1)

/* Errors. */
enum {
	TE_OK = 0,
	TE_BAD_START_INFO = -1,		/* Missing, unreadable or wrong magic. */
	TE_BAD_PAYLOAD = -2,		/* The stub was not wrapped correctly. */
	TE_BAD_MEMMAP = -3,
	TE_BAD_CMDLINE = -4,
	TE_BAD_MODULE = -5,
	TE_OVERLAP = -6,
	TE_NO_ROOM = -7,
};

int translate_start_info(const struct translate_in *in, struct boot_params *bp,
			 struct translate_out *out);

/* translate/e820.c */
int e820_build(const struct translate_in *in, const struct hvm_start_info *si,
	       struct boot_params *bp, struct translate_out *out);
int e820_check_window(const struct translate_in *in, struct translate_out *out);

/* translate/cmdline.c */
int cmdline_build(const struct translate_in *in, const struct hvm_start_info *si,
		  struct boot_params *bp, struct translate_out *out);

/* translate/initrd.c */
int initrd_build(const struct translate_in *in, const struct hvm_start_info *si,
		 struct boot_params *bp, struct translate_out *out);
/*
 * The loader's tables that a moved initrd or kernel must not cover: the
 * RSDP's page and the next (the kernel reads the RSDP), the start_info,
 * module list, command line and memory map (read already, kept for whoever
 * looks later).  Into r[], LOADER_TABLES at most; returns how many (the
 * empty ones and those at 0 are left out).  cmdline_build must have run.
 */
#define LOADER_TABLES	5
uint32_t loader_tables(const struct translate_in *in, const struct hvm_start_info *si,
		       const struct translate_out *out, struct range *r);

static inline bool range_overlaps(struct range a, struct range b)
{
	return a.start < b.end && b.start < a.end;
}

/* [start, start + size) as a range; false if it wraps past 2^64. */
static inline bool range_make(uint64_t start, uint64_t size, struct range *r)
{
	r->start = start;
	r->end = start + size;
	return r->end >= start;
}

/* log2 of a power of two a != 0, without libgcc (the stub is 32-bit). */
static inline unsigned int log2_pow2(uint64_t a)
{
	return (uint32_t)a ? (unsigned int)__builtin_ctz((uint32_t)a) :
			     32 + (unsigned int)__builtin_ctz((uint32_t)(a >> 32));
}

/* translate/guestmem.c: map a loader table, or fail with a message naming it. */
int loader_table(const struct translate_in *in, struct translate_out *out, const char *what,
		 uint64_t paddr, uint64_t len, const void **p, int bad);

/* entry/format.c, the stub's small library: a small vsnprintf (%s %c %d %u %x, l and ll, width, 0, %%). */
int format(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vformat(char *buf, size_t size, const char *fmt, va_list ap);

/* Record the reason for failure in out->msg and return err. */
int translate_fail(struct translate_out *out, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* PVHSTUB_TRANSLATE_H */
