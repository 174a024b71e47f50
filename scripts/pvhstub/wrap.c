// SPDX-License-Identifier: MIT
/*
 * The whole wrap: a kernel file in, a PVH image out (parse, decompress,
 * place, write).  And extract: the vmlinux inside a bzImage.  Both work on
 * memory only, so the fuzzer runs them exactly as the command line does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"

/* Say which input err is about: "WHAT: err". */
static void err_prefix(char *err, size_t errsz, const char *what)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s: %.400s", what, err);
	snprintf(err, errsz, "%s", msg);
}

/*
 * A bzImage, or with --decompress the vmlinux inside it (keeping the
 * bzImage's setup header), or a vmlinux as it is.  *owned is what the
 * caller frees once the image is built: the decompressed vmlinux.
 */
static int kernel_parse(struct blob f, int decompress, struct kernel_image *k, uint8_t **owned,
			char *err, size_t errsz)
{
	struct kernel_image bz;
	size_t elfsz;

	*owned = NULL;
	if (f.size >= SELFMAG && !memcmp(f.data, ELFMAG, SELFMAG))
		return vmlinux_parse(f, k, NULL, err, errsz);
	if (bzimage_parse(f, decompress ? &bz : k, err, errsz) ||
	    bzimage_check_wrap(decompress ? &bz : k, err, errsz))
		return -1;
	if (!decompress)
		return 0;
	if (decompress_payload(bz.payload, owned, &elfsz, err, errsz))
		return -1;
	if (vmlinux_parse((struct blob){ *owned, elfsz }, k, &bz, err, errsz)) {
		err_prefix(err, errsz, "the decompressed payload");
		return -1;
	}
	return 0;
}

int wrap_image(struct blob stub, struct blob kernel, const struct wrap_opts *o,
	       uint8_t **out, size_t *outsz, char *err, size_t errsz)
{
	struct kernel_image k;
	struct stub_image s;
	struct wrap_plan plan;
	uint8_t *owned;
	int rc;

	if (stub_parse(stub, &s, err, errsz)) {
		err_prefix(err, errsz, "the stub");
		return -1;
	}
	/* ELF64 for a 64-bit kernel (rust-vmm takes no other); qemu-system-i386 takes only ELF32. */
	rc = kernel_parse(kernel, o->decompress, &k, &owned, err, errsz) ||
	     wrap_plan(&s, &k, o->handoff, &plan, err, errsz) ||
	     elf_build(&s, &k, &plan, o->elf32 || !(k.xloadflags & XLF_KERNEL_64), out, outsz, err, errsz);
	free(owned);
	return rc ? -1 : 0;
}

int extract_vmlinux(struct blob kernel, uint8_t **out, size_t *outsz, char *err, size_t errsz)
{
	struct kernel_image k;

	return bzimage_parse(kernel, &k, err, errsz) ||
	       decompress_payload(k.payload, out, outsz, err, errsz) ? -1 : 0;
}
