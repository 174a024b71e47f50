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

static inline __attribute__((always_inline)) bool add(struct e820_work *w, uint64_t addr, uint64_t end, uint32_t type)
{
	if (end <= addr)
		return true;	/* Empty: nothing to add. */
	if (w->n == w->cap)
		return false;
	w->e[w->n].addr = addr;
	w->e[w->n].size = end - addr;
	w->e[w->n].type = type;
	w->n++;
	return true;
}

/* Add one loader entry, cutting RAM around the ISA hole. */
static inline __attribute__((always_inline)) bool add_carved(struct e820_work *w, uint64_t addr, uint64_t end, uint32_t type)
{
	if (type != E820_TYPE_RAM || end <= ISA_START_ADDRESS || addr >= ISA_END_ADDRESS)
		return add(w, addr, end, type);
	return add(w, addr, ISA_START_ADDRESS, type) &&
	       add(w, addr > ISA_END_ADDRESS ? addr : ISA_END_ADDRESS, end, type);
}

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
 * entry covers as reserved.  RAM was already carved out of it; the entries
 * are sorted, and stay so.
 */
static bool reserve_isa_hole(struct e820_work *w)
{
	struct range gaps[4];
	uint32_t ngaps = 0;
	uint64_t at = ISA_START_ADDRESS;

	for (uint32_t i = 0; i < w->n && at < ISA_END_ADDRESS; i++) {
		uint64_t start = w->e[i].addr, end = start + w->e[i].size;

		if (w->e[i].type == E820_TYPE_RAM || end <= at)
			continue;
		if (start >= ISA_END_ADDRESS)
			break;
		if (start > at) {
			if (ngaps == 4)
				return false;
			gaps[ngaps++] = (struct range){ at, start };
		}
		at = end;
	}
	if (at < ISA_END_ADDRESS) {
		if (ngaps == 4)
			return false;
		gaps[ngaps++] = (struct range){ at, ISA_END_ADDRESS };
	}
	for (uint32_t g = 0; g < ngaps; g++)
		if (!insert_reserved(w, gaps[g].start, gaps[g].end))
			return false;
	return true;
}

static int from_memmap(const struct translate_in *in, const struct hvm_start_info *si,
		       struct e820_work *w, struct translate_out *out)
{
	const uint8_t *mm;
	uint64_t bytes = (uint64_t)si->memmap_entries * sizeof(struct hvm_memmap_table_entry);
	struct range r;

	if (si->memmap_entries > STUB_MAX_E820)
		return translate_fail(out, TE_BAD_MEMMAP, "memmap has %u entries; at most %u are supported",
			    si->memmap_entries, STUB_MAX_E820);
	if (!range_make(si->memmap_paddr, bytes, &r) ||
	    !(mm = in->mem->map(in->mem, si->memmap_paddr, bytes)))
		return translate_fail(out, TE_BAD_MEMMAP, "memmap at 0x%llx (%u entries) is not readable memory",
			    (unsigned long long)si->memmap_paddr, si->memmap_entries);
	if (range_overlaps(r, in->stub))
		return translate_fail(out, TE_OVERLAP, "memmap [0x%llx, 0x%llx) overlaps the stub image",
			    (unsigned long long)r.start, (unsigned long long)r.end);

	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		struct hvm_memmap_table_entry ent;
		uint64_t addr, size;
		struct range e;

		/* The loader's table may be unaligned: read each entry by copying. */
		__builtin_memcpy(&ent, mm + i * sizeof(ent), sizeof(ent));
		addr = ent.addr;
		size = ent.size;
		if (!range_make(addr, size, &e))
			return translate_fail(out, TE_BAD_MEMMAP, "memmap entry %u: 0x%llx + 0x%llx wraps past 2^64",
				    i, (unsigned long long)addr, (unsigned long long)size);
		if (!add_carved(w, e.start, e.end, ent.type))
			return translate_fail(out, TE_BAD_MEMMAP, "memmap entry %u: more than %u e820 entries",
				    i, w->cap);
	}
	return TE_OK;
}

static int from_fw_map(const struct translate_in *in, struct e820_work *w,
		       struct translate_out *out)
{
	if (in->fw_map_entries > STUB_MAX_E820)
		return translate_fail(out, TE_BAD_MEMMAP, "memory map has %u entries; at most %u are supported",
			    in->fw_map_entries, STUB_MAX_E820);
	for (uint32_t i = 0; i < in->fw_map_entries; i++) {
		const struct boot_e820_entry *f = &in->fw_map[i];
		struct range e;

		if (!range_make(f->addr, f->size, &e))
			return translate_fail(out, TE_BAD_MEMMAP, "memory map entry %u wraps past 2^64", i);
		if (!add_carved(w, e.start, e.end, f->type))
			return translate_fail(out, TE_BAD_MEMMAP, "memory map: more than %u e820 entries", w->cap);
	}
	return TE_OK;
}

int e820_build(const struct translate_in *in, const struct hvm_start_info *si,
	       struct boot_params *bp, struct translate_out *out)
{
	struct e820_work w = { in->work, 0, STUB_E820_WORK };
	uint32_t ext_n;
	int err;

	if (si->version >= 1 && si->memmap_entries && si->memmap_paddr)
		err = from_memmap(in, si, &w, out);
	else if (in->fw_map && in->fw_map_entries)
		err = from_fw_map(in, &w, out);
	else
		return translate_fail(out, TE_BAD_MEMMAP, "no memory map: start_info v%u carries none%s",
			    si->version, in->xen ? " and Xen gave none" : " and this is not Xen");
	if (err)
		return err;

	sort_by_addr(&w);
	if (!reserve_isa_hole(&w))
		return translate_fail(out, TE_BAD_MEMMAP, "no room for the ISA hole in %u e820 entries", w.cap);

	bp->e820_entries = w.n < E820_MAX_ENTRIES_ZEROPAGE ? w.n : E820_MAX_ENTRIES_ZEROPAGE;
	__builtin_memcpy(bp->e820_table, w.e, bp->e820_entries * sizeof(w.e[0]));

	ext_n = w.n - bp->e820_entries;
	if (ext_n) {
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
