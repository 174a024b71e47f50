// SPDX-License-Identifier: MIT
/* With "pvhstub.debug" on the command line: print the zero page we built. */
#include "stub.h"
#include "translate.h"

static const char *e820_type_name(uint32_t type)
{
	static const char *const names[] = {
		"?", "usable", "reserved", "ACPI data", "ACPI NVS", "unusable",
		"disabled", "persistent (type 7)",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

static void dump_e820(const struct boot_e820_entry *e, uint32_t n, uint32_t first)
{
	for (uint32_t i = 0; i < n; i++)
		printk("pvhstub:   e820[%u] [mem 0x%016llx-0x%016llx] %s (%u)\n", first + i,
		       (unsigned long long)e[i].addr,
		       (unsigned long long)(e[i].addr + e[i].size - 1),
		       e820_type_name(e[i].type), e[i].type);
}

void dump_zero_page(const struct boot_params *bp)
{
	const struct setup_header *h = &bp->hdr;
	uint64_t sd_addr = h->setup_data;

	printk("pvhstub: zero page at %p:\n", (const void *)bp);
	printk("pvhstub:   boot protocol %x.%02x, setup_sects %u, loadflags 0x%x, xloadflags 0x%x\n",
	       h->version >> 8, h->version & 0xff, h->setup_sects, h->loadflags, h->xloadflags);
	printk("pvhstub:   type_of_loader 0x%x, code32_start 0x%x, kernel_alignment 0x%x, relocatable %u\n",
	       h->type_of_loader, h->code32_start, h->kernel_alignment, h->relocatable_kernel);
	printk("pvhstub:   pref_address 0x%llx, init_size 0x%x, initrd_addr_max 0x%x\n",
	       (unsigned long long)h->pref_address, h->init_size, h->initrd_addr_max);
	printk("pvhstub:   cmd_line_ptr 0x%x (ext 0x%x), cmdline_size %u\n",
	       h->cmd_line_ptr, bp->ext_cmd_line_ptr, h->cmdline_size);
	printk("pvhstub:   cmdline \"%s\"\n", (const char *)(uintptr_t)h->cmd_line_ptr);
	printk("pvhstub:   ramdisk_image 0x%x (ext 0x%x), ramdisk_size 0x%x (ext 0x%x)\n",
	       h->ramdisk_image, bp->ext_ramdisk_image, h->ramdisk_size, bp->ext_ramdisk_size);
	printk("pvhstub:   acpi_rsdp_addr 0x%llx\n", (unsigned long long)bp->acpi_rsdp_addr);
	printk("pvhstub:   hardware_subarch %u, hardware_subarch_data 0x%llx\n",
	       h->hardware_subarch, (unsigned long long)h->hardware_subarch_data);
	printk("pvhstub:   e820_entries %u\n", bp->e820_entries);
	dump_e820(bp->e820_table, bp->e820_entries, 0);

	/* The setup_data chain lives in our own image, so it is safe to walk. */
	for (uint32_t guard = 0; sd_addr && guard < 16; guard++) {
		const struct setup_data *sd = (const void *)(uintptr_t)sd_addr;

		printk("pvhstub:   setup_data at 0x%llx: type %u, len %u\n",
		       (unsigned long long)sd_addr, sd->type, sd->len);
		if (sd->type == SETUP_E820_EXT)
			dump_e820((const void *)sd->data, sd->len / sizeof(struct boot_e820_entry),
				  bp->e820_entries);
		sd_addr = sd->next;
	}
}

/* The loader's start_info as it came; call it only after translation succeeded. */
void dump_start_info(const struct hvm_start_info *si, const struct boot_e820_entry *fw_map,
		     uint32_t fw_entries)
{
	const uint8_t *mm = (const void *)(uintptr_t)si->memmap_paddr;

	printk("pvhstub: start_info v%u: flags 0x%x, nr_modules %u, modlist 0x%llx, cmdline 0x%llx, rsdp 0x%llx\n",
	       si->version, si->flags, si->nr_modules, (unsigned long long)si->modlist_paddr,
	       (unsigned long long)si->cmdline_paddr, (unsigned long long)si->rsdp_paddr);
	if (si->version < 1 || !si->memmap_paddr || !si->memmap_entries) {
		printk("pvhstub:   memmap from XENMEM_memory_map, %u entries\n", fw_entries);
		for (uint32_t i = 0; fw_map && i < fw_entries; i++)
			printk("pvhstub:   memmap[%u] addr 0x%llx size 0x%llx type %u\n", i,
			       (unsigned long long)fw_map[i].addr, (unsigned long long)fw_map[i].size,
			       fw_map[i].type);
		return;
	}
	printk("pvhstub:   memmap at 0x%llx, %u entries\n", (unsigned long long)si->memmap_paddr,
	       si->memmap_entries);
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		struct hvm_memmap_table_entry e;

		memcpy(&e, mm + i * sizeof(e), sizeof(e));
		printk("pvhstub:   memmap[%u] addr 0x%llx size 0x%llx type %u\n", i,
		       (unsigned long long)e.addr, (unsigned long long)e.size, e.type);
	}
}
