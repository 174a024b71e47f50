// SPDX-License-Identifier: MIT
/*
 * KASLR for a pre-decompressed kernel, the pure parts: walk the relocation
 * table the wrap kept (struct pvhstub_relocs) and pick random slots.  The
 * stub (entry/kaslr.c) supplies the randomness and moves the kernel.
 *
 * The table comes from the image, so it is checked as it is read: every
 * byte read lies inside the table, and every write lies inside the kernel
 * image.  A bad table stops the walk with a message; the kernel is then
 * half-relocated, so the caller must not boot it.
 */
#include "translate.h"

/* One LEB128 number at *p, below end; false if it runs off or exceeds 32 bits. */
static bool read_uleb(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
	uint32_t x = 0;

	for (unsigned int shift = 0; *p < end && shift < 35; shift += 7) {
		uint8_t b = *(*p)++;

		if (shift == 28 && (b & 0x70))
			return false;		/* Bits past 32. */
		x |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

static const char *const list_name[RELOCS_LISTS] = { "64-bit", "32-bit", "inverse 32-bit" };

int relocs_apply(const void *table, uint32_t table_size, uint8_t *image, uint32_t image_size,
		 uint64_t delta, char *msg, size_t msgsz)
{
	const struct pvhstub_relocs *h = table;
	const uint8_t *p, *end;

	if (table_size < sizeof(*h) || h->magic != PVHSTUB_RELOCS_MAGIC ||
	    h->size > table_size - sizeof(*h)) {
		format(msg, msgsz, "the relocation table is corrupt (bad header)");
		return -1;
	}
	p = (const uint8_t *)(h + 1);
	end = p + h->size;
	for (int list = 0; list < RELOCS_LISTS; list++) {
		uint32_t width = list == RELOCS_64 ? 8 : 4, off = 0;

		for (uint32_t i = 0; i < h->count[list]; i++) {
			uint32_t step;
			uint8_t *site;

			if (!read_uleb(&p, end, &step)) {
				format(msg, msgsz, "the relocation table is corrupt (%s entry %u of %u)",
				       list_name[list], i, h->count[list]);
				return -1;
			}
			if (step > image_size - off || image_size - off - step < width) {
				format(msg, msgsz, "%s relocation %u lies outside the kernel (+0x%x, size 0x%x)",
				       list_name[list], i, off + step, image_size);
				return -1;
			}
			off += step;
			site = image + off;
			if (list == RELOCS_64) {
				uint64_t v;

				__builtin_memcpy(&v, site, 8);
				v += delta;
				__builtin_memcpy(site, &v, 8);
			} else {
				uint32_t v;

				__builtin_memcpy(&v, site, 4);
				v = list == RELOCS_32 ? v + (uint32_t)delta : v - (uint32_t)delta;
				__builtin_memcpy(site, &v, 4);
			}
		}
	}
	if (p != end) {
		format(msg, msgsz, "the relocation table is corrupt (%u bytes left over)",
		       (unsigned int)(end - p));
		return -1;
	}
	return 0;
}

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
