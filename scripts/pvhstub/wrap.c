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
 * Keep the relocation table that follows the decompressed vmlinux, as one
 * more segment right after the kernel's footprint, where the stub reads it
 * before it moves the kernel.  Not with --kaslr off, and not an i386
 * kernel's: the stub randomizes only x86-64 kernels.
 */
static int keep_relocs(struct blob elf, int keep, struct kernel_image *k, char *err, size_t errsz)
{
	uint64_t start, end;

	segments_footprint(k, &start, &end);
	k->kernel_end = end;
	if (!keep || k->vmlinux32 || k->elf_size >= elf.size)
		return 0;
	if (relocs_read((struct blob){ elf.data + k->elf_size, elf.size - k->elf_size }, k,
			&k->relocs, &k->relocs_size, err, errsz))
		return -1;
	if (k->nseg == MAX_SEGMENTS) {
		snprintf(err, errsz, "more than %u segments with the relocation table", MAX_SEGMENTS - 1);
		return -1;
	}
	start = align_up(end, 0x1000);
	if (start >= FOUR_GIB || k->relocs_size > FOUR_GIB - start) {
		snprintf(err, errsz, "the relocation table does not fit below 4 GiB after the kernel");
		return -1;
	}
	k->seg[k->nseg++] = (struct segment){ .paddr = start, .filesz = k->relocs_size,
					      .memsz = k->relocs_size, .data = k->relocs };
	return 0;
}

/*
 * A bzImage, or with --decompress the vmlinux inside it (keeping the
 * bzImage's setup header and the kernel's relocation table), or a vmlinux
 * as it is.  *owned is what the caller frees once the image is built: the
 * decompressed vmlinux.
 */
static int kernel_parse(struct blob f, const struct wrap_opts *o, struct kernel_image *k,
			uint8_t **owned, char *err, size_t errsz)
{
	int decompress = o->decompress;

	struct kernel_image bz;
	size_t elfsz;
	int rc;

	*owned = NULL;
	if (f.size >= SELFMAG && !memcmp(f.data, ELFMAG, SELFMAG)) {
		struct pvhstub_info info;

		if (!wrapped_info(f, &info, NULL, 0)) {
			snprintf(err, errsz, "this is already a PVH image made by pvhstub wrap; wrap the kernel it was made from (pvhstub inspect names its version)");
			return -1;
		}
		if (vmlinux_parse(f, k, NULL, err, errsz))
			return -1;
		segments_footprint(k, &(uint64_t){ 0 }, &k->kernel_end);
		return 0;
	}
	if (bzimage_parse(f, decompress ? &bz : k, err, errsz) ||
	    bzimage_check_wrap(decompress ? &bz : k, err, errsz))
		return -1;
	if (!decompress)
		return 0;
	if (decompress_payload(bz.payload, owned, &elfsz, err, errsz))
		return -1;
	rc = vmlinux_parse((struct blob){ *owned, elfsz }, k, &bz, err, errsz);
	k->decompressed = 1;
	if (rc || keep_relocs((struct blob){ *owned, elfsz }, o->kaslr != WRAP_KASLR_OFF, k, err, errsz)) {
		err_prefix(err, errsz, "the decompressed payload");
		return -1;
	}
	return 0;
}

/*
 * KASLR for a pre-decompressed kernel, which the stub does in place of the
 * kernel's decompressor.  A bzImage randomizes itself.
 */
static int plan_kaslr(const struct kernel_image *k, const struct wrap_opts *o, struct wrap_plan *p,
		      struct wrap_out *out, char *err, size_t errsz)
{
	uint64_t at = k->pref_address;

	if (!k->vmlinux) {
		if (o->kaslr == WRAP_KASLR_DEFAULT)
			return 0;
		snprintf(err, errsz, "%s applies to a pre-decompressed kernel (--decompress or a vmlinux); a bzImage randomizes itself (nokaslr on its command line turns that off)",
			 o->kaslr_opt ? o->kaslr_opt : "--kaslr");
		return -1;
	}
	p->kernel_end = k->kernel_end;	/* Marks a pre-decompressed kernel. */
	if (o->kaslr == WRAP_KASLR_OFF)
		return 0;
	if (!k->relocs) {
		snprintf(out->note, sizeof(out->note), "%s: no KASLR; the kernel runs at 0x%llx",
			 k->vmlinux32 ? "the stub randomizes only x86-64 kernels" :
			 k->decompressed ? "the kernel has no relocation table (CONFIG_RANDOMIZE_BASE is off)" :
			 "a vmlinux file has no relocation table (Linux keeps it only inside the bzImage: wrap that with --decompress for KASLR)",
			 (unsigned long long)at);
		p->kaslr = PI_KASLR_NONE;
		return 0;
	}
	/*
	 * The virtual offset by default; the physical slot too with --kaslr
	 * full, whose move costs sid's 7.2 cloud kernel about 0.6% of its boot
	 * under QEMU TCG (make bench), more than the 0.5% it may cost to be
	 * the default.
	 */
	p->kaslr = PI_KASLR_VIRT | (o->kaslr == WRAP_KASLR_FULL ? PI_KASLR_PHYS : 0);
	p->relocs_addr = k->seg[k->nseg - 1].paddr;
	p->relocs_size = (uint32_t)k->relocs_size;
	/* The move leaves out what the kernel clears itself, but never a relocation site. */
	p->move_size = (uint32_t)(align_up(k->move_end > k->relocs_end ? k->move_end : k->relocs_end, 8) -
				  p->payload_addr);
	p->virt_limit = KERNEL_IMAGE_SIZE;
	struct pvhstub_relocs h;

	memcpy(&h, k->relocs, sizeof(h));
	for (int i = 0; i < RELOCS_LISTS; i++)
		out->relocs += h.count[i];
	return 0;
}

int wrap_image(struct blob stub, struct blob kernel, const struct wrap_opts *o,
	       struct wrap_out *out, char *err, size_t errsz)
{
	struct kernel_image k;
	struct stub_image s;
	struct wrap_plan plan;
	uint8_t *owned;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&k, 0, sizeof(k));
	if (stub_parse(stub, &s, err, errsz)) {
		err_prefix(err, errsz, "the stub");
		return -1;
	}
	/* ELF64 for a 64-bit kernel (rust-vmm takes no other); qemu-system-i386 takes only ELF32. */
	rc = kernel_parse(kernel, o, &k, &owned, err, errsz) ||
	     wrap_plan(&s, &k, o->handoff, &plan, err, errsz) ||
	     plan_kaslr(&k, o, &plan, out, err, errsz) ||
	     elf_build(&s, &k, &plan, o->elf32 || !(k.xloadflags & XLF_KERNEL_64), &out->img,
		       &out->size, err, errsz);
	if (!rc && k.derived_window)
		snprintf(out->note, sizeof(out->note),
			 "boot protocol %u.%02u has no init_size: the image reserves [0x%llx, 0x%llx) for the kernel's decompression, a margin of 8 times its code plus 16 MiB (bzimage.c), not a figure from the kernel",
			 k.protocol >> 8, k.protocol & 0xff, (unsigned long long)plan.payload_addr,
			 (unsigned long long)plan.window_end);
	free(owned);
	free(k.relocs);
	return rc ? -1 : 0;
}

int extract_vmlinux(struct blob kernel, uint8_t **out, size_t *outsz, char *err, size_t errsz)
{
	struct kernel_image k;

	return bzimage_parse(kernel, &k, err, errsz) ||
	       decompress_payload(k.payload, out, outsz, err, errsz) ? -1 : 0;
}
