/* SPDX-License-Identifier: MIT */
/* The host tool: kernel image parsing and PVH ELF writing. */
#ifndef PVHSTUB_TOOL_H
#define PVHSTUB_TOOL_H

#include <stddef.h>
#include <stdint.h>
#include "pvhstub.h"

struct blob {
	const uint8_t *data;
	size_t size;
};

#define MAX_SEGMENTS	16

struct segment {
	uint64_t paddr, filesz, memsz;
	const uint8_t *data;
};

/* A parsed kernel, bzImage or vmlinux: what the wrap needs from it. */
struct kernel_image {
	int vmlinux;			/* An ELF vmlinux, entered at entry64. */
	uint16_t protocol;
	uint16_t xloadflags;
	uint32_t kernel_alignment;
	uint32_t init_size;
	uint64_t pref_address;
	uint32_t setup_hdr_len;		/* Bytes from 0x1f1 */
	const uint8_t *setup_hdr;
	struct blob pm;			/* bzImage: the protected-mode code, */
	struct blob payload;		/*   and the compressed kernel in it. */
	struct segment seg[MAX_SEGMENTS];	/* vmlinux: its PT_LOADs, */
	unsigned int nseg;
	uint64_t entry64;		/*   and its 64-bit entry (physical). */
	uint8_t hdr_buf[SETUP_HDR_MAX];	/* vmlinux: the setup header we use. */
	char version[128];		/* The kernel version string, if any. */
};

/* The stub as linked: one PT_LOAD and its notes. */
struct stub_image {
	uint64_t base, filesz, memsz, entry;
	uint32_t default_handoff;	/* PI_HANDOFF_32 or _64, from Kconfig */
	const uint8_t *data;
	uint64_t note_addr, note_size;
};

struct wrap_plan {
	uint32_t handoff;		/* PI_HANDOFF_32 or PI_HANDOFF_64 */
	uint64_t payload_addr, window_end, entry;
};

/* Each returns 0, or -1 with a message in err. */
int bzimage_parse(struct blob file, struct kernel_image *k, char *err, size_t errsz);
/* A vmlinux (ELF64 x86-64); its setup header comes from bz if given, else a template. */
int vmlinux_parse(struct blob file, struct kernel_image *k, const struct kernel_image *bz,
		  char *err, size_t errsz);
int stub_parse(struct blob file, struct stub_image *s, char *err, size_t errsz);
/* Place the payload; handoff is 32, 64, or 0 for the stub's default. */
int wrap_plan(const struct stub_image *s, const struct kernel_image *k, int handoff,
	      struct wrap_plan *p, char *err, size_t errsz);
/* The info block of an image made by 'pvhstub wrap'. */
int wrapped_info(struct blob img, struct pvhstub_info *info, char *err, size_t errsz);
/* Build the PVH ELF in memory (malloc'ed into *out). */
int elf_build(const struct stub_image *s, const struct kernel_image *k,
	      const struct wrap_plan *p, uint8_t **out, size_t *outsz, char *err, size_t errsz);

/* scripts/decompress.c */
#ifndef DECOMPRESS_MAX
#define DECOMPRESS_MAX	(512u << 20)	/* No vmlinux is larger: beyond is a bomb. */
#endif
const char *compression_name(struct blob payload);
int decompress_payload(struct blob payload, uint8_t **out, size_t *outlen, char *err, size_t errsz);

/* scripts/inspect.c */
int cmd_inspect(int argc, char **argv, int (*read_file)(const char *, struct blob *, char *, size_t));
int cmd_extract(int argc, char **argv, int (*read_file)(const char *, struct blob *, char *, size_t),
		int (*write_atomic)(const char *, const uint8_t *, size_t, char *, size_t));

/* scripts/xlconfig.c */
int cmd_xlconfig(int argc, char **argv, int (*read_file)(const char *, struct blob *, char *, size_t),
		 int (*write_atomic)(const char *, const uint8_t *, size_t, char *, size_t));

#endif /* PVHSTUB_TOOL_H */
