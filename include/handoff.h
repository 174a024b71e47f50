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

/* entry/head.S: arguments in EAX, EDX, ECX, as -mregparm=3 passes them. */
void handoff32(const struct boot_params *bp, uint32_t entry) __attribute__((noreturn));
void handoff64(const struct boot_params *bp, uint32_t entry, uint32_t root, uint32_t la57)
	__attribute__((noreturn));

/*
 * entry/paging.c: identity-map [0, top) for the 64-bit handoff; returns the
 * root: the PML4, or with la57 a PML5 above it (5-level paging).
 */
uint32_t identity_map_build(uint64_t top, bool la57);
/* The CPU has 5-level paging (CPUID.7.0:ECX.LA57). */
bool cpu_has_la57(void);

extern struct pvhstub_info pvhstub_info;
extern char _image_start[], _image_end[];

#endif /* PVHSTUB_HANDOFF_H */
