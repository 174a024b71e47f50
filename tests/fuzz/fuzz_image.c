// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for everything the host tool reads: a hostile file
 * goes through every stage the command line runs on it, the same
 * functions the CLI calls (scripts/pvhstub/):
 *   wrap      with the 32-bit and 64-bit handoffs, and with --decompress;
 *   extract   the vmlinux inside a bzImage;
 *   inspect   bzImage, vmlinux, wrapped image, any ELF, and its notes;
 *   xlconfig  wrapped_info, then the config text;
 *   --stub    the stub's program headers and relocations;
 * and every image the wrap makes goes through inspect and xlconfig too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"

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
	inspect_image(devnull, f, stub, err, sizeof(err));
	wrapped_info(f, &info, err, sizeof(err));
	if (!xlconfig_text(f, &xl, &text, &len, err, sizeof(err)))
		free(text);
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
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (wrap_image(stub, f, &modes[i], &w, err, sizeof(err)))
			continue;
		read_image((struct blob){ w.img, w.size }, stub);
		free(w.img);
	}
	if (!extract_vmlinux(f, &out, &outsz, err, sizeof(err)))
		free(out);
	return 0;
}
