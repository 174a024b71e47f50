// SPDX-License-Identifier: MIT
/*
 * With "pvhstub.debug" on the command line: print what the loader handed
 * us (the start_info, module 0, the command line and the memory map), so a
 * boot can be understood and replayed (tests/fuzz/mkseed.py reads this).
 * What we built from it, the kernel prints itself (BIOS-e820, Command line).
 * Call it only after translation succeeded (every range was checked) and
 * before the initrd moves (the move may reuse the loader's tables' memory).
 */
#include "console.h"
#include "lib.h"
#include "translate.h"

#ifndef PVHSTUB_VERSION
#define PVHSTUB_VERSION "(unknown version)"
#endif

void dump_start_info(const struct hvm_start_info *si, const struct boot_e820_entry *fw_map,
		     uint32_t fw_entries)
{
	const uint8_t *mm = (const void *)(uintptr_t)si->memmap_paddr;
	uint32_t n = si->memmap_entries, stride = sizeof(struct hvm_memmap_table_entry);

	printk("version " PVHSTUB_VERSION "; pvhstub.debug: what the loader handed over");
	printk("start_info v%u: flags 0x%x, nr_modules %u, modlist 0x%llx, cmdline 0x%llx, rsdp 0x%llx",
	       si->version, si->flags, si->nr_modules, (unsigned long long)si->modlist_paddr,
	       (unsigned long long)si->cmdline_paddr, (unsigned long long)si->rsdp_paddr);
	if (si->nr_modules) {
		struct hvm_modlist_entry m;

		memcpy(&m, (const void *)(uintptr_t)si->modlist_paddr, sizeof(m));
		printk("  module 0 addr 0x%llx size 0x%llx", (unsigned long long)m.paddr,
		       (unsigned long long)m.size);
	}
	if (si->cmdline_paddr)
		printk("  cmdline \"%s\"", (const char *)(uintptr_t)si->cmdline_paddr);
	if (si->version < 1 || !si->memmap_paddr || !n) {
		mm = (const void *)fw_map;
		n = fw_entries;
		stride = sizeof(*fw_map);
		printk("  memmap from XENMEM_memory_map, %u entries", n);
	} else {
		printk("  memmap at 0x%llx, %u entries", (unsigned long long)si->memmap_paddr, n);
	}
	/* Both entry layouts start with addr, size and type. */
	for (uint32_t i = 0; i < n; i++) {
		struct boot_e820_entry e;

		memcpy(&e, mm + i * stride, sizeof(e));
		printk("  memmap[%u] addr 0x%llx size 0x%llx type %u", i,
		       (unsigned long long)e.addr, (unsigned long long)e.size, e.type);
	}
}
