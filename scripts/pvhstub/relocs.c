// SPDX-License-Identifier: MIT
/*
 * The relocation table of a decompressed x86-64 kernel, kept for the
 * stub's KASLR.  A kernel built with CONFIG_RANDOMIZE_BASE appends it to
 * the vmlinux inside its bzImage (arch/x86/tools/relocs writes it; the
 * decompressor's handle_relocations() reads it from the end): 32-bit
 * little-endian words, each the low half of a kernel virtual address,
 * sign-extended.  From the end backwards: the 32-bit sites up to a 0, the
 * inverse 32-bit sites up to a 0, the 64-bit sites up to a 0, which is the
 * table's first word.  The inverse list holds the sites that refer to the
 * zero-based per-CPU area; kernels that no longer have one (Linux 6.15 on,
 * with the per-CPU rework) write no inverse list at all, so their table
 * has two lists and two zero words.  Sites are never 0, so the zero words
 * tell the two apart, and the ELF must agree: a kernel with a PT_LOAD at
 * virtual address 0 (the zero-based per-CPU area) writes three lists.  (A
 * kernel without one may write three too, the inverse list empty: 6.14 and
 * before without CONFIG_SMP.)
 *
 * We check every site against the kernel's footprint and store the lists
 * as struct pvhstub_relocs (include/pvhstub.h): offsets from the kernel's
 * start, sorted, each the 16-bit distance from the one before.  Debian's
 * 6.1 cloud kernel: 202,926 sites, 811,716 bytes as Linux stores them,
 * 405,xxx bytes as we do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"

struct site_list {
	uint32_t *off;
	size_t n;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* One step: 16 bits, or a 16-bit 0 and then 32 bits (include/pvhstub.h). */
static void put_step(uint8_t **p, uint32_t v)
{
	uint16_t s = v < 0x10000 ? (uint16_t)v : 0;

	memcpy(*p, &s, 2);
	*p += 2;
	if (!s) {
		memcpy(*p, &v, 4);
		*p += 4;
	}
}

static uint32_t word_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/*
 * Read one list backwards, from word *at - 1 down to a 0 word (not taken).
 * Sites become offsets into the kernel [start, end) at its physical address.
 */
static int read_list(const uint8_t *tail, size_t *at, const struct kernel_image *k, uint64_t start,
		     uint64_t end, unsigned int width, struct site_list *l, const char *name,
		     char *err, size_t errsz)
{
	size_t first = *at;

	while (*at && word_at(tail + 4 * (*at - 1)))
		(*at)--;
	if (!*at) {	/* A guard: relocs_read counted the zero words already. */
		snprintf(err, errsz, "the relocation table after the vmlinux has no end to its %s list", name);
		return -1;
	}
	l->n = first - *at;
	l->off = malloc((l->n ? l->n : 1) * sizeof(*l->off));
	if (!l->off) {
		snprintf(err, errsz, "out of memory for %zu relocations", l->n);
		return -1;
	}
	for (size_t i = 0; i < l->n; i++) {
		uint32_t w = word_at(tail + 4 * (*at + i));
		uint64_t phys = (uint64_t)(int64_t)(int32_t)w - k->virt_offset;

		if (phys < start || phys > end || end - phys < width) {
			snprintf(err, errsz, "%s relocation at 0x%llx lies outside the kernel [0x%llx, 0x%llx)",
				 name, (unsigned long long)(int64_t)(int32_t)w,
				 (unsigned long long)(start + k->virt_offset),
				 (unsigned long long)(end + k->virt_offset));
			return -1;
		}
		l->off[i] = (uint32_t)(phys - start);
	}
	qsort(l->off, l->n, sizeof(*l->off), cmp_u32);
	(*at)--;			/* The 0 that ends it. */
	return 0;
}

static int encode(const struct site_list l[RELOCS_LISTS], unsigned int lists, uint8_t **table,
		  size_t *size, char *err, size_t errsz)
{
	struct pvhstub_relocs h = { .magic = PVHSTUB_RELOCS_MAGIC, .source_lists = lists };
	size_t cap = sizeof(h);
	uint8_t *buf, *p;

	for (int i = 0; i < RELOCS_LISTS; i++)
		cap += 6 * l[i].n;
	buf = malloc(cap);
	if (!buf) {
		snprintf(err, errsz, "out of memory for the relocation table");
		return -1;
	}
	p = buf + sizeof(h);
	for (int i = 0; i < RELOCS_LISTS; i++) {
		uint32_t prev = 0;

		for (size_t j = 0; j < l[i].n; j++) {
			put_step(&p, l[i].off[j] - prev);
			prev = l[i].off[j];
		}
		h.count[i] = (uint32_t)l[i].n;
	}
	h.size = (uint32_t)(p - buf - sizeof(h));
	memcpy(buf, &h, sizeof(h));
	*table = buf;
	*size = (size_t)(p - buf);
	return 0;
}

int relocs_read(struct blob tail, struct kernel_image *k, uint8_t **table, size_t *size,
		char *err, size_t errsz)
{
	static const char *const names[RELOCS_LISTS] = { "64-bit", "32-bit", "inverse 32-bit" };
	/* Read from the end: 32-bit, inverse 32-bit (three lists only), then 64-bit. */
	static const int order3[RELOCS_LISTS] = { RELOCS_32, RELOCS_32_INV, RELOCS_64 };
	static const int order2[2] = { RELOCS_32, RELOCS_64 };
	struct site_list l[RELOCS_LISTS] = { { 0 } };
	uint64_t start, end;
	size_t at = tail.size / 4, zeros = 0;
	unsigned int lists;
	const int *order;
	int rc = 0;

	*table = NULL;
	*size = 0;
	if (tail.size % 4 || tail.size < 2 * 4) {
		snprintf(err, errsz, "the vmlinux is followed by %zu bytes, which are not a relocation table",
			 tail.size);
		return -1;
	}
	for (size_t i = 0; i < at; i++)
		zeros += !word_at(tail.data + 4 * i);
	if (word_at(tail.data) || (zeros != 2 && zeros != 3)) {
		snprintf(err, errsz, "the %zu bytes after the vmlinux are no relocation table: %zu zero words%s "
			 "(Linux writes 3 lists up to 6.14, 2 from 6.15, each ended by a zero word, the first word a zero)",
			 tail.size, zeros, word_at(tail.data) ? ", the first word not zero" : "");
		return -1;
	}
	lists = (unsigned int)zeros;
	if (lists == 2 && k->percpu_zero) {
		snprintf(err, errsz, "the relocation table has 2 lists, but the vmlinux has a zero-based per-CPU "
			 "segment, whose sites need the inverse 32-bit list of a 3-list table");
		return -1;
	}
	order = lists == 3 ? order3 : order2;
	segments_footprint(k, &start, &end);
	for (unsigned int i = 0; i < lists && !rc; i++)
		rc = read_list(tail.data, &at, k, start, end, order[i] == RELOCS_64 ? 8 : 4,
			       &l[order[i]], names[order[i]], err, errsz);
	if (!rc && end - start > UINT32_MAX) {
		snprintf(err, errsz, "the kernel is too large to relocate (%llu bytes)",
			 (unsigned long long)(end - start));
		rc = -1;
	}
	k->relocs_end = start;
	for (int i = 0; i < RELOCS_LISTS && !rc; i++) {	/* Sorted: the last site is the highest. */
		uint64_t site_end = l[i].n ? start + l[i].off[l[i].n - 1] + (i == RELOCS_64 ? 8 : 4) : 0;

		if (site_end > k->relocs_end)
			k->relocs_end = site_end;
	}
	if (!rc)
		rc = encode(l, lists, table, size, err, errsz);
	for (int i = 0; i < RELOCS_LISTS; i++)
		free(l[i].off);
	return rc;
}
