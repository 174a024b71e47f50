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
	uint32_t tsc_relocs, tsc_move;	/* TSC ticks spent relocating and copying (0: no TSC). */
};

/*
 * Randomize the kernel as pvhstub_info says (PI_KASLR_*), unless nokaslr:
 * relocate it, maybe move it, and set KASLR_FLAG.  stub and initrd are the
 * ranges a moved kernel must not take.  Panics on a corrupt table.
 */
void kaslr_apply(struct boot_params *bp, bool nokaslr, struct range stub, struct range initrd,
		 struct kaslr_result *res);

#endif /* PVHSTUB_KASLR_H */
