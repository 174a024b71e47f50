// SPDX-License-Identifier: MIT
/*
 * Parse a vmlinux: an ELF64 x86-64 kernel whose PT_LOADs go at their
 * physical addresses and which is entered at its 64-bit entry.  It has no
 * setup header of its own: we take the bzImage's when we decompressed one,
 * else a template of the documented defaults (boot.rst).
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include "tool.h"

#define FOUR_GIB	0x100000000ULL

/* The setup header for a bare vmlinux: protocol 2.15, 64-bit, loaded high. */
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
		.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G,
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

int vmlinux_parse(struct blob f, struct kernel_image *k, const struct kernel_image *bz,
		  char *err, size_t errsz)
{
	const Elf64_Ehdr *eh = (const void *)f.data;
	uint64_t start = ~0ULL, end = 0, entry = 0;
	int found_entry = 0;

	memset(k, 0, sizeof(*k));
	k->vmlinux = 1;
	if (f.size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG)) {
		snprintf(err, errsz, "not an ELF file");
		return -1;
	}
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64) {
		snprintf(err, errsz, "an ELF file, but not an x86-64 (ELF64) vmlinux");
		return -1;
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || !eh->e_phnum || eh->e_phoff > f.size ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > f.size - eh->e_phoff) {
		snprintf(err, errsz, "bad program headers: %u of %u bytes at 0x%llx in a %zu-byte file",
			 eh->e_phnum, eh->e_phentsize, (unsigned long long)eh->e_phoff, f.size);
		return -1;
	}
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr phdr;
		const Elf64_Phdr *ph = &phdr;

		/* Program headers may be unaligned in the file: copy each one. */
		memcpy(&phdr, f.data + eh->e_phoff + i * sizeof(phdr), sizeof(phdr));
		struct segment *s;

		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		if (k->nseg == MAX_SEGMENTS) {
			snprintf(err, errsz, "more than %u PT_LOAD segments", MAX_SEGMENTS);
			return -1;
		}
		if (ph->p_filesz > ph->p_memsz || ph->p_offset > f.size ||
		    ph->p_filesz > f.size - ph->p_offset || ph->p_paddr >= FOUR_GIB ||
		    ph->p_memsz > FOUR_GIB - ph->p_paddr) {
			snprintf(err, errsz, "bad program header %u: offset 0x%llx, filesz 0x%llx, memsz 0x%llx, paddr 0x%llx (file of %zu bytes; segments must lie below 4 GiB)",
				 i, (unsigned long long)ph->p_offset, (unsigned long long)ph->p_filesz,
				 (unsigned long long)ph->p_memsz, (unsigned long long)ph->p_paddr, f.size);
			return -1;
		}
		for (unsigned int j = 0; j < k->nseg; j++)
			if (ph->p_paddr < k->seg[j].paddr + k->seg[j].memsz &&
			    k->seg[j].paddr < ph->p_paddr + ph->p_memsz) {
				snprintf(err, errsz, "program headers %u and an earlier one overlap at 0x%llx",
					 i, (unsigned long long)ph->p_paddr);
				return -1;
			}
		s = &k->seg[k->nseg++];
		*s = (struct segment){ ph->p_paddr, ph->p_filesz, ph->p_memsz, f.data + ph->p_offset };
		if (ph->p_paddr < start)
			start = ph->p_paddr;
		if (ph->p_paddr + ph->p_memsz > end)
			end = ph->p_paddr + ph->p_memsz;
		/* Linux's e_entry is physical (phys_startup_64); a virtual one is
		 * translated through the segment that holds it. */
		if (eh->e_entry >= ph->p_paddr && eh->e_entry - ph->p_paddr < ph->p_filesz) {
			entry = eh->e_entry;
			found_entry = 1;
		} else if (!found_entry && eh->e_entry >= ph->p_vaddr &&
			   eh->e_entry - ph->p_vaddr < ph->p_filesz) {
			entry = eh->e_entry - ph->p_vaddr + ph->p_paddr;
			found_entry = 1;
		}
	}
	if (!k->nseg || !found_entry) {
		snprintf(err, errsz, k->nseg ? "the entry point 0x%llx lies in no PT_LOAD segment" :
			 "no PT_LOAD segments", (unsigned long long)eh->e_entry);
		return -1;
	}
	k->entry64 = entry;
	template_header(k, start, end);
	if (bz) {
		/* The bzImage's own header: its cmdline_size, initrd_addr_max and the rest. */
		memcpy(k->hdr_buf, bz->setup_hdr, bz->setup_hdr_len);
		k->setup_hdr_len = bz->setup_hdr_len;
		k->protocol = bz->protocol;
		k->xloadflags = bz->xloadflags;
		memcpy(k->version, bz->version, sizeof(k->version));
		if (!(k->xloadflags & XLF_KERNEL_64)) {
			snprintf(err, errsz, "the bzImage has no 64-bit entry (XLF_KERNEL_64): its vmlinux cannot be entered directly");
			return -1;
		}
	}
	k->setup_hdr = k->hdr_buf;
	return 0;
}
