/* SPDX-License-Identifier: MIT */
/*
 * The Linux x86 boot protocol: the setup header and the zero page
 * ("struct boot_params").  Written from Linux's Documentation/arch/x86/boot.rst
 * and zero-page.rst; every offset is checked below against those documents.
 */
#ifndef PVHSTUB_BOOTPARAM_H
#define PVHSTUB_BOOTPARAM_H

/* File offsets inside a bzImage. */
#define BZ_SETUP_SECTS_OFF	0x1f1
#define BZ_JUMP_OFF		0x200
#define BZ_HEADER_OFF		0x202
#define BZ_HDRS_MAGIC		0x53726448	/* "HdrS" */
#define BZ_HDR_MAX_END		0x290		/* The setup header ends before this. */

/* loadflags */
#define LOADED_HIGH		(1 << 0)
#define KASLR_FLAG		(1 << 1)	/* Set by whoever randomized the kernel. */
#define KEEP_SEGMENTS		(1 << 6)
#define CAN_USE_HEAP		(1 << 7)

/* xloadflags */
#define XLF_KERNEL_64			(1 << 0)
#define XLF_CAN_BE_LOADED_ABOVE_4G	(1 << 1)
#define XLF_5LEVEL			(1 << 5)	/* May be entered with 5-level paging. */

/* hardware_subarch */
#define X86_SUBARCH_PC		0
#define X86_SUBARCH_XEN		2

/* type_of_loader: boot.rst assigns 0x9 to Xen; 0xff means "undefined". */
#define LOADER_TYPE_XEN		0x90
#define LOADER_TYPE_UNDEFINED	0xff

/* e820 types. */
#define E820_TYPE_RAM		1
#define E820_TYPE_RESERVED	2

#define E820_MAX_ENTRIES_ZEROPAGE 128
#define SETUP_E820_EXT		1

/* The legacy ISA hole Linux marks reserved. */
#define ISA_START_ADDRESS	0xa0000
#define ISA_END_ADDRESS		0x100000

/* Boot protocol 32-bit entry segment selectors. */
#define BOOT_CS			0x10
#define BOOT_DS			0x18

#ifndef __ASSEMBLY__
#include <stdint.h>
#include <stddef.h>

struct setup_header {
	uint8_t  setup_sects;		/* 0x1f1 */
	uint16_t root_flags;		/* 0x1f2 */
	uint32_t syssize;		/* 0x1f4 */
	uint16_t ram_size;		/* 0x1f8 */
	uint16_t vid_mode;		/* 0x1fa */
	uint16_t root_dev;		/* 0x1fc */
	uint16_t boot_flag;		/* 0x1fe */
	uint16_t jump;			/* 0x200 */
	uint32_t header;		/* 0x202 */
	uint16_t version;		/* 0x206 */
	uint32_t realmode_swtch;	/* 0x208 */
	uint16_t start_sys_seg;		/* 0x20c */
	uint16_t kernel_version;	/* 0x20e */
	uint8_t  type_of_loader;	/* 0x210 */
	uint8_t  loadflags;		/* 0x211 */
	uint16_t setup_move_size;	/* 0x212 */
	uint32_t code32_start;		/* 0x214 */
	uint32_t ramdisk_image;		/* 0x218 */
	uint32_t ramdisk_size;		/* 0x21c */
	uint32_t bootsect_kludge;	/* 0x220 */
	uint16_t heap_end_ptr;		/* 0x224 */
	uint8_t  ext_loader_ver;	/* 0x226 */
	uint8_t  ext_loader_type;	/* 0x227 */
	uint32_t cmd_line_ptr;		/* 0x228 */
	uint32_t initrd_addr_max;	/* 0x22c */
	uint32_t kernel_alignment;	/* 0x230 */
	uint8_t  relocatable_kernel;	/* 0x234 */
	uint8_t  min_alignment;		/* 0x235 */
	uint16_t xloadflags;		/* 0x236 */
	uint32_t cmdline_size;		/* 0x238 */
	uint32_t hardware_subarch;	/* 0x23c */
	uint64_t hardware_subarch_data;	/* 0x240 */
	uint32_t payload_offset;	/* 0x248 */
	uint32_t payload_length;	/* 0x24c */
	uint64_t setup_data;		/* 0x250 */
	uint64_t pref_address;		/* 0x258 */
	uint32_t init_size;		/* 0x260 */
	uint32_t handover_offset;	/* 0x264 */
	uint32_t kernel_info_offset;	/* 0x268 */
} __attribute__((packed));

struct boot_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct setup_data {
	uint64_t next;
	uint32_t type;
	uint32_t len;
	uint8_t  data[];
} __attribute__((packed));

struct boot_params {
	uint8_t  screen_info[0x40];	/* 0x000 */
	uint8_t  apm_bios_info[0x14];	/* 0x040 */
	uint8_t  _pad2[4];		/* 0x054 */
	uint64_t tboot_addr;		/* 0x058 */
	uint8_t  ist_info[0x10];	/* 0x060 */
	uint64_t acpi_rsdp_addr;	/* 0x070 */
	uint8_t  _pad3[8];		/* 0x078 */
	uint8_t  hd0_info[16];		/* 0x080 */
	uint8_t  hd1_info[16];		/* 0x090 */
	uint8_t  sys_desc_table[16];	/* 0x0a0 */
	uint8_t  olpc_ofw_header[16];	/* 0x0b0 */
	uint32_t ext_ramdisk_image;	/* 0x0c0 */
	uint32_t ext_ramdisk_size;	/* 0x0c4 */
	uint32_t ext_cmd_line_ptr;	/* 0x0c8 */
	uint8_t  _pad4[112];		/* 0x0cc */
	uint32_t cc_blob_address;	/* 0x13c */
	uint8_t  edid_info[0x80];	/* 0x140 */
	uint8_t  efi_info[0x20];	/* 0x1c0 */
	uint32_t alt_mem_k;		/* 0x1e0 */
	uint32_t scratch;		/* 0x1e4 */
	uint8_t  e820_entries;		/* 0x1e8 */
	uint8_t  eddbuf_entries;	/* 0x1e9 */
	uint8_t  edd_mbr_sig_buf_entries; /* 0x1ea */
	uint8_t  kbd_status;		/* 0x1eb */
	uint8_t  secure_boot;		/* 0x1ec */
	uint8_t  _pad5[2];		/* 0x1ed */
	uint8_t  sentinel;		/* 0x1ef */
	uint8_t  _pad6[1];		/* 0x1f0 */
	struct setup_header hdr;	/* 0x1f1 */
	uint8_t  _pad7[0x290 - 0x1f1 - sizeof(struct setup_header)];
	uint32_t edd_mbr_sig_buffer[16];	/* 0x290 */
	struct boot_e820_entry e820_table[E820_MAX_ENTRIES_ZEROPAGE]; /* 0x2d0 */
	uint8_t  _pad8[48];		/* 0xcd0 */
	uint8_t  eddbuf[6 * 82];	/* 0xd00 */
	uint8_t  _pad9[276];		/* 0xeec */
} __attribute__((packed));

#define BP_CHECK(field, off) \
	_Static_assert(offsetof(struct boot_params, field) == (off), \
		       "boot_params." #field " must sit at " #off)
#define HDR_CHECK(field, off) \
	_Static_assert(offsetof(struct boot_params, hdr.field) == (off), \
		       "setup_header." #field " must sit at " #off)

BP_CHECK(acpi_rsdp_addr, 0x070);
BP_CHECK(ext_ramdisk_image, 0x0c0);
BP_CHECK(ext_ramdisk_size, 0x0c4);
BP_CHECK(ext_cmd_line_ptr, 0x0c8);
BP_CHECK(cc_blob_address, 0x13c);
BP_CHECK(e820_entries, 0x1e8);
BP_CHECK(sentinel, 0x1ef);
BP_CHECK(hdr, 0x1f1);
BP_CHECK(edd_mbr_sig_buffer, 0x290);
BP_CHECK(e820_table, 0x2d0);
BP_CHECK(eddbuf, 0xd00);
HDR_CHECK(setup_sects, 0x1f1);
HDR_CHECK(boot_flag, 0x1fe);
HDR_CHECK(header, 0x202);
HDR_CHECK(version, 0x206);
HDR_CHECK(type_of_loader, 0x210);
HDR_CHECK(loadflags, 0x211);
HDR_CHECK(code32_start, 0x214);
HDR_CHECK(ramdisk_image, 0x218);
HDR_CHECK(ramdisk_size, 0x21c);
HDR_CHECK(heap_end_ptr, 0x224);
HDR_CHECK(cmd_line_ptr, 0x228);
HDR_CHECK(initrd_addr_max, 0x22c);
HDR_CHECK(kernel_alignment, 0x230);
HDR_CHECK(relocatable_kernel, 0x234);
HDR_CHECK(xloadflags, 0x236);
HDR_CHECK(cmdline_size, 0x238);
HDR_CHECK(hardware_subarch, 0x23c);
HDR_CHECK(hardware_subarch_data, 0x240);
HDR_CHECK(setup_data, 0x250);
HDR_CHECK(pref_address, 0x258);
HDR_CHECK(init_size, 0x260);
HDR_CHECK(kernel_info_offset, 0x268);
_Static_assert(sizeof(struct boot_e820_entry) == 20, "e820 entries are 20 bytes");
_Static_assert(sizeof(struct boot_params) == 4096, "the zero page is 4 KiB");

#endif /* !__ASSEMBLY__ */
#endif /* PVHSTUB_BOOTPARAM_H */
