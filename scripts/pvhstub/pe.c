// SPDX-License-Identifier: MIT
/*
 * A PE/COFF file's section table, read with every offset and size checked
 * against the file, and a Unified Kernel Image's parts taken from it as
 * the UAPI group's UKI specification says and systemd-stub does:
 *
 * - A section's bytes are [PointerToRawData, + min(SizeOfRawData,
 *   VirtualSize)): SizeOfRawData is rounded up to FileAlignment.
 * - Of two sections with one name, the first counts.
 * - Sections before the first .profile are every profile's; those after
 *   the Nth .profile and before the next one are profile N's, and replace
 *   the shared ones of the same name.  Without .profile sections there is
 *   one profile, 0.
 * - The initrd is .ucode, then .initrd.
 *
 * The layout is the PE format specification's (Microsoft, "PE Format"):
 * the DOS header's e_lfanew at 0x3c, "PE\0\0", the COFF header, the
 * optional header (PE32 or PE32+) with its data directories, then the
 * section table.
 */
#include <stdio.h>
#include <string.h>
#include "tool.h"

#define DOS_LFANEW		0x3c
#define COFF_SIZE		20		/* After the signature. */
#define SECTION_SIZE		40
#define OPT_PE32		0x10b
#define OPT_PE32PLUS		0x20b
#define DIR_SECURITY		4		/* The certificate table: a signature. */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* [off, off + len) inside the file. */
static int inside(struct blob f, uint64_t off, uint64_t len)
{
	return off <= f.size && len <= f.size - off;
}

int pe_is(struct blob f)
{
	uint32_t at;

	if (f.size < DOS_LFANEW + 4 || memcmp(f.data, "MZ", 2))
		return 0;
	at = get32(f.data + DOS_LFANEW);
	return inside(f, at, 4) && !memcmp(f.data + at, "PE\0\0", 4);
}

int uki_candidate(struct blob f)
{
	return pe_is(f) && !bzimage_has_hdrs(f);
}

/* The optional header: its kind and whether a signature is attached. */
static int optional_header(struct blob f, uint64_t at, uint32_t size, struct pe_file *pe,
			   char *err, size_t errsz)
{
	uint32_t ndirs_off, dirs_off, ndirs;
	uint16_t magic;

	if (size < 2) {
		snprintf(err, errsz, "a PE file without an optional header: not an EFI program");
		return -1;
	}
	magic = get16(f.data + at);
	if (magic != OPT_PE32 && magic != OPT_PE32PLUS) {
		snprintf(err, errsz, "a PE file whose optional header has magic 0x%x, neither PE32 (0x10b) nor PE32+ (0x20b)",
			 magic);
		return -1;
	}
	ndirs_off = magic == OPT_PE32PLUS ? 108 : 92;
	dirs_off = ndirs_off + 4;
	if (size < dirs_off)
		return 0;
	ndirs = get32(f.data + at + ndirs_off);
	if (ndirs > DIR_SECURITY && size >= dirs_off + (DIR_SECURITY + 1) * 8)
		pe->signed_size = get32(f.data + at + dirs_off + DIR_SECURITY * 8 + 4);
	return 0;
}

/* Section i's bytes, checked: inside the file, and overlapping no other's. */
static int section_bytes(struct blob f, struct pe_file *pe, unsigned int i, char *err, size_t errsz)
{
	struct pe_section *s = &pe->sec[i];

	if (!inside(f, s->offset, s->size)) {
		snprintf(err, errsz, "section %s [0x%llx, +0x%x) lies past the end of the file (0x%zx bytes): the file is cut short or corrupt",
			 s->name, (unsigned long long)s->offset, s->size, f.size);
		return -1;
	}
	for (unsigned int j = 0; j < i && s->size; j++) {
		const struct pe_section *o = &pe->sec[j];

		if (o->size && s->offset < o->offset + o->size && o->offset < s->offset + s->size) {
			snprintf(err, errsz, "sections %s [0x%llx, +0x%x) and %s [0x%llx, +0x%x) overlap in the file",
				 o->name, (unsigned long long)o->offset, o->size, s->name,
				 (unsigned long long)s->offset, s->size);
			return -1;
		}
	}
	return 0;
}

int pe_parse(struct blob f, struct pe_file *pe, char *err, size_t errsz)
{
	uint64_t at, table;
	uint32_t optsize;

	memset(pe, 0, sizeof(*pe));
	if (!pe_is(f)) {
		snprintf(err, errsz, "not a PE file: no 'MZ' and 'PE' signatures");
		return -1;
	}
	at = get32(f.data + DOS_LFANEW) + 4ULL;
	if (!inside(f, at, COFF_SIZE)) {
		snprintf(err, errsz, "a PE file cut short in its COFF header (0x%zx bytes)", f.size);
		return -1;
	}
	pe->machine = get16(f.data + at);
	pe->nsec = get16(f.data + at + 2);
	optsize = get16(f.data + at + 16);
	if (!pe->nsec || pe->nsec > PE_MAX_SECTIONS) {
		snprintf(err, errsz, "a PE file with %u sections (1 to %u are taken)", pe->nsec, PE_MAX_SECTIONS);
		return -1;
	}
	at += COFF_SIZE;
	table = at + optsize;
	if (!inside(f, at, optsize) || !inside(f, table, (uint64_t)pe->nsec * SECTION_SIZE)) {
		snprintf(err, errsz, "a PE file cut short in its headers: %u sections at 0x%llx, but the file has 0x%zx bytes",
			 pe->nsec, (unsigned long long)table, f.size);
		return -1;
	}
	if (optional_header(f, at, optsize, pe, err, errsz))
		return -1;
	for (unsigned int i = 0; i < pe->nsec; i++) {
		const uint8_t *h = f.data + table + (uint64_t)i * SECTION_SIZE;
		struct pe_section *s = &pe->sec[i];
		uint32_t vsize = get32(h + 8), rawsize = get32(h + 16);

		for (int c = 0; c < 8 && h[c]; c++)
			s->name[c] = (h[c] >= 0x20 && h[c] < 0x7f) ? (char)h[c] : '?';
		s->offset = get32(h + 20);
		s->size = rawsize < vsize ? rawsize : vsize;
		if (section_bytes(f, pe, i, err, errsz))
			return -1;
	}
	return 0;
}

/* The profile's section of that name, or the shared one; NULL if neither. */
static const struct pe_section *uki_section(const struct pe_file *pe, int first, int end, const char *name)
{
	for (int pass = 0; pass < 2; pass++) {
		int from = pass ? 0 : first, to = pass ? (int)pe->nsec : end;

		for (int i = from; i < to; i++) {
			if (pass && !strcmp(pe->sec[i].name, ".profile"))
				break;		/* The shared ones end at the first .profile. */
			if (!strcmp(pe->sec[i].name, name))
				return &pe->sec[i];
		}
	}
	return NULL;
}

/* Profile n's sections: [*first, *end) of the table (empty for a UKI without profiles). */
static int profile_range(const struct pe_file *pe, int n, int *first, int *end)
{
	int seen = -1;

	*first = *end = 0;
	for (int i = 0; i < (int)pe->nsec; i++)
		if (!strcmp(pe->sec[i].name, ".profile")) {
			if (++seen == n)
				*first = i;
			else if (seen == n + 1) {
				*end = i;
				return 0;
			}
		}
	if (seen >= n)
		*end = pe->nsec;
	return seen >= n || (seen < 0 && n == 0) ? 0 : -1;
}

unsigned int uki_profiles(const struct pe_file *pe)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < pe->nsec; i++)
		n += !strcmp(pe->sec[i].name, ".profile");
	return n;
}

int uki_parse(struct blob f, int profile, struct uki *u, char *err, size_t errsz)
{
	static const char *const names[UKI_PARTS] = { ".linux", ".ucode", ".initrd", ".cmdline", ".osrel",
						      ".uname", ".profile" };
	int first, end;

	memset(u, 0, sizeof(*u));
	if (pe_parse(f, &u->pe, err, errsz))
		return -1;
	u->nprofiles = uki_profiles(&u->pe);
	u->profile = profile;
	if (profile_range(&u->pe, profile, &first, &end)) {
		if (u->nprofiles)
			snprintf(err, errsz, "the UKI has profiles 0 to %u; there is no profile %d",
				 u->nprofiles - 1, profile);
		else
			snprintf(err, errsz, "the UKI has no .profile sections, so only profile 0; there is no profile %d",
				 profile);
		return -1;
	}
	for (int i = 0; i < UKI_PARTS; i++) {
		const struct pe_section *s = uki_section(&u->pe, first, end, names[i]);

		if (s)
			u->part[i] = (struct blob){ f.data + s->offset, s->size };
	}
	if (!u->part[UKI_LINUX].size) {
		snprintf(err, errsz, "a PE file without a .linux section%s: not a Unified Kernel Image, and no bzImage (no 'HdrS' at 0x202)",
			 u->nprofiles ? " in this profile" : "");
		return -1;
	}
	return 0;
}
