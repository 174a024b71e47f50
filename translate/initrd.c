// SPDX-License-Identifier: MIT
/*
 * The initrd is module 0.  It must survive until the kernel reads it, so it
 * may lie neither in the decompression window nor above initrd_addr_max
 * (unless the kernel takes it anywhere).  If it does, we pick a new home
 * in RAM below 4 GiB and the caller moves it there; if there is no room,
 * translation fails with a message that names the ranges.
 */
#include "translate.h"

#define LOW_MEMORY_END	0x100000ULL	/* Never put an initrd below 1 MiB. */
#define FOUR_GIB	0x100000000ULL
#define PAGE_MASK_4K	(~0xfffULL)

/* The search for a new home: the candidate, and what it must avoid. */
struct home {
	const struct translate_in *in;
	const uint8_t *mods;		/* The loader's modlist: maybe unaligned. */
	uint32_t nr_mods, nr_e820;
	uint64_t fixed[3][2];		/* Low memory, the stub, the window. */
	uint64_t start, end;		/* The candidate [start, end). */
	uint64_t top;			/* The lowest start of what it hits. */
};

/*
 * p points at an {addr, size} pair (e820 and modlist entries start with
 * one): if that range overlaps the candidate, lower top to its start.
 */
static void avoid(struct home *h, const void *p)
{
	uint64_t r[2], end;

	__builtin_memcpy(r, p, sizeof(r));
	end = r[0] + r[1];
	if (end >= r[0] && r[0] < h->end && h->start < end && r[0] < h->top)
		h->top = r[0];
}

/*
 * Does [start, end) collide with something that must stay intact?  Returns
 * the lowest start of what it collides with, or ~0.
 */
static uint64_t collision(struct home *h, uint64_t start, uint64_t end)
{
	h->start = start;
	h->end = end;
	h->top = ~0ULL;
	for (uint32_t i = 0; i < 3; i++)
		avoid(h, h->fixed[i]);
	for (uint32_t i = 1; i < h->nr_mods; i++)
		avoid(h, h->mods + i * sizeof(struct hvm_modlist_entry));
	for (uint32_t i = 0; i < h->nr_e820; i++)
		if (h->in->work[i].type != E820_TYPE_RAM)
			avoid(h, &h->in->work[i]);
	return h->top;
}

/* The highest 4 KiB-aligned spot for size bytes in RAM below limit, or 0. */
static uint64_t find_home(struct home *h, uint64_t size, uint64_t limit)
{
	uint64_t best = 0;

	for (uint32_t i = 0; i < h->nr_e820; i++) {
		const struct boot_e820_entry *e = &h->in->work[i];
		uint64_t top = e->addr + e->size < limit ? e->addr + e->size : limit;

		if (e->type != E820_TYPE_RAM)
			continue;
		while (top > e->addr && top - e->addr >= size) {
			uint64_t dst = (top - size) & PAGE_MASK_4K, hit;

			if (dst < e->addr || dst <= best)
				break;
			hit = collision(h, dst, dst + size);
			if (hit == ~0ULL) {
				best = dst;
				break;
			}
			top = hit;
		}
	}
	return best;
}

int initrd_build(const struct translate_in *in, const struct hvm_start_info *si,
		 struct boot_params *bp, struct translate_out *out)
{
	const struct pvhstub_info *pi = in->payload;
	struct range window = { pi->window_start, pi->window_end };
	struct home h = {
		.in = in, .nr_mods = si->nr_modules, .nr_e820 = out->e820_entries,
		.fixed = { { 0, LOW_MEMORY_END },
			   { in->stub.start, in->stub.end - in->stub.start },
			   { window.start, window.end - window.start } },
	};
	uint64_t limit = FOUR_GIB, where;
	struct hvm_modlist_entry m0;
	const void *list;
	struct range rd;
	bool anywhere;
	int err;

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
	if (range_overlaps(rd, in->stub))
		return translate_fail(out, TE_OVERLAP, "initrd [0x%llx, 0x%llx) overlaps the stub image [0x%llx, 0x%llx)",
			    (unsigned long long)rd.start, (unsigned long long)rd.end,
			    (unsigned long long)in->stub.start, (unsigned long long)in->stub.end);

	/* The kernel takes it anywhere, or below initrd_addr_max. */
	anywhere = bp->hdr.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G;
	if (!anywhere)
		limit = (uint64_t)bp->hdr.initrd_addr_max + 1;
	where = rd.start;
	if (range_overlaps(rd, window) || (!anywhere && rd.end > limit)) {
		uint64_t size = rd.end - rd.start;
		const char *why = "it lies above 4 GiB, out of the stub's reach";

		/* We move it with paging off: it must lie below 4 GiB. */
		if (rd.end <= FOUR_GIB) {
			where = find_home(&h, size, limit);
			why = "no free RAM below the limit holds it";
		}
		if (!where || rd.end > FOUR_GIB)
			return translate_fail(out, TE_NO_ROOM,
				    "initrd [0x%llx, 0x%llx) must move (decompression window [0x%llx, 0x%llx), limit 0x%llx), but %s",
				    (unsigned long long)rd.start, (unsigned long long)rd.end,
				    (unsigned long long)window.start, (unsigned long long)window.end,
				    (unsigned long long)limit, why);
		out->initrd_move.src = rd.start;
		out->initrd_move.dst = where;
		out->initrd_move.size = size;
	}

	bp->hdr.ramdisk_image = (uint32_t)where;
	bp->ext_ramdisk_image = (uint32_t)(where >> 32);
	bp->hdr.ramdisk_size = (uint32_t)(rd.end - rd.start);
	bp->ext_ramdisk_size = (uint32_t)((rd.end - rd.start) >> 32);
	return TE_OK;
}
