// SPDX-License-Identifier: MIT
/*
 * KASLR for a pre-decompressed kernel (pvhstub wrap --decompress): what
 * Linux's decompressor does when it runs, done here because it does not.
 *   - Entropy: RDSEED and RDRAND where CPUID has them, mixed with the TSC.
 *   - A random virtual offset, aligned to kernel_alignment, that keeps the
 *     kernel inside its KERNEL_IMAGE_SIZE; the relocation table the wrap
 *     kept is applied for it, in place.
 *   - With PI_KASLR_PHYS, a random 2 MiB-aligned physical slot in e820 RAM
 *     below 4 GiB (the handoff's identity map covers it), clear of the
 *     stub and the initrd; the kernel is copied there.  Everything else the
 *     kernel reads (zero page, cmdline, setup_data) lives in the stub.
 *   - KASLR_FLAG in loadflags, so the kernel randomizes its memory regions.
 */
#include "console.h"
#include "handoff.h"
#include "kaslr.h"
#include "lib.h"
#include "panic.h"
#include "x86.h"

#define CPUID1_ECX_RDRAND	(1u << 30)
#define CPUID1_EDX_TSC		(1u << 4)
#define CPUID7_EBX_RDSEED	(1u << 18)
#define SLOT_ALIGN		0x200000ULL	/* The kernel's page tables map 2 MiB pages. */
#define FOUR_GIB		0x100000000ULL
#define TRIES			10		/* RDRAND/RDSEED may fail transiently. */

static uint64_t mix(uint64_t h, uint32_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static bool rdrand(uint32_t *v)
{
	bool ok;

	asm volatile("rdrand %0" : "=r"(*v), "=@ccc"(ok));
	return ok;
}

/* The TSC's low half, for measuring (0 on a CPU without one). */
static uint32_t tsc32(bool has_tsc)
{
	return has_tsc ? (uint32_t)rdtsc() : 0;
}

static bool rdseed(uint32_t *v)
{
	bool ok;

	asm volatile("rdseed %0" : "=r"(*v), "=@ccc"(ok));
	return ok;
}

/* 64 random bits, and which sources gave them (for the boot line). */
static uint64_t random_u64(const char **how, bool *tsc)
{
	uint32_t max, b, c, d, v;
	bool has_rdrand, has_tsc, has_rdseed = false;
	uint64_t h = 0x243f6a8885a308d3ULL;
	int got = 0;

	cpuid(0, &max, &b, &c, &d);
	cpuid(1, &v, &b, &c, &d);
	has_rdrand = c & CPUID1_ECX_RDRAND;
	has_tsc = d & CPUID1_EDX_TSC;
	if (max >= 7) {
		cpuid(7, &v, &b, &c, &d);
		has_rdseed = b & CPUID7_EBX_RDSEED;
	}
	for (int i = 0; has_rdseed && got < 2 && i < TRIES; i++)
		if (rdseed(&v))
			h = mix(h, v), got++;
	for (int i = 0; has_rdrand && got < 2 && i < TRIES; i++)
		if (rdrand(&v))
			h = mix(h, v), got++;
	if (has_tsc) {
		uint64_t t = rdtsc();

		h = mix(mix(h, (uint32_t)t), (uint32_t)(t >> 32));
	}
	*tsc = has_tsc;
	*how = got ? (has_rdseed ? "RDSEED+TSC" : "RDRAND+TSC") : has_tsc ? "TSC only" : "none";
	if (!got && !has_tsc)
		panic("KASLR: the CPU has no RDRAND, RDSEED or TSC to randomize with; boot with nokaslr or wrap with --kaslr off");
	return mix(h, 0);
}

/* A random physical slot for [start, start + size); the kernel moves there. */
static uint64_t move_kernel(const struct boot_params *bp, struct range stub, struct range initrd,
			    uint64_t start, uint64_t size, uint64_t align, uint32_t rnd)
{
	struct kaslr_space k = {
		.map = bp->e820_table, .nmap = bp->e820_entries,
		.avoid = { stub, initrd }, .navoid = 2,
		.min = start, .max = (uint64_t)STUB_PT_MAX_GIB << 30,
		.size = size, .align = align,	/* kaslr_apply made it at least SLOT_ALIGN */
	};
	uint64_t to;

	if (k.max > FOUR_GIB)
		k.max = FOUR_GIB;
	if (!kaslr_slot(&k, rnd, &to)) {
		printk("warning: KASLR: no free physical slot for the kernel's 0x%llx bytes; it stays at 0x%llx",
		       (unsigned long long)size, (unsigned long long)start);
		return start;
	}
	if (to != start)
		memmove((void *)(uintptr_t)to, (const void *)(uintptr_t)start, (size_t)size);
	return to;
}

void kaslr_apply(struct boot_params *bp, bool nokaslr, struct range stub, struct range initrd,
		 struct kaslr_result *res)
{
	const struct pvhstub_info *pi = &pvhstub_info;
	uint64_t start = pi->window_start, size = pi->kernel_end - start;
	uint64_t align = bp->hdr.kernel_alignment, rnd;
	uint32_t slots, t0;
	char msg[128];
	bool tsc;

	res->phys = start;
	res->end = pi->kernel_end;
	res->virt = 0;
	res->how = NULL;
	res->done = false;
	if (pi->flags & PI_KASLR_NONE)
		printk("warning: no KASLR: the wrap kept no relocation table for this kernel; it runs at 0x%llx",
		       (unsigned long long)start);
	if (!(pi->flags & PI_KASLR_VIRT))
		return;
	if (nokaslr) {
		res->how = "off (nokaslr)";
		return;
	}
	if (!align || (align & (align - 1)) || align < SLOT_ALIGN)
		align = SLOT_ALIGN;
	if (!pi->kernel_end || pi->kernel_end <= start || pi->kernel_end > FOUR_GIB ||
	    pi->virt_limit < start + size)
		panic("KASLR: the kernel [0x%llx, 0x%llx) does not fit its virtual limit 0x%llx: a corrupt image",
		      (unsigned long long)start, (unsigned long long)pi->kernel_end,
		      (unsigned long long)pi->virt_limit);

	rnd = random_u64(&res->how, &tsc);
	slots = (uint32_t)((pi->virt_limit - start - size) >> log2_pow2(align)) + 1;
	res->virt = (uint64_t)((uint32_t)rnd % slots) * align;
	t0 = tsc32(tsc);
	if (relocs_apply((const void *)(uintptr_t)pi->relocs_addr, pi->relocs_size,
			 (uint8_t *)(uintptr_t)start, (uint32_t)size, res->virt, msg, sizeof(msg)))
		panic("KASLR: %s", msg);
	res->tsc_relocs = tsc32(tsc) - t0;
	res->tsc_move = 0;
	if (pi->flags & PI_KASLR_PHYS) {
		t0 = tsc32(tsc);
		res->phys = move_kernel(bp, stub, initrd, start, size, align, (uint32_t)(rnd >> 32));
		res->tsc_move = tsc32(tsc) - t0;
	}
	res->end = res->phys + size;
	bp->hdr.loadflags |= KASLR_FLAG;
	res->done = true;
}
