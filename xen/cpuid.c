// SPDX-License-Identifier: MIT
/*
 * Is this Xen?  Xen's CPUID leaves sit at 0x40000000 + k * 0x100 (they move
 * up when Xen also offers a Viridian or other interface at the base).
 */
#include "stub.h"

#define XEN_CPUID_FIRST		0x40000000
#define XEN_CPUID_LAST		0x40010000
#define XEN_SIG_EBX		0x566e6558	/* "XenV" */
#define XEN_SIG_ECX		0x65584d4d	/* "MMXe" */
#define XEN_SIG_EDX		0x4d4d566e	/* "nVMM" */

uint32_t xen_cpuid_base(void)
{
	for (uint32_t base = XEN_CPUID_FIRST; base < XEN_CPUID_LAST; base += 0x100) {
		uint32_t eax, ebx, ecx, edx;

		cpuid(base, &eax, &ebx, &ecx, &edx);
		/* The signature, and at least the leaves up to base + 2. */
		if (ebx == XEN_SIG_EBX && ecx == XEN_SIG_ECX && edx == XEN_SIG_EDX &&
		    eax >= base + 2)
			return base;
	}
	return 0;
}
