// SPDX-License-Identifier: MIT
/*
 * pvhload's C part.  The test (tests/framework/pvhload.py) has placed a
 * start_info and everything it points at with QEMU's -device loader; its
 * command line says what is left to do before pvhload enters the image:
 *
 *   pvhload.entry=ADDR pvhload.si=ADDR [pvhload.copy=SRC,DST,LEN]...
 *           [pvhload.memmap=ADDR] [pvhload.rsdp=ADDR]
 *
 * - pvhload.copy: copy LEN bytes from SRC to DST, in the order given (the
 *   firmware runs between QEMU's loader and pvhload, and overwrites what
 *   QEMU wrote below 1 MiB and near the top of the RAM below 4 GiB: the
 *   test puts such bytes elsewhere, and pvhload puts them in place);
 * - pvhload.memmap: QEMU's own memory map, copied to ADDR, becomes the
 *   start_info's (memmap_paddr, memmap_entries);
 * - pvhload.rsdp: QEMU's RSDP, copied to ADDR, becomes the start_info's
 *   rsdp_paddr; with ADDR 0, QEMU's RSDP where it lies.
 *
 * Then it prints "pvhload: tsc N" on port 0xe9 and enters the image with
 * %ebx = the start_info.  Errors go to port 0xe9, then QEMU's
 * isa-debug-exit.
 */
#include <stdint.h>
#include <xen/arch-x86/hvm/start_info.h>

#define MAX_COPIES	64

void *memmove(void *dst, const void *src, unsigned int n);
void chain(struct hvm_start_info *si, uint32_t entry) __attribute__((noreturn, regparm(0)));
void pvhload_main(const struct hvm_start_info *qemu) __attribute__((noreturn, regparm(0)));

static void die(const char *why)
{
	while (*why)
		asm volatile("outb %0, $0xe9" : : "a"(*why++));
	asm volatile("outb %0, $0xf4" : : "a"((uint8_t)0x7f));
	for (;;)
		asm volatile("cli; hlt");
}

static void put_hex(uint64_t v)
{
	for (int shift = 60; shift >= 0; shift -= 4)
		asm volatile("outb %0, $0xe9" : : "a"((char)"0123456789abcdef"[(v >> shift) & 15]));
}

/* The last thing before the chain: the TSC, on port 0xe9. */
static void report_tsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	for (const char *s = "pvhload: tsc 0x"; *s; s++)
		asm volatile("outb %0, $0xe9" : : "a"(*s));
	put_hex((uint64_t)hi << 32 | lo);
	asm volatile("outb %0, $0xe9" : : "a"((char)'\n'));
}

static const char *skip(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return 0;
	return s;
}

static uint64_t number(const char **s)
{
	uint64_t v = 0;

	if (!(*s = skip(*s, "0x")))
		die("pvhload: numbers are hex, 0x...\n");
	for (;; (*s)++) {
		char c = **s;

		if (c >= '0' && c <= '9')
			v = v * 16 + (c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (c - 'a' + 10);
		else
			return v;
	}
}

static void *below_4g(uint64_t addr, uint64_t len)
{
	if (addr + len < addr || addr + len > 1ULL << 32)
		die("pvhload: an address is not below 4 GiB\n");
	return (void *)(uintptr_t)addr;
}

/* The RSDP's length: 20 bytes in revision 0, its length field after. */
static uint32_t rsdp_length(const uint8_t *rsdp)
{
	uint32_t len = 20;

	if (rsdp[15] >= 2)
		memmove(&len, rsdp + 20, 4);
	if (len < 20 || len > 36)
		die("pvhload: QEMU's RSDP has a length out of [20, 36]\n");
	return len;
}

void __attribute__((regparm(0))) pvhload_main(const struct hvm_start_info *qemu)
{
	const char *p = (const char *)(uintptr_t)qemu->cmdline_paddr, *q;
	uint64_t entry = 0, si = 0, memmap = ~0ULL, rsdp = ~0ULL, copy[MAX_COPIES][3];
	uint32_t copies = 0, i;
	struct hvm_start_info *start;

	if (qemu->magic != XEN_HVM_START_MAGIC_VALUE || qemu->version < 1 || !p)
		die("pvhload: QEMU's start_info is not v1 with a cmdline\n");
	while (*p) {
		if (*p == ' ') {
			p++;
		} else if ((q = skip(p, "pvhload.entry="))) {
			entry = number(&q), p = q;
		} else if ((q = skip(p, "pvhload.si="))) {
			si = number(&q), p = q;
		} else if ((q = skip(p, "pvhload.memmap="))) {
			memmap = number(&q), p = q;
		} else if ((q = skip(p, "pvhload.rsdp="))) {
			rsdp = number(&q), p = q;
		} else if ((q = skip(p, "pvhload.copy="))) {
			if (copies == MAX_COPIES)
				die("pvhload: too many pvhload.copy\n");
			for (i = 0; i < 3; i++) {
				copy[copies][i] = number(&q);
				if (i < 2 && *q++ != ',')
					die("pvhload: pvhload.copy=SRC,DST,LEN\n");
			}
			copies++, p = q;
		} else {
			die("pvhload: unknown option\n");
		}
	}
	if (!entry || !si)
		die("pvhload: need pvhload.entry and pvhload.si\n");
	start = below_4g(si, sizeof(*start));
	for (i = 0; i < copies; i++)
		memmove(below_4g(copy[i][1], copy[i][2]), below_4g(copy[i][0], copy[i][2]), (uint32_t)copy[i][2]);
	if (memmap != ~0ULL) {
		uint32_t len = qemu->memmap_entries * (uint32_t)sizeof(struct hvm_memmap_table_entry);

		memmove(below_4g(memmap, len), (const void *)(uintptr_t)qemu->memmap_paddr, len);
		start->memmap_paddr = memmap;
		start->memmap_entries = qemu->memmap_entries;
	}
	if (rsdp != ~0ULL) {
		if (!qemu->rsdp_paddr)
			die("pvhload: QEMU gave no RSDP to pass on\n");
		if (rsdp) {
			const uint8_t *from = (const void *)(uintptr_t)qemu->rsdp_paddr;

			memmove(below_4g(rsdp, 36), from, rsdp_length(from));
		}
		start->rsdp_paddr = rsdp ? rsdp : qemu->rsdp_paddr;
	}
	report_tsc();
	chain(start, (uint32_t)entry);
}
