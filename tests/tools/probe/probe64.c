// SPDX-License-Identifier: MIT
/*
 * The 64-bit probe: what probe.c dumps, and what a kernel entered through
 * the 64-bit handoff or moved by KASLR relies on:
 *   - where it runs (its physical base, from %rip) and where its
 *     relocations say it is linked (its virtual base, from a relocated
 *     site: _text's address);
 *   - its own bytes, a hash of everything the kernel needs in place but
 *     the relocation sites, and the sites themselves, in hex;
 *   - the bytes of memory the command line names (probe.sum=ADDR,LEN):
 *     the loader's tables, which a moved kernel must not overwrite.
 * tests/framework/probe.py reads the lines, and tests/tools/probe/mkprobe.py
 * writes what they must say beside the image (probe64.json).
 */
#include <stdbool.h>
#include "bootparam.h"
#include "lib.h"
#include "probe.h"

#define PTE_PW		0x3ULL
#define PDE_2M		0x83ULL
#define GIB		0x40000000ULL

void probe64_main(const struct boot_params *bp, uint64_t tsc, uint32_t entry) __attribute__((noreturn));

/* Linker-script and sites.S symbols: read through %rip, they are where we run. */
extern uint8_t _text[], _moved_end[], probe_brk[];
extern uint8_t probe_sites_a[], probe_sites_b[], probe_sites_c[];

/*
 * Our own identity map, as Linux builds its own: [0, 4 GiB) and the GiBs
 * we run in, whatever the loader mapped (the stub maps what its handoff
 * needs).  Entered at 32 bits, we already run on such a map below 4 GiB.
 */
static void map_identity(void)
{
	uint64_t *pml4 = (uint64_t *)probe_brk, *pdpt = pml4 + 512, *pd = pdpt + 512;
	uint64_t self[2] = { (uintptr_t)_text / GIB, ((uintptr_t)probe_brk + PROBE64_BRK_SIZE - 1) / GIB };
	uint32_t npd = 4;

	memset(pml4, 0, PROBE64_SCRATCH);
	pml4[0] = (uintptr_t)pdpt | PTE_PW;
	for (uint64_t g = 0; g < 4; g++)
		pdpt[g] = (uintptr_t)(pd + 512 * g) | PTE_PW;
	for (int i = 0; i < 2; i++)
		if (self[i] >= 4 && self[i] < 512 && !pdpt[self[i]])
			pdpt[self[i]] = (uintptr_t)(pd + 512 * npd++) | PTE_PW;
	for (uint64_t g = 0; g < 512; g++)
		if (pdpt[g])
			for (uint64_t i = 0; i < 512; i++)
				((uint64_t *)(uintptr_t)(pdpt[g] & ~0xfffULL))[i] = (g * GIB + i * 0x200000) | PDE_2M;
	asm volatile("mov %0, %%cr3" : : "r"(pml4) : "memory");
}

/* 64-bit FNV-1a over 8-byte words, [from, to) without the site runs. */
static uint64_t image_hash(const uint8_t *from, const uint8_t *to)
{
	const uint8_t *runs[] = { probe_sites_a, probe_sites_b, probe_sites_c };
	uint64_t h = 0xcbf29ce484222325ULL, w;

	for (const uint8_t *p = from; p < to; p += 8) {
		bool site = false;

		for (int i = 0; i < 3; i++)
			site |= p >= runs[i] && p < runs[i] + PROBE64_SITES_RUN;
		if (site)
			continue;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x100000001b3ULL;
	}
	return h;
}

static void hex_run(const char *name, const uint8_t *run)
{
	char hex[2 * PROBE64_SITES_RUN + 1];

	for (int i = 0; i < PROBE64_SITES_RUN; i++) {
		hex[2 * i] = "0123456789abcdef"[run[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[run[i] & 15];
	}
	hex[2 * PROBE64_SITES_RUN] = '\0';
	probe_out("probe: sites %s %s\n", name, hex);
}

/* A hex number ("0x..." or digits) at *s, which moves past it. */
static uint64_t hex_number(const char **s)
{
	uint64_t v = 0;
	const char *p = *s;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (;; p++) {
		char c = *p;
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			break;
		v = v << 4 | (uint64_t)d;
	}
	*s = p;
	return v;
}

/* Each "probe.sum=ADDR,LEN" of the command line: the CRC-32 of those bytes (below 4 GiB). */
static void sums(const char *cmdline)
{
	static const char key[] = "probe.sum=";

	for (const char *p = cmdline; *p; p++) {
		uint64_t addr, len;

		size_t k = 0;

		while (k < sizeof(key) - 1 && p[k] == key[k])
			k++;
		if ((p != cmdline && p[-1] != ' ') || k < sizeof(key) - 1)
			continue;
		p += sizeof(key) - 1;
		addr = hex_number(&p);
		if (*p != ',')
			continue;
		p++;
		len = hex_number(&p);
		if (addr + len <= 0x100000000ULL && len < 0x10000000)
			probe_out("probe: sum 0x%llx 0x%llx 0x%08x\n", (unsigned long long)addr,
				  (unsigned long long)len, probe_crc32((const uint8_t *)(uintptr_t)addr, (uint32_t)len));
		if (!*p)
			break;
	}
}

static uint32_t entry_bits;

void probe_image(const struct boot_params *bp)
{
	uint64_t virt, cmdline = bp->hdr.cmd_line_ptr | (uint64_t)bp->ext_cmd_line_ptr << 32;

	memcpy(&virt, probe_sites_a, 8);	/* .quad _text */
	probe_out("probe: entry %u\n", entry_bits);
	probe_out("probe: image phys 0x%llx virt 0x%llx moved 0x%llx\n", (unsigned long long)(uintptr_t)_text,
		  (unsigned long long)virt, (unsigned long long)(_moved_end - _text));
	probe_out("probe: image_hash 0x%016llx\n", (unsigned long long)image_hash(_text, _moved_end));
	hex_run("a", probe_sites_a);
	hex_run("b", probe_sites_b);
	hex_run("c", probe_sites_c);
	if (cmdline && cmdline < 0x100000000ULL)
		sums((const char *)(uintptr_t)cmdline);
}

void probe64_main(const struct boot_params *bp, uint64_t tsc, uint32_t entry)
{
	if (entry == 64)
		map_identity();
	entry_bits = entry;
	probe_dump(bp, tsc, entry == 64);
}
