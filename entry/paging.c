// SPDX-License-Identifier: MIT
/*
 * The identity map the 64-bit boot protocol wants: the kernel, the zero
 * page and the command line must be mapped.  We map [0, N GiB), N the
 * smallest that covers the payload's window and the stub: with 1 GiB
 * pages when the CPU has them (N entries), else 2 MiB pages (512 N); and
 * the GiBs of a KASLR slot above that (below 512 GiB: one PDPT).  For
 * 5-level paging, a PML5 whose first entry is the PML4.
 */
#include "handoff.h"
#include "lib.h"
#include "panic.h"
#include "x86.h"

#define PTE_P		(1ULL << 0)
#define PTE_W		(1ULL << 1)
#define PTE_PS		(1ULL << 7)
#define GIB		0x40000000ULL
#define CPUID_PDPE1GB	(1u << 26)	/* 0x80000001 EDX */
#define CPUID_LM	(1u << 29)	/* 0x80000001 EDX */
#define CPUID7_ECX_LA57	(1u << 16)

static uint64_t pml5[512] __attribute__((aligned(4096)));
static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[STUB_PT_MAX_GIB][512] __attribute__((aligned(4096)));
/* A kernel (at most KERNEL_IMAGE_SIZE, 1 GiB) in a slot above the low map spans two GiBs at most. */
#define STUB_PT_EXTRA_GIB	2
static uint64_t pd_extra[STUB_PT_EXTRA_GIB][512] __attribute__((aligned(4096)));

static uint32_t ext_features_edx(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000000, &a, &b, &c, &d);
	if (a < 0x80000001)
		return 0;
	cpuid(0x80000001, &a, &b, &c, &d);
	return d;
}

bool cpu_has_long_mode(void)
{
	return ext_features_edx() & CPUID_LM;
}

bool cpu_has_la57(void)
{
	uint32_t a, b, c, d;

	cpuid(0, &a, &b, &c, &d);
	if (a < 7)
		return false;
	cpuid(7, &a, &b, &c, &d);
	return c & CPUID7_ECX_LA57;
}

/* 2 MiB pages for GiB g, into page directory d (no 1 GiB pages). */
static void map_gib(uint64_t *d, uint32_t g)
{
	for (uint32_t i = 0; i < 512; i++)
		d[i] = ((uint64_t)g * GIB + (uint64_t)i * 0x200000) | PTE_P | PTE_W | PTE_PS;
}

/* Build the map for [0, top) and extra; returns the root table's address. */
uint32_t identity_map_build(uint64_t top, struct range extra, bool la57)
{
	uint32_t gib = (uint32_t)((top + GIB - 1) / GIB), features = ext_features_edx();
	uint32_t hi = 0;

	if (!(features & CPUID_LM))
		panic("the 64-bit handoff needs a CPU with long mode; wrap with --handoff 32");
	if (gib > STUB_PT_MAX_GIB)
		panic("the 64-bit handoff maps at most %u GiB; the image needs %u", STUB_PT_MAX_GIB, gib);
	if (extra.end > (uint64_t)STUB_SLOT_MAX_GIB * GIB || extra.end < extra.start)
		panic("the 64-bit handoff maps nothing at or above %u GiB; the kernel's slot ends at 0x%llx",
		      STUB_SLOT_MAX_GIB, (unsigned long long)extra.end);

	memset(pml4, 0, sizeof(pml4));
	memset(pdpt, 0, sizeof(pdpt));
	pml4[0] = (uintptr_t)pdpt | PTE_P | PTE_W;
	for (uint32_t g = 0; g < gib; g++) {
		if (features & CPUID_PDPE1GB) {
			pdpt[g] = (uint64_t)g * GIB | PTE_P | PTE_W | PTE_PS;
			continue;
		}
		pdpt[g] = (uintptr_t)pd[g] | PTE_P | PTE_W;
		map_gib(pd[g], g);
	}
	/* The GiBs of extra that [0, top) left out: a kernel spans two at most. */
	for (uint64_t a = extra.start & ~(GIB - 1); a < extra.end; a += GIB) {
		uint32_t g = (uint32_t)(a / GIB);

		if (g < gib)
			continue;
		if (features & CPUID_PDPE1GB) {
			pdpt[g] = (uint64_t)g * GIB | PTE_P | PTE_W | PTE_PS;
			continue;
		}
		if (hi == STUB_PT_EXTRA_GIB)
			panic("the kernel's slot [0x%llx, 0x%llx) spans more than %u GiB above the low map",
			      (unsigned long long)extra.start, (unsigned long long)extra.end,
			      STUB_PT_EXTRA_GIB);
		pdpt[g] = (uintptr_t)pd_extra[hi] | PTE_P | PTE_W;
		map_gib(pd_extra[hi++], g);
	}
	if (!la57)
		return (uint32_t)(uintptr_t)pml4;
	pml5[0] = (uintptr_t)pml4 | PTE_P | PTE_W;
	return (uint32_t)(uintptr_t)pml5;
}
