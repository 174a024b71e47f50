/* SPDX-License-Identifier: MIT */
/* The freestanding stub's string functions (entry/string.c); gcc may emit calls to them too. */
#ifndef PVHSTUB_LIB_H
#define PVHSTUB_LIB_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t strlen(const char *s);

#endif /* PVHSTUB_LIB_H */
