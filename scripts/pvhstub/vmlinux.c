// SPDX-License-Identifier: MIT
/*
 * Parse a vmlinux: an ELF64 x86-64 kernel entered at its 64-bit entry, or
 * an ELF32 i386 one entered at its 32-bit entry, whose PT_LOADs go at their
 * physical addresses.  It has no setup header of its own: we take the
 * bzImage's when we decompressed one, else a template of the documented
 * defaults (boot.rst).
 */
#define _GNU_SOURCE		/* memmem */
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include "tool.h"

/* The setup header for a bare vmlinux: protocol 2.15, loaded high, 64-bit or not. */
static void template_header(struct kernel_image *k, uint64_t start, uint64_t end)
{
	struct setup_header h = {
		.boot_flag = 0xaa55,
		.header = BZ_HDRS_MAGIC,
		.version = 0x020f,
		.loadflags = LOADED_HIGH,
		.code32_start = (uint32_t)start,
		.initrd_addr_max = 0x7fffffff,
		.kernel_alignment = 0x200000,
		.xloadflags = k->vmlinux32 ? 0 : XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G,
		.cmdline_size = 2047,		/* x86 COMMAND_LINE_SIZE - 1 */
		.pref_address = start,
		.init_size = (uint32_t)(end - start),
	};

	memcpy(k->hdr_buf, &h, sizeof(h));
	k->setup_hdr_len = sizeof(h);
	k->protocol = h.version;
	k->xloadflags = h.xloadflags;
	k->kernel_alignment = h.kernel_alignment;
	k->init_size = h.init_size;
	k->pref_address = start;
}

/* One PT_LOAD: inside the file, below 4 GiB, clear of the earlier ones. */
static int add_segment(const struct elf_file *e, size_t i, const GElf_Phdr *ph,
		       struct kernel_image *k, char *err, size_t errsz)
{
	const uint8_t *bytes = elf_file_bytes(e, ph->p_offset, ph->p_filesz);

	if (k->nseg == MAX_SEGMENTS) {
		snprintf(err, errsz, "more than %u PT_LOAD segments", MAX_SEGMENTS);
		return -1;
	}
	if (!bytes || ph->p_filesz > ph->p_memsz || ph->p_paddr >= FOUR_GIB ||
	    ph->p_memsz > FOUR_GIB - ph->p_paddr) {
		snprintf(err, errsz, "bad program header %zu: offset 0x%llx, filesz 0x%llx, memsz 0x%llx, paddr 0x%llx (file of %zu bytes; segments must lie below 4 GiB)",
			 i, (unsigned long long)ph->p_offset, (unsigned long long)ph->p_filesz,
			 (unsigned long long)ph->p_memsz, (unsigned long long)ph->p_paddr, e->file.size);
		return -1;
	}
	for (unsigned int j = 0; j < k->nseg; j++)
		if (ph->p_paddr < k->seg[j].paddr + k->seg[j].memsz &&
		    k->seg[j].paddr < ph->p_paddr + ph->p_memsz) {
			snprintf(err, errsz, "program headers %zu and an earlier one overlap at 0x%llx",
				 i, (unsigned long long)ph->p_paddr);
			return -1;
		}
	k->seg[k->nseg++] = (struct segment){ ph->p_paddr, ph->p_filesz, ph->p_memsz, bytes, ph->p_vaddr };
	return 0;
}

/*
 * Linux's e_entry is physical (phys_startup_64); a virtual one is
 * translated through the segment that holds it.  A physical match wins.
 */
static void find_entry(uint64_t e_entry, const GElf_Phdr *ph, uint64_t *entry, int *found)
{
	if (e_entry >= ph->p_paddr && e_entry - ph->p_paddr < ph->p_filesz) {
		*entry = e_entry;
		*found = 2;
	} else if (!*found && e_entry >= ph->p_vaddr && e_entry - ph->p_vaddr < ph->p_filesz) {
		*entry = e_entry - ph->p_vaddr + ph->p_paddr;
		*found = 1;
	}
}

/* The PT_LOADs and the entry. */
static int read_segments(const struct elf_file *e, struct kernel_image *k, char *err, size_t errsz)
{
	GElf_Phdr ph;
	uint64_t lowest = ~0ULL;
	int found = 0;

	for (size_t i = 0; !elf_file_phdr(e, i, &ph); i++) {
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (add_segment(e, i, &ph, k, err, errsz))
			return -1;
		find_entry(e->eh.e_entry, &ph, &k->entry, &found);
		/* x86-64 before 6.15: the per-CPU area, linked at 0. */
		if (ph.p_vaddr == 0 && ph.p_paddr != 0)
			k->percpu_zero = 1;
		/* The kernel's text: where virtual and physical addresses part. */
		if (ph.p_paddr < lowest) {
			lowest = ph.p_paddr;
			k->virt_offset = ph.p_vaddr - ph.p_paddr;
		}
	}
	if (!k->nseg || !found) {
		snprintf(err, errsz, k->nseg ? "the entry point 0x%llx lies in no PT_LOAD segment" :
			 "no PT_LOAD segments", (unsigned long long)e->eh.e_entry);
		return -1;
	}
	return 0;
}

/*
 * What a moved kernel needs in place.  x86-64 Linux clears .bss and .brk
 * itself (clear_bss(), in x86_64_start_kernel, before anything reads
 * them: what must be read earlier is kept in .data), and .init.scratch,
 * past _end, is a work area that SME writes before it reads.  Linux's own
 * decompressor copies them all the same (they are zeros in the vmlinux:
 * p_filesz == p_memsz), which costs a physical move a fifth of the kernel.
 * So the move may stop where only those sections are left: after the last
 * byte of every other allocated section.  Without section headers, or
 * without a .bss, nothing is left out.
 */
struct tail_scan {
	const struct kernel_image *k;
	uint64_t keep_end;		/* The end of the other sections (physical). */
	int bss;			/* A .bss was seen. */
};

static int tail_section(void *arg, const char *name, const GElf_Shdr *sh)
{
	static const char *const own[] = { ".bss", ".brk", ".init.scratch" };
	struct tail_scan *t = arg;

	if (!(sh->sh_flags & SHF_ALLOC) || !sh->sh_size)
		return 0;
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!strcmp(name, own[i])) {
			t->bss |= i == 0;
			return 0;
		}
	/* Through the segment that holds it: a per-CPU section is linked at 0. */
	for (unsigned int i = 0; i < t->k->nseg; i++) {
		const struct segment *g = &t->k->seg[i];

		if (sh->sh_addr >= g->vaddr && sh->sh_addr - g->vaddr < g->memsz) {
			uint64_t at = sh->sh_addr - g->vaddr, end = g->paddr + at + sh->sh_size;

			/* One that runs past its segment says nothing we trust: move it all. */
			if (sh->sh_size > g->memsz - at)
				end = UINT64_MAX;
			if (end > t->keep_end)
				t->keep_end = end;
			return 0;
		}
	}
	return 0;			/* Not loaded: nothing to move. */
}

static void find_move_end(const struct elf_file *e, struct kernel_image *k)
{
	struct tail_scan t = { .k = k };
	uint64_t start, end;

	segments_footprint(k, &start, &end);
	k->move_end = end;
	if (k->vmlinux32 || elf_file_sections(e, tail_section, &t) || !t.bss || !t.keep_end ||
	    t.keep_end >= end)
		return;
	t.keep_end = align_up(t.keep_end, 8);
	if (t.keep_end > start && t.keep_end < end)
		k->move_end = t.keep_end;
}

/* The bzImage's own header: its cmdline_size, initrd_addr_max and the rest. */
static int take_bzimage_header(struct kernel_image *k, const struct kernel_image *bz,
			       char *err, size_t errsz)
{
	memcpy(k->hdr_buf, bz->setup_hdr, bz->setup_hdr_len);
	k->setup_hdr_len = bz->setup_hdr_len;
	k->protocol = bz->protocol;
	k->xloadflags = bz->xloadflags;
	memcpy(k->version, bz->version, sizeof(k->version));
	k->is_linux = bz->is_linux;
	if (!k->vmlinux32 && !(k->xloadflags & XLF_KERNEL_64)) {
		snprintf(err, errsz, "the bzImage has no 64-bit entry (XLF_KERNEL_64), but its vmlinux is x86-64");
		return -1;
	}
	return 0;
}

/*
 * The version a bzImage's header would carry ("6.1.0-9-amd64 (user@host)
 * #1 SMP ..."), from Linux's banner, which also names the compiler:
 * "Linux version 6.1.0-9-amd64 (user@host) (gcc-12 (...) 12.2.0, ...) #1
 * SMP ...".  The first that reads as one and has a build number ("#1"),
 * as the bzImage's header would, else the first that reads as one.
 */
static void banner_version(struct blob f, struct kernel_image *k)
{
	static const char tag[] = "Linux version ";
	const uint8_t *p = f.data, *end = f.data + f.size;
	char banner[512];

	k->version[0] = '\0';
	while ((p = memmem(p, end - p, tag, sizeof(tag) - 1))) {
		const char *who_end, *hash;
		size_t n = 0;
		int numbered;

		p += sizeof(tag) - 1;
		while (p + n < end && p[n] >= 0x20 && p[n] < 0x7f && n + 1 < sizeof(banner))
			n++;
		memcpy(banner, p, n);
		banner[n] = '\0';
		if (!linux_version(banner))
			continue;
		who_end = strchr(strstr(banner, " ("), ')');
		hash = strstr(who_end, ") #");
		numbered = hash[3] >= '0' && hash[3] <= '9';
		if (!numbered && k->version[0])
			continue;
		if (hash != who_end)	/* Drop the compiler. */
			memmove((char *)who_end + 1, hash + 1, strlen(hash + 1) + 1);
		n = strlen(banner) < sizeof(k->version) - 1 ? strlen(banner) : sizeof(k->version) - 1;
		memcpy(k->version, banner, n);
		k->version[n] = '\0';
		if (numbered)
			return;
	}
}

/* x86-64, or i386: which entry it has. */
static int check_machine(const struct elf_file *e, struct kernel_image *k, char *err, size_t errsz)
{
	int bits = elf_file_x86(e);

	k->vmlinux32 = bits == 32;
	if (bits)
		return 0;
	snprintf(err, errsz, "an ELF file, but not an x86-64 (ELF64) or i386 (ELF32) vmlinux");
	return -1;
}

int vmlinux_parse(struct blob f, struct kernel_image *k, const struct kernel_image *bz,
		  char *err, size_t errsz)
{
	struct elf_file e;
	uint64_t start, end;
	int rc;

	memset(k, 0, sizeof(*k));
	k->vmlinux = 1;
	if (elf_file_open(f, NULL, &e, err, errsz))
		return -1;
	rc = check_machine(&e, k, err, errsz) || read_segments(&e, k, err, errsz);
	if (!rc)
		find_move_end(&e, k);
	k->elf_size = elf_file_extent(&e);
	elf_file_close(&e);
	if (rc)
		return -1;
	segments_footprint(k, &start, &end);
	template_header(k, start, end);
	k->setup_hdr = k->hdr_buf;
	/* A bare vmlinux has no version field; Linux's banner says what it is. */
	k->is_linux = memmem(f.data, f.size, "Linux version ", 14) != NULL;
	if (!bz)
		banner_version(f, k);
	return bz ? take_bzimage_header(k, bz, err, errsz) : 0;
}
