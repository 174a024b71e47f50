// SPDX-License-Identifier: MIT
/*
 * pvhload's C part.  Its own command line says what to do:
 *
 *   pvhload.entry=ADDR [pvhload.initrd=ADDR,SIZE] [pvhload.tables=ADDR]
 *           [pvhload.entries=0xN] [pvhload.flags=0xN]
 *           [pvhload.layout=firecracker|cloud-hypervisor|libkrun|openvmm] -- KERNEL CMDLINE
 *   pvhload.entry=ADDR pvhload.si=ADDR
 *
 * It passes on QEMU's memory map and RSDP, makes module 0 the initrd at
 * ADDR (loaded there by -device loader), and, with pvhload.tables, puts the
 * start_info, memmap, modlist and cmdline at that address instead of in
 * its own bss.  With pvhload.entries, the memmap is N entries of RAM: low
 * memory, then the RAM above 1 MiB cut in N - 1 pieces (for measuring the
 * stub's cost against the map's size).  pvhload.flags sets the start_info's
 * flags (SIF_INITDOMAIN is 2), as Xen does for dom0.  pvhload.layout lays
 * the tables out as Firecracker, Cloud Hypervisor, libkrun or OpenVMM does
 * (emulate_layout).  With pvhload.si, the test has placed a start_info and
 * everything it points at (-device loader): pvhload enters the next image
 * with %ebx = ADDR and touches nothing (tests/fuzzboot, the seeded layouts).
 * Just before it enters the next
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

void *memmove(void *dst, const void *src, unsigned int n);

enum layout { LAYOUT_OWN, LAYOUT_FIRECRACKER, LAYOUT_CLOUD_HV, LAYOUT_LIBKRUN, LAYOUT_OPENVMM };

/* Firecracker's and Cloud Hypervisor's fixed addresses, from their sources (docs/testing.md, "Loaders tested"). */
#define RV_START_INFO	0x6000
#define RV_MODLIST	0x6040
#define RV_MEMMAP	0x7000
#define RV_CMDLINE	0x20000
#define RV_MMCONFIG	0xe0000000ULL	/* PCI MMCONFIG, reserved in their maps */
#define CH_GDT		0x500
#define CH_IDT		0x520
#define CH_PML4		0x9000
#define CH_RSDP		0xa0000
#define FC_MPTABLE	0x9fc00	/* the MP floating pointer, then the config table */
#define OV_MP_FLOAT	0x0	/* OpenVMM: the MP floating pointer at 0, */
#define OV_MP_TABLE	0x400	/*   the configuration table at 0x400, */
#define OV_GDT		0x800	/*   its boot GDT at 0x800, */
#define OV_RSDP		0x8000	/*   and the RSDP at 0x8000 */
#define RAM		1
#define RESERVED	2

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

/*
 * An Intel MultiProcessor Specification 1.4 table, its floating pointer at
 * fp and its configuration table at ct: FC_MPTABLE and right after it, as
 * Firecracker (and libkrun) lay theirs out, or OpenVMM's 0 and 0x400.  It
 * holds (one processor per vCPU, the ISA bus,
 * the I/O APIC with id vCPUs + 1 at 0xfec00000, ISA IRQs 1 and 3-15 routed
 * to its pins of the same number and IRQ 0 to pin 2, ExtINT and NMI on the local APIC's LINT0 and LINT1).  Its
 * contents describe the emulated machine (QEMU pc, one vCPU), so a kernel
 * that read it would not be misled; with ACPI's MADT there, Linux only
 * finds it ("found SMP MP-table at [mem 0x0009fc00-...]") and reserves it.
 * Written from the specification; the structures are packed bytes.
 */
static uint8_t mp_checksum(const uint8_t *b, uint32_t n)
{
	uint8_t sum = 0;

	while (n--)
		sum += *b++;
	return (uint8_t)-sum;
}

static uint8_t *mp_put(uint8_t *p, const void *src, uint32_t n)
{
	memmove(p, src, n);
	return p + n;
}

static void write_mptable(uint8_t *fp, uint8_t *ct)
{
	enum { VCPUS = 1, IOAPIC_ID = VCPUS + 1, IRQS = 16 };
	uint8_t *p = ct + 44;
	uint16_t count = 0, len;
	uint32_t u;

	for (uint32_t cpu = 0; cpu < VCPUS; cpu++, count++) {
		/* type 0, APIC id, APIC version, enabled (| boot CPU), signature, features (FPU, APIC) */
		uint8_t e[20] = { 0, (uint8_t)cpu, 0x14, (uint8_t)(cpu ? 1 : 3), 0x00, 0x06, 0, 0,
				  0x01, 0x02, 0, 0 };
		p = mp_put(p, e, sizeof(e));
	}
	{
		const uint8_t bus[8] = { 1, 0, 'I', 'S', 'A', ' ', ' ', ' ' };
		const uint8_t ioapic[8] = { 2, IOAPIC_ID, 0x11, 1, 0x00, 0x00, 0xc0, 0xfe };

		p = mp_put(p, bus, sizeof(bus));
		p = mp_put(p, ioapic, sizeof(ioapic));
		count += 2;
	}
	for (uint8_t irq = 0; irq < IRQS; irq++) {
		/* type 3, INT, conforming polarity and trigger, bus 0, its IRQ, to the I/O APIC's pin
		 * of the same number, but QEMU pc wires the timer (IRQ 0) to pin 2, and IRQ 2 (the
		 * cascade) to none */
		const uint8_t e[8] = { 3, 0, 0, 0, 0, irq, IOAPIC_ID, irq ? irq : 2 };

		if (irq == 2)
			continue;
		p = mp_put(p, e, sizeof(e));
		count++;
	}
	{
		/* type 4: ExtINT on LINT0, NMI on LINT1, of every local APIC (0xff) */
		const uint8_t lint0[8] = { 4, 3, 0, 0, 0, 0, 0xff, 0 }, lint1[8] = { 4, 1, 0, 0, 0, 0, 0xff, 1 };

		p = mp_put(p, lint0, sizeof(lint0));
		p = mp_put(p, lint1, sizeof(lint1));
		count += 2;
	}
	len = (uint16_t)(p - ct);
	/* The configuration table's header: "PCMP", length, revision 1.4, checksum, OEM and product ids. */
	mp_put(ct, "PCMP", 4);
	mp_put(ct + 4, &len, 2);
	ct[6] = 4;
	ct[7] = 0;
	mp_put(ct + 8, "PVHLOAD FC-LAYOUT   ", 20);
	u = 0;
	mp_put(ct + 28, &u, 4);			/* no OEM table */
	mp_put(ct + 32, &u, 2);
	mp_put(ct + 34, &count, 2);
	u = 0xfee00000;				/* the local APICs */
	mp_put(ct + 36, &u, 4);
	u = 0;
	mp_put(ct + 40, &u, 4);			/* no extended entries */
	ct[7] = mp_checksum(ct, len);
	/* The floating pointer: "_MP_", the table's address, 1 paragraph, revision 1.4, checksum. */
	mp_put(fp, "_MP_", 4);
	u = (uint32_t)(uintptr_t)ct;
	mp_put(fp + 4, &u, 4);
	fp[8] = 1;
	fp[9] = 4;
	fp[10] = 0;
	u = 0;
	mp_put(fp + 11, &u, 4);			/* default configuration 0: the table; no IMCR */
	fp[15] = 0;
	fp[10] = mp_checksum(fp, 16);
}

/*
 * The tables where Firecracker (FC) or Cloud Hypervisor (CH) put them:
 * start_info v1 at 0x6000, the modlist at 0x6040, an unsorted memmap at
 * 0x7000 (low RAM, FC's reserved [0x9fc00, 0xe0000), the PCI MMCONFIG
 * window, then the RAM from 1 MiB), the cmdline at 0x20000, the initrd
 * page-aligned at the top of the RAM from 1 MiB, rsdp_paddr 0 (FC; the
 * kernel scans for it) or 0xa0000 (CH, where we copy QEMU's RSDP).  CH's
 * GDT, IDT and page tables are written where CH keeps them; FC's MP table
 * where FC keeps it (write_mptable).
 *
 * libkrun (its configure_pvh(), src/arch/src/x86_64/mod.rs, 2026) uses
 * FC's addresses and MP table, but its memmap is sorted, with no MMCONFIG
 * entry: RAM [0, 0x9fc00), reserved [0x9fc00, 0xe0000), then the RAM from
 * 1 MiB up to one byte past its end (it adds 1 to an end that is already
 * exclusive); and its initrd ends exactly at the end of RAM, at whatever
 * address that gives (no page alignment).
 *
 * OpenVMM (vm/loader/src/pvh.rs, its microVM profile, 2026) keeps the
 * start_info, modlist, memmap and cmdline where FC does, but its memmap is
 * its RAM ranges as they are (here one, from 0 over the ISA hole, which the
 * stub must cut out), its MP floating pointer sits at 0 and its
 * configuration table at 0x400, its boot GDT at 0x800, the RSDP at 0x8000
 * (we copy QEMU's there), and the initrd page-aligned at the top of low
 * RAM.  Returns the start_info.
 */
static struct hvm_start_info *emulate_layout(enum layout layout, const struct tables *t,
					     const struct hvm_start_info *qemu, uint64_t rd_addr,
					     uint64_t rd_size)
{
	const struct hvm_memmap_table_entry *mm = (const void *)(uintptr_t)qemu->memmap_paddr;
	struct hvm_memmap_table_entry *out = (void *)RV_MEMMAP;
	struct hvm_start_info *si = (void *)RV_START_INFO;
	struct hvm_modlist_entry *mod = (void *)RV_MODLIST;
	uint64_t top = 0, rd_dst = 0;
	uint32_t n = 0, i;

	for (i = 0; i < qemu->memmap_entries; i++)
		if (mm[i].type == RAM && mm[i].addr == 0x100000)
			top = mm[i].addr + mm[i].size;
	if (!top)
		die("pvhload: no RAM at 1 MiB in QEMU's map\n");
	if (layout == LAYOUT_OPENVMM) {
		/* Its RAM ranges as they are: one from 0, over the ISA hole. */
		out[n++] = (struct hvm_memmap_table_entry){ 0, top, RAM, 0 };
	} else {
		out[n++] = (struct hvm_memmap_table_entry){ 0, layout == LAYOUT_CLOUD_HV ? 0xa0000 : 0x9fc00,
							    RAM, 0 };
		if (layout != LAYOUT_CLOUD_HV)
			out[n++] = (struct hvm_memmap_table_entry){ 0x9fc00, 0xe0000 - 0x9fc00, RESERVED, 0 };
		if (layout != LAYOUT_LIBKRUN)
			out[n++] = (struct hvm_memmap_table_entry){ RV_MMCONFIG, 0x10000000, RESERVED, 0 };
		out[n++] = (struct hvm_memmap_table_entry){ 0x100000,
							    top - 0x100000 + (layout == LAYOUT_LIBKRUN), RAM, 0 };
	}

	if (rd_size) {
		rd_dst = (top - rd_size) & (layout == LAYOUT_LIBKRUN ? ~0ULL : ~0xfffULL);
		memmove((void *)(uintptr_t)rd_dst, (const void *)(uintptr_t)rd_addr, (uint32_t)rd_size);
	}
	*mod = (struct hvm_modlist_entry){ .paddr = rd_dst, .size = rd_size };
	for (i = 0; t->cmdline[i]; i++)
		((char *)RV_CMDLINE)[i] = t->cmdline[i];
	((char *)RV_CMDLINE)[i] = '\0';

	if (layout == LAYOUT_OPENVMM) {
		/* null, flat code, flat data, TSS: the GDT OpenVMM's loader writes */
		static const uint64_t gdt[] = { 0, 0x00cf9b000000ffffULL, 0x00cf93000000ffffULL,
						0x00008b0000000067ULL };

		write_mptable((uint8_t *)OV_MP_FLOAT, (uint8_t *)OV_MP_TABLE);
		memmove((void *)OV_GDT, gdt, sizeof(gdt));
		if (qemu->rsdp_paddr)
			memmove((void *)OV_RSDP, (const void *)(uintptr_t)qemu->rsdp_paddr, 36);
	} else if (layout != LAYOUT_CLOUD_HV) {
		write_mptable((uint8_t *)FC_MPTABLE, (uint8_t *)FC_MPTABLE + 16);
	}
	if (layout == LAYOUT_CLOUD_HV) {
		static const uint64_t gdt[] = { 0, 0x00af9b000000ffffULL, 0x00cf93000000ffffULL,
						0x008f8b000000ffffULL };
		uint64_t *pml4 = (void *)CH_PML4, *pdpt = pml4 + 512, *pd = pdpt + 512;

		memmove((void *)CH_GDT, gdt, sizeof(gdt));
		for (i = 0; i < 8; i++)
			((uint8_t *)CH_IDT)[i] = 0;
		for (i = 0; i < 512; i++)
			pml4[i] = pdpt[i] = 0;
		pml4[0] = (uintptr_t)pdpt | 3;
		pdpt[0] = (uintptr_t)pd | 3;
		for (i = 0; i < 512; i++)
			pd[i] = (uint64_t)i << 21 | 0x83;
		if (qemu->rsdp_paddr)
			memmove((void *)CH_RSDP, (const void *)(uintptr_t)qemu->rsdp_paddr, 36);
	}
	*si = (struct hvm_start_info){
		.magic = XEN_HVM_START_MAGIC_VALUE, .version = 1, .flags = t->si.flags,
		.nr_modules = rd_size ? 1 : 0, .modlist_paddr = RV_MODLIST, .cmdline_paddr = RV_CMDLINE,
		.rsdp_paddr = !qemu->rsdp_paddr ? 0 : layout == LAYOUT_CLOUD_HV ? CH_RSDP :
			      layout == LAYOUT_OPENVMM ? OV_RSDP : 0,
		.memmap_paddr = RV_MEMMAP, .memmap_entries = n,
	};
	return si;
}

void __attribute__((regparm(0))) pvhload_main(const struct hvm_start_info *qemu)
{
	const char *p = (const char *)(uintptr_t)qemu->cmdline_paddr, *q;
	uint64_t entry = 0, rd_addr = 0, rd_size = 0, tables = 0, entries = 0, flags = 0, si = 0;
	enum layout layout = LAYOUT_OWN;
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
		} else if ((q = skip(p, "pvhload.si="))) {
			si = number(&q), p = q;
		} else if ((q = skip(p, "pvhload.entries="))) {
			entries = number(&q), p = q;
		} else if ((q = skip(p, "pvhload.flags="))) {
			flags = number(&q), p = q;
		} else if ((q = skip(p, "pvhload.layout=firecracker"))) {
			layout = LAYOUT_FIRECRACKER, p = q;
		} else if ((q = skip(p, "pvhload.layout=cloud-hypervisor"))) {
			layout = LAYOUT_CLOUD_HV, p = q;
		} else if ((q = skip(p, "pvhload.layout=libkrun"))) {
			layout = LAYOUT_LIBKRUN, p = q;
		} else if ((q = skip(p, "pvhload.layout=openvmm"))) {
			layout = LAYOUT_OPENVMM, p = q;
		} else if ((q = skip(p, "-- "))) {
			p = q;
			break;
		} else {
			die("pvhload: unknown option\n");
		}
	}
	if (!entry || qemu->memmap_entries > 1024 || entries > 1024)
		die("pvhload: need pvhload.entry; at most 1024 memmap entries\n");
	if (si) {
		if (si >> 32)
			die("pvhload: pvhload.si must lie below 4 GiB (%ebx)\n");
		report_tsc();
		chain((struct hvm_start_info *)(uintptr_t)si, (uint32_t)entry);
	}
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
	if (layout != LAYOUT_OWN)
		chain(emulate_layout(layout, t, qemu, rd_addr, rd_size), (uint32_t)entry);
	chain(&t->si, (uint32_t)entry);
}
