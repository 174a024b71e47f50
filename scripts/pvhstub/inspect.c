// SPDX-License-Identifier: MIT
/*
 * pvhstub inspect: what a kernel image is, where it will sit in memory,
 * its notes, and which loaders will take it.  Works on bzImages, vmlinux
 * files and images made by pvhstub wrap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/elfnote.h>
#include "tool.h"

static const char *const xlf_names[] = {
	"KERNEL_64", "CAN_BE_LOADED_ABOVE_4G", "EFI_HANDOVER_32", "EFI_HANDOVER_64",
	"EFI_KEXEC", "5LEVEL", "5LEVEL_ENABLED", "MEM_ENCRYPTION",
};

static void print_xloadflags(FILE *out, uint16_t x)
{
	fprintf(out, "xloadflags:      0x%x", x);
	for (unsigned int i = 0; i < sizeof(xlf_names) / sizeof(xlf_names[0]); i++)
		if (x & (1u << i))
			fprintf(out, " %s", xlf_names[i]);
	fprintf(out, "\n");
}

/* A size for people: KiB below 1 MiB, else MiB, rounded up. */
static const char *human(uint64_t bytes, char *buf, size_t size)
{
	if (bytes < MIB)
		snprintf(buf, size, "%llu KiB", (unsigned long long)(bytes / 1024 + !!(bytes % 1024)));
	else
		snprintf(buf, size, "%llu MiB", (unsigned long long)(bytes / MIB + !!(bytes % MIB)));
	return buf;
}

static void print_header(FILE *out, const struct kernel_image *k)
{
	const struct setup_header *h = (const void *)k->setup_hdr;
	char buf[32];

	fprintf(out, "boot protocol:   %u.%02u\n", k->protocol >> 8, k->protocol & 0xff);
	print_xloadflags(out, k->xloadflags);
	fprintf(out, "relocatable:     %s\n", h->relocatable_kernel ? "yes" : "no");
	if (k->protocol < 0x020a) {
		fprintf(out, "init_size, pref_address: none (they came with boot protocol 2.10)\n");
	} else {
		fprintf(out, "kernel_alignment: 0x%x\n", k->kernel_alignment);
		fprintf(out, "pref_address:    0x%llx\n", (unsigned long long)k->pref_address);
		fprintf(out, "init_size:       0x%x (%s)\n", k->init_size, human(k->init_size, buf, sizeof(buf)));
	}
	fprintf(out, "cmdline_size:    %u\n", h->cmdline_size);
	fprintf(out, "initrd_addr_max: 0x%x\n", h->initrd_addr_max);
}

/* What the notes say; with out set, each note is printed too. */
struct note_walk {
	FILE *out;
	int phys32_entry, gnu_property;
	char version[128];		/* From the wrap's version note. */
};

static int is_phys32_entry(const struct elf_note *n)
{
	return note_is(n, "Xen", XEN_ELFNOTE_PHYS32_ENTRY);
}

static int is_version(const struct elf_note *n)
{
	return note_is(n, PVHSTUB_NOTE_NAME, PVHSTUB_NOTE_VERSION);
}

static void print_note(FILE *out, const struct elf_note *n)
{
	fprintf(out, n->type < 256 ? "  %-4.*s type %2u, %u bytes:" : "  %-4.*s type %#x, %u bytes:",
		(int)(n->namesz ? strnlen(n->name, n->namesz) : 0), n->name, n->type, n->descsz);
	for (uint32_t i = 0; i < n->descsz && i < 16; i++)
		fprintf(out, " %02x", n->desc[i]);
	fprintf(out, "%s%s\n", n->descsz > 16 ? " ..." : "",
		is_phys32_entry(n) ? "  (XEN_ELFNOTE_PHYS32_ENTRY)" :
		is_version(n) ? "  (the kernel version)" : "");
}

static int walk_note(void *arg, const struct elf_note *n)
{
	struct note_walk *w = arg;

	w->phys32_entry |= is_phys32_entry(n);
	w->gnu_property |= note_is(n, "GNU", NT_GNU_PROPERTY_TYPE_0);
	if (is_version(n)) {
		size_t len = strnlen((const char *)n->desc,
				     n->descsz < sizeof(w->version) ? n->descsz : sizeof(w->version) - 1);

		memcpy(w->version, n->desc, len);
		w->version[len] = '\0';
	}
	if (w->out)
		print_note(w->out, n);
	return 0;
}

/* Whether pvhstub wrap takes the kernel, with its defaults, and where it would go. */
static void print_verdict(FILE *out, struct blob stub, struct blob f)
{
	static const struct wrap_opts defaults;
	struct pvhstub_info info;
	struct wrap_out w;
	char err[512];

	if (wrap_image(stub, f, &defaults, &w, err, sizeof(err))) {
		fprintf(out, "pvhstub wrap:    no: %s\n", err);
		return;
	}
	if (!wrapped_info((struct blob){ w.img, w.size }, &info, err, sizeof(err)))
		fprintf(out, "pvhstub wrap:    yes: %s-bit handoff to 0x%llx, window [0x%llx, 0x%llx), ELF%s\n",
			info.flags & PI_HANDOFF_64 ? "64" : "32", (unsigned long long)info.entry,
			(unsigned long long)info.window_start, (unsigned long long)info.window_end,
			w.img[EI_CLASS] == ELFCLASS64 ? "64" : "32");
	if (w.note[0])
		fprintf(out, "                 warning: %s\n", w.note);
	free(w.img);
}

static void loader(FILE *out, const char *name, int ok, const char *how)
{
	fprintf(out, "  %-18s %s (%s)\n", name, ok ? "yes" : "no ", how);
}

/* What the program headers say. */
struct segments {
	uint64_t lo, hi;		/* The PT_LOAD footprint. */
	int pt_notes;
	int bad_loads;			/* PT_LOADs whose bytes leave the file. */
};

static void scan_segments(const struct elf_file *e, struct segments *sg)
{
	GElf_Phdr ph;

	*sg = (struct segments){ .lo = ~0ULL };
	for (size_t i = 0; !elf_file_phdr(e, i, &ph); i++) {
		if (ph.p_type == PT_LOAD && ph.p_memsz) {
			sg->lo = ph.p_paddr < sg->lo ? ph.p_paddr : sg->lo;
			sg->hi = ph.p_paddr + ph.p_memsz > sg->hi ? ph.p_paddr + ph.p_memsz : sg->hi;
		}
		sg->bad_loads += ph.p_type == PT_LOAD && !elf_file_bytes(e, ph.p_offset, ph.p_filesz);
		sg->pt_notes += ph.p_type == PT_NOTE;
	}
}

/* Who randomizes the kernel, and with what. */
static void print_kaslr(FILE *out, const struct elf_file *e, const struct pvhstub_info *info)
{
	struct pvhstub_relocs h;
	const uint8_t *bytes = NULL;
	GElf_Phdr ph;

	if (info->version < 2) {
		fprintf(out, "KASLR:           the kernel's decompressor, if it has one (an image from pvhstub 0.1)\n");
		return;
	}
	if (!info->kernel_end) {
		fprintf(out, "KASLR:           the kernel's own decompressor (nokaslr turns it off)\n");
		return;
	}
	if (info->flags & PI_KASLR_NONE) {
		fprintf(out, "KASLR:           none: the kernel has no relocation table kept; it runs at 0x%llx\n",
			(unsigned long long)info->window_start);
		return;
	}
	if (!(info->flags & PI_KASLR_VIRT)) {
		fprintf(out, "KASLR:           off (wrapped with --kaslr off); the kernel runs at 0x%llx\n",
			(unsigned long long)info->window_start);
		return;
	}
	for (size_t i = 0; !bytes && !elf_file_phdr(e, i, &ph); i++)
		if (ph.p_type == PT_LOAD && info->relocs_addr >= ph.p_paddr &&
		    info->relocs_addr - ph.p_paddr + sizeof(h) <= ph.p_filesz)
			bytes = elf_file_bytes(e, ph.p_offset + (info->relocs_addr - ph.p_paddr), sizeof(h));
	if (!bytes || (memcpy(&h, bytes, sizeof(h)), h.magic != PVHSTUB_RELOCS_MAGIC)) {
		fprintf(out, "KASLR:           by the stub, but its relocation table at 0x%llx is missing: the stub will refuse to boot\n",
			(unsigned long long)info->relocs_addr);
		return;
	}
	fprintf(out, "KASLR:           by the stub: %s (nokaslr turns it off)\n",
		info->flags & PI_KASLR_PHYS ? "virtual offset and physical slot" : "virtual offset");
	fprintf(out, "relocations:     %u (64-bit %u, 32-bit %u, inverse 32-bit %u), a %u-byte table at 0x%llx\n",
		h.count[RELOCS_64] + h.count[RELOCS_32] + h.count[RELOCS_32_INV], h.count[RELOCS_64],
		h.count[RELOCS_32], h.count[RELOCS_32_INV], info->relocs_size,
		(unsigned long long)info->relocs_addr);
	fprintf(out, "relocs format:   %s\n",
		h.source_lists == 3 ? "3 lists (64-bit, inverse 32-bit, 32-bit: Linux up to 6.14)" :
		h.source_lists == 2 ? "2 lists (64-bit, 32-bit: Linux 6.15 and later)" :
		"not recorded (an image from an older pvhstub)");
	if (!(info->flags & PI_KASLR_PHYS))
		return;
	uint64_t size = info->kernel_end - info->window_start;
	const struct setup_header *sh = (const void *)info->setup_hdr;

	if (info->version >= 3 && info->move_size && info->move_size < size)
		fprintf(out, "physical move:   %u of the kernel's %llu bytes (the rest is .bss, .brk and .init.scratch, which it clears itself)\n",
			info->move_size, (unsigned long long)size);
	else
		fprintf(out, "physical move:   all of the kernel's %llu bytes\n", (unsigned long long)size);
	fprintf(out, "physical slots:  2 MiB-aligned, in e820 RAM from 0x%llx %s\n",
		(unsigned long long)info->window_start,
		sh->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G ? "up to 512 GiB (CAN_BE_LOADED_ABOVE_4G)" :
		"below 4 GiB (no CAN_BE_LOADED_ABOVE_4G)");
}

/* What the stub was told: the handoff, the payload and its setup header. */
static void print_wrapped(FILE *out, const struct pvhstub_info *info)
{
	const struct setup_header *h = (const void *)info->setup_hdr;
	struct kernel_image k = {
		.setup_hdr = info->setup_hdr, .protocol = h->version, .xloadflags = h->xloadflags,
		.kernel_alignment = h->kernel_alignment, .pref_address = h->pref_address,
		.init_size = h->init_size,
	};

	fprintf(out, "handoff:         %s-bit, to 0x%llx\n", info->flags & PI_HANDOFF_64 ? "64" : "32",
		(unsigned long long)info->entry);
	fprintf(out, "payload:         0x%llx bytes at 0x%llx\n", (unsigned long long)info->payload_size,
		(unsigned long long)info->payload_addr);
	fprintf(out, "window:          [0x%llx, 0x%llx), reserved in the ELF\n",
		(unsigned long long)info->window_start, (unsigned long long)info->window_end);
	print_header(out, &k);
}

static void print_elf_loaders(FILE *out, int elf64, const struct note_walk *w,
			      const struct segments *sg)
{
	int pvh = w->phys32_entry;

	fprintf(out, "loaders:\n");
	loader(out, "qemu-system-x86_64", pvh, pvh ? "PVH: the PHYS32_ENTRY note" : "an ELF without a PVH note");
	loader(out, "qemu-system-i386", pvh && !elf64, elf64 ? "takes ELF32 only" :
	       pvh ? "PVH: the PHYS32_ENTRY note" : "an ELF without a PVH note");
	loader(out, "Xen PVH (xl, dom0)", pvh, pvh ? "the PHYS32_ENTRY note, ELF32 or ELF64" : "no PHYS32_ENTRY note");
	loader(out, "Firecracker", elf64, !elf64 ? "takes ELF64 only" :
	       pvh ? "ELF64 with a PVH note: PVH boot" : "ELF64: 64-bit Linux boot");
	loader(out, "Cloud Hypervisor", elf64 && pvh, !elf64 ? "takes ELF64 only" :
	       pvh ? "ELF64 with a PVH note" : "needs a PVH note");
	if (w->gnu_property)
		fprintf(out, "warning: a .note.gnu.property note: QEMU's note parser may fail on it\n");
	if (sg->pt_notes > 1)
		fprintf(out, "warning: %d PT_NOTE headers; some loaders read only the first\n", sg->pt_notes);
	if (sg->bad_loads)
		fprintf(out, "warning: %d PT_LOAD segments lie outside the file: loaders will refuse it\n",
			sg->bad_loads);
}

static int inspect_elf(FILE *out, struct blob f, struct blob stub, char *err, size_t errsz)
{
	struct note_walk w = { 0 };
	struct pvhstub_info info;
	struct segments sg;
	struct elf_file e;
	int wrapped, bad_notes;

	if (elf_file_open(f, NULL, &e, err, errsz))
		return -1;
	scan_segments(&e, &sg);
	bad_notes = elf_file_notes(&e, walk_note, &w);
	wrapped = !wrapped_info(f, &info, NULL, 0);
	fprintf(out, "kind:            %s\n", wrapped ? "PVH image made by pvhstub wrap" :
		e.class == ELFCLASS64 ? "ELF64 (vmlinux)" : "ELF32");
	if (wrapped)
		fprintf(out, "version:         %s\n", w.version[0] ? w.version : "(none)");
	fprintf(out, "e_machine:       %u, e_flags 0x%x, e_entry 0x%llx\n", e.eh.e_machine,
		e.eh.e_flags, (unsigned long long)e.eh.e_entry);
	if (wrapped) {
		print_wrapped(out, &info);
		print_kaslr(out, &e, &info);
	} else
		print_verdict(out, stub, f);
	if (sg.hi)
		fprintf(out, "footprint:       [0x%llx, 0x%llx): %llu MiB from %llu MiB; loaders put modules above it\n",
			(unsigned long long)sg.lo, (unsigned long long)sg.hi,
			(unsigned long long)((sg.hi - sg.lo) / MIB + !!((sg.hi - sg.lo) % MIB)),
			(unsigned long long)(sg.lo / MIB));
	else
		fprintf(out, "footprint:       none (no PT_LOAD with memory)\n");
	fprintf(out, "notes (%d PT_NOTE):\n", sg.pt_notes);
	w.out = out;
	elf_file_notes(&e, walk_note, &w);
	if (bad_notes)
		fprintf(out, "warning: a PT_NOTE lies outside the file; its notes are not shown\n");
	print_elf_loaders(out, e.class == ELFCLASS64, &w, &sg);
	elf_file_close(&e);
	return 0;
}

static int inspect_bzimage(FILE *out, struct blob f, struct blob stub, char *err, size_t errsz)
{
	struct kernel_image k;
	const char *comp;
	char buf[32];

	if (bzimage_parse(f, &k, err, errsz))
		return -1;
	comp = compression_name(k.payload);
	fprintf(out, "kind:            bzImage\n");
	fprintf(out, "version:         %s\n", k.version[0] ? k.version : "(none)");
	print_header(out, &k);
	fprintf(out, "payload:         %s, %zu bytes\n", comp ? comp : "unknown", k.payload.size);
	if (k.protocol >= 0x020a)
		fprintf(out, "footprint:       the protected-mode code (%zu bytes) and its decompression window of %s at 0x%llx%s\n",
			k.pm.size, human(k.init_size, buf, sizeof(buf)), (unsigned long long)k.pref_address,
			k.relocatable ? " or above" : "");
	print_verdict(out, stub, f);
	fprintf(out, "loaders:\n");
	loader(out, "qemu-system-x86_64", 1, "Linux boot protocol, through the firmware");
	loader(out, "qemu-system-i386", 1, "Linux boot protocol, through the firmware");
	loader(out, "Xen PVH (xl, dom0)", 0, "needs a PVH ELF: pvhstub wrap");
	loader(out, "Firecracker", 0, "needs an ELF: pvhstub wrap");
	loader(out, "Cloud Hypervisor", 0, "needs a PVH ELF: pvhstub wrap");
	return 0;
}

int inspect_image(FILE *out, struct blob f, struct blob stub, char *err, size_t errsz)
{
	if (f.size >= SELFMAG && !memcmp(f.data, ELFMAG, SELFMAG))
		return inspect_elf(out, f, stub, err, errsz);
	return inspect_bzimage(out, f, stub, err, errsz);
}
