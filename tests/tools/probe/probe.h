/* SPDX-License-Identifier: MIT */
/* The probe kernel's layout constants, shared by its 16- and 32-bit parts. */
#ifndef PROBE_H
#define PROBE_H

#define PROBE_BASE		0x400000	/* Link address of the 32-bit part; also pref_address. */
#define PROBE_ALIGN		0x200000	/* kernel_alignment */
#define PROBE_SETUP_SECTS	4
#define PROBE_ZERO_PAGE		0x8000		/* Offset of the native zero page in the setup segment. */
#define PROBE_STACK		0x7ff0
#define PROBE_EXIT_VALUE	0x10		/* isa-debug-exit: QEMU exits with 33. */
#define PROBE_RDSUM_MAX		(64u << 20)	/* Checksum at most this much initrd. */

#endif
