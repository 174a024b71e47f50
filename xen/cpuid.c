// SPDX-License-Identifier: MIT
/*
 * Is this Xen?  Xen's CPUID leaves sit at 0x40000000 + k * 0x100 (they move
 * up when Xen also offers a Viridian or other interface at the base).  Each
 * range's first leaf gives its last one in EAX; we stop at the first base
 * that holds no range.
 */
#include "x86.h"
#include "xenguest.h"

#define XEN_CPUID_FIRST		0x40000000
#define XEN_CPUID_LAST		0x40010000
#define XEN_SIG_EBX		0x566e6558	/* "XenV" */
#define XEN_SIG_ECX		0x65584d4d	/* "MMXe" */
#define XEN_SIG_EDX		0x4d4d566e	/* "nVMM" */

uint32_t xen_cpuid_base(void)
{
	uint32_t eax, ebx, ecx, edx;

	/* No hypervisor bit (CPUID.1:ECX[31]): not virtualized, so not Xen. */
	cpuid(1, &eax, &ebx, &ecx, &edx);
	if (!(ecx & (1u << 31)))
		return 0;
	for (uint32_t base = XEN_CPUID_FIRST; base < XEN_CPUID_LAST; base += 0x100) {
		cpuid(base, &eax, &ebx, &ecx, &edx);
		/* No range of hypervisor leaves here: none further up either. */
		if (eax < base || eax > base + 0xff)
			return 0;
		/* The signature, and at least the leaves up to base + 2. */
		if (ebx == XEN_SIG_EBX && ecx == XEN_SIG_ECX && edx == XEN_SIG_EDX &&
		    eax >= base + 2)
			return base;
	}
	return 0;
}
