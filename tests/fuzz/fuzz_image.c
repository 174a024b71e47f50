// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for everything the host tool reads: a hostile file
 * goes through every stage the command line runs on it, the same
 * functions the CLI calls (scripts/pvhstub/):
 *   wrap      with the 32-bit and 64-bit handoffs, and with --decompress,
 *             and carrying an initrd and command line (a UKI's profile 1);
 *   extract   the vmlinux inside a bzImage;
 *   inspect   bzImage, vmlinux, UKI (PE), wrapped image, any ELF, and its notes;
 *   xlconfig  wrapped_info, then the config text;
 *   --stub    the stub's program headers and relocations;
 *   relocs    the input as the relocation table Linux appends to a
 *             vmlinux (what --decompress keeps must be what the stub's walk
 *             takes), and as a kept table fed straight to the stub's walk
 *             (kaslr/relocwalk.c), which must stay inside the kernel;
 * and every image the wrap makes goes through inspect and xlconfig too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"
#include "kaslr.h"

extern const uint8_t stub_blob[], stub_blob_end[];

static FILE *devnull;

/* What the tool reads in a file it did not make, or in one it made. */
static void read_image(struct blob f, struct blob stub)
{
	const struct xl_opts xl = { .name = "fuzz", .kernel = "/k", .ramdisk = "/r", .cmdline = "c",
				    .ramdisk_size = 1 << 20 };
	static struct stub_image as_stub;
	struct pvhstub_info info;
	char err[512], *text;
	size_t len;

	stub_parse(f, &as_stub, err, sizeof(err));	/* What --stub FILE reads. */
	inspect_image(devnull, "fuzz", f, stub, 0, err, sizeof(err));
	inspect_image(devnull, "fuzz", f, stub, 1, err, sizeof(err));
	wrapped_info(f, &info, err, sizeof(err));
	if (!xlconfig_text(f, &xl, &text, &len, err, sizeof(err)))
		free(text);
}

/* The kernel the tables apply to: one segment at 16 MiB, as mkpayload.py makes. */
#define KERNEL_SIZE	0x14003

static void fuzz_relocs(struct blob f)
{
	struct kernel_image k = { .nseg = 1, .seg = { { 0x1000000, 0x4003, KERNEL_SIZE, NULL } },
				  .virt_offset = 0xffffffff80000000ULL };
	uint8_t *kernel = calloc(1, KERNEL_SIZE), *table, *copy;
	char err[512];
	size_t n;

	if (!kernel)
		abort();
	if (!relocs_read(f, &k, &table, &n, err, sizeof(err))) {
		if (relocs_apply(table, (uint32_t)n, kernel, KERNEL_SIZE, 0x12345000, err, sizeof(err)))
			abort();	/* The wrap kept a table the stub would refuse. */
		free(table);
	}
	/* Exactly the input's size, so that ASan sees any read past it. */
	copy = malloc(f.size ? f.size : 1);
	if (!copy)
		abort();
	memcpy(copy, f.data, f.size);
	relocs_apply(copy, (uint32_t)f.size, kernel, KERNEL_SIZE, 0xffffffffffe00000ULL, err, sizeof(err));
	free(copy);
	free(kernel);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct wrap_opts modes[] = {
		{ 32, 0, 0, 0 }, { 64, 0, 1, 0 }, { 0, 1, 0, WRAP_KASLR_DEFAULT }, { 0, 1, 0, WRAP_KASLR_FULL },
	};
	const struct blob stub = { stub_blob, (size_t)(stub_blob_end - stub_blob) };
	const struct blob f = { data, size };
	struct wrap_out w;
	char err[512];
	uint8_t *out;
	size_t outsz;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	read_image(f, stub);
	fuzz_relocs(f);
	/* And a wrap that carries an initrd (the input again) and a command line, profile 1 of a UKI. */
	const struct wrap_opts carry = { .decompress = 1, .initrds = &f, .ninitrds = 1, .cmdline = "c=1\t2",
					 .cmdline_policy = PI_CMDLINE_APPEND, .profile = 1 };

	for (size_t i = 0; i <= sizeof(modes) / sizeof(modes[0]); i++) {
		if (wrap_image(stub, f, i < sizeof(modes) / sizeof(modes[0]) ? &modes[i] : &carry, &w, err,
			       sizeof(err)))
			continue;
		read_image((struct blob){ w.img, w.size }, stub);
		free(w.img);
	}
	if (!extract_vmlinux(f, &out, &outsz, err, sizeof(err)))
		free(out);
	return 0;
}
