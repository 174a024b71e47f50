// SPDX-License-Identifier: MIT
/*
 * pvhstub: the host tool's command line.
 *
 *   pvhstub wrap [--decompress] [--handoff 32|64] [--stub STUB.elf] KERNEL -o OUT
 *   pvhstub inspect IMAGE
 *   pvhstub extract BZIMAGE -o VMLINUX
 *   pvhstub xlconfig IMAGE [options] -o OUT.cfg
 *
 * Each command reads its arguments through one parser (getopt_long, so
 * options and operands come in any order), reads its inputs whole, hands
 * them to its stage (wrap.c, inspect.c, xlconfig.c), and writes its output
 * atomically: on any error, nothing is left behind.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tool.h"

extern const uint8_t stub_blob[], stub_blob_end[];
#define builtin_stub	((struct blob){ stub_blob, (size_t)(stub_blob_end - stub_blob) })

static const char usage[] =
	"Usage: pvhstub wrap [--decompress] [--kaslr MODE | --no-kaslr] [--handoff 32|64] [--elf32]\n"
	"                    [--stub STUB.elf] KERNEL -o OUT\n"
	"       pvhstub inspect IMAGE\n"
	"       pvhstub extract BZIMAGE -o VMLINUX\n"
	"       pvhstub xlconfig IMAGE [options] -o OUT.cfg\n"
	"       pvhstub --help\n"
	"\n"
	"Wrap KERNEL into OUT, a PVH ELF image that Xen, QEMU, Firecracker and Cloud\n"
	"Hypervisor boot through the kernel's native entry.  KERNEL is a Linux bzImage\n"
	"(boot protocol 2.10 or later) or a vmlinux (ELF, x86-64 or i386).\n"
	"\n"
	"  -o, --output OUT   the image to write (atomically; never partially)\n"
	"      --decompress   decompress a bzImage's payload now (gzip, xz, lzma,\n"
	"                     bzip2, lz4, zstd, lzo) and wrap the vmlinux inside,\n"
	"                     so that the kernel does not decompress itself at boot;\n"
	"                     an x86-64 kernel then takes the 64-bit handoff, an\n"
	"                     i386 one the 32-bit one; at most 512 MiB decompressed\n"
	"      --kaslr MODE   KASLR for a pre-decompressed x86-64 kernel, done by\n"
	"                     the stub with the kernel's relocation table:\n"
	"                     'virtual' (the default: a random virtual offset, no\n"
	"                     move), 'full' (also a random physical slot, the\n"
	"                     kernel moved there, as a native boot does), or\n"
	"                     'off'; 'nokaslr' on the command line turns it off too\n"
	"      --no-kaslr     the same as --kaslr off\n"
	"      --handoff 32|64\n"
	"                     enter the kernel through the 32-bit or the 64-bit\n"
	"                     boot protocol (default: the stub's Kconfig choice)\n"
	"      --elf32        write an ELF32 image even for a 64-bit kernel (an i386\n"
	"                     kernel always gets one; Firecracker and Cloud\n"
	"                     Hypervisor take only ELF64, qemu-system-i386 only ELF32)\n"
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
	"                     or coredump-restart (defaults: destroy, restart, destroy)\n"
	"  --disk SPEC        a PV disk, in xl's disk syntax (xl-disk-configuration(5)),\n"
	"                     e.g. 'format=raw,vdev=xvda,access=rw,target=/srv/g.img';\n"
	"                     repeat for more (the kernel needs xen-blkfront)\n"
	"  --vif SPEC         a PV network interface, in xl's vif syntax\n"
	"                     (xl-network-configuration(5)), e.g. 'bridge=xenbr0';\n"
	"                     repeat for more (the kernel needs xen-netfront)\n";

/* One option of a command: a flag, a value (a string, checked later), or a repeatable value. */
struct cli_opt {
	const char *name;		/* Long name, */
	char letter;			/*   and short name, or 0. */
	const char **value;		/* Takes a value, stored here; */
	int *flag;			/*   or a flag, set to 1. */
	int required;
	struct str_list *list;		/* Or a value that may repeat, added here. */
};

/* A command: its options, and the operands it takes. */
struct cli {
	const char *cmd;		/* "wrap" */
	const struct cli_opt *opts;	/* Ending with { NULL }. */
	int nargs;			/* Operands, into args[]. */
	const char *needs;		/* "KERNEL and -o OUT", for the message. */
};

#define MAX_OPTS	16
#define CLI_GO_ON	(-1)

static int usage_error(const char *cmd, const char *what, const char *arg)
{
	fprintf(stderr, "pvhstub %s: %s%s%s%s\nTry 'pvhstub --help'.\n", cmd, what, arg ? " '" : "",
		arg ? arg : "", arg ? "'" : "");
	return 2;
}

/* One operand into args[], if the command takes another. */
static int operand(const struct cli *c, const char **args, int *got, char *arg)
{
	if (*got == c->nargs)
		return usage_error(c->cmd, "unexpected argument", arg);
	args[(*got)++] = arg;
	return CLI_GO_ON;
}

/*
 * Options and operands in any order, whatever POSIXLY_CORRECT says: the
 * leading '-' makes getopt_long hand operands over as they come.  Returns
 * CLI_GO_ON, or the exit status: 0 after --help, 2 after a usage error.
 */
static int cli_parse(const struct cli *c, int argc, char **argv, const char **args)
{
	struct option lo[MAX_OPTS + 1] = { { "help", no_argument, NULL, 'h' } };
	char shorts[2 * MAX_OPTS + 4] = "-:h";
	size_t n = 0, ns = 3;
	int got = 0, ch, rc;

	for (; c->opts[n].name && n + 1 < MAX_OPTS; n++) {
		const struct cli_opt *o = &c->opts[n];

		const int has_arg = o->value || o->list;

		lo[n + 1] = (struct option){ o->name, has_arg ? required_argument : no_argument, NULL,
					    o->letter ? o->letter : 0x100 + (int)n };
		if (o->letter) {
			shorts[ns++] = o->letter;
			if (has_arg)
				shorts[ns++] = ':';
		}
	}
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		const struct cli_opt *o = NULL;

		if (ch == 1) {
			if ((rc = operand(c, args, &got, optarg)) != CLI_GO_ON)
				return rc;
			continue;
		}
		if (ch == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		if (ch == '?' || ch == ':')
			return usage_error(c->cmd, ch == ':' ? "this option needs a value:" : "unknown option",
					   argv[optind - 1]);
		for (size_t i = 0; i < n && !o; i++)
			if (ch == (c->opts[i].letter ? c->opts[i].letter : 0x100 + (int)i))
				o = &c->opts[i];
		if (o->list) {
			if (o->list->n == STR_LIST_MAX) {
				char what[64];

				snprintf(what, sizeof(what), "at most %d --%s options", STR_LIST_MAX, o->name);
				return usage_error(c->cmd, what, NULL);
			}
			o->list->s[o->list->n++] = optarg;
		} else if (o->value) {
			*o->value = optarg;
		} else {
			*o->flag = 1;
		}
	}
	for (; optind < argc; optind++)		/* After "--". */
		if ((rc = operand(c, args, &got, argv[optind])) != CLI_GO_ON)
			return rc;
	for (size_t i = 0; i < n; i++)
		got -= c->opts[i].required && !*c->opts[i].value;
	if (got != c->nargs) {
		char what[128];

		snprintf(what, sizeof(what), "need %s", c->needs);
		return usage_error(c->cmd, what, NULL);
	}
	return CLI_GO_ON;
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Write out, or say why not. */
static int emit(const char *cmd, const char *path, const uint8_t *data, size_t size)
{
	char err[512];

	if (write_atomic(path, data, size, err, sizeof(err))) {
		fprintf(stderr, "pvhstub %s: %s\n", cmd, err);
		return 1;
	}
	return 0;
}

static int read_input(const char *cmd, const char *path, struct blob *b)
{
	char err[512];

	if (read_file(path, b, err, sizeof(err))) {
		fprintf(stderr, "pvhstub %s: %s: %s\n", cmd, path, err);
		return 1;
	}
	return 0;
}

static int parse_handoff(const char *v, int *handoff)
{
	if (!v)
		return 0;
	if (strcmp(v, "32") && strcmp(v, "64")) {
		fprintf(stderr, "pvhstub wrap: --handoff takes 32 or 64, not '%s'\n", v);
		return 2;
	}
	*handoff = atoi(v);
	return 0;
}

static int parse_kaslr(const char *v, int no_kaslr, enum wrap_kaslr *kaslr)
{
	static const char *const modes[] = { "off", "virtual", "full" };

	if (v && no_kaslr) {
		fprintf(stderr, "pvhstub wrap: --kaslr and --no-kaslr together\n");
		return 2;
	}
	if (no_kaslr)
		*kaslr = WRAP_KASLR_OFF;
	if (!v)
		return 0;
	for (int i = 0; i < 3; i++)
		if (!strcmp(v, modes[i])) {
			*kaslr = WRAP_KASLR_OFF + i;
			return 0;
		}
	fprintf(stderr, "pvhstub wrap: --kaslr takes virtual, full or off, not '%s'\n", v);
	return 2;
}

static int cmd_wrap(int argc, char **argv)
{
	const char *output = NULL, *stub_path = NULL, *handoff = NULL, *kaslr = NULL, *kernel;
	struct wrap_opts o = { 0 };
	int no_kaslr = 0;
	const struct cli_opt opts[] = {
		{ .name = "output", .letter = 'o', .value = &output, .required = 1 },
		{ .name = "stub", .value = &stub_path },
		{ .name = "handoff", .value = &handoff }, { .name = "decompress", .flag = &o.decompress },
		{ .name = "elf32", .flag = &o.elf32 }, { .name = "kaslr", .value = &kaslr },
		{ .name = "no-kaslr", .flag = &no_kaslr },
		{ NULL },
	};
	const struct cli cli = { "wrap", opts, 1, "KERNEL and -o OUT" };
	struct blob kfile, stub = builtin_stub;
	struct wrap_out w;
	char err[512];
	int rc;

	if ((rc = cli_parse(&cli, argc, argv, &kernel)) != CLI_GO_ON ||
	    (rc = parse_handoff(handoff, &o.handoff)) || (rc = parse_kaslr(kaslr, no_kaslr, &o.kaslr)))
		return rc;
	if (same_file(kernel, output)) {
		fprintf(stderr, "pvhstub wrap: refusing to overwrite the input %s\n", kernel);
		return 1;
	}
	if ((stub_path && read_input("wrap", stub_path, &stub)) || read_input("wrap", kernel, &kfile))
		return 1;
	if (wrap_image(stub, kfile, &o, &w, err, sizeof(err))) {
		fprintf(stderr, "pvhstub wrap: %s: %s\n", kernel, err);
		return 1;
	}
	if (w.note[0])
		fprintf(stderr, "pvhstub wrap: %s: warning: %s\n", kernel, w.note);
	return emit("wrap", output, w.img, w.size);
}

static int cmd_inspect(int argc, char **argv)
{
	const struct cli_opt opts[] = { { NULL } };
	const struct cli cli = { "inspect", opts, 1, "one IMAGE" };
	const char *image;
	struct blob f;
	char err[512];
	int rc;

	if ((rc = cli_parse(&cli, argc, argv, &image)) != CLI_GO_ON)
		return rc;
	if (read_input("inspect", image, &f))
		return 1;
	printf("file:            %s (%zu bytes)\n", image, f.size);
	if (inspect_image(stdout, f, builtin_stub, err, sizeof(err))) {
		fflush(stdout);
		fprintf(stderr, "pvhstub inspect: %s: %s\n", image, err);
		return 1;
	}
	return 0;
}

static int cmd_extract(int argc, char **argv)
{
	const char *output = NULL, *kernel;
	const struct cli_opt opts[] = {
		{ .name = "output", .letter = 'o', .value = &output, .required = 1 }, { NULL },
	};
	const struct cli cli = { "extract", opts, 1, "BZIMAGE and -o OUT" };
	struct blob f;
	char err[512];
	uint8_t *elf;
	size_t size;
	int rc;

	if ((rc = cli_parse(&cli, argc, argv, &kernel)) != CLI_GO_ON)
		return rc;
	if (read_input("extract", kernel, &f))
		return 1;
	if (extract_vmlinux(f, &elf, &size, err, sizeof(err))) {
		fprintf(stderr, "pvhstub extract: %s: %s\n", kernel, err);
		return 1;
	}
	return emit("extract", output, elf, size);
}
/* A positive count of at most 2^24 (MiB of memory, vCPUs). */
static int parse_count(const char *opt, const char *v, unsigned long long *n)
{
	char *end;

	if (!v)
		return 0;
	*n = strtoull(v, &end, 10);
	if (*end || !*v || *v == '-' || !*n || *n > (1ULL << 24)) {
		fprintf(stderr, "pvhstub xlconfig: %s wants a positive number, not '%s'\n", opt, v);
		return 1;
	}
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

/* The image and ramdisk as dom0 names them, and the ramdisk's size. */
static int resolve_paths(const char *image, const char *dir, struct xl_opts *o,
			 char *kpath, char *rpath, size_t size)
{
	struct stat st;

	if (guest_path(image, dir, kpath, size)) {
		fprintf(stderr, "pvhstub xlconfig: %s: cannot find it\n", image);
		return 1;
	}
	o->kernel = kpath;
	if (o->ramdisk) {
		if (stat(o->ramdisk, &st) || guest_path(o->ramdisk, dir, rpath, size)) {
			fprintf(stderr, "pvhstub xlconfig: ramdisk %s: cannot find it\n", o->ramdisk);
			return 1;
		}
		o->ramdisk_size = st.st_size;
		o->ramdisk = rpath;
	}
	if (!o->name) {
		const char *slash = strrchr(image, '/');

		o->name = slash ? slash + 1 : image;
	}
	return 0;
}

static int check_actions(const struct xl_opts *o)
{
	static const char *const flags[XL_ON_MAX] = { "--on-poweroff", "--on-reboot", "--on-crash" };

	for (int k = 0; k < XL_ON_MAX; k++)
		if (o->on[k] && !xl_action_valid(o->on[k])) {
			fprintf(stderr, "pvhstub xlconfig: %s: unknown action '%s'\n", flags[k], o->on[k]);
			return 1;
		}
	return 0;
}

static int cmd_xlconfig(int argc, char **argv)
{
	const char *output = NULL, *dir = NULL, *memory = NULL, *vcpus = NULL, *image;
	struct xl_opts o = { 0 };
	const struct cli_opt opts[] = {
		{ .name = "output", .letter = 'o', .value = &output, .required = 1 },
		{ .name = "name", .value = &o.name },
		{ .name = "memory", .value = &memory }, { .name = "vcpus", .value = &vcpus },
		{ .name = "ramdisk", .value = &o.ramdisk }, { .name = "cmdline", .value = &o.cmdline },
		{ .name = "dir", .value = &dir }, { .name = "on-poweroff", .value = &o.on[XL_ON_POWEROFF] },
		{ .name = "on-reboot", .value = &o.on[XL_ON_REBOOT] },
		{ .name = "on-crash", .value = &o.on[XL_ON_CRASH] },
		{ .name = "disk", .list = &o.disks }, { .name = "vif", .list = &o.vifs }, { NULL },
	};
	const struct cli cli = { "xlconfig", opts, 1, "IMAGE and -o OUT" };
	char err[512], kpath[PATH_MAX], rpath[PATH_MAX], *text;
	struct blob img;
	size_t len;
	int rc;

	if ((rc = cli_parse(&cli, argc, argv, &image)) != CLI_GO_ON)
		return rc;
	if (parse_count("--memory", memory, &o.memory) || parse_count("--vcpus", vcpus, &o.vcpus) ||
	    check_actions(&o) || read_input("xlconfig", image, &img) ||
	    resolve_paths(image, dir, &o, kpath, rpath, sizeof(kpath)))
		return 1;
	if (xlconfig_text(img, &o, &text, &len, err, sizeof(err))) {
		fprintf(stderr, "pvhstub xlconfig: %s: %s\n", image, err);
		return 1;
	}
	return emit("xlconfig", output, (const uint8_t *)text, len);
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "wrap", cmd_wrap }, { "inspect", cmd_inspect }, { "extract", cmd_extract },
	{ "xlconfig", cmd_xlconfig },
};

int main(int argc, char **argv)
{
	for (size_t i = 0; argc >= 2 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage, stdout);
		return 0;
	}
	fprintf(stderr, "pvhstub: %s\n\n%s", argc < 2 ? "no command" : "unknown command", usage);
	return 2;
}
