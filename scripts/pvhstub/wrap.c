// SPDX-License-Identifier: MIT
/*
 * The whole wrap: a kernel file in, a PVH image out (parse, decompress,
 * place, write).  And extract: the vmlinux inside a bzImage.  Both work on
 * memory only, so the fuzzer runs them exactly as the command line does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"

/* One more warning for the user: a line of out->note. */
__attribute__((format(printf, 2, 3)))
static void add_note(struct wrap_out *out, const char *fmt, ...)
{
	size_t n = strlen(out->note);
	va_list ap;

	if (n && n + 1 < sizeof(out->note))
		out->note[n++] = '\n';
	va_start(ap, fmt);
	vsnprintf(out->note + n, sizeof(out->note) - n, fmt, ap);
	va_end(ap);
}

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
		add_note(out, "%s: no KASLR; the kernel runs at 0x%llx",
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

/*
 * What the image carries of its own: a UKI's .ucode and .initrd, the
 * --initrd files, and a command line (--cmdline, else a UKI's .cmdline).
 */
struct own {
	struct blob initrd[2 + STR_LIST_MAX];
	int ninitrd;
	struct blob cmdline;
	uint8_t *data;			/* The segment, malloc'ed. */
};

/*
 * The command line as systemd-stub hands it over: up to the first NUL,
 * control characters as blanks, no blanks at the end.  Into a malloc'ed
 * string; its length.
 */
static size_t clean_cmdline(struct blob c, char **out)
{
	size_t n = 0;

	*out = malloc(c.size + 1);
	if (!*out)
		return 0;
	for (; n < c.size && c.data[n]; n++)
		(*out)[n] = c.data[n] < 0x20 || c.data[n] == 0x7f ? ' ' : (char)c.data[n];
	while (n && (*out)[n - 1] == ' ')
		n--;
	(*out)[n] = '\0';
	return n;
}

/* The kernel's setup header, zero past what it has. */
static struct setup_header header_of(const struct kernel_image *k)
{
	struct setup_header h;

	memset(&h, 0, sizeof(h));
	memcpy(&h, k->setup_hdr, k->setup_hdr_len < sizeof(h) ? k->setup_hdr_len : sizeof(h));
	return h;
}


/*
 * Lay out the image's own segment above everything else the image loads
 * (the window, the kernel, its relocation table, the stub): the command
 * line, then from the next page the initrd parts, each padded to 4 bytes
 * as systemd-stub joins them, as Linux's initramfs unpacker skips the
 * zeros between cpio archives.
 */
static int plan_own(const struct stub_image *s, const struct kernel_image *k, struct own *own,
		    const struct wrap_opts *o, struct wrap_plan *p, char *err, size_t errsz)
{
	uint64_t start, end, top = p->window_end, initrd = 0, limit;
	struct setup_header h = header_of(k);
	uint32_t max = cmdline_max(&h) < STUB_CMDLINE_SIZE - 1 ? cmdline_max(&h) : STUB_CMDLINE_SIZE - 1;
	char *cmd = NULL;
	size_t clen = 0;

	if (own->cmdline.data) {
		clen = clean_cmdline(own->cmdline, &cmd);
		if (!cmd) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		if (clen > max) {
			snprintf(err, errsz, "the command line the image would carry is %zu bytes; the kernel takes at most %u",
				 clen, max);
			free(cmd);
			return -1;
		}
	}
	if (o->cmdline_policy && !clen) {
		snprintf(err, errsz, "--cmdline-policy applies to a command line the image carries (--cmdline, or a UKI's .cmdline), and there is none");
		free(cmd);
		return -1;
	}
	for (int i = 0; i < own->ninitrd; i++)
		initrd += align_up(own->initrd[i].size, 4);
	if (!clen && !initrd) {
		free(cmd);
		return 0;
	}
	segments_footprint(k, &start, &end);
	if (k->nseg && end > top)
		top = end;
	if (p->stub_base + s->memsz > top)
		top = p->stub_base + s->memsz;
	p->own_addr = align_up(top, 0x1000);
	p->own_cmdline_len = (uint32_t)clen;
	p->own_initrd_off = clen ? align_up(clen, 0x1000) : 0;
	p->own_initrd_size = initrd;
	p->own_size = p->own_initrd_off + initrd;
	p->cmdline_policy = o->cmdline_policy;
	limit = k->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G ? FOUR_GIB : (uint64_t)h.initrd_addr_max + 1;
	if (limit > FOUR_GIB)
		limit = FOUR_GIB;
	if (p->own_addr >= limit || p->own_size > limit - p->own_addr) {
		snprintf(err, errsz, "the image's initrd and command line (0x%llx bytes) would lie at [0x%llx, 0x%llx), past %s 0x%llx",
			 (unsigned long long)p->own_size, (unsigned long long)p->own_addr,
			 (unsigned long long)(p->own_addr + p->own_size),
			 limit == FOUR_GIB ? "4 GiB," : "the kernel's initrd_addr_max,",
			 (unsigned long long)limit - 1);
		free(cmd);
		return -1;
	}
	own->data = calloc(1, p->own_size);
	if (!own->data) {
		snprintf(err, errsz, "out of memory for 0x%llx bytes of initrd", (unsigned long long)p->own_size);
		free(cmd);
		return -1;
	}
	if (clen)
		memcpy(own->data, cmd, clen);
	free(cmd);
	initrd = p->own_initrd_off;
	for (int i = 0; i < own->ninitrd; i++) {
		if (own->initrd[i].size)
			memcpy(own->data + initrd, own->initrd[i].data, own->initrd[i].size);
		initrd += align_up(own->initrd[i].size, 4);
	}
	p->own_data = own->data;
	return 0;
}

/* A UKI: its .linux is the kernel, its .ucode and .initrd and .cmdline the image's own. */
static int take_uki(struct blob *kernel, const struct wrap_opts *o, struct own *own,
		    struct wrap_out *out, char *err, size_t errsz)
{
	struct uki *u;

	if (!uki_candidate(*kernel)) {
		if (o->profile) {
			snprintf(err, errsz, "--profile applies to a Unified Kernel Image, and this is none");
			return -1;
		}
		return 0;
	}
	u = malloc(sizeof(*u));
	if (!u) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (uki_parse(*kernel, o->profile, u, err, errsz)) {
		free(u);
		return -1;
	}
	out->uki = 1;
	*kernel = u->part[UKI_LINUX];
	if (u->part[UKI_UCODE].size)
		own->initrd[own->ninitrd++] = u->part[UKI_UCODE];
	if (u->part[UKI_INITRD].size)
		own->initrd[own->ninitrd++] = u->part[UKI_INITRD];
	if (u->part[UKI_CMDLINE].size)
		own->cmdline = u->part[UKI_CMDLINE];
	if (u->pe.signed_size)
		add_note(out, "the UKI is signed (a certificate table of %u bytes), but its signature covers the PE file only: the PVH image is not signed, and nothing checks it at boot",
			 u->pe.signed_size);
	free(u);
	return 0;
}

int wrap_image(struct blob stub, struct blob kernel, const struct wrap_opts *o,
	       struct wrap_out *out, char *err, size_t errsz)
{
	struct kernel_image k;
	struct stub_image s;
	struct wrap_plan plan;
	struct own own = { .ninitrd = 0 };
	uint8_t *owned = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&k, 0, sizeof(k));
	if (stub_parse(stub, &s, err, errsz)) {
		err_prefix(err, errsz, "the stub");
		return -1;
	}
	if (take_uki(&kernel, o, &own, out, err, errsz))
		return -1;
	for (int i = 0; i < o->ninitrds && own.ninitrd < (int)(sizeof(own.initrd) / sizeof(own.initrd[0])); i++)
		own.initrd[own.ninitrd++] = o->initrds[i];
	if (o->cmdline)
		own.cmdline = (struct blob){ (const uint8_t *)o->cmdline, strlen(o->cmdline) };
	/* ELF64 for a 64-bit kernel (rust-vmm takes no other); qemu-system-i386 takes only ELF32. */
	rc = kernel_parse(kernel, o, &k, &owned, err, errsz);
	if (rc && out->uki)
		err_prefix(err, errsz, "its .linux");
	rc = rc || wrap_plan(&s, &k, o->handoff, &plan, err, errsz) ||
	     plan_kaslr(&k, o, &plan, out, err, errsz) ||
	     plan_own(&s, &k, &own, o, &plan, err, errsz) ||
	     elf_build(&s, &k, &plan, o->elf32 || !(k.xloadflags & XLF_KERNEL_64), &out->img,
		       &out->size, err, errsz);

	if (!rc && k.derived_window)
		add_note(out,
			 "boot protocol %u.%02u has no init_size: the image reserves [0x%llx, 0x%llx) for the kernel's decompression, a margin of 8 times its code plus 16 MiB (bzimage.c), not a figure from the kernel",
			 k.protocol >> 8, k.protocol & 0xff, (unsigned long long)plan.payload_addr,
			 (unsigned long long)plan.window_end);
	free(owned);
	free(own.data);
	free(k.relocs);
	return rc ? -1 : 0;
}

int extract_vmlinux(struct blob kernel, uint8_t **out, size_t *outsz, char *err, size_t errsz)
{
	struct kernel_image k;

	return bzimage_parse(kernel, &k, err, errsz) ||
	       decompress_payload(k.payload, out, outsz, err, errsz) ? -1 : 0;
}
