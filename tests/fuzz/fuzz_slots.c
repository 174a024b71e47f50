// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the physical KASLR slot planner (kaslr_slot() in
 * kaslr/slot.c) against a brute-force reference.
 *
 * The input draws a memory map (1 to 8 entries, RAM or not, some running
 * past 2^64), [min, max), the kernel's size and alignment (a power of two
 * from 4 KiB to 1 GiB, or a bad one), up to KASLR_AVOID_MAX non-empty ranges
 * to avoid (the stub passes no empty one), and the random number.  The
 * reference walks every aligned address of every RAM entry, in map order,
 * and keeps those whose [s, s + size) lies in the entry and in [min, max)
 * and overlaps no avoided range.  kaslr_slot() must count as many slots,
 * and pick the (rnd % count)-th; with a bad alignment, size 0 or too many
 * ranges, none.  Inputs whose walk would take more than 4096 steps are
 * skipped (addresses come in units of the alignment or of 4 KiB, so most
 * are small).
 */
#include <stdint.h>
#include <string.h>
#include "kaslr.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)
#define WALK_MAX	(1u << 12)

struct input {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++) {
		v |= (uint64_t)(in->n ? *in->p : 0) << (8 * i);
		if (in->n)
			in->p++, in->n--;
	}
	return v;
}

/*
 * An address or length: mostly a few units (so that slots are many and
 * close together), now and then anything, or near 2^64.
 */
static uint64_t quantity(struct input *in, uint64_t unit)
{
	uint8_t kind = (uint8_t)take(in, 1);

	if (kind < 6)
		return take(in, 8);			/* anything, up to 2^64 - 1 */
	if (kind < 12)
		return UINT64_MAX - take(in, 1) * unit;	/* near the top */
	return (kind >> 4) * unit + (kind & 8 ? take(in, 1) * (unit >> 4) : 0) + (kind & 4 ? take(in, 1) : 0);
}

static bool overlaps(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	return a < d && c < b;
}

/* The reference: the n-th slot (n = UINT32_MAX: none), and the count; false if the walk is too long. */
static bool reference(const struct kaslr_space *k, uint32_t n, uint32_t *count, uint64_t *addr)
{
	uint32_t steps = 0;

	*count = 0;
	for (uint32_t i = 0; i < k->nmap; i++) {
		const struct boot_e820_entry *e = &k->map[i];
		uint64_t lo = e->addr, hi = e->addr + e->size, s;

		if (e->type != E820_TYPE_RAM || hi < lo)
			continue;
		if (lo < k->min)
			lo = k->min;
		if (hi > k->max)
			hi = k->max;
		if (lo >= hi)
			continue;
		s = (lo + k->align - 1) & ~(k->align - 1);
		if (s < lo)
			continue;				/* aligning ran past 2^64 */
		for (; s <= hi && hi - s >= k->size; s += k->align) {
			bool free = true;

			if (++steps > WALK_MAX)
				return false;
			for (uint32_t j = 0; j < k->navoid; j++)
				free &= !overlaps(s, s + k->size, k->avoid[j].start, k->avoid[j].end);
			if (free && (*count)++ == n)
				*addr = s;
			if (s + k->align < s)
				break;
		}
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct boot_e820_entry map[8];
	struct kaslr_space k = { .map = map };
	uint8_t shape = (uint8_t)take(&in, 1);
	uint64_t unit, got_addr = 0, want_addr = 0;
	uint32_t rnd, want, got, probe;

	k.align = 1ULL << (12 + (shape & 7) * 3 % 19);
	unit = shape & 0x80 ? k.align : 0x1000;
	if ((shape & 0x60) == 0x60)
		k.align = take(&in, 8);			/* any alignment: must be refused unless a power of two */
	k.size = quantity(&in, unit);
	k.min = shape & 0x10 ? quantity(&in, unit) : 0;
	k.max = shape & 0x08 ? quantity(&in, unit) : UINT64_MAX;
	k.nmap = 1 + (uint32_t)take(&in, 1) % 8;
	for (uint32_t i = 0; i < k.nmap; i++) {
		map[i].addr = quantity(&in, unit);
		map[i].size = quantity(&in, unit);
		map[i].type = take(&in, 1) & 3 ? E820_TYPE_RAM : (uint32_t)take(&in, 1);
	}
	k.navoid = (uint32_t)take(&in, 1) % (KASLR_AVOID_MAX + 2);
	for (uint32_t i = 0; i < k.navoid && i < KASLR_AVOID_MAX; i++) {
		uint64_t start = quantity(&in, unit), len = quantity(&in, unit);

		if (!len)
			len = 1;
		if (start + len < start)
			start = UINT64_MAX - len;
		k.avoid[i] = (struct range){ start, start + len };
	}
	rnd = (uint32_t)take(&in, 4);

	if (!k.align || (k.align & (k.align - 1)) || !k.size || k.navoid > KASLR_AVOID_MAX) {
		CHECK(kaslr_slot(&k, rnd, &got_addr) == 0);
		return 0;
	}
	if (!reference(&k, UINT32_MAX, &want, &want_addr))
		return 0;
	got = kaslr_slot(&k, rnd, &got_addr);	/* it sorts k.avoid: the reference does not care */
	CHECK(got == want);
	if (!want)
		return 0;
	probe = rnd % want;
	CHECK(reference(&k, probe, &want, &want_addr));
	CHECK(got_addr == want_addr);
	return 0;
}
