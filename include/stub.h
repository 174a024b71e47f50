/* SPDX-License-Identifier: MIT */
/* Guest-side services of the stub: console, panic, Xen detection, handoff. */
#ifndef PVHSTUB_STUB_H
#define PVHSTUB_STUB_H

#ifndef __ASSEMBLY__
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bootparam.h"
#include "pvhstub.h"

/* Exit status QEMU reports after panic() writes to isa-debug-exit: (1 << 1) | 1. */
#define PANIC_DEBUG_EXIT_VALUE	1

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "0"(leaf), "2"(0));
}

/* entry/console.c */
void console_init(void);
/* Send the console to Xen's console_io instead of port 0xe9 (privileged domains). */
void console_use_xen(void);
/* One console line: "pvhstub: " + message + newline; fmt has neither. */
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console_vlog(const char *tag, const char *fmt, va_list ap);

/* entry/panic.c */
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* entry/dump.c */
struct hvm_start_info;
void dump_start_info(const struct hvm_start_info *si, const struct boot_e820_entry *fw_map,
		     uint32_t fw_entries);

/* xen/cpuid.c: the base leaf of Xen's CPUID range, or 0 when not on Xen. */
uint32_t xen_cpuid_base(void);

/* xen/hypercall.c */
bool xen_hypercall_init(uint32_t cpuid_base);
int xen_memory_map(struct boot_e820_entry *buf, uint32_t max);
void xen_console_write(const char *s, uint32_t len);
void xen_crash(void);

/* entry/head.S: arguments in EAX, EDX, ECX, as -mregparm=3 passes them. */
void handoff32(const struct boot_params *bp, uint32_t entry) __attribute__((noreturn));
void handoff64(const struct boot_params *bp, uint32_t entry, uint32_t pml4) __attribute__((noreturn));

/* entry/paging.c: identity-map [0, top) for the 64-bit handoff; returns the PML4. */
uint32_t identity_map_build(uint64_t top);
extern struct pvhstub_info pvhstub_info;
extern char _image_start[], _image_end[];

/* entry/string.c (gcc may also emit calls to these) */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
#endif

#endif /* PVHSTUB_STUB_H */
