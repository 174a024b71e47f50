// SPDX-License-Identifier: MIT
/*
 * Write the PVH image: an ELF64 (or, for i386 kernels, an ELF32) with e_flags 0, the stub's PT_LOAD at 1 MiB, the payload's PT_LOAD
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
#define MULTIBOOT_SCAN	8192
#define STUB_OFF	PAGE		/* The stub's file offset. */

/* QEMU picks another loader if it sees these; the image must not hold them. */
static int check_foreign_magic(const uint8_t *img, size_t size, char *err, size_t errsz)
{
	if (bzimage_has_hdrs((struct blob){ img, size })) {
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

/* The image's layout: each payload segment's file offset, and the size. */
struct layout {
	struct segment seg[MAX_SEGMENTS + 1];	/* The kernel's, and the image's own. */
	uint64_t off[MAX_SEGMENTS + 1];
	unsigned int nseg, nph;
	int elf32;			/* ELF32 (EM_386), else ELF64. */
	uint64_t vlen, vnote;		/* The version string and its note. */
	uint64_t payload_size, size;
};

static void lay_out(const struct stub_image *s, const struct kernel_image *k,
		    const struct wrap_plan *p, int elf32, struct layout *l)
{
	unsigned int nkernel;
	uint64_t at;

	l->elf32 = elf32;
	if (k->vmlinux) {
		l->nseg = k->nseg;
		memcpy(l->seg, k->seg, l->nseg * sizeof(l->seg[0]));
	} else {
		/* One segment: the code, with memsz reserving the whole window. */
		l->seg[0] = (struct segment){ .paddr = p->payload_addr, .filesz = k->pm.size,
					      .memsz = p->window_end - p->payload_addr, .data = k->pm.data };
		l->nseg = 1;
	}
	/* The image's own initrd and command line, last; the payload is the kernel's segments. */
	nkernel = l->nseg;
	if (p->own_size)
		l->seg[l->nseg++] = (struct segment){ .paddr = p->own_addr, .filesz = p->own_size,
						      .memsz = p->own_size, .data = p->own_data };
	/* The version note follows the stub's notes in the file: not loaded. */
	l->vlen = strnlen(k->version, sizeof(k->version) - 1);
	l->vnote = l->vlen ? 12 + sizeof(PVHSTUB_NOTE_NAME) + align_up(l->vlen + 1, 4) : 0;
	_Static_assert(sizeof(PVHSTUB_NOTE_NAME) % 4 == 0, "the note name needs no padding");

	/* Each segment's file offset is congruent to its address, modulo a page. */
	at = STUB_OFF + s->filesz + l->vnote;
	l->payload_size = 0;
	for (unsigned int i = 0; i < l->nseg; i++) {
		at = align_up(at, PAGE) + (l->seg[i].paddr & (PAGE - 1));
		l->off[i] = at;
		at += l->seg[i].filesz;
		if (i < nkernel)
			l->payload_size += l->seg[i].filesz;
	}
	l->size = at;
	l->nph = l->nseg + 2;
}

/* The headers as ELF64; emit_headers() writes them in the image's class. */
static void make_headers(const struct stub_image *s, const struct wrap_plan *p,
			 const struct layout *l, Elf64_Ehdr *eh, Elf64_Phdr *ph)
{
	uint64_t delta = p->stub_base - s->base;	/* Where the stub moved, if it did. */

	*eh = (Elf64_Ehdr){ .e_type = ET_EXEC, .e_machine = l->elf32 ? EM_386 : EM_X86_64,
		.e_version = EV_CURRENT, .e_entry = s->entry + delta, .e_flags = 0, .e_phnum = l->nph };
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = l->elf32 ? ELFCLASS32 : ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;

	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
		.p_offset = STUB_OFF, .p_vaddr = p->stub_base, .p_paddr = p->stub_base,
		.p_filesz = s->filesz, .p_memsz = s->memsz, .p_align = PAGE };
	for (unsigned int i = 0; i < l->nseg; i++)
		ph[1 + i] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
			.p_offset = l->off[i], .p_vaddr = l->seg[i].paddr, .p_paddr = l->seg[i].paddr,
			.p_filesz = l->seg[i].filesz, .p_memsz = l->seg[i].memsz, .p_align = PAGE };
	ph[l->nph - 1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_flags = PF_R,
		.p_offset = STUB_OFF + (s->note_addr - s->base), .p_vaddr = s->note_addr + delta,
		.p_paddr = s->note_addr + delta, .p_filesz = s->note_size + l->vnote,
		.p_memsz = s->note_size + l->vnote, .p_align = 4 };
}

/* ELF64 as it is, or ELF32: every value fits, the image lies below 4 GiB. */
static void emit_headers(uint8_t *img, Elf64_Ehdr *eh, const Elf64_Phdr *ph, int elf32)
{
	if (!elf32) {
		eh->e_ehsize = sizeof(Elf64_Ehdr);
		eh->e_phentsize = sizeof(Elf64_Phdr);
		eh->e_phoff = sizeof(Elf64_Ehdr);
		memcpy(img, eh, sizeof(*eh));
		memcpy(img + sizeof(*eh), ph, eh->e_phnum * sizeof(*ph));
		return;
	}
	Elf32_Ehdr e32 = { .e_type = eh->e_type, .e_machine = eh->e_machine,
		.e_version = eh->e_version, .e_entry = (Elf32_Addr)eh->e_entry,
		.e_phoff = sizeof(Elf32_Ehdr), .e_flags = eh->e_flags, .e_ehsize = sizeof(Elf32_Ehdr),
		.e_phentsize = sizeof(Elf32_Phdr), .e_phnum = eh->e_phnum };

	memcpy(e32.e_ident, eh->e_ident, EI_NIDENT);
	memcpy(img, &e32, sizeof(e32));
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf32_Phdr p32 = { .p_type = ph[i].p_type, .p_offset = (Elf32_Off)ph[i].p_offset,
			.p_vaddr = (Elf32_Addr)ph[i].p_vaddr, .p_paddr = (Elf32_Addr)ph[i].p_paddr,
			.p_filesz = (Elf32_Word)ph[i].p_filesz, .p_memsz = (Elf32_Word)ph[i].p_memsz,
			.p_flags = ph[i].p_flags, .p_align = (Elf32_Word)ph[i].p_align };

		memcpy(img + sizeof(e32) + i * sizeof(p32), &p32, sizeof(p32));
	}
}

/* The stub's bytes, relocated to base when it moved (notes included). */
static void copy_stub(uint8_t *dst, const struct stub_image *s, uint64_t base)
{
	uint32_t delta = (uint32_t)(base - s->base);

	memcpy(dst, s->data, s->filesz);
	for (unsigned int i = 0; delta && i < s->nreloc; i++) {
		uint32_t v;

		memcpy(&v, dst + s->reloc[i], 4);
		v += delta;
		memcpy(dst + s->reloc[i], &v, 4);
	}
}

/* The version note, right after the stub's notes. */
static void write_version_note(uint8_t *img, const struct stub_image *s,
			       const struct kernel_image *k, const struct layout *l)
{
	uint8_t *n = img + STUB_OFF + s->filesz;
	uint32_t hdr[3] = { sizeof(PVHSTUB_NOTE_NAME), (uint32_t)(l->vlen + 1), PVHSTUB_NOTE_VERSION };

	memcpy(n, hdr, sizeof(hdr));
	memcpy(n + 12, PVHSTUB_NOTE_NAME, sizeof(PVHSTUB_NOTE_NAME));
	memcpy(n + 12 + sizeof(PVHSTUB_NOTE_NAME), k->version, l->vlen);
}

/* Tell the stub what it carries. */
static void write_info(uint8_t *img, const struct kernel_image *k, const struct wrap_plan *p,
		       const struct layout *l)
{
	struct pvhstub_info *info = (struct pvhstub_info *)(img + STUB_OFF);

	info->magic = PVHSTUB_INFO_MAGIC;
	info->version = PVHSTUB_INFO_VERSION;
	info->flags = p->handoff | p->kaslr | (k->is_linux ? PI_LINUX : 0);
	info->setup_hdr_len = k->setup_hdr_len;
	info->payload_addr = p->payload_addr;
	info->payload_size = l->payload_size;
	info->window_start = p->payload_addr;
	info->window_end = p->window_end;
	info->entry = p->entry;
	memcpy(info->setup_hdr, k->setup_hdr, k->setup_hdr_len);
	info->relocs_addr = p->relocs_addr;
	info->relocs_size = p->relocs_size;
	info->kernel_end = p->kernel_end;
	info->virt_limit = p->virt_limit;
	info->move_size = p->move_size;
	info->flags |= p->cmdline_policy;
	if (p->own_initrd_size) {
		info->initrd_addr = p->own_addr + p->own_initrd_off;
		info->initrd_size = p->own_initrd_size;
	}
	if (p->own_cmdline_len) {
		info->cmdline_addr = (uint32_t)p->own_addr;
		info->cmdline_len = p->own_cmdline_len;
	}
}

int elf_build(const struct stub_image *s, const struct kernel_image *k, const struct wrap_plan *p,
	      int elf32, uint8_t **out, size_t *outsz, char *err, size_t errsz)
{
	Elf64_Phdr ph[MAX_SEGMENTS + 3];
	struct layout l;
	Elf64_Ehdr eh;
	uint8_t *img;

	lay_out(s, k, p, elf32, &l);
	if (sizeof(Elf64_Ehdr) + l.nph * sizeof(Elf64_Phdr) > STUB_OFF) {
		snprintf(err, errsz, "internal error: too many program headers");
		return -1;
	}
	img = calloc(1, l.size);
	if (!img) {
		snprintf(err, errsz, "out of memory for a %llu-byte image", (unsigned long long)l.size);
		return -1;
	}
	make_headers(s, p, &l, &eh, ph);
	emit_headers(img, &eh, ph, l.elf32);
	copy_stub(img + STUB_OFF, s, p->stub_base);
	for (unsigned int i = 0; i < l.nseg; i++)
		memcpy(img + l.off[i], l.seg[i].data, l.seg[i].filesz);
	if (l.vnote)
		write_version_note(img, s, k, &l);
	write_info(img, k, p, &l);
	if (check_foreign_magic(img, l.size, err, errsz)) {
		free(img);
		return -1;
	}
	*out = img;
	*outsz = l.size;
	return 0;
}
