// SPDX-License-Identifier: MIT
/*
 * pvhstub: the host tool's command line.
 *
 *   pvhstub wrap [options] KERNEL -o OUT
 *   pvhstub inspect [--json] IMAGE...
 *   pvhstub extract BZIMAGE -o VMLINUX
 *   pvhstub xlconfig IMAGE [options] -o OUT.cfg
 *
 * Each command reads its arguments through one parser (getopt_long, so
 * options and operands come in any order), reads its inputs whole, hands
 * them to its stage (wrap.c, inspect.c, xlconfig.c), and writes its output
 * through file.c's one writer: checked before the work (never an input,
 * never anything but a regular file or standard output), written
 * completely or not at all.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tool.h"

extern const uint8_t stub_blob[], stub_blob_end[];
#define builtin_stub	((struct blob){ stub_blob, (size_t)(stub_blob_end - stub_blob) })

#ifndef PVHSTUB_VERSION
#define PVHSTUB_VERSION "unknown"
#endif

/*
 * The help texts, one per command.  The man page (docs/pvhstub.1) lists
 * the same options; make check compares the two.
 */
static const char usage[] =
	"Usage: pvhstub wrap [options] KERNEL -o OUT\n"
	"       pvhstub inspect [--json] IMAGE...\n"
	"       pvhstub extract BZIMAGE -o VMLINUX\n"
	"       pvhstub xlconfig IMAGE [options] -o OUT.cfg\n"
	"       pvhstub --version | --help\n"
	"\n"
	"wrap      turn a Linux bzImage, vmlinux or Unified Kernel Image into a PVH ELF\n"
	"          image that Xen, QEMU, Firecracker and Cloud Hypervisor boot through\n"
	"          the kernel's native entry\n"
	"inspect   say what a bzImage, vmlinux, UKI or wrapped image is, and who boots it\n"
	"extract   write the vmlinux inside a bzImage\n"
	"xlconfig  write an xl domain config (type = \"pvh\") for a wrapped image\n"
	"\n"
	"'pvhstub COMMAND --help' lists a command's options; 'man pvhstub' has the rest.\n";

static const char wrap_help[] =
	"Usage: pvhstub wrap [--decompress] [--kaslr MODE | --no-kaslr] [--handoff 32|64] [--elf32]\n"
	"                    [--initrd FILE]... [--cmdline STRING] [--cmdline-policy POLICY]\n"
	"                    [--profile N] [--stub STUB.elf] KERNEL -o OUT\n"
	"\n"
	"Wrap KERNEL into OUT, a PVH ELF image.  KERNEL is a Linux bzImage (boot\n"
	"protocol 2.05 or later), a vmlinux (ELF, x86-64 or i386), or a Unified\n"
	"Kernel Image (a PE file with a .linux section), whose .ucode, .initrd and\n"
	".cmdline the image then carries.\n"
	"\n"
	"  -o, --output OUT   the image to write, completely or not at all; '-' is\n"
	"                     standard output, when it is not a terminal\n"
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
	"      --initrd FILE  an initrd the image carries; repeat for more, joined in\n"
	"                     order (after a UKI's .ucode and .initrd); at boot the\n"
	"                     loader's initrd, if any, follows them\n"
	"      --cmdline STRING\n"
	"                     a command line the image carries (it replaces a\n"
	"                     UKI's .cmdline)\n"
	"      --cmdline-policy loader|embedded|append\n"
	"                     which command line the kernel gets: 'loader' (the\n"
	"                     default: the loader's when it is not empty, else the\n"
	"                     image's), 'embedded' (always the image's), or\n"
	"                     'append' (the image's, then the loader's)\n"
	"      --profile N    of a multi-profile UKI, profile N (default 0)\n"
	"      --stub FILE    use this linked stub (build/stub.elf) instead of\n"
	"                     the one built into this tool\n"
	"  -h, --help         show this help\n";

static const char inspect_help[] =
	"Usage: pvhstub inspect [--json] IMAGE...\n"
	"\n"
	"Say what each IMAGE (a bzImage, a vmlinux, a Unified Kernel Image or a wrapped\n"
	"image) is: its kernel version, boot protocol, xloadflags, init_size, the memory\n"
	"it will occupy, its ELF notes, a UKI's sections and profiles, the initrd and\n"
	"command line an image carries, whether 'pvhstub wrap' takes it, and which\n"
	"loaders boot it.\n"
	"\n"
	"      --json         one JSON object per IMAGE, one per line\n"
	"  -h, --help         show this help\n";

static const char extract_help[] =
	"Usage: pvhstub extract BZIMAGE -o VMLINUX\n"
	"\n"
	"Write the vmlinux inside BZIMAGE, decompressed.\n"
	"\n"
	"  -o, --output VMLINUX\n"
	"                     the file to write, completely or not at all; '-' is\n"
	"                     standard output, when it is not a terminal\n"
	"  -h, --help         show this help\n";

static const char xlconfig_help[] =
	"Usage: pvhstub xlconfig IMAGE [options] -o OUT.cfg\n"
	"\n"
	"Write an xl domain config (type = \"pvh\") for IMAGE, an image made by wrap.\n"
	"\n"
	"  -o, --output OUT.cfg\n"
	"                     the config to write; '-' is standard output\n"
	"      --name NAME    domain name (default: the image's file name)\n"
	"      --memory MIB   guest memory (default: enough for the kernel's window,\n"
	"                     the ramdisk and 256 MiB more); too little is an error\n"
	"      --vcpus N      (default 1)\n"
	"      --ramdisk FILE the initrd\n"
	"      --cmdline STRING\n"
	"                     the kernel command line\n"
	"      --dir DIR      where IMAGE and the ramdisk will be on dom0: the config\n"
	"                     names DIR/<file name> (default: their paths as given,\n"
	"                     made absolute; a symbolic link stays a link)\n"
	"      --on-poweroff ACTION, --on-reboot ACTION, --on-crash ACTION\n"
	"                     destroy, restart, preserve, rename-restart, coredump-destroy\n"
	"                     or coredump-restart (defaults: destroy, restart, destroy)\n"
	"      --disk SPEC    a PV disk, in xl's disk syntax (xl-disk-configuration(5)),\n"
	"                     e.g. 'format=raw,vdev=xvda,access=rw,target=/srv/g.img';\n"
	"                     repeat for more (the kernel needs xen-blkfront)\n"
	"      --vif SPEC     a PV network interface, in xl's vif syntax\n"
	"                     (xl-network-configuration(5)), e.g. 'bridge=xenbr0';\n"
	"                     repeat for more (the kernel needs xen-netfront)\n"
	"  -h, --help         show this help\n"
	"Strings with control characters (a newline, a tab) are refused: xl cannot read them.\n";

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
	int nargs;			/* Operands, into args[]; -1: one or more. */
	const char *needs;		/* "KERNEL and -o OUT", for the message. */
	const char *help;		/* Its --help text. */
};

#define MAX_OPTS	16
#define MAX_OPERANDS	64
#define CLI_GO_ON	(-1)

static int usage_error(const char *cmd, const char *what, const char *arg)
{
	fprintf(stderr, "pvhstub %s: %s%s%s%s\nTry 'pvhstub %s --help'.\n", cmd, what, arg ? " '" : "",
		arg ? arg : "", arg ? "'" : "", cmd);
	return 2;
}

/* One operand into args[], if the command takes another. */
static int operand(const struct cli *c, const char **args, int *got, char *arg)
{
	if (*got == (c->nargs < 0 ? MAX_OPERANDS : c->nargs))
		return usage_error(c->cmd, "unexpected argument", arg);
	args[(*got)++] = arg;
	return CLI_GO_ON;
}

/*
 * Options and operands in any order, whatever POSIXLY_CORRECT says: the
 * leading '-' makes getopt_long hand operands over as they come.  An
 * option that takes one value may be given once.  Returns CLI_GO_ON, or
 * the exit status: 0 after --help, 2 after a usage error; *nargs is the
 * number of operands.
 */
static int cli_parse(const struct cli *c, int argc, char **argv, const char **args, int *nargs)
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
			fputs(c->help, stdout);
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
			if (*o->value) {
				char what[64];

				snprintf(what, sizeof(what), "--%s given twice, the second time as", o->name);
				return usage_error(c->cmd, what, optarg);
			}
			*o->value = optarg;
		} else {
			*o->flag = 1;
		}
	}
	for (; optind < argc; optind++)		/* After "--". */
		if ((rc = operand(c, args, &got, argv[optind])) != CLI_GO_ON)
			return rc;
	*nargs = got;
	for (size_t i = 0; i < n; i++)
		got -= c->opts[i].required && !*c->opts[i].value;
	if (c->nargs < 0 ? got < 1 : got != c->nargs) {
		char what[128];

		snprintf(what, sizeof(what), "need %s", c->needs);
		return usage_error(c->cmd, what, NULL);
	}
	return CLI_GO_ON;
}

/* Check the output before the work: 0, or 1 after saying why not. */
static int output_start(const char *cmd, struct output *out, const char *path, int binary,
			const char *const *inputs, size_t n)
{
	char err[768];

	if (output_open(out, path, binary, inputs, n, err, sizeof(err))) {
		fprintf(stderr, "pvhstub %s: %s\n", cmd, err);
		return 1;
	}
	return 0;
}

/* Write the output, or say why not. */
static int emit(const char *cmd, struct output *out, const uint8_t *data, size_t size)
{
	char err[768];

	if (output_commit(out, data, size, err, sizeof(err))) {
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
	if (strcmp(v, "32") && strcmp(v, "64"))
		return usage_error("wrap", "--handoff takes 32 or 64, not", v);
	*handoff = atoi(v);
	return 0;
}

static int parse_kaslr(const char *v, int no_kaslr, struct wrap_opts *o)
{
	static const char *const modes[] = { "off", "virtual", "full" };

	if (v && no_kaslr)
		return usage_error("wrap", "--kaslr and --no-kaslr together", NULL);
	if (no_kaslr) {
		o->kaslr = WRAP_KASLR_OFF;
		o->kaslr_opt = "--no-kaslr";
	}
	if (!v)
		return 0;
	for (int i = 0; i < 3; i++)
		if (!strcmp(v, modes[i])) {
			o->kaslr = WRAP_KASLR_OFF + i;
			o->kaslr_opt = "--kaslr";
			return 0;
		}
	return usage_error("wrap", "--kaslr takes virtual, full or off, not", v);
}

/* 1, after saying why, if the file --stub names is no linked stub. */
static int stub_is_bad(const char *path, struct blob stub)
{
	struct stub_image s;
	char err[512];

	if (!stub_parse(stub, &s, err, sizeof(err)))
		return 0;
	fprintf(stderr, "pvhstub wrap: --stub %s: %s\n", path, err);
	return 1;
}

/* --cmdline-policy: 0 for loader (the default), else a PI_CMDLINE_* flag. */
static int parse_policy(const char *v, uint32_t *policy)
{
	if (!v || !strcmp(v, "loader"))
		return 0;
	if (!strcmp(v, "embedded"))
		*policy = PI_CMDLINE_EMBEDDED;
	else if (!strcmp(v, "append"))
		*policy = PI_CMDLINE_APPEND;
	else
		return usage_error("wrap", "--cmdline-policy takes loader, embedded or append, not", v);
	return 0;
}

/* --profile N: a number from 0 to 255. */
static int parse_profile(const char *v, int *profile)
{
	char *end;
	long n;

	if (!v)
		return 0;
	n = strtol(v, &end, 10);
	if (*end || !*v || *v == '-' || *v == '+' || n > 255)
		return usage_error("wrap", "--profile takes a profile number from 0 to 255, not", v);
	*profile = (int)n;
	return 0;
}

/* Every line of a wrap's warnings. */
static void print_notes(const char *kernel, const char *note)
{
	while (*note) {
		size_t n = strcspn(note, "\n");

		fprintf(stderr, "pvhstub wrap: %s: warning: %.*s\n", kernel, (int)n, note);
		note += n + (note[n] == '\n');
	}
}

static int cmd_wrap(int argc, char **argv)
{
	const char *output = NULL, *stub_path = NULL, *handoff = NULL, *kaslr = NULL, *kernel;
	const char *policy = NULL, *profile = NULL;
	struct wrap_opts o = { 0 };
	struct str_list initrds = { .n = 0 };
	int no_kaslr = 0, nargs;
	const struct cli_opt opts[] = {
		{ .name = "output", .letter = 'o', .value = &output, .required = 1 },
		{ .name = "stub", .value = &stub_path },
		{ .name = "handoff", .value = &handoff }, { .name = "decompress", .flag = &o.decompress },
		{ .name = "elf32", .flag = &o.elf32 }, { .name = "kaslr", .value = &kaslr },
		{ .name = "no-kaslr", .flag = &no_kaslr }, { .name = "initrd", .list = &initrds },
		{ .name = "cmdline", .value = &o.cmdline }, { .name = "cmdline-policy", .value = &policy },
		{ .name = "profile", .value = &profile },
		{ NULL },
	};
	const struct cli cli = { "wrap", opts, 1, "KERNEL and -o OUT", wrap_help };
	const char *inputs[2 + STR_LIST_MAX];
	struct blob kfile, stub = builtin_stub, rd[STR_LIST_MAX];
	struct output out;
	struct wrap_out w;
	char err[512];
	int rc, bad = 0;

	if ((rc = cli_parse(&cli, argc, argv, &kernel, &nargs)) != CLI_GO_ON ||
	    (rc = parse_handoff(handoff, &o.handoff)) || (rc = parse_kaslr(kaslr, no_kaslr, &o)) ||
	    (rc = parse_policy(policy, &o.cmdline_policy)) || (rc = parse_profile(profile, &o.profile)))
		return rc;
	inputs[0] = kernel;
	inputs[1] = stub_path;
	for (int i = 0; i < initrds.n; i++)
		inputs[2 + i] = initrds.s[i];
	if (output_start("wrap", &out, output, 1, inputs, 2 + (size_t)initrds.n))
		return 1;
	/* A bad --stub is named as such, not as the kernel. */
	if (stub_path && (read_input("wrap", stub_path, &stub) || stub_is_bad(stub_path, stub))) {
		output_abort(&out);
		return 1;
	}
	for (int i = 0; i < initrds.n && !bad; i++)
		bad = read_input("wrap", initrds.s[i], &rd[i]);
	if (bad || read_input("wrap", kernel, &kfile)) {
		output_abort(&out);
		return 1;
	}
	o.initrds = rd;
	o.ninitrds = initrds.n;
	if (wrap_image(stub, kfile, &o, &w, err, sizeof(err))) {
		fprintf(stderr, "pvhstub wrap: %s: %s\n", kernel, err);
		output_abort(&out);
		return 1;
	}
	print_notes(kernel, w.note);
	return emit("wrap", &out, w.img, w.size);
}

static int cmd_inspect(int argc, char **argv)
{
	int json = 0, nargs, status = 0;
	const struct cli_opt opts[] = { { .name = "json", .flag = &json }, { NULL } };
	const struct cli cli = { "inspect", opts, -1, "at least one IMAGE", inspect_help };
	const char *images[MAX_OPERANDS];
	struct blob f;
	char err[512];
	int rc;

	if ((rc = cli_parse(&cli, argc, argv, images, &nargs)) != CLI_GO_ON)
		return rc;
	for (int i = 0; i < nargs; i++) {
		if (read_input("inspect", images[i], &f)) {
			if (json)
				json_error(stdout, images[i], "cannot read it");
			status = 1;
			continue;
		}
		if (!json && nargs > 1)
			printf("%s", i ? "\n" : "");
		if (inspect_image(stdout, images[i], f, builtin_stub, json, err, sizeof(err))) {
			fflush(stdout);
			fprintf(stderr, "pvhstub inspect: %s: %s\n", images[i], err);
			status = 1;
		}
		free((void *)f.data);
	}
	return status;
}

static int cmd_extract(int argc, char **argv)
{
	const char *output = NULL, *kernel;
	const struct cli_opt opts[] = {
		{ .name = "output", .letter = 'o', .value = &output, .required = 1 }, { NULL },
	};
	const struct cli cli = { "extract", opts, 1, "BZIMAGE and -o OUT", extract_help };
	struct output out;
	struct blob f;
	char err[512];
	uint8_t *elf;
	size_t size;
	int rc, nargs;

	if ((rc = cli_parse(&cli, argc, argv, &kernel, &nargs)) != CLI_GO_ON)
		return rc;
	if (output_start("extract", &out, output, 1, &kernel, 1))
		return 1;
	if (read_input("extract", kernel, &f)) {
		output_abort(&out);
		return 1;
	}
	if (extract_vmlinux(f, &elf, &size, err, sizeof(err))) {
		fprintf(stderr, "pvhstub extract: %s: %s\n", kernel, err);
		output_abort(&out);
		return 1;
	}
	return emit("extract", &out, elf, size);
}

/* A positive count of at most 2^24 (MiB of memory, vCPUs); 0, or 2 after a usage error. */
static int parse_count(const char *opt, const char *what_of, const char *v, unsigned long long *n)
{
	char what[96], *end;

	if (!v)
		return 0;
	errno = 0;
	*n = strtoull(v, &end, 10);
	if (*end || !*v || *v == '-' || *v == '+' || !*n)
		snprintf(what, sizeof(what), "%s wants a positive number%s, not", opt, what_of);
	else if (errno == ERANGE || *n > (1ULL << 24))
		snprintf(what, sizeof(what), "%s takes at most %llu, not", opt, 1ULL << 24);
	else
		return 0;
	return usage_error("xlconfig", what, v);
}

/* Strings xl's parser cannot read back: a control character in them. */
static int check_xl_string(const char *opt, const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; v && *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			char what[128];

			snprintf(what, sizeof(what), "%s holds a control character (0x%02x), which an xl config cannot carry",
				 opt, *p);
			return usage_error("xlconfig", what, NULL);
		}
	return 0;
}

/*
 * The path xl will use: DIR/basename with --dir, else the path as the user
 * gave it, made absolute but not resolved, so that a link such as
 * /boot/pvh/current stays the link.
 */
static int guest_path(const char *path, const char *dir, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	char cwd[PATH_MAX];

	if (dir)
		return snprintf(out, size, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
				slash ? slash + 1 : path) >= (int)size ? -1 : 0;
	if (path[0] == '/')
		return snprintf(out, size, "%s", path) >= (int)size ? -1 : 0;
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	while (path[0] == '.' && path[1] == '/')
		for (path += 2; *path == '/'; path++)
			;
	return snprintf(out, size, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", path) >= (int)size ? -1 : 0;
}

/* The image and ramdisk as dom0 names them, and the ramdisk's size. */
static int resolve_paths(const char *image, const char *dir, struct xl_opts *o,
			 char *kpath, char *rpath, size_t size)
{
	struct stat st;

	if (guest_path(image, dir, kpath, size)) {
		fprintf(stderr, "pvhstub xlconfig: %s: cannot name it (the path is too long)\n", image);
		return 1;
	}
	o->kernel = kpath;
	if (o->ramdisk) {
		const char *why = stat(o->ramdisk, &st) ? strerror(errno) :
				  !S_ISREG(st.st_mode) ? "not a regular file" : NULL;

		if (why) {
			fprintf(stderr, "pvhstub xlconfig: --ramdisk %s: %s\n", o->ramdisk, why);
			return 1;
		}
		if (guest_path(o->ramdisk, dir, rpath, size)) {
			fprintf(stderr, "pvhstub xlconfig: --ramdisk %s: cannot name it (the path is too long)\n",
				o->ramdisk);
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
			char what[128];

			snprintf(what, sizeof(what), "%s takes destroy, restart, preserve, rename-restart, coredump-destroy or coredump-restart, not",
				 flags[k]);
			return usage_error("xlconfig", what, o->on[k]);
		}
	return 0;
}

static int check_xl_strings(const struct xl_opts *o, const char *image, const char *dir)
{
	int rc = check_xl_string("--name", o->name) ?: check_xl_string("--cmdline", o->cmdline) ?:
		 check_xl_string("--dir", dir) ?: check_xl_string("IMAGE", image) ?:
		 check_xl_string("--ramdisk", o->ramdisk);

	for (int i = 0; !rc && i < o->disks.n; i++)
		rc = check_xl_string("--disk", o->disks.s[i]);
	for (int i = 0; !rc && i < o->vifs.n; i++)
		rc = check_xl_string("--vif", o->vifs.s[i]);
	return rc;
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
	const struct cli cli = { "xlconfig", opts, 1, "IMAGE and -o OUT", xlconfig_help };
	char err[512], kpath[PATH_MAX], rpath[PATH_MAX], *text;
	struct output out;
	struct blob img;
	size_t len;
	int rc, nargs;

	if ((rc = cli_parse(&cli, argc, argv, &image, &nargs)) != CLI_GO_ON ||
	    (rc = parse_count("--memory", " of MiB", memory, &o.memory)) ||
	    (rc = parse_count("--vcpus", "", vcpus, &o.vcpus)) || (rc = check_actions(&o)) ||
	    (rc = check_xl_strings(&o, image, dir)))
		return rc;
	if (output_start("xlconfig", &out, output, 0, (const char *const[]){ image, o.ramdisk }, 2))
		return 1;
	if (read_input("xlconfig", image, &img) || resolve_paths(image, dir, &o, kpath, rpath, sizeof(kpath))) {
		output_abort(&out);
		return 1;
	}
	if (xlconfig_text(img, &o, &text, &len, err, sizeof(err))) {
		fprintf(stderr, "pvhstub xlconfig: %s: %s\n", image, err);
		output_abort(&out);
		return 1;
	}
	return emit("xlconfig", &out, (const uint8_t *)text, len);
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
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
		printf("pvhstub %s\n", PVHSTUB_VERSION);
		return 0;
	}
	if (argc < 2)
		fprintf(stderr, "pvhstub: no command\n");
	else
		fprintf(stderr, "pvhstub: unknown command '%s'\n", argv[1]);
	fprintf(stderr, "Try 'pvhstub --help'.\n");
	return 2;
}
