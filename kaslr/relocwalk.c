// SPDX-License-Identifier: MIT
/*
 * KASLR for a pre-decompressed kernel: walk the relocation table the wrap
 * kept (struct pvhstub_relocs) and add the virtual offset at every site.
 * The stub's one hot loop (Debian's cloud kernel has 202,926 sites), so
 * this file alone is built for speed (-O2, see the Makefile).
 *
 * The table comes from the image, so it is checked as it is read: every
 * byte read lies inside the table, and every write lies inside the kernel
 * image.  A bad table stops the walk with a message; the kernel is then
 * half-relocated, so the caller must not boot it.
 */
#include "kaslr.h"

static const char *const list_name[RELOCS_LISTS] = { "64-bit", "32-bit", "inverse 32-bit" };

/*
 * Why a list was refused, out of the hot loop's way: entry i of count is
 * past the stream's end (count != 0), or its site, at offset off, lies
 * outside the kernel (count == 0).
 */
static __attribute__((noinline)) int refuse(char *msg, size_t msgsz, int list, uint32_t i,
					     uint32_t count, uint64_t off, uint32_t size)
{
	if (count)
		format(msg, msgsz, "the relocation table is corrupt (%s entry %u of %u)", list_name[list],
		       i, count);
	else
		format(msg, msgsz, "%s relocation %u lies outside the kernel (+0x%llx, size 0x%x)",
		       list_name[list], i, (unsigned long long)off, size);
	return -1;
}

/* One site: add the offset (for the inverse list, the caller negates it). */
static inline __attribute__((always_inline)) void fix_site(int wide, uint8_t *site, uint64_t delta)
{
	if (wide) {
		uint64_t v;

		__builtin_memcpy(&v, site, 8);
		v += delta;
		__builtin_memcpy(site, &v, 8);
	} else {
		uint32_t v;

		__builtin_memcpy(&v, site, 4);
		v += (uint32_t)delta;
		__builtin_memcpy(site, &v, 4);
	}
}

/* Sites a fast round takes: that many 16-bit steps cannot carry a site past last. */
#define FAST_SITES	8

/*
 * One list: the hot loop (Debian's cloud kernel has 202,926 sites).  Every
 * site is checked against last, where the last site of this width may
 * start.  The stream's end is checked up front, as two bytes for every
 * site left, and again only on the rare 32-bit step.  While the sites are
 * more than FAST_SITES 16-bit steps from last, a round of FAST_SITES needs
 * no check of its own (unrolled: about 7 instructions a site in all, where
 * one checked site at a time took 13).
 * A 32-bit step and the last 512 KiB of the image go one site at a time,
 * checked.
 * Inlined twice, with wide (64-bit sites) a constant; the two 32-bit lists
 * share one copy, the inverse one with the offset negated.
 */
static inline __attribute__((always_inline)) int walk_list(int wide, int list, uint32_t count,
							   const uint8_t **pp, const uint8_t *end,
							   uint8_t *image, uint32_t image_size,
							   uint64_t delta, char *msg, size_t msgsz)
{
	const uint32_t width = wide ? 8 : 4;
	const uint8_t *p = *pp;
	uint8_t *site = image, *last = image;
	uint32_t n = count, step, pending = 0;	/* pending: a step refused before it was taken */

	if (!count)
		return 0;
	if (image_size < width)
		goto outside;
	/*
	 * A 16-bit step cannot carry site past last by 64 KiB, so site += step
	 * never wraps (relocs_apply checked that the image ends 64 KiB before
	 * the end of the address space), and one compare after the step does.
	 */
	last = image + (image_size - width);
	if ((size_t)(end - p) / 2 < count)
		goto corrupt;
	for (;;) {
		uint16_t short_step;

		while (n >= FAST_SITES && (size_t)(last - site) >= FAST_SITES * 0xffffu) {
			const uint8_t *q = p;

#pragma GCC unroll 8
			for (int k = 0; k < FAST_SITES; k++) {
				__builtin_memcpy(&short_step, q, 2);
				if (__builtin_expect(!short_step, 0))
					break;
				q += 2;
				site += short_step;
				fix_site(wide, site, delta);
			}
			n -= (uint32_t)(q - p) / 2;
			p = q;
			if (short_step == 0)
				break;			/* A 32-bit step: one site at a time. */
		}
		if (!n)
			break;
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
		fix_site(wide, site, delta);
		n--;
	}
	*pp = p;
	return 0;
corrupt:
	return refuse(msg, msgsz, list, count - n, count, 0, 0);
outside:
	return refuse(msg, msgsz, list, count - n, 0, (uint64_t)(site - image) + pending, image_size);
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
	if (walk_list(1, RELOCS_64, h->count[RELOCS_64], &p, end, image, image_size, delta, msg, msgsz))
		return -1;
	for (int list = RELOCS_32; list <= RELOCS_32_INV; list++)
		if (walk_list(0, list, h->count[list], &p, end, image, image_size,
			      list == RELOCS_32 ? (uint32_t)delta : (uint32_t)-delta, msg, msgsz))
			return -1;
	if (p != end) {
		format(msg, msgsz, "the relocation table is corrupt (%u bytes left over)",
		       (unsigned int)(end - p));
		return -1;
	}
	return 0;
}

