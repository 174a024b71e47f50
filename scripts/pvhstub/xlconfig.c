// SPDX-License-Identifier: MIT
/*
 * pvhstub xlconfig: an xl domain config for a wrapped image.  It reads the
 * image's info block so that it can refuse a memory size that cannot hold
 * the kernel's decompression window plus the ramdisk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"

static const char *const actions[] = {
	"destroy", "restart", "preserve", "rename-restart", "coredump-destroy", "coredump-restart",
};

static const char *const on_names[XL_ON_MAX] = { "on_poweroff", "on_reboot", "on_crash" };
static const char *const on_defaults[XL_ON_MAX] = { "destroy", "restart", "destroy" };

int xl_action_valid(const char *a)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (!strcmp(a, actions[i]))
			return 1;
	return 0;
}

/* An xl string: double quotes, with " and \ escaped. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* key = "value" */
static void put_string(FILE *f, const char *key, const char *s)
{
	fprintf(f, "%s = ", key);
	put_quoted(f, s);
	fputc('\n', f);
}

/* key = [ "a", "b" ], if the list has any. */
static void put_list(FILE *f, const char *key, const struct str_list *l)
{
	if (!l->n)
		return;
	fprintf(f, "%s = [ ", key);
	for (int i = 0; i < l->n; i++) {
		put_quoted(f, l->s[i]);
		fputs(i + 1 < l->n ? ", " : " ]\n", f);
	}
}

/*
 * An empty spec is a mistake xl would report late.  (Control characters,
 * a newline among them, are refused with the other strings, in main.c.)
 */
static int check_specs(const char *opt, const struct str_list *l, char *err, size_t errsz)
{
	for (int i = 0; i < l->n; i++)
		if (!*l->s[i]) {
			snprintf(err, errsz, "%s: '' is not an xl spec (it is empty)", opt);
			return -1;
		}
	return 0;
}

/* Where the image's memory ends: the window, or above it the initrd and command line it carries. */
static uint64_t image_end(const struct pvhstub_info *info)
{
	uint64_t end = info->window_end;

	if (info->initrd_size && info->initrd_addr + info->initrd_size > end)
		end = info->initrd_addr + info->initrd_size;
	if (info->cmdline_len && (uint64_t)info->cmdline_addr + info->cmdline_len > end)
		end = (uint64_t)info->cmdline_addr + info->cmdline_len;
	return end;
}

/* The MiB the guest needs at least: the image, the ramdisk, 16 MiB more. */
static unsigned long long memory_needed(const struct pvhstub_info *info, const struct xl_opts *o)
{
	return (image_end(info) + MIB - 1) / MIB + (o->ramdisk_size + MIB - 1) / MIB + 16;
}

static int check_memory(const struct pvhstub_info *info, const struct xl_opts *o,
			unsigned long long *memory, char *err, size_t errsz)
{
	unsigned long long need = memory_needed(info, o);

	*memory = o->memory ? o->memory : need + 240;
	if (*memory < need) {
		snprintf(err, errsz, "--memory %llu MiB is too small: the %s ends at %llu MiB%s; give at least %llu MiB",
			 *memory, info->initrd_size ? "image, with the initrd it carries," : "kernel's window",
			 (unsigned long long)((image_end(info) + MIB - 1) / MIB),
			 o->ramdisk ? " and the ramdisk needs room too" : "", need);
		return -1;
	}
	return 0;
}

static void write_config(FILE *f, const struct xl_opts *o, unsigned long long memory)
{
	fprintf(f, "# xl domain config for a pvhstub image; written by 'pvhstub xlconfig'.\n");
	fprintf(f, "# Use: xl create THIS_FILE\n");
	fprintf(f, "type = \"pvh\"\n");
	put_string(f, "name", o->name);
	fprintf(f, "memory = %llu\nvcpus = %llu\n", memory, o->vcpus ? o->vcpus : 1);
	put_string(f, "kernel", o->kernel);
	if (o->ramdisk)
		put_string(f, "ramdisk", o->ramdisk);
	if (o->cmdline)
		put_string(f, "cmdline", o->cmdline);
	put_list(f, "disk", &o->disks);
	put_list(f, "vif", &o->vifs);
	for (int k = 0; k < XL_ON_MAX; k++)
		fprintf(f, "%s = \"%s\"\n", on_names[k], o->on[k] ? o->on[k] : on_defaults[k]);
}

int xlconfig_text(struct blob img, const struct xl_opts *o, char **text, size_t *len,
		  char *err, size_t errsz)
{
	struct pvhstub_info info;
	unsigned long long memory;
	FILE *f;

	if (check_specs("--disk", &o->disks, err, errsz) || check_specs("--vif", &o->vifs, err, errsz) ||
	    wrapped_info(img, &info, err, errsz) || check_memory(&info, o, &memory, err, errsz))
		return -1;
	*text = NULL;
	f = open_memstream(text, len);
	if (!f) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	write_config(f, o, memory);
	if (fclose(f)) {
		free(*text);
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	return 0;
}
