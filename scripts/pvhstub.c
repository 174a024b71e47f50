// SPDX-License-Identifier: MIT
/*
 * pvhstub: the host tool.
 *
 *   pvhstub wrap [--stub STUB.elf] KERNEL -o OUT
 *
 * Wraps a bzImage into a PVH ELF image with the stub this tool was built
 * with (or --stub).  OUT is written atomically: on any error, nothing is
 * left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tool.h"

#define MAX_INPUT	(512u << 20)	/* No kernel is this large. */

extern const uint8_t stub_blob[], stub_blob_end[];

static const char usage[] =
	"Usage: pvhstub wrap [--decompress] [--handoff 32|64] [--stub STUB.elf] KERNEL -o OUT\n"
	"       pvhstub inspect IMAGE\n"
	"       pvhstub extract BZIMAGE -o VMLINUX\n"
	"       pvhstub xlconfig IMAGE [options] -o OUT.cfg\n"
	"       pvhstub --help\n"
	"\n"
	"Wrap KERNEL into OUT, a PVH ELF image that Xen, QEMU, Firecracker and Cloud\n"
	"Hypervisor boot through the kernel's native entry.  KERNEL is a Linux bzImage\n"
	"(boot protocol 2.10 or later, relocatable) or an x86-64 vmlinux (ELF).\n"
	"\n"
	"  -o, --output OUT   the image to write (atomically; never partially)\n"
	"      --decompress   decompress a bzImage's payload now (gzip, xz, lzma,\n"
	"                     bzip2, lz4, zstd, lzo) and wrap the vmlinux inside,\n"
	"                     so that the kernel does not decompress itself at boot;\n"
	"                     implies --handoff 64; at most 512 MiB decompressed\n"
	"      --handoff 32|64\n"
	"                     enter the kernel through the 32-bit or the 64-bit\n"
	"                     boot protocol (default: the stub's Kconfig choice)\n"
	"      --stub FILE    use this linked stub (build/stub.elf) instead of\n"
	"                     the one built into this tool\n"
	"  -h, --help         show this help\n"
	"\n"
	"inspect prints what IMAGE (a bzImage, a vmlinux or a wrapped image) is: its\n"
	"version, boot protocol, xloadflags, init_size, the memory it will occupy, its\n"
	"ELF notes, and which loaders will accept it.\n"
	"extract writes the vmlinux inside a bzImage (decompressed, as --decompress).\n"
	"\n"
	"xlconfig writes an xl domain config (type = \"pvh\") for a wrapped IMAGE:\n"
	"  --name NAME        domain name (default: the image's file name)\n"
	"  --memory MIB       guest memory (default: enough for the kernel's window,\n"
	"                     the ramdisk and 256 MiB more); too little is an error\n"
	"  --vcpus N          (default 1)\n"
	"  --ramdisk FILE     the initrd\n"
	"  --cmdline STRING   the kernel command line\n"
	"  --dir DIR          where IMAGE and the ramdisk will be on dom0: the config\n"
	"                     names DIR/<file name> (default: their absolute paths here)\n"
	"  --on-poweroff A, --on-reboot A, --on-crash A\n"
	"                     destroy, restart, preserve, rename-restart, coredump-destroy\n"
	"                     or coredump-restart (defaults: destroy, restart, destroy)\n";

static int read_file(const char *path, struct blob *b, char *err, size_t errsz)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errsz, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_INPUT) {
		snprintf(err, errsz, "not a regular file of at most %u MiB", MAX_INPUT >> 20);
		close(fd);
		return -1;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, st.st_size - got);

		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	if (!buf || got != (size_t)st.st_size) {
		snprintf(err, errsz, "could not read it all");
		free(buf);
		return -1;
	}
	b->data = buf;
	b->size = got;
	return 0;
}

/* Write to a temporary file beside OUT, then rename it into place. */
static int write_atomic(const char *path, const uint8_t *data, size_t size, char *err, size_t errsz)
{
	size_t len = strlen(path);
	char *tmp = malloc(len + sizeof(".tmp.XXXXXX"));
	size_t done = 0;
	int fd;

	if (!tmp) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	memcpy(tmp, path, len);
	memcpy(tmp + len, ".tmp.XXXXXX", sizeof(".tmp.XXXXXX"));
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);

		if (n <= 0)
			break;
		done += n;
	}
	if (done != size || fchmod(fd, 0644) || fsync(fd) || close(fd) || rename(tmp, path)) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno ? errno : EIO));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

/*
 * A bzImage, or with --decompress the vmlinux inside it (keeping the
 * bzImage's setup header), or a vmlinux as it is.
 */
static int parse_kernel(struct blob f, int decompress, struct kernel_image *k, char *err,
			size_t errsz)
{
	static struct kernel_image bz;
	uint8_t *elf;
	size_t elfsz;

	if (f.size >= 4 && !memcmp(f.data, "\x7f" "ELF", 4))
		return vmlinux_parse(f, k, NULL, err, errsz);
	if (bzimage_parse(f, decompress ? &bz : k, err, errsz))
		return -1;
	if (!decompress)
		return 0;
	if (decompress_payload(bz.payload, &elf, &elfsz, err, errsz))
		return -1;
	/* elf stays allocated: the image is built from it. */
	if (vmlinux_parse((struct blob){ elf, elfsz }, k, &bz, err, errsz)) {
		char msg[512];

		snprintf(msg, sizeof(msg), "the decompressed payload: %.400s", err);
		snprintf(err, errsz, "%s", msg);
		return -1;
	}
	return 0;
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int cmd_wrap(int argc, char **argv)
{
	const char *kernel = NULL, *output = NULL, *stub_path = NULL;
	int handoff = 0, decompress = 0;
	struct blob kfile, sfile = { stub_blob, stub_blob_end - stub_blob };
	struct kernel_image k;
	struct stub_image s;
	struct wrap_plan plan;
	char err[512];
	uint8_t *img;
	size_t imgsz;

	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc)
			output = argv[++i];
		else if (!strcmp(argv[i], "--stub") && i + 1 < argc)
			stub_path = argv[++i];
		else if (!strcmp(argv[i], "--decompress"))
			decompress = 1;
		else if (!strcmp(argv[i], "--handoff") && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "32") && strcmp(argv[i], "64")) {
				fprintf(stderr, "pvhstub wrap: --handoff takes 32 or 64, not '%s'\n", argv[i]);
				return 2;
			}
			handoff = atoi(argv[i]);
		}
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return 0;
		} else if (argv[i][0] == '-' || kernel) {
			fprintf(stderr, "pvhstub wrap: unexpected argument '%s'\n\n%s", argv[i], usage);
			return 2;
		} else
			kernel = argv[i];
	}
	if (!kernel || !output) {
		fprintf(stderr, "pvhstub wrap: need KERNEL and -o OUT\n\n%s", usage);
		return 2;
	}
	if (same_file(kernel, output)) {
		fprintf(stderr, "pvhstub wrap: refusing to overwrite the input %s\n", kernel);
		return 1;
	}
	if ((stub_path && read_file(stub_path, &sfile, err, sizeof(err))) ||
	    stub_parse(sfile, &s, err, sizeof(err))) {
		fprintf(stderr, "pvhstub wrap: stub %s: %s\n", stub_path ? stub_path : "(built in)", err);
		return 1;
	}
	if (read_file(kernel, &kfile, err, sizeof(err)) ||
	    parse_kernel(kfile, decompress, &k, err, sizeof(err)) ||
	    wrap_plan(&s, &k, handoff, &plan, err, sizeof(err)) ||
	    elf_build(&s, &k, &plan, &img, &imgsz, err, sizeof(err))) {
		fprintf(stderr, "pvhstub wrap: %s: %s\n", kernel, err);
		return 1;
	}
	if (write_atomic(output, img, imgsz, err, sizeof(err))) {
		fprintf(stderr, "pvhstub wrap: %s\n", err);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "wrap"))
		return cmd_wrap(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "inspect"))
		return cmd_inspect(argc - 1, argv + 1, read_file);
	if (argc >= 2 && !strcmp(argv[1], "extract"))
		return cmd_extract(argc - 1, argv + 1, read_file, write_atomic);
	if (argc >= 2 && !strcmp(argv[1], "xlconfig")) {
		int rc = cmd_xlconfig(argc - 1, argv + 1, read_file, write_atomic);

		if (rc == 2)
			fputs(usage, stderr);
		return rc;
	}
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage, stdout);
		return 0;
	}
	fprintf(stderr, "pvhstub: %s\n\n%s", argc < 2 ? "no command" : "unknown command", usage);
	return 2;
}
