// SPDX-License-Identifier: MIT
/*
 * pvhload's C part.  Its own command line says what to do:
 *
 *   pvhload.entry=ADDR pvhload.initrd=ADDR,SIZE [pvhload.tables=ADDR] -- KERNEL CMDLINE
 *
 * It passes on QEMU's memory map and RSDP, makes module 0 the initrd at
 * ADDR (loaded there by -device loader), and, with pvhload.tables, puts the
 * start_info, memmap, modlist and cmdline at that address instead of in
 * its own bss.  Errors go to port 0xe9, then QEMU's isa-debug-exit.
 */
#include <stdint.h>
#include <xen/arch-x86/hvm/start_info.h>

struct tables {
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct hvm_memmap_table_entry mm[128];
	char cmdline[2048];
};

static struct tables own_tables;

void chain(struct hvm_start_info *si, uint32_t entry) __attribute__((noreturn));
void pvhload_main(const struct hvm_start_info *qemu) __attribute__((noreturn));

static void die(const char *why)
{
	while (*why)
		asm volatile("outb %0, $0xe9" : : "a"(*why++));
	asm volatile("outb %0, $0xf4" : : "a"((uint8_t)0x7f));
	for (;;)
		asm volatile("cli; hlt");
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

void pvhload_main(const struct hvm_start_info *qemu)
{
	const char *p = (const char *)(uintptr_t)qemu->cmdline_paddr, *q;
	uint64_t entry = 0, rd_addr = 0, rd_size = 0, tables = 0;
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
		} else if ((q = skip(p, "-- "))) {
			p = q;
			break;
		} else {
			die("pvhload: unknown option\n");
		}
	}
	if (!entry || !rd_addr || qemu->memmap_entries > 128)
		die("pvhload: need pvhload.entry and pvhload.initrd\n");
	if (tables)
		t = (struct tables *)(uintptr_t)tables;

	for (i = 0; p[i] && i < sizeof(t->cmdline) - 1; i++)
		t->cmdline[i] = p[i];
	t->cmdline[i] = '\0';
	for (i = 0; i < qemu->memmap_entries; i++)
		t->mm[i] = mm[i];
	t->mod = (struct hvm_modlist_entry){ .paddr = rd_addr, .size = rd_size };
	t->si = (struct hvm_start_info){
		.magic = XEN_HVM_START_MAGIC_VALUE, .version = 1,
		.nr_modules = 1, .modlist_paddr = (uintptr_t)&t->mod,
		.cmdline_paddr = (uintptr_t)t->cmdline, .rsdp_paddr = qemu->rsdp_paddr,
		.memmap_paddr = (uintptr_t)t->mm, .memmap_entries = qemu->memmap_entries,
	};
	chain(&t->si, (uint32_t)entry);
}
