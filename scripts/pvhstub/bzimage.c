// SPDX-License-Identifier: MIT
/*
 * Parse and validate a bzImage (Linux Documentation/arch/x86/boot.rst).
 * Every offset is checked against the file size before it is read.
 */
#include <stdio.h>
#include <string.h>
#include "tool.h"

#define MIN_PROTOCOL	0x020a	/* 2.10: init_size and pref_address. */

static uint16_t get16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

#define HDR(field) (BZ_SETUP_SECTS_OFF + offsetof(struct setup_header, field))

static const char *guess_format(struct blob f)
{
	static const struct { const char *magic; size_t len; const char *name; } known[] = {
		{ "\x7f" "ELF", 4, "an ELF file" },
		{ "\x1f\x8b", 2, "gzip data, not a bzImage" },
		{ "\xfd" "7zXZ", 5, "xz data, not a bzImage" },
		{ "\x28\xb5\x2f\xfd", 4, "zstd data, not a bzImage" },
		{ "BZh", 3, "bzip2 data, not a bzImage" },
		{ "MZ", 2, "a PE file with no Linux setup header" },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (f.size >= known[i].len && !memcmp(f.data, known[i].magic, known[i].len))
			return known[i].name;
	return "not a bzImage";
}

static void read_version(struct blob f, struct kernel_image *k)
{
	uint16_t off = get16(f.data + HDR(kernel_version));
	size_t at = (size_t)off + 0x200, n = 0;

	k->version[0] = '\0';
	if (!off || at >= f.size)
		return;
	while (at + n < f.size && f.data[at + n] >= 0x20 && f.data[at + n] < 0x7f &&
	       n + 1 < sizeof(k->version))
		n++;
	memcpy(k->version, f.data + at, n);
	k->version[n] = '\0';
}

/* "HdrS", the header's own length, and the protocol version. */
static int read_header(struct blob f, struct kernel_image *k, char *err, size_t errsz)
{
	uint32_t hdr_end;

	if (f.size < BZ_HEADER_OFF + 4 || get32(f.data + BZ_HEADER_OFF) != BZ_HDRS_MAGIC) {
		snprintf(err, errsz, "%s: no 'HdrS' signature at offset 0x202%s", guess_format(f),
			 f.size < BZ_HEADER_OFF + 4 ? " (file too short)" : "");
		return -1;
	}
	/* The header's own length first: nothing past it is read before this check. */
	hdr_end = BZ_HEADER_OFF + f.data[BZ_JUMP_OFF + 1];
	if (hdr_end > f.size) {
		snprintf(err, errsz, "truncated: the setup header ends at 0x%x, past the end of the %zu-byte file",
			 hdr_end, f.size);
		return -1;
	}
	if (hdr_end < HDR(version) + 2) {
		snprintf(err, errsz, "the setup header ends at 0x%x, before its protocol version", hdr_end);
		return -1;
	}
	k->protocol = get16(f.data + HDR(version));
	if (k->protocol < MIN_PROTOCOL) {
		snprintf(err, errsz,
			 "boot protocol %u.%02u is too old: pvhstub needs 2.10 or later (init_size, pref_address)%s",
			 k->protocol >> 8, k->protocol & 0xff,
			 k->protocol < 0x0206 ? "; before 2.06 there is no cmdline_size either" : "");
		return -1;
	}
	if (hdr_end > BZ_HDR_MAX_END || hdr_end < HDR(handover_offset)) {
		snprintf(err, errsz, "setup header ends at 0x%x: outside [0x%zx, 0x%x]",
			 hdr_end, HDR(handover_offset), BZ_HDR_MAX_END);
		return -1;
	}
	k->setup_hdr = f.data + BZ_SETUP_SECTS_OFF;
	k->setup_hdr_len = hdr_end - BZ_SETUP_SECTS_OFF;
	return 0;
}

/* A relocatable bzImage: what the stub can place. */
static int check_kind(struct blob f, char *err, size_t errsz)
{
	if (!(f.data[HDR(loadflags)] & LOADED_HIGH)) {
		snprintf(err, errsz, "a zImage (loadflags.LOADED_HIGH clear): only bzImage kernels are supported");
		return -1;
	}
	if (!f.data[HDR(relocatable_kernel)]) {
		snprintf(err, errsz, "the kernel is not relocatable (relocatable_kernel = 0): build it with CONFIG_RELOCATABLE=y");
		return -1;
	}
	return 0;
}

/* The protected-mode code after the setup sectors, and the payload in it. */
static int read_code(struct blob f, struct kernel_image *k, char *err, size_t errsz)
{
	uint32_t setup_sects = f.data[BZ_SETUP_SECTS_OFF] ? f.data[BZ_SETUP_SECTS_OFF] : 4;
	uint64_t pm_off = (uint64_t)(setup_sects + 1) * 512, pm_size;
	uint32_t payload_offset, payload_length;

	if (pm_off >= f.size) {
		snprintf(err, errsz, "setup_sects %u puts the protected-mode code at 0x%llx, past the end of the %zu-byte file",
			 setup_sects, (unsigned long long)pm_off, f.size);
		return -1;
	}
	pm_size = (uint64_t)get32(f.data + HDR(syssize)) * 16;
	if (!pm_size || pm_size > f.size - pm_off) {
		snprintf(err, errsz, "truncated: syssize says %llu bytes of protected-mode code at 0x%llx, the file has %llu",
			 (unsigned long long)pm_size, (unsigned long long)pm_off,
			 (unsigned long long)(f.size - pm_off));
		return -1;
	}
	k->pm = (struct blob){ f.data + pm_off, pm_size };

	payload_offset = get32(f.data + HDR(payload_offset));
	payload_length = get32(f.data + HDR(payload_length));
	if (payload_offset > pm_size || payload_length > pm_size - payload_offset) {
		snprintf(err, errsz, "payload_offset 0x%x + payload_length 0x%x lie outside the %llu-byte protected-mode code",
			 payload_offset, payload_length, (unsigned long long)pm_size);
		return -1;
	}
	k->payload = (struct blob){ k->pm.data + payload_offset, payload_length };
	return 0;
}

/* kernel_alignment, init_size, pref_address: where it may run. */
static int read_placement(struct blob f, struct kernel_image *k, char *err, size_t errsz)
{
	k->kernel_alignment = get32(f.data + HDR(kernel_alignment));
	if (k->kernel_alignment < 4096 || (k->kernel_alignment & (k->kernel_alignment - 1))) {
		snprintf(err, errsz, "kernel_alignment 0x%x is not a power of two of at least 4 KiB",
			 k->kernel_alignment);
		return -1;
	}
	k->init_size = get32(f.data + HDR(init_size));
	k->pref_address = get64(f.data + HDR(pref_address));
	if (k->init_size < k->pm.size) {
		snprintf(err, errsz, "init_size 0x%x is smaller than the protected-mode code (0x%zx bytes)",
			 k->init_size, k->pm.size);
		return -1;
	}
	k->xloadflags = get16(f.data + HDR(xloadflags));
	return 0;
}

int bzimage_parse(struct blob f, struct kernel_image *k, char *err, size_t errsz)
{
	memset(k, 0, sizeof(*k));
	if (read_header(f, k, err, errsz) || check_kind(f, err, errsz) ||
	    read_code(f, k, err, errsz) || read_placement(f, k, err, errsz))
		return -1;
	read_version(f, k);
	return 0;
}
