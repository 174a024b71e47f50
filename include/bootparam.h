/* SPDX-License-Identifier: MIT */
/*
 * The Linux x86 boot protocol: the setup header, the zero page ("struct
 * boot_params"), their flags and the setup_data list, from Linux's own UAPI
 * header <asm/bootparam.h> (linux-libc-dev), the one the kernel's boot
 * protocol is defined by.  The freestanding stub sees it through a build
 * folder that holds only the UAPI headers (the Makefile's UAPI_INC).  What
 * the UAPI leaves out (file offsets in a bzImage, the kernel's own segment
 * selectors and e820 type names, loader IDs) is defined here, from
 * Documentation/arch/x86/boot.rst and zero-page.rst, and every offset we use
 * is checked below against those documents.
 *
 * Linux 6.1's header tests __ASSEMBLY__; later ones test __ASSEMBLER__,
 * which the compiler defines for assembly.  Our assembly passes
 * -D__ASSEMBLY__ too, so either header gives it only the flags.
 */
#ifndef PVHSTUB_BOOTPARAM_H
#define PVHSTUB_BOOTPARAM_H

#include <asm/bootparam.h>

/*
 * Every flag we use is in the oldest header we build with (Debian 12's
 * Linux 6.1).  A newer one would be defined here, under #ifndef, with the
 * release that added it.
 */

/* File offsets inside a bzImage. */
#define BZ_SETUP_SECTS_OFF	0x1f1
#define BZ_JUMP_OFF		0x200
#define BZ_HEADER_OFF		0x202
#define BZ_HDRS_MAGIC		0x53726448	/* "HdrS" */
#define BZ_HDR_MAX_END		0x290		/* The setup header ends before this. */

/* type_of_loader: boot.rst assigns 0x9 to Xen; 0xff means "undefined". */
#define LOADER_TYPE_XEN		0x90
#define LOADER_TYPE_UNDEFINED	0xff

/* e820 types. */
#define E820_TYPE_RAM		1
#define E820_TYPE_RESERVED	2

/* The legacy ISA hole Linux marks reserved. */
#define ISA_START_ADDRESS	0xa0000
#define ISA_END_ADDRESS		0x100000

/* The UAPI header defines it for C only; the static assert below checks it. */
#ifdef __ASSEMBLY__
#define E820_MAX_ENTRIES_ZEROPAGE 128
#endif

/* Boot protocol 32-bit entry segment selectors. */
#define BOOT_CS			0x10
#define BOOT_DS			0x18

#ifndef __ASSEMBLY__
#include <stddef.h>
#include <stdint.h>
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
/* The flags' values, from boot.rst. */
_Static_assert(LOADED_HIGH == 0x01 && KASLR_FLAG == 0x02 && KEEP_SEGMENTS == 0x40 &&
	       CAN_USE_HEAP == 0x80, "loadflags as boot.rst gives them");
_Static_assert(XLF_KERNEL_64 == 0x01 && XLF_CAN_BE_LOADED_ABOVE_4G == 0x02 && XLF_5LEVEL == 0x20,
	       "xloadflags as boot.rst gives them");
_Static_assert(SETUP_E820_EXT == 1 && E820_MAX_ENTRIES_ZEROPAGE == 128,
	       "setup_data type 1 and the zero page's 128 e820 entries, as boot.rst gives them");
_Static_assert(X86_SUBARCH_PC == 0 && X86_SUBARCH_XEN == 2, "hardware_subarch as boot.rst gives it");
_Static_assert(sizeof(struct setup_data) == 16, "a setup_data header is 16 bytes");
_Static_assert(sizeof(struct boot_e820_entry) == 20, "e820 entries are 20 bytes");
_Static_assert(sizeof(struct boot_params) == 4096, "the zero page is 4 KiB");

/* The kernel's cmdline limit: cmdline_size came with boot protocol 2.06; before, 255 bytes. */
static inline uint32_t cmdline_max(const struct setup_header *h)
{
	return h->version >= 0x0206 ? h->cmdline_size : 255;
}

#endif /* !__ASSEMBLY__ */
#endif /* PVHSTUB_BOOTPARAM_H */
