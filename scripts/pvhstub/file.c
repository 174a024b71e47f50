// SPDX-License-Identifier: MIT
/*
 * Files in and out.  An input is read whole (images are small enough).
 * An output is checked before any work is done (output_open), then written
 * to a temporary file beside the file it replaces and renamed into place
 * only when complete (output_commit):
 *   - "-" is standard output: any output of text, a binary one only when
 *     standard output is not a terminal;
 *   - the output may not be any input, by device and inode, however it is
 *     spelled (a link, ./, ../dir/);
 *   - only a regular file is replaced: a device, a FIFO, a socket or a
 *     directory is refused; a symbolic link is followed, and the file it
 *     points to is replaced (the link stays), a dangling one is refused;
 *   - a new file gets 0666 less the umask, a replaced one keeps its mode;
 *   - the temporary file is removed on any failure, at exit, and on
 *     SIGINT, SIGTERM and SIGHUP, which then end the tool as they would
 *     have.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tool.h"

#define MAX_INPUT	(512u << 20)	/* No kernel is this large. */

int read_file(const char *path, struct blob *b, char *err, size_t errsz)
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
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &sa, NULL);
}

static const char *file_type(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISCHR(m) ? "a character device" :
	       S_ISBLK(m) ? "a block device" : S_ISFIFO(m) ? "a FIFO" :
	       S_ISSOCK(m) ? "a socket" : "not a regular file";
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

int output_open(struct output *o, const char *path, int binary, const char *const *inputs,
		size_t ninputs, char *err, size_t errsz)
{
	static const char suffix[] = ".tmp.XXXXXX";
	const char *input;
	struct stat st;
	sigset_t old;
	mode_t mask;
	size_t len;

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
	if (!o->target) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	len = strlen(o->target);
	o->tmp = malloc(len + sizeof(suffix));
	if (!o->tmp) {
		snprintf(err, errsz, "out of memory");
		output_abort(o);
		return -1;
	}
	memcpy(o->tmp, o->target, len);
	memcpy(o->tmp + len, suffix, sizeof(suffix));
	install_cleanup();
	/* No signal between the file's creation and its registration. */
	block_signals(SIG_BLOCK, &old);
	o->fd = mkstemp(o->tmp);
	if (o->fd >= 0)
		pending = o->tmp;
	block_signals(SIG_SETMASK, &old);
	if (o->fd < 0) {
		snprintf(err, errsz, "%s: cannot create a file beside it: %s", path, strerror(errno));
		output_abort(o);
		return -1;
	}
	return 0;
}

void output_abort(struct output *o)
{
	sigset_t old;

	block_signals(SIG_BLOCK, &old);
	if (o->tmp && !o->to_stdout) {
		if (o->fd >= 0)
			close(o->fd);
		unlink(o->tmp);
		if (pending == o->tmp)
			pending = NULL;
	}
	block_signals(SIG_SETMASK, &old);
	free(o->tmp);
	free(o->target);
	o->tmp = o->target = NULL;
	o->fd = -1;
}

int output_commit(struct output *o, const uint8_t *data, size_t size, char *err, size_t errsz)
{
	sigset_t old;
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
	failed = write_all(o->fd, data, size) || fchmod(o->fd, o->mode) || fsync(o->fd);
	/* The descriptor is closed once, whatever failed. */
	failed = close(o->fd) || failed;
	o->fd = -1;
	if (!failed) {
		block_signals(SIG_BLOCK, &old);
		failed = rename(o->tmp, o->target);
		if (!failed)
			pending = NULL;
		block_signals(SIG_SETMASK, &old);
	}
	if (failed) {
		snprintf(err, errsz, "%s: %s", o->path, strerror(errno ? errno : EIO));
		output_abort(o);
		return -1;
	}
	free(o->tmp);
	free(o->target);
	o->tmp = o->target = NULL;
	return 0;
}
