// SPDX-License-Identifier: MIT
/*
 * kaslr/relocwalk.c and slot.c: the relocation walk (good tables and hostile ones,
 * which must never write outside the kernel image) and the slot choice
 * (checked against a brute-force count).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kaslr.h"

#define GUARD		64
#define IMAGE		4096

/* A table under construction: header, then the 16-bit steps (room for test_relocs_fast's). */
struct table {
	uint8_t buf[64 << 10];
	size_t len;
};

static struct pvhstub_relocs *hdr(struct table *t)
{
	return (struct pvhstub_relocs *)t->buf;
}

/* A step: 16 bits, or a 16-bit 0 and then 32 bits. */
static void put_step(struct table *t, uint32_t v)
{
	uint16_t s = v < 0x10000 ? (uint16_t)v : 0;

	memcpy(t->buf + t->len, &s, 2);
	t->len += 2;
	if (!s) {
		memcpy(t->buf + t->len, &v, 4);
		t->len += 4;
	}
}

/* Sites per list, ascending; n[i] of them. */
static void build(struct table *t, const uint32_t *sites[RELOCS_LISTS], const uint32_t n[RELOCS_LISTS])
{
	memset(t, 0, sizeof(*t));
	t->len = sizeof(struct pvhstub_relocs);
	for (int l = 0; l < RELOCS_LISTS; l++) {
		uint32_t prev = 0;

		for (uint32_t i = 0; i < n[l]; i++) {
			put_step(t, sites[l][i] - prev);
			prev = sites[l][i];
		}
		hdr(t)->count[l] = n[l];
	}
	hdr(t)->magic = PVHSTUB_RELOCS_MAGIC;
	hdr(t)->size = (uint32_t)(t->len - sizeof(struct pvhstub_relocs));
}

/* The image with guard bytes on both sides; returns its start. */
static uint8_t *image_new(uint8_t *mem)
{
	memset(mem, 0xa5, GUARD);
	memset(mem + GUARD + IMAGE, 0xa5, GUARD);
	for (int i = 0; i < IMAGE; i++)
		mem[GUARD + i] = (uint8_t)i;
	return mem + GUARD;
}

static void assert_guards(const uint8_t *mem)
{
	for (int i = 0; i < GUARD; i++) {
		assert_int_equal(mem[i], 0xa5);
		assert_int_equal(mem[GUARD + IMAGE + i], 0xa5);
	}
}

/*
 * Build a table of these sites (none overlapping), apply it with DELTA, and
 * check every site moved as its list says (64-bit: + delta; 32-bit:
 * + delta; inverse 32-bit: - delta), and that nothing else changed.
 */
static void apply_and_check(const uint32_t *sites[RELOCS_LISTS], const uint32_t n[RELOCS_LISTS],
			    uint64_t delta)
{
	static const unsigned int width[RELOCS_LISTS] = { [RELOCS_64] = 8, [RELOCS_32] = 4, [RELOCS_32_INV] = 4 };
	uint8_t mem[GUARD + IMAGE + GUARD], ref[IMAGE], touched[IMAGE] = { 0 };
	struct table t;
	char msg[128];
	uint8_t *img = image_new(mem);

	memcpy(ref, img, IMAGE);
	build(&t, sites, n);
	assert_int_equal(relocs_apply(t.buf, (uint32_t)t.len, img, IMAGE, delta, msg, sizeof(msg)), 0);
	for (int l = 0; l < RELOCS_LISTS; l++)
		for (uint32_t i = 0; i < n[l]; i++) {
			uint32_t at = sites[l][i];
			uint64_t a = 0, b = 0;

			memcpy(&a, ref + at, width[l]);
			memcpy(&b, img + at, width[l]);
			if (l == RELOCS_64)
				assert_int_equal(b, a + delta);
			else
				assert_int_equal(b, (uint32_t)(l == RELOCS_32 ? a + delta : a - delta));
			memset(touched + at, 1, width[l]);
		}
	for (int i = 0; i < IMAGE; i++)
		if (!touched[i])
			assert_int_equal(img[i], ref[i]);
	assert_guards(mem);
}

static void test_relocs_apply(void **state)
{
	static const uint32_t s64[] = { 0, 8, 1000 }, s32[] = { 16, 20, 4092 }, sinv[] = { 300 };
	const uint32_t *sites[] = { [RELOCS_64] = s64, [RELOCS_32] = s32, [RELOCS_32_INV] = sinv };
	const uint32_t n[] = { [RELOCS_64] = 3, [RELOCS_32] = 3, [RELOCS_32_INV] = 1 };

	(void)state;
	apply_and_check(sites, n, 0x12a00000ULL);
}

/*
 * A kernel of Linux 6.15 or later: its table has no inverse list, so the
 * wrap keeps an empty one (count 0).  The stub applies the other two.
 */
static void test_relocs_apply_two_lists(void **state)
{
	static const uint32_t s64[] = { 8, 2000, IMAGE - 8 }, s32[] = { 24, 4000 };
	const uint32_t *sites[] = { [RELOCS_64] = s64, [RELOCS_32] = s32, [RELOCS_32_INV] = NULL };
	const uint32_t n[] = { [RELOCS_64] = 3, [RELOCS_32] = 2, [RELOCS_32_INV] = 0 };

	(void)state;
	apply_and_check(sites, n, 0x3ac00000ULL);
}

/* A table that must be refused, with a message, and no write outside. */
static void expect_refused(struct table *t, size_t len, const char *why)
{
	uint8_t mem[GUARD + IMAGE + GUARD];
	char msg[128] = "";
	uint8_t *img = image_new(mem);

	assert_int_equal(relocs_apply(t->buf, (uint32_t)len, img, IMAGE, 0x200000, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, why));
	assert_guards(mem);
}

static void test_relocs_hostile(void **state)
{
	static const uint32_t one[] = { 8 }, last32[] = { IMAGE - 4 }, last64[] = { IMAGE - 8 };
	static const uint32_t past32[] = { IMAGE - 3 }, past64[] = { IMAGE - 7 };
	const uint32_t *sites[3];
	uint32_t n[3] = { 0, 0, 0 };
	struct table t;

	(void)state;
	/* Sites that end exactly at the image's end are fine; a byte more is not. */
	sites[0] = last64, sites[1] = last32, sites[2] = last32;
	n[0] = n[1] = n[2] = 1;
	build(&t, sites, n);
	{
		uint8_t mem[GUARD + IMAGE + GUARD];
		char msg[128];

		assert_int_equal(relocs_apply(t.buf, (uint32_t)t.len, image_new(mem), IMAGE, 1, msg, sizeof(msg)), 0);
		assert_guards(mem);
	}
	sites[0] = past64, n[1] = n[2] = 0;
	build(&t, sites, n);
	expect_refused(&t, t.len, "64-bit relocation 0 lies outside the kernel");
	sites[1] = past32, n[0] = 0, n[1] = 1;
	build(&t, sites, n);
	expect_refused(&t, t.len, "32-bit relocation 0 lies outside the kernel");
	sites[2] = past32, n[1] = 0, n[2] = 1;
	build(&t, sites, n);
	expect_refused(&t, t.len, "inverse 32-bit relocation 0 lies outside");

	/* A step that would wrap the offset past 2^32. */
	sites[0] = one, n[0] = 1, n[1] = n[2] = 0;
	build(&t, sites, n);
	t.len = sizeof(struct pvhstub_relocs);
	put_step(&t, 8);
	put_step(&t, 0xfffffff8u);
	hdr(&t)->count[0] = 2;
	hdr(&t)->size = (uint32_t)(t.len - sizeof(struct pvhstub_relocs));
	expect_refused(&t, t.len, "64-bit relocation 1 lies outside");

	/* Steps that run off the stream: half a short one, a cut long one. */
	t.len = sizeof(struct pvhstub_relocs);
	memcpy(t.buf + t.len, "\x08", 1);
	hdr(&t)->count[0] = 1;
	hdr(&t)->size = 1;
	expect_refused(&t, t.len + 1, "corrupt (64-bit entry 0 of 1)");
	memcpy(t.buf + t.len, "\0\0\x08\0\0", 5);
	hdr(&t)->size = 5;
	expect_refused(&t, t.len + 5, "corrupt (64-bit entry 0 of 1)");
	/* A long step may be small, even 0 (a site written twice). */
	memcpy(t.buf + t.len, "\0\0\x08\0\0\0\0\0\0\0\0\0", 12);
	hdr(&t)->count[0] = 2;
	hdr(&t)->size = 12;
	{
		uint8_t mem[GUARD + IMAGE + GUARD];
		char msg[128];
		uint8_t *img = image_new(mem);
		uint64_t before, after;

		memcpy(&before, img + 8, 8);
		assert_int_equal(relocs_apply(t.buf, (uint32_t)t.len + 12, img, IMAGE, 3, msg, sizeof(msg)), 0);
		memcpy(&after, img + 8, 8);
		assert_int_equal(after, before + 6);
		assert_guards(mem);
	}

	/* Counts that claim more than the stream holds. */
	build(&t, sites, n);
	hdr(&t)->count[2] = 0xffffffffu;
	expect_refused(&t, t.len, "corrupt (inverse 32-bit entry 0 of 4294967295)");

	/* Bytes left over, a stream size past the table, a bad magic, a short header. */
	build(&t, sites, n);
	t.buf[t.len++] = 0;
	hdr(&t)->size++;
	expect_refused(&t, t.len, "1 bytes left over");
	build(&t, sites, n);
	expect_refused(&t, t.len - 1, "bad header");
	hdr(&t)->magic ^= 1;
	expect_refused(&t, t.len, "bad header");
	expect_refused(&t, sizeof(struct pvhstub_relocs) - 1, "bad header");
}

/*
 * The fast path (rounds of 8 sites with no check of their own, while the
 * sites are more than 8 short steps from the image's end): a 3 MiB image,
 * about 1,500 sites a list, 32-bit steps at every place in a round, steps
 * of 0xffff, sites in the image's last 512 KiB (one at a time) up to its
 * very end; the result against a plain reference walk.
 */
#define BIG		(3u << 20)
#define BIG_SITES	1500

static uint32_t lcg(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 8;
}

/* Ascending sites for one list; the last one is the image's last place for its width. */
static uint32_t make_sites(uint32_t *sites, uint32_t width, uint32_t seed)
{
	uint32_t x = seed, at = 0, n = 0;

	for (uint32_t i = 0; i < BIG_SITES; i++) {
		uint32_t step = 1 + lcg(&x) % 0x600;

		if (i % 97 == i / 97 % 8 + 8)		/* 32-bit steps, at each place in a round */
			step = 0x10000 + lcg(&x) % 0x100;
		else if (i % 89 == 3)
			step = 0xffff;
		if (at + step > BIG - 0x60000)
			break;
		at += step;
		sites[n++] = at;
	}
	/* The last 384 KiB (the checked path), then the last place. */
	for (at += 0x1000; at < BIG - width; at += 0x7777)
		sites[n++] = at;
	sites[n++] = BIG - width;
	return n;
}

static void test_relocs_fast(void **state)
{
	static uint32_t s64[BIG_SITES + 64], s32[BIG_SITES + 64], sinv[BIG_SITES + 64];
	const uint32_t *sites[] = { s64, s32, sinv };
	uint32_t n[RELOCS_LISTS];
	uint8_t *mem = malloc(GUARD + BIG + GUARD), *ref = malloc(BIG), *img;
	static struct table t;
	const uint64_t delta = 0x3ae00000ULL;
	uint32_t x = 7, escapes = 0;
	char msg[128];

	(void)state;
	assert_non_null(mem);
	assert_non_null(ref);
	n[RELOCS_64] = make_sites(s64, 8, 1);
	n[RELOCS_32] = make_sites(s32, 4, 2);
	n[RELOCS_32_INV] = make_sites(sinv, 4, 3);
	build(&t, sites, n);
	for (int l = 0; l < RELOCS_LISTS; l++)
		for (uint32_t i = 0; i < n[l]; i++)
			escapes += sites[l][i] - (i ? sites[l][i - 1] : 0) >= 0x10000;
	assert_true(escapes >= 3 * 8);

	memset(mem, 0xa5, GUARD + BIG + GUARD);
	img = mem + GUARD;
	for (uint32_t i = 0; i < BIG; i += 4) {
		uint32_t v = lcg(&x) ^ (uint32_t)i << 8;

		memcpy(img + i, &v, 4);
	}
	memcpy(ref, img, BIG);
	/* The reference: one site at a time, in the same order. */
	for (uint32_t i = 0; i < n[RELOCS_64]; i++) {
		uint64_t v;

		memcpy(&v, ref + s64[i], 8);
		v += delta;
		memcpy(ref + s64[i], &v, 8);
	}
	for (uint32_t i = 0; i < n[RELOCS_32] + n[RELOCS_32_INV]; i++) {
		uint32_t at = i < n[RELOCS_32] ? s32[i] : sinv[i - n[RELOCS_32]], v;

		memcpy(&v, ref + at, 4);
		v = i < n[RELOCS_32] ? v + (uint32_t)delta : v - (uint32_t)delta;
		memcpy(ref + at, &v, 4);
	}
	assert_int_equal(relocs_apply(t.buf, (uint32_t)t.len, img, BIG, delta, msg, sizeof(msg)), 0);
	assert_memory_equal(img, ref, BIG);
	for (int i = 0; i < GUARD; i++) {
		assert_int_equal(mem[i], 0xa5);
		assert_int_equal(img[BIG + i], 0xa5);
	}

	/* Only short steps, 40 of them, running past the end of a 1 MiB image
	 * (inside the 3 MiB buffer): the fast rounds take sites 0-15 (up to
	 * 0xffff0), the checked path refuses site 16, and nothing past the
	 * image changes. */
	memset(&t, 0, sizeof(t));
	t.len = sizeof(struct pvhstub_relocs);
	for (int i = 0; i < 40; i++)
		put_step(&t, 0xffff);
	hdr(&t)->magic = PVHSTUB_RELOCS_MAGIC;
	hdr(&t)->count[RELOCS_32] = 40;
	hdr(&t)->size = (uint32_t)(t.len - sizeof(struct pvhstub_relocs));
	memset(mem, 0xa5, GUARD + BIG + GUARD);
	assert_int_equal(relocs_apply(t.buf, (uint32_t)t.len, img, 1u << 20, delta, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "32-bit relocation 16 lies outside the kernel (+0x10ffef"));
	for (int i = 0; i < GUARD; i++)
		assert_int_equal(mem[i], 0xa5);
	for (uint32_t i = 1u << 20; i < BIG + GUARD; i++)
		assert_int_equal(img[i], 0xa5);
	/* The bound exactly: an image one byte short of room for 8 steps of
	 * 0xffff goes one site at a time, and its eighth site is refused. */
	memset(mem, 0xa5, GUARD + BIG + GUARD);
	assert_int_equal(relocs_apply(t.buf, (uint32_t)t.len, img, 8 * 0xffff - 1 + 4, delta, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "32-bit relocation 7 lies outside the kernel (+0x7fff8"));
	for (uint32_t i = 8 * 0xffff - 1 + 4; i < BIG + GUARD; i++)
		assert_int_equal(img[i], 0xa5);
	free(mem);
	free(ref);
}

/* Every slot kaslr_slot names, against a brute-force scan. */
static void check_space(struct kaslr_space *k)
{
	uint64_t addr, prev = 0;
	uint32_t brute = 0, n;

	for (uint64_t a = 0; a < k->max; a += k->align) {
		bool ok = a >= k->min && a + k->size <= k->max, in_ram = false;

		for (uint32_t i = 0; ok && i < k->navoid; i++)
			if (a < k->avoid[i].end && k->avoid[i].start < a + k->size)
				ok = false;
		for (uint32_t i = 0; ok && i < k->nmap; i++)
			if (k->map[i].type == E820_TYPE_RAM && k->map[i].addr <= a &&
			    a + k->size <= k->map[i].addr + k->map[i].size)
				in_ram = true;
		brute += ok && in_ram;
	}
	n = kaslr_slot(k, 0, &addr);
	assert_int_equal(n, brute);
	for (uint32_t r = 0; r < n; r++) {
		assert_int_equal(kaslr_slot(k, r, &addr), n);
		assert_int_equal(addr % k->align, 0);
		assert_true(r == 0 || addr > prev);
		assert_true(addr >= k->min && addr + k->size <= k->max);
		for (uint32_t i = 0; i < k->navoid; i++)
			assert_false(addr < k->avoid[i].end && k->avoid[i].start < addr + k->size);
		prev = addr;
	}
	/* rnd wraps around the count. */
	if (n) {
		uint64_t again;

		kaslr_slot(k, 0, &addr);
		kaslr_slot(k, n, &again);
		assert_int_equal(addr, again);
	}
}

static void test_kaslr_slots(void **state)
{
	static const struct boot_e820_entry map[] = {
		{ 0, 0x9fc00, E820_TYPE_RAM },
		{ 0xf0000, 0x10000, E820_TYPE_RESERVED },
		{ 0x100000, 0x1ff00000 - 0x100000, E820_TYPE_RAM },	/* to 511 MiB */
		{ 0x1ff00000, 0x100000, E820_TYPE_RESERVED },
		{ 0x100000000ULL, 0x40000000, E820_TYPE_RAM },		/* above max */
	};
	struct kaslr_space k = { .map = map, .nmap = 5, .min = 16 << 20, .max = 0x100000000ULL,
				 .size = 46 << 20, .align = 2 << 20 };

	(void)state;
	check_space(&k);
	/* The stub at 1 MiB (below min), an initrd near the top, the kernel's own place. */
	k.avoid[0] = (struct range){ 0x1fa00000, 0x1fef0000 };
	k.avoid[1] = (struct range){ 0x100000, 0x120000 };
	k.avoid[2] = (struct range){ 0x1000000, 0x1000001 };	/* a byte at min */
	k.navoid = 3;
	check_space(&k);
	/* Overlapping avoided ranges. */
	k.avoid[3] = (struct range){ 0x1f000000, 0x1fc00000 };
	k.navoid = 4;
	check_space(&k);
	/*
	 * A kernel that may be loaded above 4 GiB (the stub's max: 512 GiB):
	 * the GiB of RAM above 4 GiB adds its slots, all of them past the low
	 * ones; with max at 4 GiB (no XLF_CAN_BE_LOADED_ABOVE_4G) none of
	 * them, and no slot may end past 4 GiB (check_space asserts that).
	 */
	uint32_t low = kaslr_slot(&k, 0, &(uint64_t){ 0 }), high;
	uint64_t top;

	k.max = 512ULL << 30;
	check_space(&k);
	high = kaslr_slot(&k, 0, &(uint64_t){ 0 });
	assert_int_equal(high, low + ((0x40000000 - (46 << 20)) >> 21) + 1);
	assert_int_equal(kaslr_slot(&k, high - 1, &top), high);
	assert_int_equal(top, 0x100000000ULL + 0x40000000 - (46 << 20));
	assert_int_equal(kaslr_slot(&k, low, &top), high);
	assert_int_equal(top, 0x100000000ULL);
	k.max = 0x100000000ULL;
	assert_int_equal(kaslr_slot(&k, 0, &(uint64_t){ 0 }), low);
	/* No room: the kernel is larger than any free range. */
	k.size = 0x20000000;
	uint64_t addr = 0xdead;
	assert_int_equal(kaslr_slot(&k, 7, &addr), 0);
	assert_int_equal(addr, 0xdead);
	/* Bad parameters give no slot rather than a wrong one. */
	k.size = 2 << 20;
	k.align = 3 << 20;
	assert_int_equal(kaslr_slot(&k, 0, &addr), 0);
	k.align = 2 << 20;
	k.navoid = KASLR_AVOID_MAX + 1;
	assert_int_equal(kaslr_slot(&k, 0, &addr), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relocs_apply),
		cmocka_unit_test(test_relocs_apply_two_lists),
		cmocka_unit_test(test_relocs_hostile),
		cmocka_unit_test(test_relocs_fast),
		cmocka_unit_test(test_kaslr_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
