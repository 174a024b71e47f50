/* SPDX-License-Identifier: MIT */
/* The probe kernels' layout constants, shared by their 16-, 32- and 64-bit parts. */
#ifndef PROBE_H
#define PROBE_H

#define PROBE_BASE		0x400000	/* Link address of the 32-bit probe; also its pref_address. */
#define PROBE_ALIGN		0x200000	/* kernel_alignment */
#define PROBE_SETUP_SECTS	4
#define PROBE_ZERO_PAGE		0x8000		/* Offset of the native zero page in the setup segment. */
#define PROBE_STACK		0x7ff0
#define PROBE_EXIT_VALUE	0x10		/* isa-debug-exit: QEMU exits with 33. */
#define PROBE_RDSUM_MAX		(64u << 20)	/* Checksum at most this much initrd. */

/*
 * The 64-bit probe (probe64.bzImage) is linked as Linux's vmlinux is: at
 * virtual 0xffffffff81000000, physical 16 MiB, and runs wherever it is
 * put (position-independent code; its absolute addresses are all in its
 * relocation sites, sites.S).  Its .brk holds page tables it builds itself,
 * and a scratch page for its 32-bit entry.
 */
#define PROBE64_KOFF		0xffffffff80000000	/* __START_KERNEL_map */
#define PROBE64_PHYS		0x1000000
#define PROBE64_ENTRY64		0x200		/* The 64-bit entry, from the image's start. */
#define PROBE64_PT_PAGES	8		/* PML4, PDPT, 4 PDs for [0, 4 GiB), 2 for the probe above it */
#define PROBE64_SCRATCH		(PROBE64_PT_PAGES * 0x1000)
#define PROBE64_SCR_TSC		(PROBE64_SCRATCH + 0)
#define PROBE64_SCR_BP		(PROBE64_SCRATCH + 8)
#define PROBE64_SCR_GDTR	(PROBE64_SCRATCH + 16)
#define PROBE64_SCR_STACK	(PROBE64_SCRATCH + 0x1000)
#define PROBE64_BRK_SIZE	(PROBE64_SCRATCH + 0x1000)
#define PROBE64_SITES_RUN	32		/* Bytes in each run of relocation sites. */

#ifndef __ASSEMBLY__
#include <stdbool.h>
#include <stdint.h>

struct boot_params;

/* One "probe: ..." line, formatted, on port 0xe9 and COM1. */
void probe_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* zlib's CRC-32 of n bytes: the tests check it with Python's zlib.crc32(). */
uint32_t probe_crc32(const uint8_t *p, uint32_t n);
/*
 * The dump of the zero page (probe.c), then isa-debug-exit.  segments: the
 * segment registers and CR0 are still as the loader handed them over (the
 * 32-bit probe, and the 64-bit one entered at 64 bits).
 */
void probe_dump(const struct boot_params *bp, uint64_t tsc, bool segments) __attribute__((noreturn));
/* What the 64-bit probe adds before the dump ends (probe64.c). */
void probe_image(const struct boot_params *bp);
#endif

#endif
