// SPDX-License-Identifier: MIT
/*
 * The probe's dump: a canonical, line-based picture of the zero page it
 * was handed, on port 0xe9 and COM1, then isa-debug-exit.  Both boot paths
 * (native and PVH) run this same code, so their dumps can be diffed.
 * Every line is "probe: KEY VALUE"; tests/probe/compare.py reads them.
 */
#include "x86.h"		/* outb(), inb() */
#include "translate.h"		/* vformat() */
#include "probe.h"

#define COM1 0x3f8

#ifndef __x86_64__
/* The 32-bit probe's entry (head.S) calls this with its arguments on the stack. */
void __attribute__((regparm(0), noreturn)) probe_main(const struct boot_params *bp, uint32_t tsc_lo,
						      uint32_t tsc_hi, uint32_t regs);
#endif

static void com1_putc(char c)
{
	for (int spin = 0; spin < 100000 && !(inb(COM1 + 5) & 0x20); spin++)
		;
	outb(COM1, c);
}

static void putc_all(char c)
{
	outb(0xe9, c);
	if (c == '\n')
		com1_putc('\r');
	com1_putc(c);
}

static void puts_all(const char *s)
{
	while (*s)
		putc_all(*s++);
}

void probe_out(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	puts_all(line);
}

/* zlib's CRC-32, by a table made on the stack (nothing here may trust .bss). */
uint32_t probe_crc32(const uint8_t *p, uint32_t n)
{
	uint32_t table[256], c;

	for (uint32_t i = 0; i < 256; i++) {
		c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320 ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	c = 0xffffffff;
	while (n--)
		c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

static bool rsdp_at(uint32_t a)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)a;
	uint8_t sum = 0;

	for (int i = 0; i < 8; i++)
		if (p[i] != "RSD PTR "[i])
			return false;
	for (int i = 0; i < 20; i++)
		sum += p[i];
	return sum == 0;
}

/* Where a kernel finds the RSDP without acpi_rsdp_addr: EBDA, then BIOS ROM. */
static uint32_t rsdp_scan(void)
{
	const volatile uint16_t *bda_ebda = (const volatile uint16_t *)(uintptr_t)0x40e;
	uint32_t ebda = (uint32_t)*bda_ebda << 4;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		for (uint32_t a = ebda; a < ebda + 1024; a += 16)
			if (rsdp_at(a))
				return a;
	for (uint32_t a = 0xe0000; a < 0x100000; a += 16)
		if (rsdp_at(a))
			return a;
	return 0;
}

static void dump_e820(const struct boot_e820_entry *e, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		probe_out("probe: e820 0x%llx 0x%llx %u\n", (unsigned long long)e[i].addr,
		    (unsigned long long)e[i].size, e[i].type);
}

/*
 * The CPU and PIC state the kernel was handed (boot.rst: interrupts off,
 * BOOT_CS and BOOT_DS; a native boot's setup code masks every PIC line but
 * the cascade).  Nothing before this line changes them: the entries only
 * clear DF, and the 64-bit one loads CR3.
 */
#ifndef __x86_64__
static uint32_t handoff_regs;	/* probe_main() sets it first. */
#endif

static void dump_handoff(bool segments)
{
	unsigned long flags, cr0;
	uint16_t cs, ds, es, ss;

	asm volatile("pushf; pop %0" : "=r"(flags));
	probe_out("probe: handoff if %u pic 0x%02x 0x%02x\n", (unsigned int)(flags >> 9) & 1,
	    inb(0x21), inb(0xa1));
	if (!segments)
		return;
	asm volatile("mov %%cs, %0; mov %%ds, %1; mov %%es, %2; mov %%ss, %3"
		     : "=r"(cs), "=r"(ds), "=r"(es), "=r"(ss));
	asm volatile("mov %%cr0, %0" : "=r"(cr0));
	probe_out("probe: handoff_segments cs 0x%x ds 0x%x es 0x%x ss 0x%x pe %u pg %u\n", cs, ds, es, ss,
	    (unsigned int)(cr0 & 1), (unsigned int)(cr0 >> 31) & 1);
#ifndef __x86_64__
	probe_out("probe: handoff_regs ebx|ebp|edi 0x%x\n", handoff_regs);
#endif
}

void probe_dump(const struct boot_params *bp, uint64_t tsc, bool segments)
{
	const struct setup_header *h = &bp->hdr;
	uint64_t cmdline = h->cmd_line_ptr | (uint64_t)bp->ext_cmd_line_ptr << 32;
	uint64_t rd = h->ramdisk_image | (uint64_t)bp->ext_ramdisk_image << 32;
	uint64_t rd_size = h->ramdisk_size | (uint64_t)bp->ext_ramdisk_size << 32;
	uint64_t sd = h->setup_data;

	/* COM1: 115200 8N1. */
	outb(COM1 + 1, 0);
	outb(COM1 + 3, 0x80);
	outb(COM1, 1);
	outb(COM1 + 1, 0);
	outb(COM1 + 3, 3);

	probe_out("probe: begin zero_page 0x%x\n", (unsigned int)(uintptr_t)bp);
	probe_out("probe: entry_tsc %llu\n", (unsigned long long)tsc);
	dump_handoff(segments);
	probe_out("probe: hdr version 0x%x xloadflags 0x%x kernel_alignment 0x%x relocatable %u\n",
	    h->version, h->xloadflags, h->kernel_alignment, h->relocatable_kernel);
	probe_out("probe: hdr pref_address 0x%llx init_size 0x%x cmdline_size %u initrd_addr_max 0x%x\n",
	    (unsigned long long)h->pref_address, h->init_size, h->cmdline_size, h->initrd_addr_max);
	probe_out("probe: hdr handover_offset 0x%x kernel_info_offset 0x%x\n", h->handover_offset,
	    h->kernel_info_offset);
	probe_out("probe: type_of_loader 0x%x\n", h->type_of_loader);
	probe_out("probe: loadflags 0x%x\n", h->loadflags);
	probe_out("probe: code32_start 0x%x\n", h->code32_start);
	probe_out("probe: hardware_subarch %u\n", h->hardware_subarch);
	probe_out("probe: hardware_subarch_data 0x%llx\n", (unsigned long long)h->hardware_subarch_data);
	if (h->hardware_subarch_data && h->hardware_subarch_data < 0x100000000ULL)
		probe_out("probe: hardware_subarch_data_magic 0x%x\n",
		    *(const uint32_t *)(uintptr_t)h->hardware_subarch_data);

	probe_out("probe: cmdline_addr 0x%llx\n", (unsigned long long)cmdline);
	puts_all("probe: cmdline \"");
	if (cmdline && cmdline < 0x100000000ULL)
		puts_all((const char *)(uintptr_t)cmdline);
	puts_all("\"\n");

	probe_out("probe: initrd_addr 0x%llx\n", (unsigned long long)rd);
	probe_out("probe: initrd_size 0x%llx\n", (unsigned long long)rd_size);
	if (rd && rd + rd_size <= 0x100000000ULL && rd_size <= PROBE_RDSUM_MAX)
		probe_out("probe: initrd_crc32 0x%08x\n",
		    probe_crc32((const uint8_t *)(uintptr_t)rd, (uint32_t)rd_size));

	probe_out("probe: acpi_rsdp_addr 0x%llx\n", (unsigned long long)bp->acpi_rsdp_addr);
	probe_out("probe: rsdp 0x%llx\n", bp->acpi_rsdp_addr ? (unsigned long long)bp->acpi_rsdp_addr :
	    (unsigned long long)rsdp_scan());

	probe_out("probe: e820_entries %u\n", bp->e820_entries);
	dump_e820(bp->e820_table, bp->e820_entries);
	for (int guard = 0; sd && sd < 0x100000000ULL && guard < 32; guard++) {
		const struct setup_data *s = (const void *)(uintptr_t)sd;

		probe_out("probe: setup_data type %u len %u\n", s->type, s->len);
		if (s->type == SETUP_E820_EXT)
			dump_e820((const void *)s->data, s->len / sizeof(struct boot_e820_entry));
		sd = s->next;
	}
#ifdef __x86_64__
	probe_image(bp);
#endif
	probe_out("probe: end\n");

	outb(0xf4, PROBE_EXIT_VALUE);
	for (;;)
		asm volatile("cli; hlt");
}

#ifndef __x86_64__
/* regs: EBX | EBP | EDI as the loader handed them over. */
void __attribute__((regparm(0))) probe_main(const struct boot_params *bp, uint32_t tsc_lo, uint32_t tsc_hi,
					    uint32_t regs)
{
	handoff_regs = regs;
	probe_dump(bp, (uint64_t)tsc_hi << 32 | tsc_lo, true);
}
#endif
