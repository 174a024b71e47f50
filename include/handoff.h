/* SPDX-License-Identifier: MIT */
/*
 * Entering the kernel (entry/head.S, entry/paging.c), and what the linker
 * script places: the info block the wrap fills in, and the image bounds.
 */
#ifndef PVHSTUB_HANDOFF_H
#define PVHSTUB_HANDOFF_H

#include <stdbool.h>
#include <stdint.h>
#include "bootparam.h"
#include "pvhstub.h"
#include "translate.h"

/* entry/head.S: arguments in EAX, EDX, ECX, as -mregparm=3 passes them. */
void handoff32(const struct boot_params *bp, uint32_t entry) __attribute__((noreturn));
/*
 * handoff64 moves the kernel first when kernel_move says so, in long mode
 * (8 bytes a step, and to any slot the identity map covers), and then
 * enters it at entry + (dst - src).
 */
void handoff64(const struct boot_params *bp, uint32_t entry, uint32_t root, uint32_t la57)
	__attribute__((noreturn));

/* The kernel's move to its physical KASLR slot (kaslr/randomize.c plans it). */
struct kernel_move {
	uint64_t src, dst;		/* memmove semantics: they may overlap */
	uint64_t qwords;		/* 0: no move */
};
extern struct kernel_move kernel_move;

/*
 * entry/paging.c: identity-map [0, top) for the 64-bit handoff, and extra
 * too (empty: start == end; it may lie above 4 GiB, below
 * STUB_SLOT_MAX_GIB); returns the root: the PML4, or with la57 a PML5
 * above it (5-level paging).
 */
uint32_t identity_map_build(uint64_t top, struct range extra, bool la57);
/* The CPU has 5-level paging (CPUID.7.0:ECX.LA57). */
/* CPUID 0x80000001 EDX bit 29: the CPU can run a 64-bit kernel. */
bool cpu_has_long_mode(void);
bool cpu_has_la57(void);

extern struct pvhstub_info pvhstub_info;
extern char _image_start[], _image_end[];

#endif /* PVHSTUB_HANDOFF_H */
