// SPDX-License-Identifier: MIT
/*
 * The identity map the 64-bit boot protocol wants: the kernel, the zero
 * page and the command line must be mapped.  We map [0, N GiB), N the
 * smallest that covers the payload's window and the stub: with 1 GiB
 * pages when the CPU has them (N entries), else 2 MiB pages (512 N).  For
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

static uint32_t ext_features_edx(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000000, &a, &b, &c, &d);
	if (a < 0x80000001)
		return 0;
	cpuid(0x80000001, &a, &b, &c, &d);
	return d;
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

/* Build the map for [0, top); returns the root table's address. */
uint32_t identity_map_build(uint64_t top, bool la57)
{
	uint32_t gib = (uint32_t)((top + GIB - 1) / GIB), features = ext_features_edx();

	if (!(features & CPUID_LM))
		panic("the 64-bit handoff needs a CPU with long mode; wrap with --handoff 32");
	if (gib > STUB_PT_MAX_GIB)
		panic("the 64-bit handoff maps at most %u GiB; the image needs %u", STUB_PT_MAX_GIB, gib);

	memset(pml4, 0, sizeof(pml4));
	memset(pdpt, 0, sizeof(pdpt));
	pml4[0] = (uintptr_t)pdpt | PTE_P | PTE_W;
	for (uint32_t g = 0; g < gib; g++) {
		if (features & CPUID_PDPE1GB) {
			pdpt[g] = (uint64_t)g * GIB | PTE_P | PTE_W | PTE_PS;
			continue;
		}
		pdpt[g] = (uintptr_t)pd[g] | PTE_P | PTE_W;
		for (uint32_t i = 0; i < 512; i++)
			pd[g][i] = ((uint64_t)g * GIB + (uint64_t)i * 0x200000) | PTE_P | PTE_W | PTE_PS;
	}
	if (!la57)
		return (uint32_t)(uintptr_t)pml4;
	pml5[0] = (uintptr_t)pml4 | PTE_P | PTE_W;
	return (uint32_t)(uintptr_t)pml5;
}
