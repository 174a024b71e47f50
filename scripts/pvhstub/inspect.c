// SPDX-License-Identifier: MIT
/*
 * pvhstub inspect: what a kernel image is, where it will sit in memory,
 * its notes, whether pvhstub wrap takes it, and which loaders will take
 * it.  Works on bzImages, vmlinux files, Unified Kernel Images and images
 * made by pvhstub wrap.
 * Each fact is said twice, once for each form: a line of text for people
 * (text()), and a JSON member for programs (jnum(), jstr(), ...); only the
 * form asked for is printed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/elfnote.h>
#include "tool.h"

#ifndef PVHSTUB_VERSION
#define PVHSTUB_VERSION "unknown"
#endif

#define MAX_WARNINGS	8

struct report {
	FILE *out;
	int json;
	int comma;			/* JSON: a member came before, in this object or array. */
	int nwarn;
	char warn[MAX_WARNINGS][320];	/* JSON: said at the end. */
};

/* --- The two forms ------------------------------------------------------- */

__attribute__((format(printf, 2, 3)))
static void text(struct report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->json)
		return;
	va_start(ap, fmt);
	vfprintf(r->out, fmt, ap);
	va_end(ap);
}

static void json_string(FILE *out, const char *s, size_t n)
{
	fputc('"', out);
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* "key": (or nothing in an array), after a comma if one is due. */
static void jkey(struct report *r, const char *key)
{
	if (r->comma)
		fputc(',', r->out);
	r->comma = 1;
	if (key) {
		json_string(r->out, key, strlen(key));
		fputc(':', r->out);
	}
}

static void jnum(struct report *r, const char *key, unsigned long long v)
{
	if (r->json) {
		jkey(r, key);
		fprintf(r->out, "%llu", v);
	}
}

static void jbool(struct report *r, const char *key, int v)
{
	if (r->json) {
		jkey(r, key);
		fputs(v ? "true" : "false", r->out);
	}
}

/* A string, or null for NULL. */
static void jstr(struct report *r, const char *key, const char *s)
{
	if (r->json) {
		jkey(r, key);
		if (s)
			json_string(r->out, s, strlen(s));
		else
			fputs("null", r->out);
	}
}

/* { or [, and its end. */
static void jopen(struct report *r, const char *key, char brace)
{
	if (r->json) {
		jkey(r, key);
		fputc(brace, r->out);
		r->comma = 0;
	}
}

static void jclose(struct report *r, char brace)
{
	if (r->json) {
		fputc(brace, r->out);
		r->comma = 1;
	}
}

/* A warning: a line of text where it arises (after indent), or a JSON string at the end. */
__attribute__((format(printf, 3, 4)))
static void warn(struct report *r, const char *indent, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (!r->json) {
		fprintf(r->out, "%swarning: ", indent);
		vfprintf(r->out, fmt, ap);
		fputc('\n', r->out);
	} else if (r->nwarn < MAX_WARNINGS) {
		vsnprintf(r->warn[r->nwarn++], sizeof(r->warn[0]), fmt, ap);
	}
	va_end(ap);
}

void json_error(FILE *out, const char *name, const char *err)
{
	fprintf(out, "{\"pvhstub\":\"%s\",\"file\":", PVHSTUB_VERSION);
	json_string(out, name, strlen(name));
	fputs(",\"error\":", out);
	json_string(out, err, strlen(err));
	fputs("}\n", out);
}

/* --- The setup header ------------------------------------------------------ */

static const char *const xlf_names[] = {
	"KERNEL_64", "CAN_BE_LOADED_ABOVE_4G", "EFI_HANDOVER_32", "EFI_HANDOVER_64",
	"EFI_KEXEC", "5LEVEL", "5LEVEL_ENABLED", "MEM_ENCRYPTION",
};

static void print_xloadflags(struct report *r, uint16_t x)
{
	text(r, "xloadflags:      0x%x", x);
	jnum(r, "xloadflags", x);
	jopen(r, "xloadflags_names", '[');
	for (unsigned int i = 0; i < sizeof(xlf_names) / sizeof(xlf_names[0]); i++)
		if (x & (1u << i)) {
			text(r, " %s", xlf_names[i]);
			jstr(r, NULL, xlf_names[i]);
		}
	jclose(r, ']');
	text(r, "\n");
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

static void print_header(struct report *r, const struct kernel_image *k)
{
	const struct setup_header *h = (const void *)k->setup_hdr;
	char buf[32];

	text(r, "boot protocol:   %u.%02u\n", k->protocol >> 8, k->protocol & 0xff);
	snprintf(buf, sizeof(buf), "%u.%02u", k->protocol >> 8, k->protocol & 0xff);
	jstr(r, "boot_protocol", buf);
	print_xloadflags(r, k->xloadflags);
	text(r, "relocatable:     %s\n", h->relocatable_kernel ? "yes" : "no");
	jbool(r, "relocatable", h->relocatable_kernel);
	if (k->protocol < 0x020a) {
		text(r, "init_size, pref_address: none (they came with boot protocol 2.10)\n");
	} else {
		text(r, "kernel_alignment: 0x%x\n", k->kernel_alignment);
		text(r, "pref_address:    0x%llx\n", (unsigned long long)k->pref_address);
		text(r, "init_size:       0x%x (%s)\n", k->init_size, human(k->init_size, buf, sizeof(buf)));
		jnum(r, "kernel_alignment", k->kernel_alignment);
		jnum(r, "pref_address", k->pref_address);
		jnum(r, "init_size", k->init_size);
	}
	text(r, "cmdline_size:    %u\n", h->cmdline_size);
	text(r, "initrd_addr_max: 0x%x\n", h->initrd_addr_max);
	jnum(r, "cmdline_size", h->cmdline_size);
	jnum(r, "initrd_addr_max", h->initrd_addr_max);
}

/* --- Notes ----------------------------------------------------------------- */

enum note_form { NOTE_HEX, NOTE_STRING, NOTE_NUMBER };

static const struct {
	const char *owner;
	uint32_t type;
	const char *name;
	enum note_form form;
} known_notes[] = {
	{ "Xen", XEN_ELFNOTE_INFO, "INFO", NOTE_STRING },
	{ "Xen", XEN_ELFNOTE_ENTRY, "ENTRY", NOTE_NUMBER },
	{ "Xen", XEN_ELFNOTE_HYPERCALL_PAGE, "HYPERCALL_PAGE", NOTE_NUMBER },
	{ "Xen", XEN_ELFNOTE_VIRT_BASE, "VIRT_BASE", NOTE_NUMBER },
	{ "Xen", XEN_ELFNOTE_PADDR_OFFSET, "PADDR_OFFSET", NOTE_NUMBER },
	{ "Xen", XEN_ELFNOTE_XEN_VERSION, "XEN_VERSION", NOTE_STRING },
	{ "Xen", XEN_ELFNOTE_GUEST_OS, "GUEST_OS", NOTE_STRING },
	{ "Xen", XEN_ELFNOTE_GUEST_VERSION, "GUEST_VERSION", NOTE_STRING },
	{ "Xen", XEN_ELFNOTE_LOADER, "LOADER", NOTE_STRING },
	{ "Xen", XEN_ELFNOTE_PAE_MODE, "PAE_MODE", NOTE_STRING },
	{ "Xen", XEN_ELFNOTE_FEATURES, "FEATURES", NOTE_STRING },
	{ "Xen", XEN_ELFNOTE_BSD_SYMTAB, "BSD_SYMTAB", NOTE_STRING },
	{ "Xen", XEN_ELFNOTE_HV_START_LOW, "HV_START_LOW", NOTE_NUMBER },
	{ "Xen", XEN_ELFNOTE_L1_MFN_VALID, "L1_MFN_VALID", NOTE_HEX },
	{ "Xen", XEN_ELFNOTE_SUSPEND_CANCEL, "SUSPEND_CANCEL", NOTE_NUMBER },
	{ "Xen", XEN_ELFNOTE_INIT_P2M, "INIT_P2M", NOTE_NUMBER },
	{ "Xen", XEN_ELFNOTE_MOD_START_PFN, "MOD_START_PFN", NOTE_NUMBER },
	{ "Xen", XEN_ELFNOTE_SUPPORTED_FEATURES, "SUPPORTED_FEATURES", NOTE_NUMBER },
	{ "Xen", XEN_ELFNOTE_PHYS32_ENTRY, "PHYS32_ENTRY", NOTE_NUMBER },
	{ "GNU", NT_GNU_BUILD_ID, "BUILD_ID", NOTE_HEX },
	{ "GNU", NT_GNU_PROPERTY_TYPE_0, "PROPERTY_TYPE_0", NOTE_HEX },
	{ "Linux", 0x100, "BUILD_SALT", NOTE_STRING },
	{ "Linux", 0x101, "LTO_INFO", NOTE_NUMBER },
	{ PVHSTUB_NOTE_NAME, PVHSTUB_NOTE_VERSION, "the kernel version", NOTE_STRING },
};

/* What the notes say; with print set, each note is reported too. */
struct note_walk {
	struct report *r;
	int print;
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

/* Printable characters, then only NULs (or none): its length, else -1. */
static int note_string(const struct elf_note *n)
{
	uint32_t i = 0, len;

	while (i < n->descsz && n->desc[i] >= 0x20 && n->desc[i] < 0x7f)
		i++;
	for (len = i; i < n->descsz && !n->desc[i]; i++)
		;
	return len && i == n->descsz ? (int)len : -1;
}

static void print_note(struct report *r, const struct elf_note *n)
{
	const char *name = NULL;
	enum note_form form = NOTE_HEX;
	int owner_len = (int)(n->namesz ? strnlen(n->name, n->namesz) : 0);
	char hex[16 * 3 + 8] = "";
	unsigned long long v = 0;

	for (size_t i = 0; i < sizeof(known_notes) / sizeof(known_notes[0]) && !name; i++)
		if (note_is(n, known_notes[i].owner, known_notes[i].type)) {
			name = known_notes[i].name;
			form = known_notes[i].form;
		}
	if (form == NOTE_STRING && note_string(n) < 0)
		form = NOTE_HEX;
	if (form == NOTE_NUMBER && n->descsz != 4 && n->descsz != 8)
		form = NOTE_HEX;
	if (form == NOTE_NUMBER)
		for (uint32_t i = n->descsz; i--;)
			v = v << 8 | n->desc[i];
	for (uint32_t i = 0; form == NOTE_HEX && i < n->descsz && i < 16; i++)
		snprintf(hex + 3 * i, 4, " %02x", n->desc[i]);
	if (n->descsz > 16 && form == NOTE_HEX)
		strcat(hex, " ...");

	text(r, "  %-7.*s ", owner_len, n->name);
	if (name)
		text(r, "%-18s", name);
	else
		text(r, n->type < 256 ? "type %-13u" : "type %#-13x", n->type);
	if (form == NOTE_STRING)
		text(r, " \"%.*s\"\n", note_string(n), (const char *)n->desc);
	else if (form == NOTE_NUMBER)
		text(r, " 0x%llx\n", v);
	else
		text(r, "%s (%u bytes)\n", hex, n->descsz);

	if (!r->json)
		return;
	jopen(r, NULL, '{');
	jkey(r, "owner");
	json_string(r->out, n->name, (size_t)owner_len);
	jnum(r, "type", n->type);
	jstr(r, "type_name", name);
	jnum(r, "size", n->descsz);
	if (form == NOTE_STRING) {
		jkey(r, "string");
		json_string(r->out, (const char *)n->desc, (size_t)note_string(n));
	} else if (form == NOTE_NUMBER) {
		jnum(r, "value", v);
	} else {
		char *buf = malloc(2 * (size_t)n->descsz + 1);

		for (uint32_t i = 0; buf && i < n->descsz; i++)
			snprintf(buf + 2 * i, 3, "%02x", n->desc[i]);
		if (buf) {
			buf[2 * n->descsz] = '\0';
			jstr(r, "hex", buf);
		}
		free(buf);
	}
	jclose(r, '}');
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
	if (w->print)
		print_note(w->r, n);
	return 0;
}

/* --- Verdicts --------------------------------------------------------------- */

/* Whether pvhstub wrap takes the image, with its defaults, and where it would go. */
static void print_verdict(struct report *r, struct blob stub, struct blob f)
{
	static const struct wrap_opts defaults;
	struct pvhstub_info info;
	struct wrap_out w;
	char err[512];

	jopen(r, "wrap", '{');
	if (wrap_image(stub, f, &defaults, &w, err, sizeof(err))) {
		text(r, "pvhstub wrap:    no: %s\n", err);
		jbool(r, "ok", 0);
		jstr(r, "reason", err);
		jclose(r, '}');
		return;
	}
	jbool(r, "ok", 1);
	if (!wrapped_info((struct blob){ w.img, w.size }, &info, err, sizeof(err))) {
		text(r, "pvhstub wrap:    yes: %s-bit handoff to 0x%llx, window [0x%llx, 0x%llx), ELF%s\n",
		     info.flags & PI_HANDOFF_64 ? "64" : "32", (unsigned long long)info.entry,
		     (unsigned long long)info.window_start, (unsigned long long)info.window_end,
		     w.img[EI_CLASS] == ELFCLASS64 ? "64" : "32");
		jnum(r, "handoff", info.flags & PI_HANDOFF_64 ? 64 : 32);
		jnum(r, "entry", info.entry);
		jnum(r, "window_start", info.window_start);
		jnum(r, "window_end", info.window_end);
		jnum(r, "elf_class", w.img[EI_CLASS] == ELFCLASS64 ? 64 : 32);
	}
	jclose(r, '}');
	if (w.note[0])
		warn(r, "                 ", "%s", w.note);
	free(w.img);
}

static void loader(struct report *r, const char *name, int ok, const char *how)
{
	text(r, "  %-18s %s (%s)\n", name, ok ? "yes" : "no ", how);
	jopen(r, name, '{');
	jbool(r, "ok", ok);
	jstr(r, "why", how);
	jclose(r, '}');
}

/* --- ELF files ------------------------------------------------------------ */

/* What the program headers say. */
struct segments {
	uint64_t lo, hi;		/* The PT_LOAD footprint. */
	int pt_notes;
	int bad_loads;			/* PT_LOADs whose bytes leave the file. */
};

static void scan_segments(struct report *r, const struct elf_file *e, struct segments *sg)
{
	GElf_Phdr ph;

	*sg = (struct segments){ .lo = ~0ULL };
	jopen(r, "segments", '[');
	for (size_t i = 0; !elf_file_phdr(e, i, &ph); i++) {
		jopen(r, NULL, '{');
		jstr(r, "type", ph.p_type == PT_LOAD ? "LOAD" : ph.p_type == PT_NOTE ? "NOTE" : NULL);
		jnum(r, "p_type", ph.p_type);
		jnum(r, "offset", ph.p_offset);
		jnum(r, "vaddr", ph.p_vaddr);
		jnum(r, "paddr", ph.p_paddr);
		jnum(r, "filesz", ph.p_filesz);
		jnum(r, "memsz", ph.p_memsz);
		jnum(r, "flags", ph.p_flags);
		jnum(r, "align", ph.p_align);
		jclose(r, '}');
		if (ph.p_type == PT_LOAD && ph.p_memsz) {
			sg->lo = ph.p_paddr < sg->lo ? ph.p_paddr : sg->lo;
			sg->hi = ph.p_paddr + ph.p_memsz > sg->hi ? ph.p_paddr + ph.p_memsz : sg->hi;
		}
		sg->bad_loads += ph.p_type == PT_LOAD && !elf_file_bytes(e, ph.p_offset, ph.p_filesz);
		sg->pt_notes += ph.p_type == PT_NOTE;
	}
	jclose(r, ']');
}

static void kaslr_by(struct report *r, const char *by, const char *line)
{
	text(r, "KASLR:           %s\n", line);
	jstr(r, "by", by);
}

/* The file bytes a PT_LOAD holds at [paddr, + len), or NULL. */
static const uint8_t *loaded_bytes(const struct elf_file *e, uint64_t paddr, uint64_t len)
{
	GElf_Phdr ph;

	for (size_t i = 0; !elf_file_phdr(e, i, &ph); i++)
		if (ph.p_type == PT_LOAD && paddr >= ph.p_paddr && paddr - ph.p_paddr <= ph.p_filesz &&
		    len <= ph.p_filesz - (paddr - ph.p_paddr))
			return elf_file_bytes(e, ph.p_offset + (paddr - ph.p_paddr), len);
	return NULL;
}

/* Who randomizes the kernel, and with what. */
static void print_kaslr(struct report *r, const struct elf_file *e, const struct pvhstub_info *info)
{
	struct pvhstub_relocs h;
	const uint8_t *bytes;
	char line[160];

	jopen(r, "kaslr", '{');
	if (info->version < 2) {
		kaslr_by(r, "kernel", "the kernel's decompressor, if it has one (an image from pvhstub 0.1)");
		goto out;
	}
	if (!info->kernel_end) {
		kaslr_by(r, "kernel", "the kernel's own decompressor (nokaslr turns it off)");
		goto out;
	}
	if (info->flags & PI_KASLR_NONE) {
		snprintf(line, sizeof(line), "none: the kernel has no relocation table kept; it runs at 0x%llx",
			 (unsigned long long)info->window_start);
		kaslr_by(r, "none", line);
		goto out;
	}
	if (!(info->flags & PI_KASLR_VIRT)) {
		snprintf(line, sizeof(line), "off (wrapped with --kaslr off); the kernel runs at 0x%llx",
			 (unsigned long long)info->window_start);
		kaslr_by(r, "off", line);
		goto out;
	}
	bytes = loaded_bytes(e, info->relocs_addr, sizeof(h));
	if (!bytes || (memcpy(&h, bytes, sizeof(h)), h.magic != PVHSTUB_RELOCS_MAGIC)) {
		snprintf(line, sizeof(line), "by the stub, but its relocation table at 0x%llx is missing: the stub will refuse to boot",
			 (unsigned long long)info->relocs_addr);
		kaslr_by(r, "broken", line);
		goto out;
	}
	kaslr_by(r, "stub", info->flags & PI_KASLR_PHYS ?
		 "by the stub: virtual offset and physical slot (nokaslr turns it off)" :
		 "by the stub: virtual offset (nokaslr turns it off)");
	jbool(r, "physical", !!(info->flags & PI_KASLR_PHYS));
	text(r, "relocations:     %u (64-bit %u, 32-bit %u, inverse 32-bit %u), a %u-byte table at 0x%llx\n",
	     h.count[RELOCS_64] + h.count[RELOCS_32] + h.count[RELOCS_32_INV], h.count[RELOCS_64],
	     h.count[RELOCS_32], h.count[RELOCS_32_INV], info->relocs_size,
	     (unsigned long long)info->relocs_addr);
	jnum(r, "relocations_64", h.count[RELOCS_64]);
	jnum(r, "relocations_32", h.count[RELOCS_32]);
	jnum(r, "relocations_32_inverse", h.count[RELOCS_32_INV]);
	jnum(r, "table_addr", info->relocs_addr);
	jnum(r, "table_size", info->relocs_size);
	jnum(r, "relocs_lists", h.source_lists);
	text(r, "relocs format:   %s\n",
	     h.source_lists == 3 ? "3 lists (64-bit, inverse 32-bit, 32-bit: Linux up to 6.14)" :
	     h.source_lists == 2 ? "2 lists (64-bit, 32-bit: Linux 6.15 and later)" :
	     "not recorded (an image from an older pvhstub)");
	if (info->flags & PI_KASLR_PHYS) {
		uint64_t size = info->kernel_end - info->window_start;
		const struct setup_header *sh = (const void *)info->setup_hdr;
		uint64_t moved = info->version >= 3 && info->move_size && info->move_size < size ?
				 info->move_size : size;

		if (moved < size)
			text(r, "physical move:   %llu of the kernel's %llu bytes (the rest is .bss, .brk and .init.scratch, which it clears itself)\n",
			     (unsigned long long)moved, (unsigned long long)size);
		else
			text(r, "physical move:   all of the kernel's %llu bytes\n", (unsigned long long)size);
		text(r, "physical slots:  2 MiB-aligned, in e820 RAM from 0x%llx %s\n",
		     (unsigned long long)info->window_start,
		     sh->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G ? "up to 512 GiB (CAN_BE_LOADED_ABOVE_4G)" :
		     "below 4 GiB (no CAN_BE_LOADED_ABOVE_4G)");
		jnum(r, "move_bytes", moved);
		jnum(r, "kernel_bytes", size);
		jnum(r, "slots_from", info->window_start);
		jnum(r, "slots_below", sh->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G ? 512ULL << 30 : FOUR_GIB);
	}
out:
	jclose(r, '}');
}

/* What the stub was told: the handoff, the payload and its setup header. */
static const char *policy_name(uint32_t flags)
{
	return flags & PI_CMDLINE_EMBEDDED ? "embedded" : flags & PI_CMDLINE_APPEND ? "append" : "loader";
}

/* A command line as text: "..." with its bytes, or (none). */
static void print_cmdline(struct report *r, const char *key, const char *label, const uint8_t *c, size_t n)
{
	text(r, "%s", label);
	if (c)
		text(r, "\"%.*s\"\n", (int)n, (const char *)c);
	else
		text(r, "(none)\n");
	if (r->json) {
		jkey(r, key);
		if (c)
			json_string(r->out, (const char *)c, n);
		else
			fputs("null", r->out);
	}
}

/* What a wrapped image carries of its own: an initrd, a command line. */
static void print_carried(struct report *r, const struct elf_file *e, const struct pvhstub_info *info)
{
	const uint8_t *c = info->cmdline_len ? loaded_bytes(e, info->cmdline_addr, info->cmdline_len) : NULL;

	if (info->initrd_size)
		text(r, "carried initrd:  0x%llx bytes at 0x%llx; the loader's initrd, if any, follows it\n",
		     (unsigned long long)info->initrd_size, (unsigned long long)info->initrd_addr);
	else
		text(r, "carried initrd:  none\n");
	jnum(r, "carried_initrd_size", info->initrd_size);
	jnum(r, "carried_initrd_addr", info->initrd_addr);
	print_cmdline(r, "carried_cmdline", "carried cmdline: ", c, info->cmdline_len);
	if (info->cmdline_len && !c)
		warn(r, "", "the carried command line at 0x%x lies outside the image's segments",
		     info->cmdline_addr);
	text(r, "cmdline policy:  %s\n", !info->cmdline_len ? "the loader's (the image carries none)" :
	     info->flags & PI_CMDLINE_EMBEDDED ? "embedded: the carried one; the loader's is ignored" :
	     info->flags & PI_CMDLINE_APPEND ? "append: the carried one, then the loader's" :
	     "loader: the loader's when it is not empty, else the carried one");
	jstr(r, "cmdline_policy", policy_name(info->flags));
}

static void print_wrapped(struct report *r, const struct pvhstub_info *info)
{
	const struct setup_header *h = (const void *)info->setup_hdr;
	struct kernel_image k = {
		.setup_hdr = info->setup_hdr, .protocol = h->version, .xloadflags = h->xloadflags,
		.kernel_alignment = h->kernel_alignment, .pref_address = h->pref_address,
		.init_size = h->init_size,
	};

	text(r, "handoff:         %s-bit, to 0x%llx\n", info->flags & PI_HANDOFF_64 ? "64" : "32",
	     (unsigned long long)info->entry);
	text(r, "payload:         0x%llx bytes at 0x%llx\n", (unsigned long long)info->payload_size,
	     (unsigned long long)info->payload_addr);
	text(r, "window:          [0x%llx, 0x%llx), reserved in the ELF\n",
	     (unsigned long long)info->window_start, (unsigned long long)info->window_end);
	jnum(r, "handoff", info->flags & PI_HANDOFF_64 ? 64 : 32);
	jnum(r, "entry", info->entry);
	jnum(r, "payload_addr", info->payload_addr);
	jnum(r, "payload_size", info->payload_size);
	jnum(r, "window_start", info->window_start);
	jnum(r, "window_end", info->window_end);
	jbool(r, "linux", !!(info->flags & PI_LINUX));
	print_header(r, &k);
}

/*
 * Which loaders take an ELF.  kernel64: the kernel inside needs long mode
 * (qemu-system-i386's CPUs have none; the stub refuses to boot it there).
 */
static void print_elf_loaders(struct report *r, int elf64, int kernel64, const struct note_walk *w,
			      const struct segments *sg)
{
	int pvh = w->phys32_entry;

	text(r, "loaders:\n");
	jopen(r, "loaders", '{');
	loader(r, "qemu-system-x86_64", pvh, pvh ? "PVH: the PHYS32_ENTRY note" : "an ELF without a PVH note");
	loader(r, "qemu-system-i386", pvh && !elf64 && !kernel64, elf64 ? "takes ELF32 only" :
	       kernel64 ? "a 64-bit kernel, and its CPUs have no long mode" :
	       pvh ? "PVH: the PHYS32_ENTRY note" : "an ELF without a PVH note");
	loader(r, "Xen PVH (xl, dom0)", pvh, pvh ? "the PHYS32_ENTRY note, ELF32 or ELF64" : "no PHYS32_ENTRY note");
	loader(r, "Firecracker", elf64, !elf64 ? "takes ELF64 only" :
	       pvh ? "ELF64 with a PVH note: PVH boot" : "ELF64: 64-bit Linux boot");
	loader(r, "Cloud Hypervisor", elf64 && pvh, !elf64 ? "takes ELF64 only" :
	       pvh ? "ELF64 with a PVH note" : "needs a PVH note");
	jclose(r, '}');
	if (w->gnu_property)
		warn(r, "", "a .note.gnu.property note: QEMU's note parser may fail on it");
	if (sg->pt_notes > 1)
		warn(r, "", "%d PT_NOTE headers; some loaders read only the first", sg->pt_notes);
	if (sg->bad_loads)
		warn(r, "", "%d PT_LOAD segments lie outside the file: loaders will refuse it", sg->bad_loads);
}

static const char *machine_name(uint16_t m)
{
	return m == EM_X86_64 ? "x86-64" : m == EM_386 ? "i386" : m == EM_AARCH64 ? "AArch64" :
	       m == EM_ARM ? "ARM" : m == EM_RISCV ? "RISC-V" : m == EM_PPC64 ? "PowerPC 64" :
	       m == EM_S390 ? "S/390" : "not x86";
}

static int inspect_elf(struct report *r, struct blob f, struct blob stub, char *err, size_t errsz)
{
	struct note_walk w = { .r = r };
	struct pvhstub_info info;
	struct kernel_image k;
	struct segments sg;
	struct elf_file e;
	const char *version = NULL;
	int wrapped, bad_notes, kernel64;

	if (elf_file_open(f, NULL, &e, err, errsz))
		return -1;
	bad_notes = elf_file_notes(&e, walk_note, &w);
	wrapped = !wrapped_info(f, &info, NULL, 0);
	if (wrapped) {
		version = w.version[0] ? w.version : NULL;
		kernel64 = !!(((const struct setup_header *)info.setup_hdr)->xloadflags & XLF_KERNEL_64);
	} else {
		/* A vmlinux: the version from its banner; not a kernel: none. */
		kernel64 = e.class == ELFCLASS64;
		if (!vmlinux_parse(f, &k, NULL, err, errsz) && k.version[0])
			version = k.version;
	}
	text(r, "kind:            %s\n", wrapped ? "PVH image made by pvhstub wrap" :
	     e.class == ELFCLASS64 ? "ELF64 (vmlinux)" : "ELF32");
	jstr(r, "kind", wrapped ? "pvhstub-image" : elf_file_x86(&e) ? "vmlinux" : "elf");
	text(r, "version:         %s\n", version ? version : "(none)");
	jstr(r, "version", version);
	text(r, "e_machine:       %u (%s), ELF%d, e_flags 0x%x, e_entry 0x%llx\n", e.eh.e_machine,
	     machine_name(e.eh.e_machine), e.class == ELFCLASS64 ? 64 : 32, e.eh.e_flags,
	     (unsigned long long)e.eh.e_entry);
	jnum(r, "elf_class", e.class == ELFCLASS64 ? 64 : 32);
	jnum(r, "e_machine", e.eh.e_machine);
	jstr(r, "machine", machine_name(e.eh.e_machine));
	jnum(r, "e_entry", e.eh.e_entry);
	jnum(r, "e_flags", e.eh.e_flags);
	jnum(r, "e_phoff", e.eh.e_phoff);
	jnum(r, "e_phentsize", e.eh.e_phentsize);
	scan_segments(r, &e, &sg);
	if (wrapped) {
		print_wrapped(r, &info);
		print_kaslr(r, &e, &info);
		print_carried(r, &e, &info);
	}
	print_verdict(r, stub, f);
	if (sg.hi) {
		text(r, "footprint:       [0x%llx, 0x%llx): %llu MiB from %llu MiB; loaders put modules above it\n",
		     (unsigned long long)sg.lo, (unsigned long long)sg.hi,
		     (unsigned long long)((sg.hi - sg.lo) / MIB + !!((sg.hi - sg.lo) % MIB)),
		     (unsigned long long)(sg.lo / MIB));
		jnum(r, "footprint_start", sg.lo);
		jnum(r, "footprint_end", sg.hi);
	} else {
		text(r, "footprint:       none (no PT_LOAD with memory)\n");
	}
	text(r, "notes (%d PT_NOTE):\n", sg.pt_notes);
	jopen(r, "notes", '[');
	w.print = 1;
	elf_file_notes(&e, walk_note, &w);
	jclose(r, ']');
	if (bad_notes)
		warn(r, "", "a PT_NOTE lies outside the file; its notes are not shown");
	print_elf_loaders(r, e.class == ELFCLASS64, kernel64, &w, &sg);
	elf_file_close(&e);
	return 0;
}

/* --- bzImages ----------------------------------------------------------------- */

static int inspect_bzimage(struct report *r, struct blob f, struct blob stub, char *err, size_t errsz)
{
	struct kernel_image k;
	const char *comp;
	char buf[32];
	int k64;

	if (bzimage_parse(f, &k, err, errsz))
		return -1;
	comp = compression_name(k.payload);
	k64 = !!(k.xloadflags & XLF_KERNEL_64);
	text(r, "kind:            bzImage\n");
	jstr(r, "kind", "bzimage");
	text(r, "version:         %s\n", k.version[0] ? k.version : "(none)");
	jstr(r, "version", k.version[0] ? k.version : NULL);
	print_header(r, &k);
	text(r, "payload:         %s, %zu bytes\n", comp ? comp : "unknown", k.payload.size);
	jstr(r, "compression", comp);
	jnum(r, "payload_size", k.payload.size);
	if (k.protocol >= 0x020a)
		text(r, "footprint:       the protected-mode code (%zu bytes) and its decompression window of %s at 0x%llx%s\n",
		     k.pm.size, human(k.init_size, buf, sizeof(buf)), (unsigned long long)k.pref_address,
		     k.relocatable ? " or above" : "");
	print_verdict(r, stub, f);
	text(r, "loaders:\n");
	jopen(r, "loaders", '{');
	loader(r, "qemu-system-x86_64", 1, "Linux boot protocol, through the firmware");
	loader(r, "qemu-system-i386", !k64, k64 ? "a 64-bit kernel, and its CPUs have no long mode" :
	       "Linux boot protocol, through the firmware");
	loader(r, "Xen PVH (xl, dom0)", 0, "needs a PVH ELF: pvhstub wrap");
	loader(r, "Firecracker", 0, "needs an ELF: pvhstub wrap");
	loader(r, "Cloud Hypervisor", 0, "needs a PVH ELF: pvhstub wrap");
	jclose(r, '}');
	return 0;
}

/* --- Unified Kernel Images -------------------------------------------------- */

/* KEY="value" or KEY=value from an os-release text, into buf; NULL if absent. */
static const char *osrel_value(struct blob t, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);

	for (size_t at = 0; at < t.size;) {
		const char *line = (const char *)t.data + at;
		size_t n = 0;

		while (at + n < t.size && line[n] != '\n' && line[n])
			n++;
		if (n > klen && !memcmp(line, key, klen) && line[klen] == '=') {
			const char *v = line + klen + 1;
			size_t vn = n - klen - 1;

			if (vn >= 2 && (v[0] == '"' || v[0] == '\'') && v[vn - 1] == v[0]) {
				v++;
				vn -= 2;
			}
			snprintf(buf, size, "%.*s", (int)vn, v);
			return buf;
		}
		at += n + 1;
	}
	return NULL;
}

/* A short text section (.uname) as a string, up to its first NUL or newline. */
static const char *section_text(struct blob b, char *buf, size_t size)
{
	size_t n = 0;

	if (!b.size)
		return NULL;
	while (n < b.size && b.data[n] && b.data[n] != '\n')
		n++;
	snprintf(buf, size, "%.*s", (int)n, (const char *)b.data);
	return buf;
}

static void print_uki_profiles(struct report *r, struct blob f, const struct pe_file *pe)
{
	char id[128], title[256];
	unsigned int n = 0;

	text(r, "profiles:        %u%s\n", uki_profiles(pe), uki_profiles(pe) ? "" : " (one: 0)");
	jopen(r, "profiles", '[');
	for (unsigned int i = 0; i < pe->nsec; i++) {
		struct blob t = { f.data + pe->sec[i].offset, pe->sec[i].size };
		const char *v_id, *v_title;

		if (strcmp(pe->sec[i].name, ".profile"))
			continue;
		v_id = osrel_value(t, "ID", id, sizeof(id));
		v_title = osrel_value(t, "TITLE", title, sizeof(title));
		text(r, "  %u: ID %s, TITLE %s\n", n++, v_id ? v_id : "(none)", v_title ? v_title : "(none)");
		jopen(r, NULL, '{');
		jstr(r, "id", v_id);
		jstr(r, "title", v_title);
		jclose(r, '}');
	}
	jclose(r, ']');
}

static int inspect_uki(struct report *r, struct blob f, struct blob stub, char *err, size_t errsz)
{
	struct uki *u = malloc(sizeof(*u));
	char buf[256], buf2[256];
	struct kernel_image k;
	const char *v;

	if (!u) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (uki_parse(f, 0, u, err, errsz)) {
		free(u);
		return -1;
	}
	text(r, "kind:            Unified Kernel Image (a PE file with .linux)\n");
	jstr(r, "kind", "uki");
	v = section_text(u->part[UKI_UNAME], buf, sizeof(buf));
	text(r, "uname:           %s\n", v ? v : "(none)");
	jstr(r, "uname", v);
	v = osrel_value(u->part[UKI_OSREL], "PRETTY_NAME", buf2, sizeof(buf2));
	if (!v)
		v = osrel_value(u->part[UKI_OSREL], "NAME", buf2, sizeof(buf2));
	text(r, "os-release:      %s\n", v ? v : "(none)");
	jstr(r, "os_release", v);
	text(r, "sections:\n");
	jopen(r, "sections", '[');
	for (unsigned int i = 0; i < u->pe.nsec; i++) {
		text(r, "  %-9s 0x%x bytes at 0x%llx\n", u->pe.sec[i].name, u->pe.sec[i].size,
		     (unsigned long long)u->pe.sec[i].offset);
		jopen(r, NULL, '{');
		jstr(r, "name", u->pe.sec[i].name);
		jnum(r, "offset", u->pe.sec[i].offset);
		jnum(r, "size", u->pe.sec[i].size);
		jclose(r, '}');
	}
	jclose(r, ']');
	print_uki_profiles(r, f, &u->pe);
	text(r, "signed:          %s\n", u->pe.signed_size ? "yes (a certificate table)" : "no");
	jbool(r, "signed", !!u->pe.signed_size);
	if (u->pe.signed_size)
		warn(r, "", "the UKI is signed, but its signature covers the PE file only: an image pvhstub wrap makes of it is not signed, and nothing checks it at boot");
	text(r, "initrd (profile 0): .ucode 0x%zx bytes, .initrd 0x%zx bytes\n", u->part[UKI_UCODE].size,
	     u->part[UKI_INITRD].size);
	jnum(r, "ucode_size", u->part[UKI_UCODE].size);
	jnum(r, "initrd_size", u->part[UKI_INITRD].size);
	print_cmdline(r, "cmdline", "cmdline (profile 0): ", u->part[UKI_CMDLINE].size ? u->part[UKI_CMDLINE].data : NULL,
		      u->part[UKI_CMDLINE].size);
	if (!bzimage_parse(u->part[UKI_LINUX], &k, err, errsz)) {
		text(r, "version:         %s\n", k.version[0] ? k.version : "(none)");
		jstr(r, "version", k.version[0] ? k.version : NULL);
		print_header(r, &k);
	} else {
		text(r, ".linux:          not a bzImage: %s\n", err);
		jstr(r, "linux_error", err);
	}
	print_verdict(r, stub, f);
	text(r, "loaders:\n");
	jopen(r, "loaders", '{');
	loader(r, "qemu-system-x86_64", 0, "an EFI program: only with UEFI firmware (OVMF), else pvhstub wrap");
	loader(r, "qemu-system-i386", 0, "an EFI program for x86-64");
	loader(r, "Xen PVH (xl, dom0)", 0, "needs a PVH ELF: pvhstub wrap");
	loader(r, "Firecracker", 0, "needs an ELF: pvhstub wrap");
	loader(r, "Cloud Hypervisor", 0, "needs a PVH ELF: pvhstub wrap");
	jclose(r, '}');
	free(u);
	return 0;
}

int inspect_image(FILE *out, const char *name, struct blob f, struct blob stub, int json,
		  char *err, size_t errsz)
{
	struct report *r = calloc(1, sizeof(*r));
	int rc;

	if (!r) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	r->out = out;
	r->json = json;
	text(r, "file:            %s (%zu bytes)\n", name, f.size);
	jopen(r, NULL, '{');
	jstr(r, "pvhstub", PVHSTUB_VERSION);
	jstr(r, "file", name);
	jnum(r, "size", f.size);
	if (f.size >= SELFMAG && !memcmp(f.data, ELFMAG, SELFMAG))
		rc = inspect_elf(r, f, stub, err, errsz);
	else if (uki_candidate(f))
		rc = inspect_uki(r, f, stub, err, errsz);
	else
		rc = inspect_bzimage(r, f, stub, err, errsz);
	if (json) {
		if (rc)
			jstr(r, "error", err);
		jopen(r, "warnings", '[');
		for (int i = 0; i < r->nwarn; i++)
			jstr(r, NULL, r->warn[i]);
		jclose(r, ']');
		jclose(r, '}');
		fputc('\n', out);
	}
	free(r);
	return rc;
}
