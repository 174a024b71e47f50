/* SPDX-License-Identifier: MIT */
/*
 * The host tool, stage by stage (one file each):
 *   file.c        read an input whole; write an output atomically
 *   elfread.c     the one ELF reader (libelf): headers, segments, notes
 *   stub.c        the linked stub, and the info block of a wrapped image
 *   bzimage.c     parse a bzImage's setup header
 *   pe.c          a PE file's sections, and a Unified Kernel Image's parts
 *   vmlinux.c     parse a vmlinux (ELF64 x86-64)
 *   decompress.c  a bzImage's payload, decompressed
 *   relocs.c      the kernel's relocation table, kept for the stub's KASLR
 *   place.c       where the payload goes, and the handoff
 *   elfwrite.c    the PVH ELF image
 *   wrap.c        the whole wrap (kernel in, image out), and extract
 *   inspect.c     what an image is
 *   xlconfig.c    an xl config for a wrapped image
 *   main.c        the command line
 * Each stage returns 0, or -1 with a message in err.
 */
#ifndef PVHSTUB_TOOL_H
#define PVHSTUB_TOOL_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "pvhstub.h"

struct blob {
	const uint8_t *data;
	size_t size;
};

#define MAX_SEGMENTS	16

struct segment {
	uint64_t paddr, filesz, memsz;
	const uint8_t *data;
	uint64_t vaddr;			/* vmlinux: where it is linked */
};

/* A parsed kernel, bzImage or vmlinux: what the wrap needs from it. */
struct kernel_image {
	int vmlinux;			/* An ELF vmlinux, entered at its entry: */
	int vmlinux32;			/*   an i386 one at its 32-bit entry. */
	int relocatable;		/* bzImage: relocatable_kernel */
	int derived_window;		/* Before 2.10: load address and window derived (bzimage.c). */
	uint16_t protocol;
	uint16_t xloadflags;
	uint32_t kernel_alignment;
	uint32_t init_size;
	uint64_t pref_address;
	uint32_t setup_hdr_len;		/* Bytes from 0x1f1 */
	const uint8_t *setup_hdr;
	struct blob pm;			/* bzImage: the protected-mode code, */
	struct blob payload;		/*   and the compressed kernel in it. */
	struct segment seg[MAX_SEGMENTS];	/* vmlinux: its PT_LOADs, */
	unsigned int nseg;
	uint64_t entry;			/*   and its entry (physical), */
	uint64_t virt_offset;		/*   virtual - physical of its lowest segment, */
	uint64_t elf_size;		/*   where the ELF ends in its file, */
	int percpu_zero;		/*   a PT_LOAD at virtual 0 (zero-based per-CPU). */
	/* --decompress: the kernel's relocation table (relocs.c), for KASLR. */
	uint8_t *relocs;		/* malloc'ed; NULL: none */
	size_t relocs_size;
	uint64_t kernel_end;		/* The kernel without the table: its footprint end. */
	/*
	 * vmlinux: the end of what must be in place when the kernel starts
	 * (physical); past it lie only .bss, .brk and .init.scratch, which
	 * x86-64 Linux clears or scratches before it reads them.  0: unknown.
	 */
	uint64_t move_end;
	uint64_t relocs_end;		/* The end of the last relocation site (relocs_read). */
	uint8_t hdr_buf[SETUP_HDR_MAX];	/* vmlinux: the setup header we use. */
	char version[128];		/* The kernel version string, if any. */
	int is_linux;			/* It is Linux: see linux_version(). */
	int decompressed;		/* A vmlinux decompressed from a bzImage's payload. */
};

#define STUB_MAX_RELOCS	1024

/* The stub as linked: one PT_LOAD and its notes. */
struct stub_image {
	uint64_t base, filesz, memsz, entry;
	uint32_t default_handoff;	/* PI_HANDOFF_32 or _64, from Kconfig */
	const uint8_t *data;
	uint64_t note_addr, note_size;
	/* Its absolute (R_386_32) relocations, as offsets into data, so that
	 * the wrap can move it; none when it was linked without them. */
	uint32_t reloc[STUB_MAX_RELOCS];
	unsigned int nreloc;
};

struct wrap_plan {
	uint32_t handoff;		/* PI_HANDOFF_32 or PI_HANDOFF_64 */
	uint32_t kaslr;			/* PI_KASLR_* */
	uint64_t payload_addr, window_end, entry;
	uint64_t stub_base;		/* Where the stub goes: its link address, or moved. */
	uint64_t relocs_addr, kernel_end, virt_limit;	/* With PI_KASLR_VIRT */
	uint32_t relocs_size;
	uint32_t move_size;		/* pvhstub_info.move_size */
	/* The image's own initrd and command line: one segment at own_addr. */
	uint64_t own_addr;
	const uint8_t *own_data;
	uint64_t own_size;
	uint32_t own_cmdline_len;	/* The command line opens it, */
	uint64_t own_initrd_off, own_initrd_size;	/* the initrd follows. */
	uint32_t cmdline_policy;	/* PI_CMDLINE_* */
};

/* x86-64 Linux with CONFIG_RANDOMIZE_BASE: its text may end at most this far into the kernel map. */
#define KERNEL_IMAGE_SIZE	(1ULL << 30)

#define MIB		(1ULL << 20)
#define FOUR_GIB	0x100000000ULL

/* a is a power of two. */
static inline uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* file.c */
int read_file(const char *path, struct blob *b, char *err, size_t errsz);
/* An output file, checked before the work and written after it (file.c). */
struct output {
	const char *path;		/* As the user gave it; "-" is standard output. */
	char *target;			/* The file replaced: path, or the file a link names. */
	char *folder;			/* The folder target is in. */
	char *tmp;			/* The temporary file's name beside it. */
	int fd, to_stdout;
	int unnamed;			/* fd is an O_TMPFILE file, named at commit. */
	unsigned int mode;		/* The mode it gets. */
};
/* inputs: the files the command reads (NULL entries skipped); binary: not text. */
int output_open(struct output *o, const char *path, int binary, const char *const *inputs,
		size_t ninputs, char *err, size_t errsz);
int output_commit(struct output *o, const uint8_t *data, size_t size, char *err, size_t errsz);
void output_abort(struct output *o);

/* elfread.c: an ELF file in memory, read through libelf. */
struct elf_file {
	Elf *elf;
	struct blob file;
	int class;			/* ELFCLASS32 or ELFCLASS64 */
	GElf_Ehdr eh;
	size_t phnum;			/* All inside the file. */
};

struct elf_note {
	const char *name;		/* namesz bytes, NUL-terminated if well formed */
	uint32_t namesz, type;
	const uint8_t *desc;
	uint32_t descsz;
};

/* Return non-zero to stop the walk. */
typedef int (*elf_note_fn)(void *arg, const struct elf_note *n);

/* What a caller accepts; NULL: any ELF. */
struct elf_kind {
	int class;			/* ELFCLASS32 or ELFCLASS64 */
	uint16_t machine;		/* EM_386 or EM_X86_64 */
	const char *what;		/* "an x86-64 (ELF64) vmlinux" */
};

int elf_file_open(struct blob f, const struct elf_kind *want, struct elf_file *e,
		  char *err, size_t errsz);
void elf_file_close(struct elf_file *e);
/* Program header i: 0, or -1 past the last. */
int elf_file_phdr(const struct elf_file *e, size_t i, GElf_Phdr *ph);
/* File bytes [off, off + len), or NULL when they leave the file. */
const uint8_t *elf_file_bytes(const struct elf_file *e, uint64_t off, uint64_t len);
/* Every note of every PT_NOTE; -1 if a PT_NOTE lies outside the file. */
int elf_file_notes(const struct elf_file *e, elf_note_fn fn, void *arg);
int note_is(const struct elf_note *n, const char *name, uint32_t type);
/* 64 for ELF64 x86-64, 32 for ELF32 i386, 0 for anything else. */
int elf_file_x86(const struct elf_file *e);
/* Where the ELF's last header, segment or section ends (at most the file's size). */
uint64_t elf_file_extent(const struct elf_file *e);
/* Every REL entry that applies to a loaded section: where, its type, its symbol's section. */
typedef int (*elf_reloc_fn)(void *arg, uint64_t site, uint32_t type, uint32_t sym_shndx);
int elf_file_relocs(const struct elf_file *e, elf_reloc_fn fn, void *arg);
/* Each named section header; a non-zero return from fn stops the walk and is returned. */
typedef int (*elf_section_fn)(void *arg, const char *name, const GElf_Shdr *sh);
int elf_file_sections(const struct elf_file *e, elf_section_fn fn, void *arg);

/* stub.c */
int stub_parse(struct blob file, struct stub_image *s, char *err, size_t errsz);
/* The info block of an image made by 'pvhstub wrap'. */
int wrapped_info(struct blob img, struct pvhstub_info *info, char *err, size_t errsz);

/* bzimage.c: "6.1.0-9 (user@host) #1 ...": Linux's kernel_version string (arch/x86/boot/version.c). */
int linux_version(const char *v);
/* "HdrS" at 0x202: a Linux setup header. */
int bzimage_has_hdrs(struct blob f);

/* bzimage.c, vmlinux.c */
int bzimage_parse(struct blob file, struct kernel_image *k, char *err, size_t errsz);
/* What the stub needs of a bzImage beyond a well-formed one. */
int bzimage_check_wrap(const struct kernel_image *k, char *err, size_t errsz);
/* A vmlinux (ELF64 x86-64, or ELF32 i386); its setup header comes from bz if given, else a template. */
int vmlinux_parse(struct blob file, struct kernel_image *k, const struct kernel_image *bz,
		  char *err, size_t errsz);

/* pe.c: a PE/COFF file's sections, bounds-checked. */
#define PE_MAX_SECTIONS	96
struct pe_section {
	char name[9];			/* NUL-terminated; unprintable bytes as '?' */
	uint64_t offset;		/* The bytes in the file: [offset, + size), */
	uint32_t size;			/*   min(SizeOfRawData, VirtualSize). */
};
struct pe_file {
	struct pe_section sec[PE_MAX_SECTIONS];
	unsigned int nsec;
	uint16_t machine;
	uint32_t signed_size;		/* The certificate table's size: 0, unsigned. */
};
/* "MZ", and "PE\0\0" where e_lfanew points. */
int pe_is(struct blob f);
/* A PE file that is no bzImage (an EFI-stub bzImage is a PE file too): read it as a UKI. */
int uki_candidate(struct blob f);
int pe_parse(struct blob f, struct pe_file *pe, char *err, size_t errsz);

/* A Unified Kernel Image's parts, for one profile (u->part[UKI_*], size 0: absent). */
enum { UKI_LINUX, UKI_UCODE, UKI_INITRD, UKI_CMDLINE, UKI_OSREL, UKI_UNAME, UKI_PROFILE, UKI_PARTS };
struct uki {
	struct pe_file pe;
	struct blob part[UKI_PARTS];
	unsigned int nprofiles;		/* .profile sections: 0, one profile (0). */
	int profile;
};
/* Its parts as profile PROFILE has them; -1 if it has no .linux or is no sound PE file. */
int uki_parse(struct blob f, int profile, struct uki *u, char *err, size_t errsz);
unsigned int uki_profiles(const struct pe_file *pe);

/* relocs.c: the table Linux appends to a decompressed vmlinux (tail), as struct pvhstub_relocs. */
int relocs_read(struct blob tail, struct kernel_image *k, uint8_t **table, size_t *size,
		char *err, size_t errsz);

/* decompress.c */
#ifndef DECOMPRESS_MAX
#define DECOMPRESS_MAX	(512u << 20)	/* No vmlinux is larger: beyond is a bomb. */
#endif
const char *compression_name(struct blob payload);
int decompress_payload(struct blob payload, uint8_t **out, size_t *outlen, char *err, size_t errsz);

/* place.c: handoff is 32, 64, or 0 for the stub's default. */
void segments_footprint(const struct kernel_image *k, uint64_t *start, uint64_t *end);
int wrap_plan(const struct stub_image *s, const struct kernel_image *k, int handoff,
	      struct wrap_plan *p, char *err, size_t errsz);

/* elfwrite.c: the PVH ELF, ELF32 or ELF64, malloc'ed into *out. */
int elf_build(const struct stub_image *s, const struct kernel_image *k, const struct wrap_plan *p,
	      int elf32, uint8_t **out, size_t *outsz, char *err, size_t errsz);

/* wrap.c */
enum wrap_kaslr {
	WRAP_KASLR_DEFAULT,		/* virtual, for a pre-decompressed kernel */
	WRAP_KASLR_OFF,
	WRAP_KASLR_VIRT,		/* the virtual offset only: no move */
	WRAP_KASLR_FULL,		/* virtual offset and physical slot */
};
struct wrap_opts {
	int handoff;			/* 32, 64, or 0 for the stub's default */
	int decompress;
	int elf32;			/* ELF32 even for a 64-bit kernel */
	enum wrap_kaslr kaslr;
	const char *kaslr_opt;		/* How the user said it ("--no-kaslr"), for messages. */
	/* What the image carries of its own (after a UKI's .ucode and .initrd). */
	const struct blob *initrds;	/* --initrd files, in order */
	int ninitrds;
	const char *cmdline;		/* --cmdline (replaces a UKI's .cmdline), or NULL */
	uint32_t cmdline_policy;	/* 0 (the loader's when not empty), PI_CMDLINE_EMBEDDED or _APPEND */
	int profile;			/* A UKI's profile */
};
struct wrap_out {
	uint8_t *img;			/* malloc'ed */
	size_t size;
	uint32_t relocs;		/* Relocations kept for KASLR. */
	char note[768];			/* Warnings for the user, a line each, or "". */
	int uki;			/* KERNEL was a Unified Kernel Image. */
};
int wrap_image(struct blob stub, struct blob kernel, const struct wrap_opts *o,
	       struct wrap_out *out, char *err, size_t errsz);
int extract_vmlinux(struct blob kernel, uint8_t **out, size_t *outsz, char *err, size_t errsz);

/* inspect.c: prints to out, as text or one JSON object; stub: the stub a wrap would use. */
int inspect_image(FILE *out, const char *name, struct blob f, struct blob stub, int json,
		  char *err, size_t errsz);
/* The JSON object for a file inspect could not read. */
void json_error(FILE *out, const char *name, const char *err);

/* xlconfig.c */
enum { XL_ON_POWEROFF, XL_ON_REBOOT, XL_ON_CRASH, XL_ON_MAX };
/* A command-line option that may repeat. */
#define STR_LIST_MAX	8
struct str_list {
	const char *s[STR_LIST_MAX];
	int n;
};

struct xl_opts {
	const char *name, *kernel, *ramdisk, *cmdline;	/* kernel, ramdisk: as dom0 names them */
	unsigned long long memory, vcpus;		/* MiB; 0: the defaults */
	unsigned long long ramdisk_size;		/* bytes */
	const char *on[XL_ON_MAX];			/* NULL: the default action */
	struct str_list disks, vifs;			/* xl's DISKSPEC and VIFSPEC strings */
};
int xl_action_valid(const char *action);
/* The config text (malloc'ed), after checking memory against the image. */
int xlconfig_text(struct blob img, const struct xl_opts *o, char **text, size_t *len,
		  char *err, size_t errsz);

#endif /* PVHSTUB_TOOL_H */
