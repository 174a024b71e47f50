/* SPDX-License-Identifier: MIT */
/* The stub's console (entry/console.c) and what it prints (entry/dump.c). */
#ifndef PVHSTUB_CONSOLE_H
#define PVHSTUB_CONSOLE_H

#include <stdarg.h>
#include <stdint.h>
#include "bootparam.h"

void console_init(void);
/* Send the console to Xen's console_io instead of port 0xe9 (privileged domains). */
void console_use_xen(void);
/* One console line: "pvhstub: " + message + newline; fmt has neither. */
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console_vlog(const char *tag, const char *fmt, va_list ap);

/* pvhstub.debug: what the loader handed over. */
struct hvm_start_info;
void dump_start_info(const struct hvm_start_info *si, const struct boot_e820_entry *fw_map,
		     uint32_t fw_entries);

#endif /* PVHSTUB_CONSOLE_H */
