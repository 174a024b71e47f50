// SPDX-License-Identifier: MIT
/*
 * Where the payload goes and how the stub enters it.  A bzImage's code
 * goes where its decompressor would run anyway, and the whole
 * decompression window is reserved; a vmlinux stays where it is linked.
 */
#include <stdio.h>
#include "tool.h"

/*
 * The stub stays at its link address (1 MiB) unless the payload's window
 * [start, end) takes that memory: then it moves right above the window, if
 * it has its relocations.  (Above a bzImage's window, the kernel's own KASLR
 * could pick the stub's memory while the kernel still reads from it, so it
 * moves only for a payload that wants 1 MiB.)
 */
static int place_stub(const struct stub_image *s, uint64_t start, uint64_t end,
		      struct wrap_plan *p, const char *what, char *err, size_t errsz)
{
	uint64_t stub_end = s->base + s->memsz;

	p->stub_base = s->base;
	if (!(start < stub_end && s->base < end))
		return 0;
	p->stub_base = align_up(end, 0x1000);
	if (s->nreloc && p->stub_base < FOUR_GIB && s->memsz <= FOUR_GIB - p->stub_base)
		return 0;
	snprintf(err, errsz, "%s [0x%llx, 0x%llx) overlaps the stub at [0x%llx, 0x%llx), and the stub %s",
		 what, (unsigned long long)start, (unsigned long long)end,
		 (unsigned long long)s->base, (unsigned long long)stub_end,
		 s->nreloc ? "does not fit below 4 GiB above it" : "has no relocations to move it with");
	return -1;
}

void segments_footprint(const struct kernel_image *k, uint64_t *start, uint64_t *end)
{
	*start = ~0ULL;
	*end = 0;
	for (unsigned int i = 0; i < k->nseg; i++) {
		if (k->seg[i].paddr < *start)
			*start = k->seg[i].paddr;
		if (k->seg[i].paddr + k->seg[i].memsz > *end)
			*end = k->seg[i].paddr + k->seg[i].memsz;
	}
}

/*
 * A vmlinux runs where it is linked: its footprint is the window.  An
 * x86-64 one is entered at its 64-bit entry, an i386 one at its 32-bit one.
 */
static int plan_vmlinux(const struct stub_image *s, const struct kernel_image *k, int handoff,
			struct wrap_plan *p, char *err, size_t errsz)
{
	if (handoff == (k->vmlinux32 ? 64 : 32)) {
		snprintf(err, errsz, "an %s vmlinux has no %d-bit entry: use --handoff %d",
			 k->vmlinux32 ? "i386" : "x86-64", handoff, k->vmlinux32 ? 32 : 64);
		return -1;
	}
	p->handoff = k->vmlinux32 ? PI_HANDOFF_32 : PI_HANDOFF_64;
	segments_footprint(k, &p->payload_addr, &p->window_end);
	p->entry = k->entry;
	return place_stub(s, p->payload_addr, p->window_end, p, "the vmlinux at", err, errsz);
}

/* The 64-bit entry is 0x200 past the 32-bit one (boot.rst). */
static int plan_entry(const struct kernel_image *k, struct wrap_plan *p, char *err, size_t errsz)
{
	if (p->handoff == PI_HANDOFF_64 && !(k->xloadflags & XLF_KERNEL_64)) {
		snprintf(err, errsz, "the 64-bit handoff needs a kernel with a 64-bit entry (XLF_KERNEL_64); this one has xloadflags 0x%x: use --handoff 32",
			 k->xloadflags);
		return -1;
	}
	p->entry = p->payload_addr + (p->handoff == PI_HANDOFF_64 ? 0x200 : 0);
	return 0;
}

/*
 * A kernel that is not relocatable decompresses to its pref_address
 * (LOAD_PHYSICAL_ADDR) wherever it is loaded: load it there, so that its
 * window is what the image reserves, unless the stub is in the way.
 */
static int plan_fixed(const struct stub_image *s, const struct kernel_image *k, uint64_t size,
		      struct wrap_plan *p, char *err, size_t errsz)
{
	p->payload_addr = k->pref_address;
	if (p->payload_addr >= FOUR_GIB || size > FOUR_GIB - p->payload_addr) {
		snprintf(err, errsz, "the kernel is not relocatable, and its window [0x%llx, +0x%llx) does not fit below 4 GiB",
			 (unsigned long long)p->payload_addr, (unsigned long long)size);
		return -1;
	}
	p->window_end = p->payload_addr + size;
	return place_stub(s, p->payload_addr, p->window_end, p,
			  "the kernel is not relocatable: its window at pref_address", err, errsz) ||
	       plan_entry(k, p, err, errsz);
}

/*
 * The decompressor runs at max(align_up(load, kernel_alignment),
 * pref_address): load the code there and it runs in place.
 */
static int plan_bzimage(const struct stub_image *s, const struct kernel_image *k,
			struct wrap_plan *p, char *err, size_t errsz)
{
	uint64_t stub_end = s->base + s->memsz;
	uint64_t low = k->pref_address > stub_end ? k->pref_address : stub_end;
	uint64_t size = k->init_size > k->pm.size ? k->init_size : k->pm.size;

	/* It runs at pref_address (LOAD_PHYSICAL_ADDR) or nowhere; before 2.10, loaded at 1 MiB. */
	if (!k->relocatable || k->derived_window)
		return plan_fixed(s, k, size, p, err, errsz);
	p->payload_addr = low < FOUR_GIB ? align_up(low, k->kernel_alignment) : low;
	if (p->payload_addr >= FOUR_GIB || size > FOUR_GIB - p->payload_addr) {
		snprintf(err, errsz, "the decompression window [0x%llx, +0x%llx) does not fit below 4 GiB",
			 (unsigned long long)p->payload_addr, (unsigned long long)size);
		return -1;
	}
	p->window_end = p->payload_addr + size;
	p->stub_base = s->base;		/* Placed above the stub: never in its way. */
	return plan_entry(k, p, err, errsz);
}

int wrap_plan(const struct stub_image *s, const struct kernel_image *k, int handoff,
	      struct wrap_plan *p, char *err, size_t errsz)
{
	*p = (struct wrap_plan){ 0 };
	p->handoff = handoff == 64 ? PI_HANDOFF_64 : handoff == 32 ? PI_HANDOFF_32 : s->default_handoff;
	return k->vmlinux ? plan_vmlinux(s, k, handoff, p, err, errsz) :
			    plan_bzimage(s, k, p, err, errsz);
}
