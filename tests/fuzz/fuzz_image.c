// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the host tool's image parser: a hostile kernel
 * file.  It goes through what 'pvhstub wrap' does with it (bzImage or
 * vmlinux parse, --decompress, placement, the ELF writer) with both
 * handoffs, and what 'inspect' reads.  The built stub comes from the tool.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"

extern const uint8_t stub_blob[], stub_blob_end[];

static void wrap(const struct stub_image *s, const struct kernel_image *k)
{
	for (int handoff = 32; handoff <= 64; handoff += 32) {
		struct wrap_plan p;
		uint8_t *img;
		size_t size;
		char err[512];

		if (wrap_plan(s, k, handoff, &p, err, sizeof(err)))
			continue;
		if (!elf_build(s, k, &p, &img, &size, err, sizeof(err)))
			free(img);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct stub_image s;
	static int have_stub;
	struct blob f = { data, size };
	struct kernel_image k, bz;
	char err[512];
	uint8_t *elf;
	size_t elfsz;

	if (!have_stub) {
		if (stub_parse((struct blob){ stub_blob, (size_t)(stub_blob_end - stub_blob) }, &s, err, sizeof(err)))
			abort();
		have_stub = 1;
	}
	if (size >= 4 && !memcmp(data, "\x7f" "ELF", 4)) {
		if (!vmlinux_parse(f, &k, NULL, err, sizeof(err)))
			wrap(&s, &k);
		return 0;
	}
	if (bzimage_parse(f, &bz, err, sizeof(err)))
		return 0;
	wrap(&s, &bz);
	compression_name(bz.payload);
	if (!decompress_payload(bz.payload, &elf, &elfsz, err, sizeof(err))) {
		if (!vmlinux_parse((struct blob){ elf, elfsz }, &k, &bz, err, sizeof(err)))
			wrap(&s, &k);
		free(elf);
	}
	return 0;
}
