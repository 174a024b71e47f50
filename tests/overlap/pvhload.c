// SPDX-License-Identifier: MIT
/*
 * pvhload's C part.  Its own command line says what to do:
 *
 *   pvhload.entry=ADDR [pvhload.initrd=ADDR,SIZE] [pvhload.tables=ADDR]
 *           [pvhload.entries=0xN] [pvhload.flags=0xN] -- KERNEL CMDLINE
 *
 * It passes on QEMU's memory map and RSDP, makes module 0 the initrd at
 * ADDR (loaded there by -device loader), and, with pvhload.tables, puts the
 * start_info, memmap, modlist and cmdline at that address instead of in
 * its own bss.  With pvhload.entries, the memmap is N entries of RAM: low
 * memory, then the RAM above 1 MiB cut in N - 1 pieces (for measuring the
 * stub's cost against the map's size).  pvhload.flags sets the start_info's
 * flags (SIF_INITDOMAIN is 2), as Xen does for dom0.  Just before it enters the next
 * image it prints "pvhload: tsc N" on port 0xe9.
 * Errors go to port 0xe9, then QEMU's isa-debug-exit.
 */
#include <stdint.h>
#include <xen/arch-x86/hvm/start_info.h>

struct tables {
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct hvm_memmap_table_entry mm[1024];
	char cmdline[2048];
};

static struct tables own_tables;

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

void __attribute__((regparm(0))) pvhload_main(const struct hvm_start_info *qemu)
{
	const char *p = (const char *)(uintptr_t)qemu->cmdline_paddr, *q;
	uint64_t entry = 0, rd_addr = 0, rd_size = 0, tables = 0, entries = 0, flags = 0;
	const struct hvm_memmap_table_entry *mm = (const void *)(uintptr_t)qemu->memmap_paddr;
	struct tables *t = &own_tables;
	uint32_t i;

	if (qemu->magic != XEN_HVM_START_MAGIC_VALUE || qemu->version < 1 || !p)
		die("pvhload: QEMU's start_info is not v1 with a cmdline\n");
	while (*p) {
		if (*p == ' ') {
			p++;
		} else if ((q = skip(p, "pvhload.entry="))) {
			entry = number(&q), p = q;
		} else if ((q = skip(p, "pvhload.initrd="))) {
			rd_addr = number(&q);
			if (*q++ != ',')
				die("pvhload: pvhload.initrd=ADDR,SIZE\n");
			rd_size = number(&q), p = q;
		} else if ((q = skip(p, "pvhload.tables="))) {
			tables = number(&q), p = q;
		} else if ((q = skip(p, "pvhload.entries="))) {
			entries = number(&q), p = q;
		} else if ((q = skip(p, "pvhload.flags="))) {
			flags = number(&q), p = q;
		} else if ((q = skip(p, "-- "))) {
			p = q;
			break;
		} else {
			die("pvhload: unknown option\n");
		}
	}
	if (!entry || qemu->memmap_entries > 1024 || entries > 1024)
		die("pvhload: need pvhload.entry; at most 1024 memmap entries\n");
	if (tables)
		t = (struct tables *)(uintptr_t)tables;

	for (i = 0; p[i] && i < sizeof(t->cmdline) - 1; i++)
		t->cmdline[i] = p[i];
	t->cmdline[i] = '\0';
	for (i = 0; i < qemu->memmap_entries; i++)
		t->mm[i] = mm[i];
	if (entries >= 2) {
		/* Low RAM, then the first RAM above 1 MiB in entries - 1 pieces. */
		uint64_t top = 0, piece;

		for (i = 0; i < qemu->memmap_entries; i++)
			if (mm[i].type == 1 && mm[i].addr == 0x100000)
				top = mm[i].addr + mm[i].size;
		piece = ((uint32_t)(top - 0x100000) / (uint32_t)(entries - 1)) & ~0xfffu;
		t->mm[0] = (struct hvm_memmap_table_entry){ 0, 0x9f000, 1, 0 };
		for (i = 1; i < entries; i++)
			t->mm[i] = (struct hvm_memmap_table_entry){
				0x100000 + (i - 1) * piece, i + 1 < entries ? piece :
				top - 0x100000 - (i - 1) * piece, 1, 0 };
	}
	t->mod = (struct hvm_modlist_entry){ .paddr = rd_addr, .size = rd_size };
	t->si = (struct hvm_start_info){
		.magic = XEN_HVM_START_MAGIC_VALUE, .version = 1, .flags = (uint32_t)flags,
		.nr_modules = rd_addr ? 1 : 0, .modlist_paddr = (uintptr_t)&t->mod,
		.cmdline_paddr = (uintptr_t)t->cmdline, .rsdp_paddr = qemu->rsdp_paddr,
		.memmap_paddr = (uintptr_t)t->mm,
		.memmap_entries = entries >= 2 ? (uint32_t)entries : qemu->memmap_entries,
	};
	report_tsc();
	chain(&t->si, (uint32_t)entry);
}
