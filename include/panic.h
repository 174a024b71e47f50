/* SPDX-License-Identifier: MIT */
/* The stub's one way to fail (entry/panic.c): say why, then shut down. */
#ifndef PVHSTUB_PANIC_H
#define PVHSTUB_PANIC_H

/* Exit status QEMU reports after panic() writes to isa-debug-exit: (1 << 1) | 1. */
#define PANIC_DEBUG_EXIT_VALUE	1

void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif /* PVHSTUB_PANIC_H */
