// SPDX-License-Identifier: MIT
/*
 * Read the linked stub (ELF32), place the payload, and write the PVH image:
 * an ELF64 with e_flags 0, the stub's PT_LOAD at 1 MiB, the payload's PT_LOAD
 * whose memsz reserves the whole decompression window, and one PT_NOTE with
 * the stub's Xen notes and, when the kernel has one, a note with its version
 * string.  The output depends only on its inputs.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"

#define PAGE		0x1000ULL
#define FOUR_GIB	0x100000000ULL
#define MULTIBOOT_SCAN	8192

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int stub_parse(struct blob f, struct stub_image *s, char *err, size_t errsz)
{
	const Elf32_Ehdr *eh = (const void *)f.data;
	int loads = 0;

	memset(s, 0, sizeof(*s));
	if (f.size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS32 || eh->e_machine != EM_386 ||
	    eh->e_phentsize != sizeof(Elf32_Phdr) ||
	    (uint64_t)eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr) > f.size) {
		snprintf(err, errsz, "the stub is not the ELF32 i386 image the build makes");
		return -1;
	}
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf32_Phdr phdr;
		const Elf32_Phdr *ph = &phdr;

		/* Program headers may be unaligned in the file: copy each one. */
		memcpy(&phdr, f.data + eh->e_phoff + i * sizeof(phdr), sizeof(phdr));

		if ((uint64_t)ph->p_offset + ph->p_filesz > f.size) {
			snprintf(err, errsz, "stub segment %u lies past the end of the file", i);
			return -1;
		}
		if (ph->p_type == PT_LOAD) {
			loads++;
			s->base = ph->p_paddr;
			s->filesz = ph->p_filesz;
			s->memsz = ph->p_memsz;
			s->data = f.data + ph->p_offset;
		} else if (ph->p_type == PT_NOTE) {
			s->note_addr = ph->p_paddr;
			s->note_size = ph->p_filesz;
		}
	}
	/* The notes close the file image, so the wrap can append its own. */
	if (loads != 1 || !s->note_size || s->filesz < sizeof(struct pvhstub_info) ||
	    s->note_addr < s->base || s->note_addr + s->note_size != s->base + s->filesz) {
		snprintf(err, errsz, "the stub must have one PT_LOAD holding the info block, then the notes");
		return -1;
	}
	if (((const struct pvhstub_info *)s->data)->magic) {
		snprintf(err, errsz, "the stub is already wrapped");
		return -1;
	}
	s->default_handoff = ((const struct pvhstub_info *)s->data)->flags & PI_HANDOFF_64 ?
			     PI_HANDOFF_64 : PI_HANDOFF_32;
	s->entry = eh->e_entry;
	return 0;
}

int wrap_plan(const struct stub_image *s, const struct kernel_image *k, int handoff,
	      struct wrap_plan *p, char *err, size_t errsz)
{
	uint64_t stub_end = s->base + s->memsz;

	p->handoff = handoff == 64 ? PI_HANDOFF_64 : handoff == 32 ? PI_HANDOFF_32 : s->default_handoff;
	if (k->vmlinux) {
		/* A vmlinux runs where it is linked: its footprint is the window. */
		if (handoff == 32) {
			snprintf(err, errsz, "a vmlinux has no 32-bit entry: use --handoff 64");
			return -1;
		}
		p->handoff = PI_HANDOFF_64;
		p->payload_addr = ~0ULL;
		p->window_end = 0;
		for (unsigned int i = 0; i < k->nseg; i++) {
			if (k->seg[i].paddr < p->payload_addr)
				p->payload_addr = k->seg[i].paddr;
			if (k->seg[i].paddr + k->seg[i].memsz > p->window_end)
				p->window_end = k->seg[i].paddr + k->seg[i].memsz;
		}
		if (p->payload_addr < stub_end && s->base < p->window_end) {
			snprintf(err, errsz, "the vmlinux at [0x%llx, 0x%llx) overlaps the stub at [0x%llx, 0x%llx)",
				 (unsigned long long)p->payload_addr, (unsigned long long)p->window_end,
				 (unsigned long long)s->base, (unsigned long long)stub_end);
			return -1;
		}
		p->entry = k->entry64;
		return 0;
	}

	/* The decompressor runs at max(align_up(load, kernel_alignment), pref_address):
	 * load the code there and it runs in place. */
	p->payload_addr = align_up(k->pref_address > stub_end ? k->pref_address : stub_end,
				   k->kernel_alignment);
	p->window_end = p->payload_addr + (k->init_size > k->pm.size ? k->init_size : k->pm.size);
	if (p->window_end > FOUR_GIB) {
		snprintf(err, errsz, "the decompression window [0x%llx, 0x%llx) does not fit below 4 GiB",
			 (unsigned long long)p->payload_addr, (unsigned long long)p->window_end);
		return -1;
	}
	if (p->handoff == PI_HANDOFF_64 && !(k->xloadflags & XLF_KERNEL_64)) {
		snprintf(err, errsz, "the 64-bit handoff needs a kernel with a 64-bit entry (XLF_KERNEL_64); this one has xloadflags 0x%x: use --handoff 32",
			 k->xloadflags);
		return -1;
	}
	/* The 64-bit entry is 0x200 past the 32-bit one (boot.rst). */
	p->entry = p->payload_addr + (p->handoff == PI_HANDOFF_64 ? 0x200 : 0);
	return 0;
}

/* Find the info block: the first PT_LOAD of a wrapped image opens with it. */
int wrapped_info(struct blob img, struct pvhstub_info *info, char *err, size_t errsz)
{
	const Elf64_Ehdr *eh = (const void *)img.data;

	if (img.size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > img.size) {
		snprintf(err, errsz, "not an image made by pvhstub wrap (not ELF64)");
		return -1;
	}
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr phdr;
		const Elf64_Phdr *ph = &phdr;

		/* Program headers may be unaligned in the file: copy each one. */
		memcpy(&phdr, img.data + eh->e_phoff + i * sizeof(phdr), sizeof(phdr));

		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_filesz < sizeof(*info) || ph->p_offset + sizeof(*info) > img.size)
			break;
		memcpy(info, img.data + ph->p_offset, sizeof(*info));
		if (info->magic != PVHSTUB_INFO_MAGIC || info->version != PVHSTUB_INFO_VERSION)
			break;
		return 0;
	}
	snprintf(err, errsz, "not an image made by pvhstub wrap (no pvhstub info block)");
	return -1;
}

/* QEMU picks another loader if it sees these; the image must not hold them. */
static int check_foreign_magic(const uint8_t *img, size_t size, char *err, size_t errsz)
{
	if (size >= BZ_HEADER_OFF + 4 && !memcmp(img + BZ_HEADER_OFF, "HdrS", 4)) {
		snprintf(err, errsz, "internal error: the image has 'HdrS' at 0x202");
		return -1;
	}
	for (size_t off = 0; off + 4 <= size && off < MULTIBOOT_SCAN; off += 4) {
		uint32_t v;

		memcpy(&v, img + off, 4);
		if (v == 0x1badb002 || v == 0xe85250d6) {
			snprintf(err, errsz, "internal error: multiboot magic at 0x%zx", off);
			return -1;
		}
	}
	return 0;
}

int elf_build(const struct stub_image *s, const struct kernel_image *k,
	      const struct wrap_plan *p, uint8_t **out, size_t *outsz, char *err, size_t errsz)
{
	struct segment segs[MAX_SEGMENTS];
	uint64_t offs[MAX_SEGMENTS], payload_size = 0;
	unsigned int nseg = 0, nph;
	const uint64_t stub_off = PAGE;
	uint64_t size, vlen, vnote;
	struct pvhstub_info *info;
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph;
	uint8_t *img;

	if (k->vmlinux) {
		nseg = k->nseg;
		memcpy(segs, k->seg, nseg * sizeof(segs[0]));
	} else {
		/* One segment: the code, with memsz reserving the whole window. */
		segs[0] = (struct segment){ p->payload_addr, k->pm.size,
					    p->window_end - p->payload_addr, k->pm.data };
		nseg = 1;
	}
	/* The version note follows the stub's notes in the file: not loaded. */
	vlen = strnlen(k->version, sizeof(k->version) - 1);
	vnote = vlen ? 12 + sizeof(PVHSTUB_NOTE_NAME) + align_up(vlen + 1, 4) : 0;
	_Static_assert(sizeof(PVHSTUB_NOTE_NAME) % 4 == 0, "the note name needs no padding");

	/* Each segment's file offset is congruent to its address, modulo a page. */
	size = stub_off + s->filesz + vnote;
	for (unsigned int i = 0; i < nseg; i++) {
		size = align_up(size, PAGE) + (segs[i].paddr & (PAGE - 1));
		offs[i] = size;
		size += segs[i].filesz;
		payload_size += segs[i].filesz;
	}
	nph = nseg + 2;
	if (sizeof(*eh) + nph * sizeof(*ph) > stub_off) {
		snprintf(err, errsz, "internal error: too many program headers");
		return -1;
	}

	img = calloc(1, size);
	if (!img) {
		snprintf(err, errsz, "out of memory for a %llu-byte image", (unsigned long long)size);
		return -1;
	}
	eh = (Elf64_Ehdr *)img;
	ph = (Elf64_Phdr *)(img + sizeof(*eh));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = s->entry;
	eh->e_phoff = sizeof(*eh);
	eh->e_flags = 0;
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = nph;

	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
		.p_offset = stub_off, .p_vaddr = s->base, .p_paddr = s->base,
		.p_filesz = s->filesz, .p_memsz = s->memsz, .p_align = PAGE };
	memcpy(img + stub_off, s->data, s->filesz);
	for (unsigned int i = 0; i < nseg; i++) {
		ph[1 + i] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
			.p_offset = offs[i], .p_vaddr = segs[i].paddr, .p_paddr = segs[i].paddr,
			.p_filesz = segs[i].filesz, .p_memsz = segs[i].memsz, .p_align = PAGE };
		memcpy(img + offs[i], segs[i].data, segs[i].filesz);
	}
	ph[nph - 1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_flags = PF_R,
		.p_offset = stub_off + (s->note_addr - s->base), .p_vaddr = s->note_addr,
		.p_paddr = s->note_addr, .p_filesz = s->note_size + vnote,
		.p_memsz = s->note_size + vnote, .p_align = 4 };
	if (vnote) {
		uint8_t *n = img + stub_off + s->filesz;
		uint32_t hdr[3] = { sizeof(PVHSTUB_NOTE_NAME), (uint32_t)(vlen + 1), PVHSTUB_NOTE_VERSION };

		memcpy(n, hdr, sizeof(hdr));
		memcpy(n + 12, PVHSTUB_NOTE_NAME, sizeof(PVHSTUB_NOTE_NAME));
		memcpy(n + 12 + sizeof(PVHSTUB_NOTE_NAME), k->version, vlen);
	}

	/* Tell the stub what it carries. */
	info = (struct pvhstub_info *)(img + stub_off);
	info->magic = PVHSTUB_INFO_MAGIC;
	info->version = PVHSTUB_INFO_VERSION;
	info->flags = p->handoff;
	info->setup_hdr_len = k->setup_hdr_len;
	info->payload_addr = p->payload_addr;
	info->payload_size = payload_size;
	info->window_start = p->payload_addr;
	info->window_end = p->window_end;
	info->entry = p->entry;
	memcpy(info->setup_hdr, k->setup_hdr, k->setup_hdr_len);

	if (check_foreign_magic(img, size, err, errsz)) {
		free(img);
		return -1;
	}
	*out = img;
	*outsz = size;
	return 0;
}
