// SPDX-License-Identifier: MIT
/*
 * The early console: port 0xe9 (QEMU debugcon; Xen prints it for HVM and
 * PVH guests) and COM1, each chosen in Kconfig.  In a privileged Xen
 * domain, Xen's console_io hypercall takes the place of port 0xe9.
 */
#include "kconfig.h"
#include "console.h"
#include "lib.h"
#include "x86.h"
#include "xenguest.h"
#include "translate.h"

#define COM1		0x3f8
#define UART_THR	0	/* Transmit holding register */
#define UART_DLL	0	/* Divisor latch, low (DLAB = 1) */
#define UART_IER	1
#define UART_DLM	1	/* Divisor latch, high (DLAB = 1) */
#define UART_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_LSR_THRE	0x20
#define UART_SPIN_MAX	100000	/* No UART, or a stuck one: give up waiting. */

static bool use_xen_console __file_backed;
static bool com1_line_started __file_backed;

void console_use_xen(void)
{
	use_xen_console = true;
}

void console_init(void)
{
	if (!IS_ENABLED(CONFIG_CONSOLE_COM1))
		return;
	/* 115200 baud, 8N1, FIFOs on, interrupts off. */
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, 0x80);
	outb(COM1 + UART_DLL, 1);
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, 0x03);
	outb(COM1 + UART_FCR, 0x07);
	outb(COM1 + UART_MCR, 0x03);
}

/*
 * COM1 through its 16-byte FIFO: wait once for it to drain (THRE), then
 * send up to 16 bytes.  A missing UART reads 0xff, so THRE looks set.
 */
static void com1_write(const char *s, int len)
{
	while (len > 0) {
		int chunk = len < 16 ? len : 16;

		for (int spin = 0; spin < UART_SPIN_MAX; spin++)
			if (inb(COM1 + UART_LSR) & UART_LSR_THRE)
				break;
		asm volatile("rep outsb" : "+S"(s), "+c"(chunk) : "d"(COM1 + UART_THR) : "memory");
		len -= 16;
	}
}

/*
 * One line: "pvhstub: ", then tag, then the message, then a newline ("\r\n"
 * on the UART).  Messages carry neither the prefix nor the newline.
 */
void console_vlog(const char *tag, const char *fmt, va_list ap)
{
	static const char prefix[] = "pvhstub: ";
	/* A message may hold newlines of its own (a loader's cmdline does). */
	char line[320], crlf[2 * sizeof(line) + 2];
	int len = sizeof(prefix) - 1, n = 0;

	memcpy(line, prefix, len);
	while (*tag)
		line[len++] = *tag++;
	len += vformat(line + len, sizeof(line) - 1 - len, fmt, ap);
	line[len++] = '\n';
	if (use_xen_console)
		xen_console_write(line, len);
	else if (IS_ENABLED(CONFIG_CONSOLE_E9)) {
		const char *p = line;
		int count = len;

		asm volatile("rep outsb" : "+S"(p), "+c"(count) : "d"(0xe9) : "memory");
	}
	if (!IS_ENABLED(CONFIG_CONSOLE_COM1))
		return;
	/*
	 * Firmware may have left its last line open on COM1 (SeaBIOS's
	 * "Booting from ROM.." on QEMU pc with a serial console): the stub's
	 * first line starts a line of its own.
	 */
	if (!com1_line_started) {
		com1_line_started = true;
		crlf[n++] = '\r';
		crlf[n++] = '\n';
	}
	for (int i = 0; i < len; i++) {
		if (line[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = line[i];
	}
	com1_write(crlf, n);
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	console_vlog("", fmt, ap);
	va_end(ap);
}
