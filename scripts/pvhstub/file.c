// SPDX-License-Identifier: MIT
/*
 * Files in and out.  An input is read whole (images are small enough),
 * and only if it is a regular file: it is opened without blocking, so a
 * FIFO with no writer, a socket or a device is refused, never waited on.
 * An output is checked before any work is done (output_open), then written
 * to a file with no name in the folder of the file it replaces (O_TMPFILE),
 * synced, and named only when complete (output_commit: linkat, then rename
 * over the old file, then the folder synced).  A folder whose filesystem
 * has no O_TMPFILE gets a named temporary file beside the output instead.
 *   - "-" is standard output: any output of text, a binary one only when
 *     standard output is not a terminal;
 *   - the output may not be any input, by device and inode, however it is
 *     spelled (a link, ./, ../dir/);
 *   - only a regular file is replaced: a device, a FIFO, a socket or a
 *     directory is refused; a symbolic link is followed, and the file it
 *     points to is replaced (the link stays), a dangling one is refused;
 *   - a new file gets 0666 less the umask, a replaced one keeps its mode;
 *   - a named temporary file (the fallback, and the instant between
 *     linkat and rename) is removed on any failure, at exit, and on SIGINT,
 *     SIGTERM and SIGHUP, which then end the tool as they would have.  An
 *     unnamed one vanishes with the tool, even on SIGKILL or a power cut.
 */
#define _GNU_SOURCE		/* O_TMPFILE, AT_EMPTY_PATH */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tool.h"

#define MAX_INPUT	(512u << 20)	/* No kernel is this large. */

static const char *file_type(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISCHR(m) ? "a character device" :
	       S_ISBLK(m) ? "a block device" : S_ISFIFO(m) ? "a FIFO" :
	       S_ISSOCK(m) ? "a socket" : "not a regular file";
}

int read_file(const char *path, struct blob *b, char *err, size_t errsz)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0 && !stat(path, &st) && !S_ISREG(st.st_mode)) {
		/* A socket cannot be opened at all (ENXIO): say what it is. */
		snprintf(err, errsz, "%s: pvhstub reads regular files only", file_type(st.st_mode));
		return -1;
	}
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errsz, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_INPUT) {
		if (!S_ISREG(st.st_mode))
			snprintf(err, errsz, "%s: pvhstub reads regular files only", file_type(st.st_mode));
		else
			snprintf(err, errsz, "larger than %u MiB: no kernel or initrd is", MAX_INPUT >> 20);
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, 0);
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

static int write_all(int fd, const uint8_t *data, size_t size)
{
	while (size) {
		ssize_t n = write(fd, data, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		size -= n;
	}
	return 0;
}

/* The temporary file to remove if the tool dies or fails before the rename. */
static char *volatile pending;

static void remove_pending(void)
{
	if (pending)
		unlink(pending);
}

static void on_signal(int sig)
{
	remove_pending();
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int fatal_signals[] = { SIGINT, SIGTERM, SIGHUP };

static void block_signals(int how, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaddset(&set, fatal_signals[i]);
	sigprocmask(how, how == SIG_BLOCK ? &set : old, how == SIG_BLOCK ? old : NULL);
}

static void install_cleanup(void)
{
	static int done;
	struct sigaction sa = { .sa_handler = on_signal };

	if (done++)
		return;
	atexit(remove_pending);
	sigemptyset(&sa.sa_mask);
	/* A signal the tool was started ignoring (a background job's SIGINT) stays ignored. */
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++) {
		struct sigaction old;

		if (!sigaction(fatal_signals[i], NULL, &old) && old.sa_handler != SIG_IGN)
			sigaction(fatal_signals[i], &sa, NULL);
	}
}

/* The output is one of the inputs (same device and inode)? */
static int is_an_input(const struct stat *out, const char *const *inputs, size_t n, const char **which)
{
	struct stat st;

	for (size_t i = 0; i < n; i++)
		if (inputs[i] && !stat(inputs[i], &st) && st.st_dev == out->st_dev &&
		    st.st_ino == out->st_ino) {
			*which = inputs[i];
			return 1;
		}
	return 0;
}

/* The temporary file's name beside target: target.tmp.XXXXXX, X random (mkstemp's pattern). */
static char *tmp_name(const char *target)
{
	static const char suffix[] = ".tmp.XXXXXX";
	size_t len = strlen(target);
	char *name = malloc(len + sizeof(suffix));

	if (name) {
		memcpy(name, target, len);
		memcpy(name + len, suffix, sizeof(suffix));
	}
	return name;
}

static void randomize_name(char *name)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t r[6];
	char *x = name + strlen(name) - sizeof(r);

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (uint8_t)(rand() ^ getpid());
	for (size_t i = 0; i < sizeof(r); i++)
		x[i] = chars[r[i] % (sizeof(chars) - 1)];
}

/* The folder a path is in: a new string. */
static char *folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, slash - path);
}

/* A file with no name in the output's folder; -1 with errno where the filesystem has none. */
static int open_unnamed(const char *folder)
{
	int fd = open(folder, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);

	/* Filesystems without O_TMPFILE (and kernels before 3.11) say one of these. */
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL || errno == ENOSYS))
		errno = EOPNOTSUPP;
	return fd;
}

int output_open(struct output *o, const char *path, int binary, const char *const *inputs,
		size_t ninputs, char *err, size_t errsz)
{
	const char *input;
	struct stat st;
	sigset_t old;
	mode_t mask;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->path = path;
	if (!strcmp(path, "-")) {
		if (binary && isatty(STDOUT_FILENO)) {
			snprintf(err, errsz, "-o -: standard output is a terminal; redirect it to a file or a pipe");
			return -1;
		}
		if (!fstat(STDOUT_FILENO, &st) && is_an_input(&st, inputs, ninputs, &input)) {
			snprintf(err, errsz, "-o -: standard output is the input %s", input);
			return -1;
		}
		o->to_stdout = 1;
		o->fd = STDOUT_FILENO;
		return 0;
	}
	if (lstat(path, &st)) {
		if (errno != ENOENT) {
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
			return -1;
		}
		mask = umask(0);
		umask(mask);
		o->mode = 0666 & ~mask;
		o->target = strdup(path);
	} else {
		if (S_ISLNK(st.st_mode)) {
			o->target = realpath(path, NULL);
			if (!o->target || stat(o->target, &st)) {
				snprintf(err, errsz, "%s: a symbolic link to a file that does not exist; pvhstub replaces the file a link points to, so name the file itself", path);
				free(o->target);
				o->target = NULL;
				return -1;
			}
		} else {
			o->target = strdup(path);
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errsz, "%s is %s: pvhstub writes regular files only (-o - writes to standard output)",
				 path, file_type(st.st_mode));
			free(o->target);
			o->target = NULL;
			return -1;
		}
		if (is_an_input(&st, inputs, ninputs, &input)) {
			snprintf(err, errsz, "refusing to overwrite the input %s with the output %s", input, path);
			free(o->target);
			o->target = NULL;
			return -1;
		}
		o->mode = st.st_mode & 07777;
	}
	if (o->target) {
		o->folder = folder_of(o->target);
		o->tmp = tmp_name(o->target);
	}
	if (!o->target || !o->folder || !o->tmp) {
		snprintf(err, errsz, "out of memory");
		output_abort(o);
		return -1;
	}
	o->fd = open_unnamed(o->folder);
	if (o->fd >= 0) {
		o->unnamed = 1;
		return 0;
	}
	if (errno == EOPNOTSUPP) {
		install_cleanup();
		/* No signal between the file's creation and its registration. */
		block_signals(SIG_BLOCK, &old);
		o->fd = mkstemp(o->tmp);
		if (o->fd >= 0)
			pending = o->tmp;
		block_signals(SIG_SETMASK, &old);
	}
	if (o->fd < 0) {
		snprintf(err, errsz, "%s: cannot create a file beside it: %s", path, strerror(errno));
		output_abort(o);
		return -1;
	}
	return 0;
}

static void free_output(struct output *o)
{
	free(o->tmp);
	free(o->target);
	free(o->folder);
	o->tmp = o->target = o->folder = NULL;
	o->fd = -1;
}

void output_abort(struct output *o)
{
	sigset_t old;

	if (!o->to_stdout) {
		block_signals(SIG_BLOCK, &old);
		if (o->fd >= 0)
			close(o->fd);
		if (o->tmp && !o->unnamed)
			unlink(o->tmp);
		if (pending == o->tmp)
			pending = NULL;
		block_signals(SIG_SETMASK, &old);
	}
	free_output(o);
}

/* Give the unnamed file fd the name o->tmp (a fresh one each try); 0, or -1 with errno. */
static int name_unnamed(struct output *o)
{
	char proc[32];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
	for (int tries = 0; tries < 100; tries++) {
		randomize_name(o->tmp);
		if (!linkat(AT_FDCWD, proc, AT_FDCWD, o->tmp, AT_SYMLINK_FOLLOW))
			return 0;
		/* No /proc: the same, for a process that may (CAP_DAC_READ_SEARCH). */
		if (errno == ENOENT && !linkat(o->fd, "", AT_FDCWD, o->tmp, AT_EMPTY_PATH))
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

/* The file, complete and synced, takes the output's name; 0, or -1 with errno. */
static int give_name(struct output *o)
{
	sigset_t old;
	int failed;

	install_cleanup();
	/* The named instant between link and rename is covered by the clean-up, like the fallback's file. */
	block_signals(SIG_BLOCK, &old);
	if (o->unnamed) {
		failed = name_unnamed(o);
		if (!failed)
			pending = o->tmp;
	} else {
		failed = 0;
	}
	if (!failed)
		failed = rename(o->tmp, o->target);
	if (failed && pending == o->tmp) {
		int saved = errno;

		unlink(o->tmp);
		errno = saved;
	}
	pending = NULL;
	block_signals(SIG_SETMASK, &old);
	return failed ? -1 : 0;
}

/* The folder's entry made durable: a crash after this keeps the new file under its name. */
static int sync_folder(const char *folder)
{
	int fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int failed;

	if (fd < 0)
		return -1;
	failed = fsync(fd) && errno != EINVAL && errno != EROFS && errno != ENOTSUP;
	close(fd);
	return failed ? -1 : 0;
}

int output_commit(struct output *o, const uint8_t *data, size_t size, char *err, size_t errsz)
{
	int failed;

	errno = 0;
	if (o->to_stdout) {
		if (write_all(STDOUT_FILENO, data, size) || (fsync(STDOUT_FILENO) && errno != EINVAL &&
							     errno != EROFS && errno != ENOTSUP)) {
			snprintf(err, errsz, "standard output: %s", strerror(errno ? errno : EIO));
			return -1;
		}
		return 0;
	}
	failed = write_all(o->fd, data, size) || fchmod(o->fd, o->mode) || fsync(o->fd) || give_name(o);
	if (failed) {
		snprintf(err, errsz, "%s: %s", o->path, strerror(errno ? errno : EIO));
		output_abort(o);
		return -1;
	}
	/* The name is given: only the descriptor and the folder's sync are left. */
	failed = close(o->fd);
	o->fd = -1;
	if (failed || sync_folder(o->folder)) {
		snprintf(err, errsz, "%s: written, but its folder could not be synced: %s", o->path,
			 strerror(errno ? errno : EIO));
		free_output(o);
		return -1;
	}
	free_output(o);
	return 0;
}
