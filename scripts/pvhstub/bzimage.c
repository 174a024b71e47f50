// SPDX-License-Identifier: MIT
/*
 * Parse and validate a bzImage (Linux Documentation/arch/x86/boot.rst).
 * Every offset is checked against the file size before it is read.
 * bzimage_parse() takes any well-formed image, so that inspect can describe
 * it; bzimage_check_wrap() says whether the stub can boot it.
 */
#include <stdio.h>
#include <string.h>
#include "tool.h"

#define FULL_PROTOCOL	0x020a	/* 2.10: init_size and pref_address. */
#define MIN_PROTOCOL	0x0205	/* 2.05: relocatable_kernel and kernel_alignment. */
/*
 * Before 2.10 a relocatable kernel is loaded at 1 MiB, as every loader of
 * the time did, and decompresses at align_up(1 MiB, kernel_alignment).  How
 * much room it takes from there is not in the header (init_size came with
 * 2.10): we reserve OLD_WINDOW_FACTOR times its protected-mode code plus
 * OLD_WINDOW_EXTRA, a margin that covers gzip, bzip2 and lzma kernels of
 * that era with their bss, and say so at wrap time.
 */
#define OLD_LOAD_ADDR		0x100000
#define OLD_WINDOW_FACTOR	8
#define OLD_WINDOW_EXTRA	(16u << 20)

static uint16_t get16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

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

int bzimage_has_hdrs(struct blob f)
{
	return f.size >= BZ_HEADER_OFF + 4 && get32(f.data + BZ_HEADER_OFF) == BZ_HDRS_MAGIC;
}

int linux_version(const char *v)
{
	const char *open_paren = strstr(v, " ("), *at, *close;

	if (!(v[0] >= '0' && v[0] <= '9') || !strchr(v, '.') || !open_paren)
		return 0;
	at = strchr(open_paren, '@');
	close = at ? strstr(at, ") #") : NULL;
	return close != NULL;
}

static void read_version(struct blob f, struct kernel_image *k)
{
	uint16_t off = ((const struct setup_header *)k->hdr_buf)->kernel_version;
	size_t at = (size_t)off + 0x200, n = 0;

	k->version[0] = '\0';
	if (!off || at >= f.size)
		return;
	while (at + n < f.size && f.data[at + n] >= 0x20 && f.data[at + n] < 0x7f &&
	       n + 1 < sizeof(k->version))
		n++;
	memcpy(k->version, f.data + at, n);
	k->version[n] = '\0';
	k->is_linux = linux_version(k->version);
}

/*
 * Fields a header of an older protocol does not have: their bytes may be
 * anything (iPXE's 2.07 header runs on into other data), so they read as 0.
 */
static void clear_newer_fields(struct kernel_image *k)
{
#define FIELD(name) offsetof(struct setup_header, name), sizeof(((struct setup_header *)0)->name)
	static const struct { uint16_t protocol; size_t off, size; } added[] = {
		{ 0x0203, FIELD(initrd_addr_max) },
		{ 0x0205, FIELD(kernel_alignment) }, { 0x0205, FIELD(relocatable_kernel) },
		{ 0x0206, FIELD(cmdline_size) },
		{ 0x0207, FIELD(hardware_subarch) }, { 0x0207, FIELD(hardware_subarch_data) },
		{ 0x0208, FIELD(payload_offset) }, { 0x0208, FIELD(payload_length) },
		{ 0x0209, FIELD(setup_data) },
		{ 0x020a, FIELD(min_alignment) }, { 0x020a, FIELD(pref_address) },
		{ 0x020a, FIELD(init_size) },
		{ 0x020b, FIELD(handover_offset) }, { 0x020c, FIELD(xloadflags) },
		{ 0x020f, FIELD(kernel_info_offset) },
	};
#undef FIELD

	for (size_t i = 0; i < sizeof(added) / sizeof(added[0]); i++)
		if (k->protocol < added[i].protocol)
			memset(k->hdr_buf + added[i].off, 0, added[i].size);
}

/*
 * "HdrS", the header's own length and the protocol version; the header is
 * copied into k->hdr_buf, zero past its end, so that a field an older
 * protocol lacks reads as 0.
 */
static int read_header(struct blob f, struct kernel_image *k, char *err, size_t errsz)
{
	uint32_t hdr_end;

	if (!bzimage_has_hdrs(f)) {
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
	/* From 2.10 on, the header holds init_size and pref_address at least. */
	if (hdr_end > BZ_HDR_MAX_END || (k->protocol >= 0x020a && hdr_end < HDR(handover_offset))) {
		snprintf(err, errsz, "setup header ends at 0x%x: outside [0x%zx, 0x%x]",
			 hdr_end, k->protocol >= 0x020a ? HDR(handover_offset) : HDR(version) + 2,
			 BZ_HDR_MAX_END);
		return -1;
	}
	k->setup_hdr_len = hdr_end - BZ_SETUP_SECTS_OFF;
	memcpy(k->hdr_buf, f.data + BZ_SETUP_SECTS_OFF, k->setup_hdr_len);
	k->setup_hdr = k->hdr_buf;
	clear_newer_fields(k);
	return 0;
}

/*
 * The protected-mode code after the setup sectors, and the payload in it.
 * syssize counts 16-byte units, so it may round up to 15 bytes past the end
 * of the file: native loaders load what the file holds, and so do we.
 */
static int read_code(struct blob f, struct kernel_image *k, char *err, size_t errsz)
{
	const struct setup_header *h = (const void *)k->hdr_buf;
	uint32_t setup_sects = h->setup_sects ? h->setup_sects : 4;
	uint64_t pm_off = (uint64_t)(setup_sects + 1) * 512, pm_size, avail;

	if (pm_off >= f.size) {
		snprintf(err, errsz, "setup_sects %u puts the protected-mode code at 0x%llx, past the end of the %zu-byte file",
			 setup_sects, (unsigned long long)pm_off, f.size);
		return -1;
	}
	pm_size = (uint64_t)h->syssize * 16;
	avail = f.size - pm_off;
	if (pm_size > avail && pm_size - avail < 16)
		pm_size = avail;
	if (!pm_size || pm_size > avail) {
		snprintf(err, errsz, "truncated: syssize says %llu bytes of protected-mode code at 0x%llx, the file has %llu",
			 (unsigned long long)pm_size, (unsigned long long)pm_off, (unsigned long long)avail);
		return -1;
	}
	k->pm = (struct blob){ f.data + pm_off, pm_size };
	if (h->payload_offset > pm_size || h->payload_length > pm_size - h->payload_offset) {
		snprintf(err, errsz, "payload_offset 0x%x + payload_length 0x%x lie outside the %llu-byte protected-mode code",
			 h->payload_offset, h->payload_length, (unsigned long long)pm_size);
		return -1;
	}
	k->payload = (struct blob){ k->pm.data + h->payload_offset, h->payload_length };
	return 0;
}

/* kernel_alignment, init_size, pref_address: where it may run (2.10 and later). */
static int read_placement(struct kernel_image *k, char *err, size_t errsz)
{
	const struct setup_header *h = (const void *)k->hdr_buf;

	k->kernel_alignment = h->kernel_alignment;
	k->init_size = h->init_size;
	k->pref_address = h->pref_address;
	k->xloadflags = h->xloadflags;
	k->relocatable = h->relocatable_kernel != 0;
	if (k->protocol < FULL_PROTOCOL) {
		uint64_t out, size;

		/* The window, derived (above); bzimage_check_wrap refuses what it cannot cover. */
		if (k->protocol < MIN_PROTOCOL || !k->relocatable || k->kernel_alignment < 4096 ||
		    (k->kernel_alignment & (k->kernel_alignment - 1)))
			return 0;
		out = align_up(OLD_LOAD_ADDR, k->kernel_alignment);
		size = out - OLD_LOAD_ADDR + (uint64_t)OLD_WINDOW_FACTOR * k->pm.size + OLD_WINDOW_EXTRA;
		if (size > UINT32_MAX)
			return 0;
		k->derived_window = 1;
		k->pref_address = OLD_LOAD_ADDR;
		k->init_size = (uint32_t)size;
		return 0;
	}
	if (k->kernel_alignment < 4096 || (k->kernel_alignment & (k->kernel_alignment - 1))) {
		snprintf(err, errsz, "kernel_alignment 0x%x is not a power of two of at least 4 KiB",
			 k->kernel_alignment);
		return -1;
	}
	if (k->init_size < k->pm.size) {
		snprintf(err, errsz, "init_size 0x%x is smaller than the protected-mode code (0x%zx bytes)",
			 k->init_size, k->pm.size);
		return -1;
	}
	return 0;
}

int bzimage_parse(struct blob f, struct kernel_image *k, char *err, size_t errsz)
{
	memset(k, 0, sizeof(*k));
	if (read_header(f, k, err, errsz) || read_code(f, k, err, errsz) ||
	    read_placement(k, err, errsz))
		return -1;
	read_version(f, k);
	return 0;
}

int bzimage_check_wrap(const struct kernel_image *k, char *err, size_t errsz)
{
	const struct setup_header *h = (const void *)k->hdr_buf;
	unsigned int major = k->protocol >> 8, minor = k->protocol & 0xff;

	if (!h->code32_start) {
		snprintf(err, errsz, "code32_start is 0: the image has no 32-bit entry. It is a real-mode program (iPXE's .lkrn is one) that needs the 16-bit boot protocol and a BIOS (GRUB's linux16, or QEMU -kernel without the stub); a PVH loader enters in 32-bit protected mode");
		return -1;
	}
	if (k->protocol < MIN_PROTOCOL) {
		snprintf(err, errsz,
			 "boot protocol %u.%02u is too old: pvhstub needs 2.05 or later (a relocatable kernel), or 2.10 for init_size and pref_address",
			 major, minor);
		return -1;
	}
	if (!(h->loadflags & LOADED_HIGH)) {
		snprintf(err, errsz, "a zImage (loadflags.LOADED_HIGH clear): only bzImage kernels are supported");
		return -1;
	}
	if (k->protocol < FULL_PROTOCOL && !k->derived_window) {
		snprintf(err, errsz,
			 "boot protocol %u.%02u has no pref_address or init_size, and this kernel is %s: where it decompresses is not in its header",
			 major, minor, k->relocatable ? "relocatable but its kernel_alignment is bad" :
			 "not relocatable (it decompresses to its CONFIG_PHYSICAL_START)");
		return -1;
	}
	return 0;
}
