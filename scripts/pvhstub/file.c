// SPDX-License-Identifier: MIT
/*
 * Files in and out: an input is read whole (images are small enough), an
 * output goes to a temporary file beside it and is renamed into place, so
 * a failure never leaves a partial or clobbered file.
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

		if (n <= 0)
			return -1;
		data += n;
		size -= n;
	}
	return 0;
}

int write_atomic(const char *path, const uint8_t *data, size_t size, char *err, size_t errsz)
{
	static const char suffix[] = ".tmp.XXXXXX";
	size_t len = strlen(path);
	char *tmp = malloc(len + sizeof(suffix));
	int fd, failed;

	if (!tmp) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	memcpy(tmp, path, len);
	memcpy(tmp + len, suffix, sizeof(suffix));
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	errno = 0;
	failed = write_all(fd, data, size) || fchmod(fd, 0644) || fsync(fd);
	/* The descriptor is closed once, whatever failed. */
	failed = close(fd) || failed;
	failed = failed || rename(tmp, path);
	if (failed) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno ? errno : EIO));
		unlink(tmp);
	}
	free(tmp);
	return failed ? -1 : 0;
}
