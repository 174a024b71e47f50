// SPDX-License-Identifier: MIT
/*
 * LD_PRELOAD=no_tmpfile.so: open() with O_TMPFILE fails with EOPNOTSUPP, as
 * on a filesystem without it (vfat, older NFS), so that the tests reach the
 * tool's named-temporary-file fallback.  Every other open() is the C
 * library's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>

typedef int open_fn(const char *, int, ...);

static int pass(const char *name, const char *path, int flags, mode_t mode)
{
	open_fn *real;

	if ((flags & O_TMPFILE) == O_TMPFILE) {
		errno = EOPNOTSUPP;
		return -1;
	}
	*(void **)&real = dlsym(RTLD_NEXT, name);
	return real(path, flags, mode);
}

/* The mode argument exists only with O_CREAT or O_TMPFILE. */
#define MODE(flags, mode)						\
	do {								\
		va_list ap;						\
									\
		va_start(ap, flags);					\
		mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0; \
		va_end(ap);						\
	} while (0)

int open(const char *path, int flags, ...)
{
	mode_t mode;

	MODE(flags, mode);
	return pass("open", path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode;

	MODE(flags, mode);
	return pass("open64", path, flags, mode);
}
