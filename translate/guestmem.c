// SPDX-License-Identifier: MIT
/*
 * Guest memory, as the translator reaches it: every loader table goes
 * through loader_table(), which maps it through the bounds-checking
 * accessor and keeps it off the stub image.
 */
#include "translate.h"

/*
 * The loader's table [paddr, paddr + len), named what in messages: it must
 * be readable and must not overlap the stub image (tables may lie in the
 * window: we are done with them before the kernel runs).  On failure, *p is
 * NULL and the error is bad, or TE_OVERLAP.
 */
int loader_table(const struct translate_in *in, struct translate_out *out, const char *what,
		 uint64_t paddr, uint64_t len, const void **p, int bad)
{
	struct range r;

	*p = NULL;
	if (!range_make(paddr, len, &r) || !(*p = in->mem->map(in->mem, paddr, len)))
		return translate_fail(out, bad, "%s [0x%llx, 0x%llx) is not readable memory", what,
				      (unsigned long long)paddr, (unsigned long long)(paddr + len));
	if (range_overlaps(r, in->stub)) {
		*p = NULL;
		return translate_fail(out, TE_OVERLAP, "%s [0x%llx, 0x%llx) overlaps the stub image", what,
				      (unsigned long long)r.start, (unsigned long long)r.end);
	}
	return TE_OK;
}
