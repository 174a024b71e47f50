// SPDX-License-Identifier: MIT
/*
 * Where the payload goes and how the stub enters it.  A bzImage's code
 * goes where its decompressor would run anyway, and the whole
 * decompression window is reserved; a vmlinux stays where it is linked.
 */
#include <stdio.h>
#include "tool.h"

#define FOUR_GIB	0x100000000ULL

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

/* A vmlinux runs where it is linked: its footprint is the window. */
static int plan_vmlinux(const struct stub_image *s, const struct kernel_image *k, int handoff,
			struct wrap_plan *p, char *err, size_t errsz)
{
	uint64_t stub_end = s->base + s->memsz;

	if (handoff == 32) {
		snprintf(err, errsz, "a vmlinux has no 32-bit entry: use --handoff 64");
		return -1;
	}
	p->handoff = PI_HANDOFF_64;
	segments_footprint(k, &p->payload_addr, &p->window_end);
	if (p->payload_addr < stub_end && s->base < p->window_end) {
		snprintf(err, errsz, "the vmlinux at [0x%llx, 0x%llx) overlaps the stub at [0x%llx, 0x%llx)",
			 (unsigned long long)p->payload_addr, (unsigned long long)p->window_end,
			 (unsigned long long)s->base, (unsigned long long)stub_end);
		return -1;
	}
	p->entry = k->entry64;
	return 0;
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

	p->payload_addr = low < FOUR_GIB ? align_up(low, k->kernel_alignment) : low;
	if (p->payload_addr >= FOUR_GIB || size > FOUR_GIB - p->payload_addr) {
		snprintf(err, errsz, "the decompression window [0x%llx, +0x%llx) does not fit below 4 GiB",
			 (unsigned long long)p->payload_addr, (unsigned long long)size);
		return -1;
	}
	p->window_end = p->payload_addr + size;
	if (p->handoff == PI_HANDOFF_64 && !(k->xloadflags & XLF_KERNEL_64)) {
		snprintf(err, errsz, "the 64-bit handoff needs a kernel with a 64-bit entry (XLF_KERNEL_64); this one has xloadflags 0x%x: use --handoff 32",
			 k->xloadflags);
		return -1;
	}
	/* The 64-bit entry is 0x200 past the 32-bit one (boot.rst). */
	p->entry = p->payload_addr + (p->handoff == PI_HANDOFF_64 ? 0x200 : 0);
	return 0;
}

int wrap_plan(const struct stub_image *s, const struct kernel_image *k, int handoff,
	      struct wrap_plan *p, char *err, size_t errsz)
{
	p->handoff = handoff == 64 ? PI_HANDOFF_64 : handoff == 32 ? PI_HANDOFF_32 : s->default_handoff;
	return k->vmlinux ? plan_vmlinux(s, k, handoff, p, err, errsz) :
			    plan_bzimage(s, k, p, err, errsz);
}
