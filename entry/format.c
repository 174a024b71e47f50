// SPDX-License-Identifier: MIT
/*
 * A small vsnprintf for the stub's messages: %s %c %d %u %x, each with an
 * optional '0' flag, a width and 'l'/'ll' for long long, and %%.  The
 * output is always NUL-terminated; the return value is the length it has
 * (truncated to fit).  Small first, then fast: it runs on every boot.
 */
#include "translate.h"

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

int vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	char *p = buf, *end = buf + size - 1;
	char c;

	if (!size)
		return 0;
	while ((c = *fmt++)) {
		char tmp[24], *q = tmp + sizeof(tmp) - 1, pad = ' ';
		const char *s = q;
		unsigned long long v;
		int width = 0, longs = 0;

		if (c != '%') {
			if (p < end)
				*p++ = c;
			continue;
		}
		*q = '\0';
		if (*fmt == '0')
			pad = *fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			longs++, fmt++;
		if (width > 20)
			width = 20;
		switch ((c = *fmt++)) {
		case 's':
			s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			break;
		case 'd':
		case 'u':
		case 'x':
			if (longs >= 2 || (longs && sizeof(long) == sizeof(long long)))
				v = va_arg(ap, unsigned long long);
			else if (c == 'd')
				v = (long long)va_arg(ap, int);
			else
				v = va_arg(ap, unsigned int);
			if (c == 'd' && (long long)v < 0) {
				v = -v;
				width--;
				if (p < end)
					*p++ = '-';
			}
			do
				*--q = "0123456789abcdef"[divmod(&v, c == 'x' ? 16 : 10)];
			while (v);
			while (tmp + sizeof(tmp) - 1 - q < width)
				*--q = pad;
			s = q;
			break;
		case 'c':
			c = (char)va_arg(ap, int);
			/* fall through */
		case '%':
			*--q = c;
			s = q;
			break;
		default:	/* Unknown conversion: show it, consume nothing. */
			*--q = c;
			*--q = '%';
			s = q;
			if (!c)
				fmt--;
		}
		while (*s && p < end)
			*p++ = *s++;
	}
	*p = '\0';
	return (int)(p - buf);
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
