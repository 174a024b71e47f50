// SPDX-License-Identifier: MIT
/*
 * pvhstub inspect: what a kernel image is, where it will sit in memory,
 * its notes, and which loaders will take it.  Works on bzImages, vmlinux
 * files and images made by pvhstub wrap.
 * pvhstub extract: the vmlinux inside a bzImage.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"

#define MIB (1ULL << 20)

static const char *const xlf_names[] = {
	"KERNEL_64", "CAN_BE_LOADED_ABOVE_4G", "EFI_HANDOVER_32", "EFI_HANDOVER_64",
	"EFI_KEXEC", "5LEVEL", "5LEVEL_ENABLED", "MEM_ENCRYPTION",
};

static void print_xloadflags(uint16_t x)
{
	printf("xloadflags:      0x%x", x);
	for (unsigned int i = 0; i < sizeof(xlf_names) / sizeof(xlf_names[0]); i++)
		if (x & (1u << i))
			printf(" %s", xlf_names[i]);
	printf("\n");
}

static void print_header(const struct kernel_image *k)
{
	const struct setup_header *h = (const void *)k->setup_hdr;

	printf("boot protocol:   %u.%02u\n", k->protocol >> 8, k->protocol & 0xff);
	print_xloadflags(k->xloadflags);
	printf("relocatable:     %s\n", h->relocatable_kernel ? "yes" : "no");
	printf("kernel_alignment: 0x%x\n", k->kernel_alignment);
	printf("pref_address:    0x%llx\n", (unsigned long long)k->pref_address);
	printf("init_size:       0x%x (%llu MiB)\n", k->init_size, (unsigned long long)(k->init_size + MIB - 1) / MIB);
	printf("cmdline_size:    %u\n", h->cmdline_size);
	printf("initrd_addr_max: 0x%x\n", h->initrd_addr_max);
}

struct note_walk {
	int phys32_entry, gnu_property, count;
	char version[128];		/* From the wrap's version note. */
};

static void walk_notes(struct blob f, uint64_t off, uint64_t size, struct note_walk *w, int print)
{
	uint64_t at = off, end = off + size;

	while (at + 12 <= end && end <= f.size) {
		uint32_t namesz, descsz, type;
		const char *name;
		int is_version;

		memcpy(&namesz, f.data + at, 4);
		memcpy(&descsz, f.data + at + 4, 4);
		memcpy(&type, f.data + at + 8, 4);
		name = (const char *)f.data + at + 12;
		if (namesz > end - at - 12 || ((namesz + 3) & ~3u) + (uint64_t)descsz > end - at - 12)
			break;
		w->count++;
		if (namesz >= 4 && !memcmp(name, "Xen", 4) && type == 18)
			w->phys32_entry = 1;
		if (namesz >= 4 && !memcmp(name, "GNU", 4) && type == NT_GNU_PROPERTY_TYPE_0)
			w->gnu_property = 1;
		is_version = namesz == sizeof(PVHSTUB_NOTE_NAME) &&
			     !memcmp(name, PVHSTUB_NOTE_NAME, namesz) && type == PVHSTUB_NOTE_VERSION;
		if (is_version) {
			const char *d = name + ((namesz + 3) & ~3u);
			size_t n = strnlen(d, descsz < sizeof(w->version) ? descsz : sizeof(w->version) - 1);

			memcpy(w->version, d, n);
			w->version[n] = '\0';
		}
		if (print) {
			const uint8_t *d = f.data + at + 12 + ((namesz + 3) & ~3u);

			printf(type < 256 ? "  %-4.*s type %2u, %u bytes:" : "  %-4.*s type %#x, %u bytes:",
			       (int)(namesz ? namesz - 1 : 0), name, type, descsz);
			for (uint32_t i = 0; i < descsz && i < 16; i++)
				printf(" %02x", d[i]);
			printf("%s%s\n", descsz > 16 ? " ..." : "",
			       namesz >= 4 && !memcmp(name, "Xen", 4) && type == 18 ? "  (XEN_ELFNOTE_PHYS32_ENTRY)" :
			       is_version ? "  (the kernel version)" : "");
		}
		at += 12 + ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u);
	}
}

static void loader(const char *name, int ok, const char *how)
{
	printf("  %-18s %s (%s)\n", name, ok ? "yes" : "no ", how);
}

static int inspect_elf(struct blob f)
{
	const Elf64_Ehdr *eh = (const void *)f.data;
	struct note_walk w = { 0 };
	struct pvhstub_info info;
	int is64 = f.size >= sizeof(*eh) && eh->e_ident[EI_CLASS] == ELFCLASS64, wrapped, pt_notes = 0;
	uint64_t lo = ~0ULL, hi = 0;

	if (!is64 || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > f.size) {
		fprintf(stderr, "pvhstub inspect: an ELF file, but not an ELF64 with valid program headers\n");
		return 1;
	}
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr phdr;
		const Elf64_Phdr *ph = &phdr;

		/* Program headers may be unaligned in the file: copy each one. */
		memcpy(&phdr, f.data + eh->e_phoff + i * sizeof(phdr), sizeof(phdr));

		if (ph->p_type == PT_LOAD && ph->p_memsz) {
			lo = ph->p_paddr < lo ? ph->p_paddr : lo;
			hi = ph->p_paddr + ph->p_memsz > hi ? ph->p_paddr + ph->p_memsz : hi;
		}
		if (ph->p_type == PT_NOTE) {
			pt_notes++;
			walk_notes(f, ph->p_offset, ph->p_filesz, &w, 0);
		}
	}
	wrapped = !wrapped_info(f, &info, NULL, 0);
	printf("kind:            %s\n", wrapped ? "PVH image made by pvhstub wrap" : "ELF64 (vmlinux)");
	if (wrapped)
		printf("version:         %s\n", w.version[0] ? w.version : "(none)");
	printf("e_flags:         0x%x, e_entry 0x%llx\n", eh->e_flags, (unsigned long long)eh->e_entry);
	if (wrapped) {
		const struct setup_header *h = (const void *)info.setup_hdr;
		struct kernel_image k = {
			.setup_hdr = info.setup_hdr, .protocol = h->version, .xloadflags = h->xloadflags,
			.kernel_alignment = h->kernel_alignment, .pref_address = h->pref_address,
			.init_size = h->init_size,
		};
		printf("handoff:         %s-bit, to 0x%llx\n", info.flags & PI_HANDOFF_64 ? "64" : "32",
		       (unsigned long long)info.entry);
		printf("payload:         0x%llx bytes at 0x%llx\n", (unsigned long long)info.payload_size,
		       (unsigned long long)info.payload_addr);
		printf("window:          [0x%llx, 0x%llx), reserved in the ELF\n",
		       (unsigned long long)info.window_start, (unsigned long long)info.window_end);
		print_header(&k);
	}
	printf("footprint:       [0x%llx, 0x%llx): %llu MiB from %llu MiB; loaders put modules above it\n",
	       (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)((hi - lo + MIB - 1) / MIB),
	       (unsigned long long)(lo / MIB));
	printf("notes (%d PT_NOTE):\n", pt_notes);
	memset(&w, 0, sizeof(w));
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr phdr;
		const Elf64_Phdr *ph = &phdr;

		/* Program headers may be unaligned in the file: copy each one. */
		memcpy(&phdr, f.data + eh->e_phoff + i * sizeof(phdr), sizeof(phdr));

		if (ph->p_type == PT_NOTE)
			walk_notes(f, ph->p_offset, ph->p_filesz, &w, 1);
	}
	printf("loaders:\n");
	loader("QEMU -kernel", w.phys32_entry, w.phys32_entry ? "PVH: the PHYS32_ENTRY note" : "an ELF without a PVH note");
	loader("Xen PVH (xl, dom0)", w.phys32_entry, w.phys32_entry ? "the PHYS32_ENTRY note" : "no PHYS32_ENTRY note");
	loader("Firecracker", 1, w.phys32_entry ? "ELF64 with a PVH note: PVH boot" : "ELF64: 64-bit Linux boot");
	loader("Cloud Hypervisor", w.phys32_entry, w.phys32_entry ? "ELF64 with a PVH note" : "needs a PVH note");
	if (w.gnu_property)
		printf("warning: a .note.gnu.property note: QEMU's note parser may fail on it\n");
	if (pt_notes > 1)
		printf("warning: %d PT_NOTE headers; some loaders read only the first\n", pt_notes);
	return 0;
}

int cmd_inspect(int argc, char **argv, int (*read_file)(const char *, struct blob *, char *, size_t))
{
	struct kernel_image k;
	struct blob f;
	char err[512];

	if (argc != 2) {
		fprintf(stderr, "pvhstub inspect: need one IMAGE\n");
		return 2;
	}
	if (read_file(argv[1], &f, err, sizeof(err))) {
		fprintf(stderr, "pvhstub inspect: %s: %s\n", argv[1], err);
		return 1;
	}
	printf("file:            %s (%zu bytes)\n", argv[1], f.size);
	if (f.size >= 4 && !memcmp(f.data, "\x7f" "ELF", 4)) {
		if (!vmlinux_parse(f, &k, NULL, err, sizeof(err)) && k.version[0])
			printf("version:         %s\n", k.version);
		return inspect_elf(f);
	}
	if (bzimage_parse(f, &k, err, sizeof(err))) {
		fprintf(stderr, "pvhstub inspect: %s: %s\n", argv[1], err);
		return 1;
	}
	printf("kind:            bzImage\n");
	printf("version:         %s\n", k.version[0] ? k.version : "(none)");
	print_header(&k);
	printf("payload:         %s, %zu bytes\n", compression_name(k.payload) ? compression_name(k.payload) : "unknown",
	       k.payload.size);
	printf("footprint:       the protected-mode code (%zu bytes) and its decompression window of %u MiB at 0x%llx or above\n",
	       k.pm.size, (k.init_size + (unsigned)MIB - 1) / (unsigned)MIB, (unsigned long long)k.pref_address);
	printf("loaders:\n");
	loader("QEMU -kernel", 1, "Linux boot protocol, through the firmware");
	loader("Xen PVH (xl, dom0)", 0, "needs a PVH ELF: pvhstub wrap");
	loader("Firecracker", 0, "needs an ELF: pvhstub wrap");
	loader("Cloud Hypervisor", 0, "needs a PVH ELF: pvhstub wrap");
	return 0;
}

int cmd_extract(int argc, char **argv, int (*read_file)(const char *, struct blob *, char *, size_t),
		int (*write_atomic)(const char *, const uint8_t *, size_t, char *, size_t))
{
	struct kernel_image k;
	struct blob f;
	char err[512];
	uint8_t *elf;
	size_t elfsz;

	if (argc != 4 || (strcmp(argv[2], "-o") && strcmp(argv[2], "--output"))) {
		fprintf(stderr, "pvhstub extract: need KERNEL -o OUT\n");
		return 2;
	}
	if (read_file(argv[1], &f, err, sizeof(err)) || bzimage_parse(f, &k, err, sizeof(err)) ||
	    decompress_payload(k.payload, &elf, &elfsz, err, sizeof(err)) ||
	    write_atomic(argv[3], elf, elfsz, err, sizeof(err))) {
		fprintf(stderr, "pvhstub extract: %s: %s\n", argv[1], err);
		return 1;
	}
	free(elf);
	return 0;
}
