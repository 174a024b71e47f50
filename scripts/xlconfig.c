// SPDX-License-Identifier: MIT
/*
 * pvhstub xlconfig: an xl domain config for a wrapped image.  It reads the
 * image's info block so that it can refuse a memory size that cannot hold
 * the kernel's decompression window plus the ramdisk.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tool.h"

#define MIB (1ULL << 20)

static const char *const actions[] = {
	"destroy", "restart", "preserve", "rename-restart", "coredump-destroy", "coredump-restart",
};

/* Write s as an xl config string: double quotes, with " and \\ escaped. */
static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static int valid_action(const char *a)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (!strcmp(a, actions[i]))
			return 1;
	return 0;
}

/* The path xl will use: DIR/basename with --dir, else the absolute path here. */
static int guest_path(const char *path, const char *dir, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	char *real;

	if (dir) {
		snprintf(out, size, "%s/%s", dir, slash ? slash + 1 : path);
		return 0;
	}
	real = realpath(path, NULL);
	if (!real)
		return -1;
	snprintf(out, size, "%s", real);
	free(real);
	return 0;
}

int cmd_xlconfig(int argc, char **argv, int (*read_file)(const char *, struct blob *, char *, size_t),
		 int (*write_atomic)(const char *, const uint8_t *, size_t, char *, size_t))
{
	const char *image = NULL, *output = NULL, *name = NULL, *ramdisk = NULL, *cmdline = NULL;
	const char *dir = NULL;
	const char *on[3] = { "destroy", "restart", "destroy" };
	static const char *const on_names[3] = { "on_poweroff", "on_reboot", "on_crash" };
	unsigned long long memory = 0, vcpus = 1, need;
	char err[512], kpath[4096], rpath[4096] = "", *text = NULL;
	struct pvhstub_info info;
	struct blob img;
	struct stat st;
	size_t textsz = 0;
	FILE *f;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return 2;
		if (a[0] != '-') {
			if (image)
				goto usage;
			image = a;
			continue;
		}
		if (!v)
			goto usage;
		i++;
		if (!strcmp(a, "-o") || !strcmp(a, "--output"))
			output = v;
		else if (!strcmp(a, "--name"))
			name = v;
		else if (!strcmp(a, "--ramdisk"))
			ramdisk = v;
		else if (!strcmp(a, "--cmdline"))
			cmdline = v;
		else if (!strcmp(a, "--dir"))
			dir = v;
		else if (!strcmp(a, "--memory") || !strcmp(a, "--vcpus")) {
			unsigned long long n = strtoull(v, &end, 10);

			if (*end || !n || n > (1ULL << 24)) {
				fprintf(stderr, "pvhstub xlconfig: %s wants a positive number, not '%s'\n", a, v);
				return 1;
			}
			*(a[2] == 'm' ? &memory : &vcpus) = n;
		} else if (!strncmp(a, "--on-", 5)) {
			int k = !strcmp(a, "--on-poweroff") ? 0 : !strcmp(a, "--on-reboot") ? 1 :
				!strcmp(a, "--on-crash") ? 2 : -1;

			if (k < 0)
				goto usage;
			if (!valid_action(v)) {
				fprintf(stderr, "pvhstub xlconfig: %s: unknown action '%s'\n", a, v);
				return 1;
			}
			on[k] = v;
		} else
			goto usage;
	}
	if (!image || !output)
		goto usage;

	if (read_file(image, &img, err, sizeof(err)) || wrapped_info(img, &info, err, sizeof(err))) {
		fprintf(stderr, "pvhstub xlconfig: %s: %s\n", image, err);
		return 1;
	}
	guest_path(image, dir, kpath, sizeof(kpath));
	need = (info.window_end + MIB - 1) / MIB;
	if (ramdisk) {
		if (stat(ramdisk, &st) || guest_path(ramdisk, dir, rpath, sizeof(rpath))) {
			fprintf(stderr, "pvhstub xlconfig: ramdisk %s: cannot find it\n", ramdisk);
			return 1;
		}
		need += (st.st_size + MIB - 1) / MIB;
	}
	if (!memory)
		memory = need + 256;
	if (memory < need + 16) {
		fprintf(stderr, "pvhstub xlconfig: --memory %llu MiB is too small: the kernel's window ends at %llu MiB%s; give at least %llu MiB\n",
			memory, (unsigned long long)((info.window_end + MIB - 1) / MIB),
			ramdisk ? " and the ramdisk needs room too" : "", need + 16);
		return 1;
	}
	if (!name) {
		const char *slash = strrchr(image, '/');

		name = slash ? slash + 1 : image;
	}

	f = open_memstream(&text, &textsz);
	if (!f) {
		fprintf(stderr, "pvhstub xlconfig: out of memory\n");
		return 1;
	}
	fprintf(f, "# xl domain config for a pvhstub image; written by 'pvhstub xlconfig'.\n");
	fprintf(f, "# Use: xl create THIS_FILE\n");
	fprintf(f, "type = \"pvh\"\nname = ");
	put_string(f, name);
	fprintf(f, "\nmemory = %llu\nvcpus = %llu\nkernel = ", memory, vcpus);
	put_string(f, kpath);
	fputc('\n', f);
	if (ramdisk) {
		fprintf(f, "ramdisk = ");
		put_string(f, rpath);
		fputc('\n', f);
	}
	if (cmdline) {
		fprintf(f, "cmdline = ");
		put_string(f, cmdline);
		fputc('\n', f);
	}
	for (int k = 0; k < 3; k++)
		fprintf(f, "%s = \"%s\"\n", on_names[k], on[k]);
	fclose(f);
	rc = write_atomic(output, (const uint8_t *)text, textsz, err, sizeof(err));
	free(text);
	if (rc) {
		fprintf(stderr, "pvhstub xlconfig: %s\n", err);
		return 1;
	}
	return 0;
usage:
	fprintf(stderr, "pvhstub xlconfig: need IMAGE and -o OUT (see pvhstub --help)\n");
	return 2;
}
