// SPDX-License-Identifier: MIT
/*
 * The stub inside an image.  The linked stub (ELF32) has one PT_LOAD that
 * opens with its info block and closes with its notes; a wrapped image
 * (ELF64, or ELF32) opens its first PT_LOAD with the info block, filled in.
 */
#include <stdio.h>
#include <string.h>
#include "tool.h"

static const struct elf_kind stub_kind = { ELFCLASS32, EM_386, "the ELF32 i386 stub the build makes" };

/* The stub's one PT_LOAD and its PT_NOTE; -1 if the file has another shape. */
static int stub_segments(const struct elf_file *e, struct stub_image *s)
{
	GElf_Phdr ph;
	int loads = 0;

	for (size_t i = 0; !elf_file_phdr(e, i, &ph); i++) {
		const uint8_t *bytes = elf_file_bytes(e, ph.p_offset, ph.p_filesz);

		if (!bytes)
			return -1;
		if (ph.p_type == PT_LOAD) {
			loads++;
			s->base = ph.p_paddr;
			s->filesz = ph.p_filesz;
			s->memsz = ph.p_memsz;
			s->data = bytes;
		} else if (ph.p_type == PT_NOTE) {
			s->note_addr = ph.p_paddr;
			s->note_size = ph.p_filesz;
		}
	}
	return loads == 1 ? 0 : -1;
}

/* One relocation of the stub: an absolute one is recorded, a relative one needs nothing. */
static int add_reloc(void *arg, uint64_t site, uint32_t type, uint32_t sym_shndx)
{
	struct stub_image *s = arg;

	if (type == R_386_PC32 || type == R_386_PLT32)
		return sym_shndx == SHN_ABS;	/* Relative to an absolute symbol: it would move. */
	if (type != R_386_32)
		return -1;
	if (sym_shndx == SHN_ABS)
		return 0;			/* A constant, not an address. */
	if (sym_shndx == SHN_UNDEF)
		return -1;
	if (site < s->base || s->filesz < 4 || site - s->base > s->filesz - 4 ||
	    s->nreloc == STUB_MAX_RELOCS)
		return -1;
	s->reloc[s->nreloc++] = (uint32_t)(site - s->base);
	return 0;
}

int stub_parse(struct blob f, struct stub_image *s, char *err, size_t errsz)
{
	const struct pvhstub_info *info;
	struct elf_file e;
	int bad;

	memset(s, 0, sizeof(*s));
	if (elf_file_open(f, &stub_kind, &e, err, errsz))
		return -1;
	bad = stub_segments(&e, s);
	s->entry = e.eh.e_entry;
	if (!bad && elf_file_relocs(&e, add_reloc, s)) {
		elf_file_close(&e);
		snprintf(err, errsz, "the stub's relocations are not the R_386_32/R_386_PC32 ones the build makes");
		return -1;
	}
	elf_file_close(&e);
	if (bad) {
		snprintf(err, errsz, "the stub is not the ELF32 i386 image the build makes");
		return -1;
	}
	/* The notes close the file image, so the wrap can append its own. */
	if (!s->note_size || s->filesz < sizeof(struct pvhstub_info) || s->note_addr < s->base ||
	    s->note_addr - s->base > s->filesz || s->note_size != s->filesz - (s->note_addr - s->base)) {
		snprintf(err, errsz, "the stub must have one PT_LOAD holding the info block, then the notes");
		return -1;
	}
	info = (const struct pvhstub_info *)s->data;
	if (info->magic) {
		snprintf(err, errsz, "the stub is already wrapped");
		return -1;
	}
	s->default_handoff = info->flags & PI_HANDOFF_64 ? PI_HANDOFF_64 : PI_HANDOFF_32;
	return 0;
}

/* The info block at the start of the first PT_LOAD, if it is there. */
static int find_info(const struct elf_file *e, struct pvhstub_info *info)
{
	GElf_Phdr ph;

	for (size_t i = 0; !elf_file_phdr(e, i, &ph); i++) {
		const uint8_t *bytes = elf_file_bytes(e, ph.p_offset, PVHSTUB_INFO_V1_SIZE);

		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz < PVHSTUB_INFO_V1_SIZE || !bytes)
			return -1;
		/* Version 1 (pvhstub 0.1) lacks the KASLR fields: they read as 0. */
		memset(info, 0, sizeof(*info));
		memcpy(info, bytes, PVHSTUB_INFO_V1_SIZE);
		if (info->magic != PVHSTUB_INFO_MAGIC || !info->version ||
		    info->version > PVHSTUB_INFO_VERSION)
			return -1;
		if (info->version >= 2) {
			bytes = elf_file_bytes(e, ph.p_offset, sizeof(*info));
			if (ph.p_filesz < sizeof(*info) || !bytes)
				return -1;
			memcpy(info, bytes, sizeof(*info));
		}
		/* Before version 4 the image carries no initrd or command line of its own. */
		if (info->version < 4)
			memset(&info->initrd_addr, 0, sizeof(*info) - offsetof(struct pvhstub_info, initrd_addr));
		return 0;
	}
	return -1;
}

/* A PT_LOAD whose bytes leave the file, or the number of program headers. */
static size_t bad_segment(const struct elf_file *e)
{
	GElf_Phdr ph;
	size_t i;

	for (i = 0; !elf_file_phdr(e, i, &ph); i++)
		if (ph.p_type == PT_LOAD &&
		    (ph.p_filesz > ph.p_memsz || !elf_file_bytes(e, ph.p_offset, ph.p_filesz)))
			break;
	return i;
}

int wrapped_info(struct blob img, struct pvhstub_info *info, char *err, size_t errsz)
{
	struct elf_file e;
	size_t bad;
	int rc;

	if (elf_file_open(img, NULL, &e, err, errsz)) {
		snprintf(err, errsz, "not an image made by pvhstub wrap (not ELF)");
		return -1;
	}
	/* ELF64 x86-64, or ELF32 i386 for a 32-bit kernel (or --elf32). */
	if (!elf_file_x86(&e)) {
		elf_file_close(&e);
		snprintf(err, errsz, "not an image made by pvhstub wrap (neither ELF64 x86-64 nor ELF32 i386)");
		return -1;
	}
	rc = find_info(&e, info);
	bad = bad_segment(&e);
	if (rc)
		snprintf(err, errsz, "not an image made by pvhstub wrap (no pvhstub info block)");
	else if (bad < e.phnum) {
		snprintf(err, errsz, "a corrupt image: its PT_LOAD %zu lies outside the file", bad);
		rc = -1;
	}
	elf_file_close(&e);
	return rc;
}
