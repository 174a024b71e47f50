// SPDX-License-Identifier: MIT
/*
 * The e820 map: from the start_info v1 memmap (or a map the caller got
 * from Xen), sorted, with the legacy ISA hole [0xa0000, 0x100000) carved
 * out of RAM and, where no other non-RAM entry covers it, marked reserved,
 * as Linux's own PVH entry does (Linux adds one overlapping entry; we add
 * only the gaps, so a map without overlaps stays without overlaps).  The first
 * 128 entries go in the zero page; the rest in one SETUP_E820_EXT record.
 * Types are passed through unchanged, unknown ones included.
 */
#include "translate.h"

struct e820_work {
	struct boot_e820_entry *e;
	uint32_t n, cap;
};

/* Insertion sort by address: loaders hand us sorted maps, so this is O(n). */
static void sort_by_addr(struct e820_work *w)
{
	for (uint32_t i = 1; i < w->n; i++) {
		struct boot_e820_entry key;
		uint32_t j = i;

		if (w->e[i - 1].addr <= w->e[i].addr)
			continue;	/* Already in order: the common case. */
		key = w->e[i];
		for (; j > 0 && w->e[j - 1].addr > key.addr; j--)
			w->e[j] = w->e[j - 1];
		w->e[j] = key;
	}
}

/* Insert [start, end) as reserved, keeping the (sorted) order. */
static bool insert_reserved(struct e820_work *w, uint64_t start, uint64_t end)
{
	uint32_t at = 0;

	if (w->n == w->cap)
		return false;
	while (at < w->n && w->e[at].addr <= start)
		at++;
	__builtin_memmove(&w->e[at + 1], &w->e[at], (w->n - at) * sizeof(w->e[0]));
	w->e[at] = (struct boot_e820_entry){ start, end - start, E820_TYPE_RESERVED };
	w->n++;
	return true;
}

/*
 * Mark the parts of [ISA_START_ADDRESS, ISA_END_ADDRESS) that no non-RAM
 * entry covers as reserved, however many pieces the loader's entries cut
 * the hole into.  RAM was already carved out of it; the entries are sorted,
 * and stay so: each gap goes in right before the entry that ends it.
 */
static bool reserve_isa_hole(struct e820_work *w)
{
	uint64_t at = ISA_START_ADDRESS;

	for (uint32_t i = 0; i < w->n && at < ISA_END_ADDRESS; i++) {
		uint64_t start = w->e[i].addr, end = start + w->e[i].size;

		if (start >= ISA_END_ADDRESS)
			break;	/* Sorted: nothing further touches the hole. */
		if (w->e[i].type == E820_TYPE_RAM || end <= at)
			continue;
		if (start > at) {
			if (!insert_reserved(w, at, start))
				return false;
			i++;	/* The gap went in at i; the entry moved up one. */
		}
		at = end;
	}
	return at >= ISA_END_ADDRESS || insert_reserved(w, at, ISA_END_ADDRESS);
}

/*
 * Copy the loader's entries into w, dropping empty ones and cutting RAM out
 * of the ISA hole.  Both table layouts (hvm_memmap_table_entry and Xen's
 * e820 entries) start with addr, size and type; only the stride differs.
 */
static int copy_entries(const uint8_t *src, uint32_t count, uint32_t stride, const char *what,
			struct e820_work *w, struct translate_out *out)
{
	struct boot_e820_entry *d = w->e;

	for (uint32_t i = 0; i < count; i++, src += stride) {
		struct boot_e820_entry e;
		uint64_t end;

		/* The loader's table may be unaligned: read each entry by copying. */
		__builtin_memcpy(&e, src, sizeof(e));
		end = e.addr + e.size;
		if (end < e.addr)
			return translate_fail(out, TE_BAD_MEMMAP, "%s entry %u: 0x%llx + 0x%llx wraps past 2^64",
				    what, i, (unsigned long long)e.addr, (unsigned long long)e.size);
		if (end == e.addr)
			continue;
		if (d == w->e + w->cap)
			goto full;
		*d = e;
		if (e.type != E820_TYPE_RAM || end <= ISA_START_ADDRESS || e.addr >= ISA_END_ADDRESS) {
			d++;
			continue;
		}
		/* RAM across the hole: keep what lies below it and above it. */
		if (e.addr < ISA_START_ADDRESS) {
			d->size = ISA_START_ADDRESS - e.addr;
			d++;
		}
		if (end > ISA_END_ADDRESS) {
			if (d == w->e + w->cap)
				goto full;
			*d++ = (struct boot_e820_entry){ ISA_END_ADDRESS, end - ISA_END_ADDRESS,
							 E820_TYPE_RAM };
		}
	}
	w->n = (uint32_t)(d - w->e);
	return TE_OK;
full:
	return translate_fail(out, TE_BAD_MEMMAP, "%s: more than %u e820 entries", what, w->cap);
}

int e820_build(const struct translate_in *in, const struct hvm_start_info *si,
	       struct boot_params *bp, struct translate_out *out)
{
	struct e820_work w = { in->work, 0, STUB_E820_WORK };
	uint32_t ext_n;
	int err;

	if (si->version >= 1 && si->memmap_entries && si->memmap_paddr) {
		const void *mm;

		if (si->memmap_entries > STUB_MAX_E820)
			return translate_fail(out, TE_BAD_MEMMAP, "memmap has %u entries; at most %u are supported",
				    si->memmap_entries, STUB_MAX_E820);
		err = loader_table(in, out, "memmap", si->memmap_paddr,
				   si->memmap_entries * sizeof(struct hvm_memmap_table_entry), &mm,
				   TE_BAD_MEMMAP);
		if (err)
			return err;
		err = copy_entries(mm, si->memmap_entries, sizeof(struct hvm_memmap_table_entry),
				   "memmap", &w, out);
	} else if (in->fw_map && in->fw_map_entries) {
		if (in->fw_map_entries > STUB_MAX_E820)
			return translate_fail(out, TE_BAD_MEMMAP, "Xen's memory map has %u entries; at most %u are supported",
				    in->fw_map_entries, STUB_MAX_E820);
		err = copy_entries((const uint8_t *)in->fw_map, in->fw_map_entries,
				   sizeof(struct boot_e820_entry), "Xen's memory map", &w, out);
	} else {
		return translate_fail(out, TE_BAD_MEMMAP, "no memory map: start_info v%u carries none%s",
			    si->version, in->xen ? " and Xen gave none" : " and this is not Xen");
	}
	if (err)
		return err;

	sort_by_addr(&w);
	if (!reserve_isa_hole(&w))
		return translate_fail(out, TE_BAD_MEMMAP, "the ISA hole's gaps take the map past %u e820 entries",
			    w.cap);

	bp->e820_entries = w.n < E820_MAX_ENTRIES_ZEROPAGE ? w.n : E820_MAX_ENTRIES_ZEROPAGE;
	__builtin_memcpy(bp->e820_table, w.e, bp->e820_entries * sizeof(w.e[0]));

	ext_n = w.n - bp->e820_entries;
	if (ext_n && bp->hdr.version < 0x0209) {
		/* No setup_data before boot protocol 2.09: the first 128 entries are all it gets. */
		out->warnings |= TW_E820_TRUNCATED;
		w.n = bp->e820_entries;
	} else if (ext_n) {
		struct setup_data *sd = in->e820_ext.ptr;
		uint32_t len = ext_n * sizeof(struct boot_e820_entry);

		if (sizeof(*sd) + len > in->e820_ext.size)
			return translate_fail(out, TE_BAD_MEMMAP, "%u e820 entries do not fit the setup_data buffer",
				    w.n);
		sd->next = bp->hdr.setup_data;
		sd->type = SETUP_E820_EXT;
		sd->len = len;
		__builtin_memcpy(sd->data, &w.e[E820_MAX_ENTRIES_ZEROPAGE], len);
		bp->hdr.setup_data = in->e820_ext.paddr;
	}
	out->e820_entries = w.n;
	return TE_OK;
}

/* [start, end) of the window is in no e820 entry (type 0), or in one of this type. */
static int window_fail(const struct pvhstub_info *pi, uint64_t start, uint64_t end, uint32_t type,
		       struct translate_out *out)
{
	unsigned long long ws = pi->window_start, we = pi->window_end;

	if (!type)
		return translate_fail(out, TE_NO_ROOM,
				      "the kernel's window [0x%llx, 0x%llx) is not all RAM: the memory map has no entry for [0x%llx, 0x%llx)",
				      ws, we, (unsigned long long)start, (unsigned long long)end);
	return translate_fail(out, TE_NO_ROOM,
			      "the kernel's window [0x%llx, 0x%llx) is not all RAM: [0x%llx, 0x%llx) is e820 type %u",
			      ws, we, (unsigned long long)start, (unsigned long long)end, type);
}

/*
 * The kernel runs in its window [window_start, window_end): the loader put
 * it there, and (decompressing) it writes all of it.  Every byte of it must
 * be RAM in the map the kernel gets, and none of it anything else, or the
 * kernel would crash later, or free memory it runs in.  Run after
 * e820_build(): in->work holds the sorted map, out->e820_entries long, so
 * one pass up to the window's end finds the first part that is not RAM.
 */
int e820_check_window(const struct translate_in *in, struct translate_out *out)
{
	const struct pvhstub_info *pi = in->payload;
	uint64_t at = pi->window_start, end = pi->window_end;

	for (uint32_t i = 0; i < out->e820_entries; i++) {
		const struct boot_e820_entry *e = &in->work[i];
		uint64_t e_end = e->addr + e->size;

		if (e->addr >= end)
			break;
		if (e_end <= pi->window_start)
			continue;
		if (e->addr > at)	/* Sorted: nothing covers [at, e->addr). */
			return window_fail(pi, at, e->addr, 0, out);
		if (e->type != E820_TYPE_RAM)
			return window_fail(pi, e->addr > pi->window_start ? e->addr : pi->window_start,
					   e_end < end ? e_end : end, e->type, out);
		if (e_end > at)
			at = e_end;
	}
	return at < end ? window_fail(pi, at, end, 0, out) : TE_OK;
}
