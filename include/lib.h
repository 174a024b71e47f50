/* SPDX-License-Identifier: MIT */
/* The freestanding stub's string functions (entry/string.c); gcc may emit calls to them too. */
#ifndef PVHSTUB_LIB_H
#define PVHSTUB_LIB_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t strlen(const char *s);

/*
 * A flag the panic path reads (is Xen's console or hypercall page set up?)
 * lives in the image's file bytes, not in bss: a loader that puts a module
 * over the stub's bss (which the stub then refuses) leaves bss holding the
 * module's bytes, and a flag read from there would send the refusal itself
 * through a hypercall page that was never set up.
 */
#define __file_backed __attribute__((section(".data.file_backed")))

#endif /* PVHSTUB_LIB_H */
