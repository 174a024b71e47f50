// SPDX-License-Identifier: MIT
/* The freestanding string functions the stub and gcc use. */
#include <stdint.h>
#include "lib.h"

/* Dwords first, then bytes: under QEMU -icount each rep iteration counts. */
void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	size_t dwords = n / 4, bytes = n % 4;

	asm volatile("rep movsl" : "+D"(d), "+S"(src), "+c"(dwords) : : "memory");
	asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(bytes) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	if ((uintptr_t)dst <= (uintptr_t)src || (uintptr_t)dst >= (uintptr_t)src + n)
		return memcpy(dst, src, n);

	/* Overlap with dst above src: copy backwards, the odd bytes, then dwords. */
	{
		size_t bytes = n % 4, dwords = n / 4;
		char *d = (char *)dst + n - 1;
		const char *s = (const char *)src + n - 1;

		asm volatile("std; rep movsb" : "+D"(d), "+S"(s), "+c"(bytes) : : "memory");
		d -= 3;
		s -= 3;
		asm volatile("rep movsl; cld" : "+D"(d), "+S"(s), "+c"(dwords) : : "memory");
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	size_t dwords = n / 4, bytes = n % 4;
	uint32_t v = (uint8_t)c * 0x01010101u;

	asm volatile("rep stosl" : "+D"(d), "+c"(dwords) : "a"(v) : "memory");
	asm volatile("rep stosb" : "+D"(d), "+c"(bytes) : "a"(v) : "memory");
	return dst;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}
