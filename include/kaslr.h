/* SPDX-License-Identifier: MIT */
/* entry/randomize.c: KASLR for a pre-decompressed kernel, done by the stub. */
#ifndef PVHSTUB_KASLR_H
#define PVHSTUB_KASLR_H

#include <stdbool.h>
#include <stdint.h>
#include "translate.h"

struct kaslr_result {
	uint64_t virt;			/* The virtual offset applied. */
	uint64_t phys;			/* Where the kernel is now, */
	uint64_t end;			/*   and where it ends (0: not a pre-decompressed kernel). */
	const char *how;		/* The entropy used, "off (nokaslr)", or NULL: not ours to do. */
	bool done;			/* virt and phys are random. */
	uint32_t tsc_relocs;		/* TSC ticks spent relocating (0: no TSC). */
	uint32_t phys_slots;		/* Physical slots it had to choose from (0: none drawn). */
	uint64_t move_bytes;		/* What handoff64 moves (kernel_move), 0: nothing. */
	char sources[64];		/* The entropy sources that delivered ("RDRAND+TSC+..."). */
};

/* Physical slots lie below this: the 64-bit handoff's identity map has one PDPT. */
#define SLOT_MAX		((uint64_t)STUB_SLOT_MAX_GIB << 30)

/*
 * Randomize the kernel as pvhstub_info says (PI_KASLR_*), unless nokaslr:
 * relocate it, maybe plan its move (kernel_move, which handoff64 carries
 * out), and set KASLR_FLAG.  avoid: the ranges a moved kernel must not
 * take (at most KASLR_AVOID_MAX).  xen: no i8254 to read.  Panics on a
 * corrupt table.
 */
void kaslr_apply(struct boot_params *bp, bool nokaslr, bool xen, const struct range *avoid,
		 uint32_t navoid, struct kaslr_result *res);

#endif /* PVHSTUB_KASLR_H */
