// SPDX-License-Identifier: MIT
/*
 * panic(): say why on every console, then stop cleanly: a Xen
 * SCHEDOP_shutdown(crash) on Xen, QEMU's isa-debug-exit if it is there,
 * then cli; hlt for good.  Never a triple
 * fault, never a silent halt.
 */
#include "kconfig.h"
#include "console.h"
#include "panic.h"
#include "x86.h"
#include "xenguest.h"

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	console_vlog("PANIC: ", fmt, ap);
	va_end(ap);
	printk("cannot boot the kernel; stopping.");

	/* On Xen, tell the toolstack we crashed; elsewhere this does nothing. */
	xen_crash();
	if (IS_ENABLED(CONFIG_DEBUG_EXIT))
		outb(CONFIG_DEBUG_EXIT_PORT, PANIC_DEBUG_EXIT_VALUE);
	for (;;)
		asm volatile("cli; hlt");
}
