/* SPDX-License-Identifier: MIT */
/*
 * KASLR for a pre-decompressed kernel (kaslr/): the slot planner (slot.c)
 * and the relocation walk (relocwalk.c), pure C that the host's unit tests
 * and fuzz harnesses build too; and the stub's part (randomize.c): the
 * entropy, the virtual offset and the physical move's plan.
 */
#ifndef PVHSTUB_KASLR_H
#define PVHSTUB_KASLR_H

#include <stdbool.h>
#include <stdint.h>
#include "translate.h"

/* kaslr/slot.c and relocwalk.c */
#define KASLR_AVOID_MAX	8

/* Where a kernel of size bytes may go: aligned slots in RAM, avoiding some ranges. */
struct kaslr_space {
	const struct boot_e820_entry *map;
	uint32_t nmap;
	struct range avoid[KASLR_AVOID_MAX];	/* kaslr_slot sorts them */
	uint32_t navoid;
	uint64_t min, max;		/* Slots lie inside [min, max). */
	uint64_t size, align;		/* align: a power of two */
};

/*
 * Apply the relocation table (struct pvhstub_relocs) to the kernel image
 * [image, image + image_size) for a virtual offset of delta.  0, or -1 with
 * the reason in msg (the image may then be partly relocated).
 */
int relocs_apply(const void *table, uint32_t table_size, uint8_t *image, uint32_t image_size,
		 uint64_t delta, char *msg, size_t msgsz);
/*
 * The number of slots; if there are any, *addr is slot rnd % count (in
 * address order).  Ranges in avoid need not be sorted or disjoint.
 */
uint32_t kaslr_slot(struct kaslr_space *k, uint32_t rnd, uint64_t *addr);

/* kaslr/randomize.c */
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
