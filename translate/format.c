// SPDX-License-Identifier: MIT
/*
 * A small vsnprintf for the stub's messages: %s %c %d %u %x %llu %llx %p
 * with an optional '0' flag and width.  The output is always NUL-terminated;
 * the return value is the length it has (truncated to fit).
 */
#include "translate.h"

struct sink {
	char *buf;
	size_t size, len;
};

static inline __attribute__((always_inline)) void put(struct sink *s, char c)
{
	if (s->len + 1 < s->size)
		s->buf[s->len++] = c;
}

/* *n /= base, returning the remainder, with no libgcc helper on i386. */
static unsigned int divmod(unsigned long long *n, unsigned int base)
{
#ifdef __i386__
	unsigned int hi = (unsigned int)(*n >> 32), lo = (unsigned int)*n, qhi, qlo, rem;

	qhi = hi / base;
	rem = hi % base;
	/* rem < base, so the quotient of rem:lo fits in 32 bits. */
	asm("divl %4" : "=a"(qlo), "=d"(rem) : "a"(lo), "d"(rem), "rm"(base));
	*n = ((unsigned long long)qhi << 32) | qlo;
	return rem;
#else
	unsigned int rem = (unsigned int)(*n % base);

	*n /= base;
	return rem;
#endif
}

static void put_number(struct sink *s, unsigned long long v, unsigned int base,
		       int width, char pad)
{
	char digits[24];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[divmod(&v, base)];
	} while (v);
	while (width-- > n)
		put(s, pad);
	while (n)
		put(s, digits[--n]);
}

int vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { buf, size, 0 };

	if (!size)
		return 0;
	for (; *fmt; fmt++) {
		char pad = ' ';
		int width = 0, longs = 0;

		if (*fmt != '%') {
			put(&s, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			longs++, fmt++;

		switch (*fmt) {
		case 's': {
			const char *str = va_arg(ap, const char *);

			if (!str)
				str = "(null)";
			while (*str)
				put(&s, *str++);
			break;
		}
		case 'c':
			put(&s, (char)va_arg(ap, int));
			break;
		case 'd': {
			long long v = longs >= 2 ? va_arg(ap, long long) : va_arg(ap, int);

			if (v < 0) {
				put(&s, '-');
				put_number(&s, -(unsigned long long)v, 10, width - 1, pad);
			} else {
				put_number(&s, v, 10, width, pad);
			}
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v = longs >= 2 ? va_arg(ap, unsigned long long) :
				longs == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);

			put_number(&s, v, *fmt == 'x' ? 16 : 10, width, pad);
			break;
		}
		case 'p':
			put(&s, '0');
			put(&s, 'x');
			put_number(&s, (uintptr_t)va_arg(ap, void *), 16, width, pad);
			break;
		case '%':
			put(&s, '%');
			break;
		default:	/* Unknown conversion: show it, consume nothing. */
			put(&s, '%');
			if (!*fmt)
				goto out;
			put(&s, *fmt);
		}
	}
out:
	s.buf[s.len] = '\0';
	return (int)s.len;
}

int format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vformat(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int translate_fail(struct translate_out *out, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat(out->msg, sizeof(out->msg), fmt, ap);
	va_end(ap);
	return err;
}
