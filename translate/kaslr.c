// SPDX-License-Identifier: MIT
/*
 * KASLR for a pre-decompressed kernel, the pure parts: walk the relocation
 * table the wrap kept (struct pvhstub_relocs) and pick random slots.  The
 * stub (entry/randomize.c) supplies the randomness and moves the kernel.
 *
 * The table comes from the image, so it is checked as it is read: every
 * byte read lies inside the table, and every write lies inside the kernel
 * image.  A bad table stops the walk with a message; the kernel is then
 * half-relocated, so the caller must not boot it.
 */
#include "translate.h"

static const char *const list_name[RELOCS_LISTS] = { "64-bit", "32-bit", "inverse 32-bit" };

/*
 * One list: the hot loop (Debian's cloud kernel has 202,926 sites), kept
 * to about a dozen instructions a site.  Every site is checked against
 * room, the bytes left after it in the kernel image.  The stream's end is
 * checked up front, as two bytes for every site left, and again only on
 * the rare 32-bit step.  Inlined once per list, with list a constant.
 */
static inline __attribute__((always_inline)) int walk_list(int list, uint32_t count,
							   const uint8_t **pp, const uint8_t *end,
							   uint8_t *image, uint32_t image_size,
							   uint64_t delta, char *msg, size_t msgsz)
{
	const uint32_t width = list == RELOCS_64 ? 8 : 4;
	const uint8_t *p = *pp;
	uint8_t *site = image, *last = image;
	uint32_t n = count, step, pending = 0;	/* pending: a step refused before it was taken */

	if (!count)
		return 0;
	if (image_size < width)
		goto outside;
	/*
	 * last: where the last site of this width may start.  A 16-bit step
	 * cannot carry site past it by 64 KiB, so site += step never wraps
	 * (relocs_apply checked that the image ends 64 KiB before the end of
	 * the address space), and one compare after the step does.
	 */
	last = image + (image_size - width);
	if ((size_t)(end - p) / 2 < count)
		goto corrupt;
	for (; n; n--) {
		uint16_t short_step;

		__builtin_memcpy(&short_step, p, 2);
		p += 2;
		step = short_step;
		if (__builtin_expect(!step, 0)) {	/* 0: the step follows in 32 bits. */
			if ((size_t)(end - p) < 4 || (size_t)(end - p - 4) / 2 < n - 1)
				goto corrupt;
			__builtin_memcpy(&step, p, 4);
			p += 4;
			if (step > (size_t)(last - site)) {
				pending = step;
				goto outside;
			}
		}
		site += step;
		if (site > last)
			goto outside;
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
	*pp = p;
	return 0;
corrupt:
	format(msg, msgsz, "the relocation table is corrupt (%s entry %u of %u)", list_name[list],
	       count - n, count);
	return -1;
outside:
	format(msg, msgsz, "%s relocation %u lies outside the kernel (+0x%llx, size 0x%x)",
	       list_name[list], count - n,
	       (unsigned long long)(site - image) + pending, image_size);
	return -1;
}

int relocs_apply(const void *table, uint32_t table_size, uint8_t *image, uint32_t image_size,
		 uint64_t delta, char *msg, size_t msgsz)
{
	const struct pvhstub_relocs *h = table;
	uintptr_t room = UINTPTR_MAX - (uintptr_t)image;	/* Bytes from the image to the end. */
	const uint8_t *p, *end;

	if (table_size < sizeof(*h) || h->magic != PVHSTUB_RELOCS_MAGIC ||
	    h->size > table_size - sizeof(*h)) {
		format(msg, msgsz, "the relocation table is corrupt (bad header)");
		return -1;
	}
	/* walk_list's one compare a site needs room for a 16-bit step past the image. */
	if (room < 0x10000 || room - 0x10000 < image_size) {
		format(msg, msgsz, "the kernel ends within 64 KiB of the address space's end");
		return -1;
	}
	p = (const uint8_t *)(h + 1);
	end = p + h->size;
	if (walk_list(RELOCS_64, h->count[RELOCS_64], &p, end, image, image_size, delta, msg, msgsz) ||
	    walk_list(RELOCS_32, h->count[RELOCS_32], &p, end, image, image_size, delta, msg, msgsz) ||
	    walk_list(RELOCS_32_INV, h->count[RELOCS_32_INV], &p, end, image, image_size, delta, msg,
		      msgsz))
		return -1;
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
