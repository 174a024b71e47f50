// SPDX-License-Identifier: MIT
/*
 * The initrd is module 0, after the image's own initrd if it carries one
 * (join()).  It must survive until the kernel reads it, so it
 * may lie neither in the decompression window nor above initrd_addr_max
 * (unless the kernel takes it anywhere).  If it does, we pick a new home
 * in RAM below 4 GiB and the caller moves it there; if there is no room,
 * translation fails with a message that names the ranges.  The new home
 * covers none of the loader's tables (loader_tables()), as a KASLR slot
 * does not: the RSDP's page, which the kernel reads, above all.
 */
#include "translate.h"

#define LOW_MEMORY_END	0x100000ULL	/* Never put an initrd below 1 MiB. */
#define FOUR_GIB	0x100000000ULL
#define PAGE_MASK_4K	(~0xfffu)

/*
 * The search for a new home.  Homes lie below limit <= 4 GiB, so the search
 * works in 32 bits, on inclusive ranges [start, last] clipped to 4 GiB.
 */
struct home {
	const struct translate_in *in;
	const uint8_t *mods;		/* The loader's modlist: maybe unaligned. */
	uint32_t nr_mods, nr_e820, nkeep;
	struct range *keep;		/* Low memory, the stub, the window, the loader's tables. */
	uint32_t start, last;		/* The candidate. */
	uint32_t top;			/* The lowest start of what it hits, */
	bool hit;			/* if it hits anything. */
};

/*
 * The part of [start, end) below 4 GiB as [*s, *l]; false if there is none
 * (or it wraps).  noinline here and below: the smaller stub (its budget,
 * include/pvhstub.h).
 */
static __attribute__((noinline)) bool clip(uint64_t start, uint64_t end, uint32_t *s, uint32_t *l)
{
	if (end <= start || start >= FOUR_GIB)
		return false;
	*s = (uint32_t)start;
	*l = end > FOUR_GIB ? 0xffffffffu : (uint32_t)(end - 1);
	return true;
}

/* If [start, last] overlaps the candidate, lower top to its start. */
static void avoid(struct home *h, uint32_t start, uint32_t last)
{
	if (start <= h->last && h->start <= last && (!h->hit || start < h->top)) {
		h->top = start;
		h->hit = true;
	}
}

static __attribute__((noinline)) void avoid_range(struct home *h, const struct range *r)
{
	uint32_t s, l;

	if (clip(r->start, r->end, &s, &l))
		avoid(h, s, l);
}

/* p points at an {addr, size} pair (e820 and modlist entries start with one). */
static void avoid_pair(struct home *h, const void *p)
{
	uint64_t r[2];

	__builtin_memcpy(r, p, sizeof(r));
	avoid_range(h, &(struct range){ r[0], r[0] + r[1] });
}

/* Does [start, last] collide with something that must stay intact? */
static void collide(struct home *h, uint32_t start, uint32_t last)
{
	h->start = start;
	h->last = last;
	h->hit = false;
	for (uint32_t i = 0; i < h->nkeep; i++)
		avoid_range(h, &h->keep[i]);
	for (uint32_t i = 1; i < h->nr_mods; i++)
		avoid_pair(h, h->mods + i * sizeof(struct hvm_modlist_entry));
	for (uint32_t i = 0; i < h->nr_e820; i++)
		if (h->in->work[i].type != E820_TYPE_RAM)
			avoid_pair(h, &h->in->work[i]);
}

uint32_t loader_tables(const struct translate_in *in, const struct hvm_start_info *si,
		       const struct translate_out *out, struct range *r)
{
	/* Sizes fit 32 bits: translation bounded the counts. */
	const uint64_t addr[LOADER_TABLES] = {
		si->rsdp_paddr & ~0xfffULL, in->start_info_paddr, si->modlist_paddr, si->cmdline_paddr,
		si->memmap_paddr,
	};
	const uint32_t size[LOADER_TABLES] = {
		0x2000, sizeof(*si), si->nr_modules * sizeof(struct hvm_modlist_entry), out->cmdline_len + 1,
		si->version >= 1 ? si->memmap_entries * sizeof(struct hvm_memmap_table_entry) : 0,
	};
	uint32_t n = 0;

	for (uint32_t i = 0; i < LOADER_TABLES; i++)
		if (addr[i] && size[i] && range_make(addr[i], size[i], &r[n]))
			n++;
	return n;
}

/* The highest 4 KiB-aligned home for size (>= 1) bytes in RAM up to last_ok, or 0. */
static uint32_t find_home(struct home *h, uint32_t size, uint32_t last_ok)
{
	uint32_t best = 0;

	for (uint32_t i = 0; i < h->nr_e820; i++) {
		uint32_t start, last;

		const struct boot_e820_entry *e = &h->in->work[i];

		if (e->type != E820_TYPE_RAM || !clip(e->addr, e->addr + e->size, &start, &last))
			continue;
		if (last > last_ok)
			last = last_ok;
		/* Try the top of the entry, then below whatever the try hit. */
		while (last >= start && last - start >= size - 1) {
			uint32_t dst = (last - (size - 1)) & PAGE_MASK_4K;

			if (dst < start || dst <= best)
				break;
			collide(h, dst, dst + (size - 1));
			if (!h->hit) {
				best = dst;
				break;
			}
			if (!h->top)
				break;
			last = h->top - 1;
		}
	}
	return best;
}

/* Is [start, last] inside one RAM entry of the map? */
static bool in_ram(const struct home *h, uint32_t start, uint32_t last)
{
	for (uint32_t i = 0; i < h->nr_e820; i++) {
		uint32_t s, l;

		const struct boot_e820_entry *e = &h->in->work[i];

		if (e->type == E820_TYPE_RAM && clip(e->addr, e->addr + e->size, &s, &l) && s <= start &&
		    last <= l)
			return true;
	}
	return false;
}

static void set_ramdisk(struct boot_params *bp, uint64_t where, uint64_t size)
{
	bp->hdr.ramdisk_image = (uint32_t)where;
	bp->ext_ramdisk_image = (uint32_t)(where >> 32);
	bp->hdr.ramdisk_size = (uint32_t)size;
	bp->ext_ramdisk_size = (uint32_t)(size >> 32);
}

/*
 * The image's own initrd (own) and the loader's (rd) as one: rd copied
 * right after own when that memory is free RAM, else both copied to a new
 * home that covers neither.  Returns where the whole starts, or 0 (out
 * says why).
 */
static uint64_t join(struct home *h, struct range own, struct range rd, uint64_t limit,
		     struct translate_out *out)
{
	uint64_t own_size = own.end - own.start, size = rd.end - rd.start, where = own.start;
	struct range *keep = h->keep + h->nkeep;

	if (rd.end > FOUR_GIB || size > FOUR_GIB || own_size + size > limit - own.start)
		where = 0;
	else {
		collide(h, (uint32_t)own.end, (uint32_t)(own.end + size - 1));
		if (h->hit || !in_ram(h, (uint32_t)own.end, (uint32_t)(own.end + size - 1)))
			where = 0;
	}
	if (!where && rd.end <= FOUR_GIB && own_size + size <= limit) {
		keep[0] = own;
		keep[1] = rd;
		h->nkeep += 2;
		where = find_home(h, (uint32_t)(own_size + size), (uint32_t)(limit - 1));
		out->initrd_move_own = (struct initrd_move){ own.start, where, own_size };
	}
	if (!where) {
		translate_fail(out, TE_NO_ROOM,
			       "the image's initrd [0x%llx, 0x%llx) and the loader's [0x%llx, 0x%llx) must be joined below 0x%llx, but %s",
			       (unsigned long long)own.start, (unsigned long long)own.end,
			       (unsigned long long)rd.start, (unsigned long long)rd.end,
			       (unsigned long long)limit,
			       rd.end > FOUR_GIB ? "the loader's lies above 4 GiB, out of the stub's reach" :
			       "no free RAM holds both");
		return 0;
	}
	out->initrd_move = (struct initrd_move){ rd.start, where + own_size, size };
	return where;
}

int initrd_build(const struct translate_in *in, const struct hvm_start_info *si,
		 struct boot_params *bp, struct translate_out *out)
{
	const struct pvhstub_info *pi = in->payload;
	struct range window = { pi->window_start, pi->window_end };
	struct range own = { pi->initrd_addr, pi->initrd_addr + pi->initrd_size };
	struct range keep[5 + LOADER_TABLES] = { { 0, LOW_MEMORY_END }, in->stub, window };
	struct home h = { .in = in, .nr_mods = si->nr_modules, .nr_e820 = out->e820_entries, .keep = keep };
	uint64_t limit = FOUR_GIB, where;
	struct hvm_modlist_entry m0;
	const void *list;
	struct range rd;
	bool anywhere;
	int err;

	/* The kernel takes it anywhere, or below initrd_addr_max. */
	anywhere = bp->hdr.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G;
	if (!anywhere)
		limit = (uint64_t)bp->hdr.initrd_addr_max + 1;
	/* Where the wrap put the image's own initrd (pvhstub wrap checks it). */
	if (pi->initrd_size) {
		if (own.end < own.start || own.end > limit || !own.start)
			return translate_fail(out, TE_BAD_PAYLOAD, "the image's initrd [0x%llx, +0x%llx) is not below 0x%llx",
					      (unsigned long long)own.start, (unsigned long long)pi->initrd_size,
					      (unsigned long long)limit);
		set_ramdisk(bp, own.start, pi->initrd_size);
	}
	out->nr_modules = si->nr_modules;
	if (!si->nr_modules)
		return TE_OK;
	if (si->nr_modules > MODULES_MAX)
		return translate_fail(out, TE_BAD_MODULE, "nr_modules is %u; at most %u are supported",
			    si->nr_modules, MODULES_MAX);
	err = loader_table(in, out, "modlist", si->modlist_paddr,
			   si->nr_modules * sizeof(struct hvm_modlist_entry), &list, TE_BAD_MODULE);
	if (err)
		return err;
	h.mods = list;
	h.nkeep = 3 + loader_tables(in, si, out, keep + 3);
	if (si->nr_modules > 1)
		out->warnings |= TW_EXTRA_MODULES;

	__builtin_memcpy(&m0, h.mods, sizeof(m0));
	if (!m0.size) {
		out->warnings |= TW_EMPTY_INITRD;
		return TE_OK;
	}
	if (!range_make(m0.paddr, m0.size, &rd) || !rd.start)
		return translate_fail(out, TE_BAD_MODULE, "module 0 at 0x%llx, size 0x%llx is not a valid range",
			    (unsigned long long)m0.paddr, (unsigned long long)m0.size);
	if (range_overlaps(rd, in->stub) || range_overlaps(rd, own))
		return translate_fail(out, TE_OVERLAP, "initrd [0x%llx, 0x%llx) overlaps the %s [0x%llx, 0x%llx)",
			    (unsigned long long)rd.start, (unsigned long long)rd.end,
			    range_overlaps(rd, own) ? "image's own initrd" : "stub image",
			    (unsigned long long)(range_overlaps(rd, own) ? own : in->stub).start,
			    (unsigned long long)(range_overlaps(rd, own) ? own : in->stub).end);

	if (pi->initrd_size) {
		where = join(&h, own, rd, limit, out);
		if (!where)
			return TE_NO_ROOM;
		set_ramdisk(bp, where, pi->initrd_size + (rd.end - rd.start));
		return TE_OK;
	}
	where = rd.start;
	if (range_overlaps(rd, window) || (!anywhere && rd.end > limit)) {
		uint64_t size = rd.end - rd.start;
		const char *why = "it lies above 4 GiB, out of the stub's reach";

		/* We move it with paging off: it must lie below 4 GiB. */
		if (rd.end <= FOUR_GIB) {
			where = find_home(&h, (uint32_t)size, (uint32_t)(limit - 1));
			why = "no free RAM below the limit holds it";
		}
		if (!where || rd.end > FOUR_GIB)
			return translate_fail(out, TE_NO_ROOM,
				    "initrd [0x%llx, 0x%llx) must move (decompression window [0x%llx, 0x%llx), limit 0x%llx), but %s",
				    (unsigned long long)rd.start, (unsigned long long)rd.end,
				    (unsigned long long)window.start, (unsigned long long)window.end,
				    (unsigned long long)limit, why);
		out->initrd_move = (struct initrd_move){ rd.start, where, size };
	}
	set_ramdisk(bp, where, rd.end - rd.start);
	return TE_OK;
}
