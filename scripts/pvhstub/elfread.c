// SPDX-License-Identifier: MIT
/*
 * The one ELF reader of the host tool: every ELF it reads (a vmlinux, a
 * wrapped image, the stub) goes through here.  Headers, program headers and
 * notes come from elfutils' libelf, which is fuzzed upstream; the one check
 * of our own (a range of file bytes) uses the subtraction form, which
 * cannot wrap.
 */
#include <stdio.h>
#include <string.h>
#include "tool.h"

/* Class and machine first: what the caller wants decides the message. */
static int check_kind(struct blob f, const struct elf_kind *want, char *err, size_t errsz)
{
	uint16_t machine = 0;

	if (f.size < EI_NIDENT || memcmp(f.data, ELFMAG, SELFMAG)) {
		snprintf(err, errsz, "not an ELF file");
		return -1;
	}
	if (!want)
		return 0;
	if (f.size >= 20)
		memcpy(&machine, f.data + 18, 2);	/* e_machine, in either class */
	if (f.size < 20 || f.data[EI_CLASS] != want->class || machine != want->machine) {
		snprintf(err, errsz, "an ELF file, but not %s", want->what);
		return -1;
	}
	return 0;
}

/*
 * libelf quietly counts only the program headers inside the file; a file
 * that claims more is malformed.  (Past PN_XNUM the count comes from
 * section 0, and libelf's count is all there is.)
 */
static int check_phdrs(struct elf_file *e, char *err, size_t errsz)
{
	uint64_t claimed;

	if (elf_getphdrnum(e->elf, &e->phnum))
		e->phnum = SIZE_MAX;
	claimed = e->eh.e_phnum == PN_XNUM ? e->phnum : e->eh.e_phnum;
	if (claimed && (claimed != e->phnum ||
			e->eh.e_phentsize != gelf_fsize(e->elf, ELF_T_PHDR, 1, EV_CURRENT) ||
			!elf_file_bytes(e, e->eh.e_phoff, claimed * e->eh.e_phentsize))) {
		snprintf(err, errsz, "bad program headers: %llu of %u bytes at 0x%llx in a %zu-byte file",
			 (unsigned long long)(claimed == SIZE_MAX ? e->eh.e_phnum : claimed),
			 e->eh.e_phentsize, (unsigned long long)e->eh.e_phoff, e->file.size);
		return -1;
	}
	return 0;
}

int elf_file_open(struct blob f, const struct elf_kind *want, struct elf_file *e,
		  char *err, size_t errsz)
{
	memset(e, 0, sizeof(*e));
	e->file = f;
	if (check_kind(f, want, err, errsz))
		return -1;
	/*
	 * x86 is little-endian.  Refusing the other byte order here also means
	 * libelf never converts anything in place: it only reads the buffer.
	 */
	if (f.data[EI_DATA] != ELFDATA2LSB ||
	    (f.data[EI_CLASS] != ELFCLASS32 && f.data[EI_CLASS] != ELFCLASS64)) {
		snprintf(err, errsz, "an ELF file, but not a little-endian ELF32 or ELF64");
		return -1;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errsz, "libelf: %s", elf_errmsg(-1));
		return -1;
	}
	e->elf = elf_memory((char *)f.data, f.size);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &e->eh)) {
		snprintf(err, errsz, "a malformed ELF header (%s)", elf_errmsg(-1));
		elf_file_close(e);
		return -1;
	}
	e->class = f.data[EI_CLASS];
	if (check_phdrs(e, err, errsz)) {
		elf_file_close(e);
		return -1;
	}
	return 0;
}

void elf_file_close(struct elf_file *e)
{
	elf_end(e->elf);
	e->elf = NULL;
}

int elf_file_phdr(const struct elf_file *e, size_t i, GElf_Phdr *ph)
{
	return i < e->phnum && gelf_getphdr(e->elf, (int)i, ph) ? 0 : -1;
}

const uint8_t *elf_file_bytes(const struct elf_file *e, uint64_t off, uint64_t len)
{
	if (off > e->file.size || len > e->file.size - off)
		return NULL;
	return e->file.data + off;
}

/* The notes of one PT_NOTE; -1 when its bytes lie outside the file. */
static int segment_notes(const struct elf_file *e, const GElf_Phdr *ph, elf_note_fn fn, void *arg)
{
	Elf_Data *d;
	GElf_Nhdr nh;
	size_t at = 0, next, name_off, desc_off;

	if (!ph->p_filesz)
		return 0;
	if (!elf_file_bytes(e, ph->p_offset, ph->p_filesz))
		return -1;
	d = elf_getdata_rawchunk(e->elf, (int64_t)ph->p_offset, ph->p_filesz,
				 ph->p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
	if (!d)
		return -1;
	while ((next = gelf_getnote(d, at, &nh, &name_off, &desc_off)) > 0) {
		const char *base = d->d_buf;
		struct elf_note n = { base + name_off, nh.n_namesz, nh.n_type,
				      (const uint8_t *)base + desc_off, nh.n_descsz };

		if (fn(arg, &n))
			break;
		at = next;
	}
	return 0;
}

int elf_file_notes(const struct elf_file *e, elf_note_fn fn, void *arg)
{
	GElf_Phdr ph;
	int bad = 0;

	for (size_t i = 0; !elf_file_phdr(e, i, &ph); i++)
		if (ph.p_type == PT_NOTE && segment_notes(e, &ph, fn, arg))
			bad++;
	return bad ? -1 : 0;
}

/* The REL entries of one section that applies to a loaded section. */
static int section_relocs(const struct elf_file *e, Elf_Scn *scn, const GElf_Shdr *sh,
			  elf_reloc_fn fn, void *arg)
{
	Elf_Scn *target = elf_getscn(e->elf, sh->sh_info), *symscn = elf_getscn(e->elf, sh->sh_link);
	Elf_Data *rels = elf_getdata(scn, NULL), *syms = symscn ? elf_getdata(symscn, NULL) : NULL;
	GElf_Shdr tsh;

	if (!target || !gelf_getshdr(target, &tsh) || !rels || !syms || !sh->sh_entsize)
		return -1;
	if (!(tsh.sh_flags & SHF_ALLOC))
		return 0;
	for (size_t i = 0; i < sh->sh_size / sh->sh_entsize; i++) {
		GElf_Rel r;
		GElf_Sym sym;

		/* r_offset is an address in a linked file, a section offset in an object. */
		if (!gelf_getrel(rels, (int)i, &r) || !gelf_getsym(syms, (int)GELF_R_SYM(r.r_info), &sym) ||
		    fn(arg, r.r_offset + (e->eh.e_type == ET_REL ? tsh.sh_addr : 0),
		       (uint32_t)GELF_R_TYPE(r.r_info), sym.st_shndx))
			return -1;
	}
	return 0;
}

int elf_file_relocs(const struct elf_file *e, elf_reloc_fn fn, void *arg)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e->elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_REL &&
		    section_relocs(e, scn, &sh, fn, arg))
			return -1;
	return 0;
}

int elf_file_sections(const struct elf_file *e, elf_section_fn fn, void *arg)
{
	Elf_Scn *scn = NULL;
	size_t strndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(e->elf, &strndx))
		return 0;			/* No section names: nothing to say. */
	while ((scn = elf_nextscn(e->elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(e->elf, strndx, sh.sh_name)))
			continue;
		if (fn(arg, name, &sh))
			return -1;
	}
	return 0;
}

int elf_file_x86(const struct elf_file *e)
{
	if (e->class == ELFCLASS64 && e->eh.e_machine == EM_X86_64)
		return 64;
	if (e->class == ELFCLASS32 && e->eh.e_machine == EM_386)
		return 32;
	return 0;
}

int note_is(const struct elf_note *n, const char *name, uint32_t type)
{
	size_t len = strlen(name) + 1;

	return n->type == type && n->namesz == len && !memcmp(n->name, name, len);
}

uint64_t elf_file_extent(const struct elf_file *e)
{
	uint64_t end = e->eh.e_phoff + (uint64_t)e->phnum * e->eh.e_phentsize;
	Elf_Scn *scn = NULL;
	size_t shnum = 0;
	GElf_Phdr ph;
	GElf_Shdr sh;

	if (e->eh.e_ehsize > end)
		end = e->eh.e_ehsize;
	for (size_t i = 0; !elf_file_phdr(e, i, &ph); i++)
		if (ph.p_offset + ph.p_filesz > end)
			end = ph.p_offset + ph.p_filesz;
	if (e->eh.e_shoff && !elf_getshdrnum(e->elf, &shnum) &&
	    e->eh.e_shoff + (uint64_t)shnum * e->eh.e_shentsize > end)
		end = e->eh.e_shoff + (uint64_t)shnum * e->eh.e_shentsize;
	while ((scn = elf_nextscn(e->elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type != SHT_NOBITS &&
		    sh.sh_offset + sh.sh_size > end)
			end = sh.sh_offset + sh.sh_size;
	return end < e->file.size ? end : e->file.size;
}
