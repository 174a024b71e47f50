/* SPDX-License-Identifier: MIT */
/* The stub as a Xen guest: detection (xen/cpuid.c) and hypercalls (xen/hypercall.c). */
#ifndef PVHSTUB_XENGUEST_H
#define PVHSTUB_XENGUEST_H

#include <stdbool.h>
#include <stdint.h>
#include "bootparam.h"

/* The base leaf of Xen's CPUID range, or 0 when not on Xen. */
uint32_t xen_cpuid_base(void);

bool xen_hypercall_init(uint32_t cpuid_base);
int xen_memory_map(struct boot_e820_entry *buf, uint32_t max);
void xen_console_write(const char *s, uint32_t len);
void xen_crash(void);

#endif /* PVHSTUB_XENGUEST_H */
