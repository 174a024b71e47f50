// SPDX-License-Identifier: MIT
/*
 * KASLR for a pre-decompressed kernel, the slot planner: pick a random
 * physical slot (the relocation walk is in relocwalk.c).  The stub
 * (randomize.c) supplies the randomness, and handoff64 moves the kernel.
 */
#include "kaslr.h"

/*
 * The slots in [lo, hi): aligned starts s with lo <= s and s + size <= hi.
 * If *pick is below the count, the slot it names is *addr and *pick is set
 * past every count; else *pick drops by the count.
 */
static uint32_t range_slots(uint64_t lo, uint64_t hi, const struct kaslr_space *k,
			    uint32_t *pick, uint64_t *addr)
{
	uint64_t first = (lo + k->align - 1) & ~(k->align - 1);
	uint32_t n;

	if (first < lo || hi < first || hi - first < k->size)
		return 0;
	/* align is a power of two: a shift, as the 32-bit stub has no 64-bit divide. */
	n = (uint32_t)((hi - first - k->size) >> log2_pow2(k->align)) + 1;
	if (*pick < n) {
		*addr = first + (uint64_t)*pick * k->align;
		*pick = UINT32_MAX;
	} else if (*pick != UINT32_MAX) {
		*pick -= n;
	}
	return n;
}

/*
 * [lo, hi) minus the avoided ranges (sorted by start; they may overlap),
 * slot by slot.
 */
static uint32_t free_slots(uint64_t lo, uint64_t hi, const struct kaslr_space *k,
			   uint32_t *pick, uint64_t *addr)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < k->navoid && lo < hi; i++) {
		const struct range *a = &k->avoid[i];

		if (a->end <= lo || a->start >= hi)
			continue;
		if (a->start > lo)
			n += range_slots(lo, a->start, k, pick, addr);
		lo = a->end;
	}
	if (lo < hi)
		n += range_slots(lo, hi, k, pick, addr);
	return n;
}

/* Sort the avoided ranges by start (a handful: insertion sort). */
static void sort_avoid(struct kaslr_space *k)
{
	for (uint32_t i = 1; i < k->navoid; i++) {
		struct range r = k->avoid[i];
		uint32_t j = i;

		for (; j && k->avoid[j - 1].start > r.start; j--)
			k->avoid[j] = k->avoid[j - 1];
		k->avoid[j] = r;
	}
}

uint32_t kaslr_slot(struct kaslr_space *k, uint32_t rnd, uint64_t *addr)
{
	uint32_t total = 0, pick = UINT32_MAX;

	if (!k->align || (k->align & (k->align - 1)) || !k->size || k->navoid > KASLR_AVOID_MAX)
		return 0;
	sort_avoid(k);
	/* Count, then find slot rnd % count. */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < k->nmap; i++) {
			const struct boot_e820_entry *e = &k->map[i];
			uint64_t lo = e->addr, hi = e->addr + e->size;

			if (e->type != E820_TYPE_RAM || hi < lo)
				continue;
			lo = lo > k->min ? lo : k->min;
			hi = hi < k->max ? hi : k->max;
			if (lo < hi)
				total += free_slots(lo, hi, k, pass ? &pick : &(uint32_t){ UINT32_MAX }, addr);
		}
		if (!total)
			return 0;
		if (!pass) {
			pick = rnd % total;
			total = 0;
		}
	}
	return total;
}
