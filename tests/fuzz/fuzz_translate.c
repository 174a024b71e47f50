// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the translator: a hostile loader.
 *
 * Input: 4 bytes of choices (Xen or not, subarch policy, kernel flags,
 * initrd_addr_max, an initrd and command line the image carries and its
 * policy), then a memory image that the simulated guest sees at
 * GUEST_BASE; the start_info is its first bytes, and every pointer in it is
 * the loader's to choose.  After a successful translation, the result must
 * keep every promise the stub makes; a broken one traps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../unit/sim.h"

#define GUEST_BASE	0x10000ULL
#define STUB_START	0x100000ULL
#define STUB_END	0x120000ULL
#define WIN_START	0x1000000ULL
#define WIN_END		0x4000000ULL
/* What the image carries, where the wrap puts it: above the window. */
#define OWN_ADDR	0x4200000ULL
#define OWN_INITRD	(OWN_ADDR + 0x1000)
#define OWN_SIZE	0x300000ULL
static const char own_cmdline[] = "own=1 pvhstub.debug \"a b\"";

static struct boot_params bp;
static char cmdline[STUB_CMDLINE_SIZE];
static uint8_t ext[sizeof(struct setup_data) + STUB_E820_EXT_MAX * sizeof(struct boot_e820_entry)];
static struct start_info_node si_node;
static struct boot_e820_entry work[STUB_E820_WORK];
static struct boot_e820_entry fw_map[4] = {
	{ 0, 0x9f000, 1 }, { 0x100000, 0x3ff00000, 1 }, { 0xfc000000, 0x1000, 2 }, { 0x100000000ULL, 0x1000000, 1 },
};

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static bool overlaps(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	return a < d && c < b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim sim;
	struct pvhstub_info info = { 0 };
	struct setup_header hdr = { 0 };
	struct translate_in in;
	struct translate_out out;
	uint8_t choice[4] = { 0 };
	int err;

	memcpy(choice, data, size < 4 ? size : 4);
	data += size < 4 ? size : 4;
	size -= size < 4 ? size : 4;

	sim_init(&sim);
	if (size) {
		uint8_t *mem = sim_add(&sim, GUEST_BASE, size);

		memcpy(mem, data, size);
	}
	hdr = (struct setup_header){
		.header = BZ_HDRS_MAGIC, .version = choice[1] & 1 ? 0x020d : 0x020f,
		.loadflags = LOADED_HIGH, .initrd_addr_max = choice[1] & 2 ? 0x0fffffff : 0x7fffffff,
		.kernel_alignment = 0x200000, .relocatable_kernel = 1,
		.xloadflags = choice[2] & 3, .cmdline_size = choice[3] ? 64u * choice[3] : 2047,
		.pref_address = WIN_START, .init_size = WIN_END - WIN_START,
	};
	info = (struct pvhstub_info){
		.magic = PVHSTUB_INFO_MAGIC, .version = PVHSTUB_INFO_VERSION, .flags = PI_HANDOFF_32,
		.setup_hdr_len = sizeof(hdr), .payload_addr = WIN_START, .payload_size = 0x800000,
		.window_start = WIN_START, .window_end = WIN_END, .entry = WIN_START,
	};
	/* choice[2]: 0x04 an initrd of the image's own, 0x08 a command line, 0x30 its policy. */
	if (choice[2] & 4) {
		info.initrd_addr = OWN_INITRD;
		info.initrd_size = OWN_SIZE;
	}
	if (choice[2] & 8) {
		memcpy(sim_add(&sim, OWN_ADDR, 0x1000), own_cmdline, sizeof(own_cmdline) - 1);
		info.cmdline_addr = (uint32_t)OWN_ADDR;
		info.cmdline_len = sizeof(own_cmdline) - 1;
		info.flags |= (choice[2] & 0x30) == 0x10 ? PI_CMDLINE_EMBEDDED :
			      (choice[2] & 0x30) == 0x20 ? PI_CMDLINE_APPEND : 0;
	}
	memcpy(info.setup_hdr, &hdr, sizeof(hdr));
	in = (struct translate_in){
		.mem = &sim.mem, .start_info_paddr = GUEST_BASE, .payload = &info,
		.stub = { STUB_START, STUB_END }, .xen = choice[0] & 1,
		.subarch = (enum subarch_policy)((choice[0] >> 1) % 3),
		.fw_map = choice[0] & 8 ? fw_map : NULL, .fw_map_entries = choice[0] & 8 ? 4 : 0,
		.cmdline = { cmdline, 0x110000, sizeof(cmdline) },
		.e820_ext = { ext, 0x112000, sizeof(ext) },
		.start_info = { &si_node, 0x11f000, sizeof(si_node) },
		.work = work,
	};

	err = translate_start_info(&in, &bp, &out);
	CHECK(memchr(out.msg, 0, sizeof(out.msg)));
	if (err) {
		CHECK(err < 0 && out.msg[0]);
		sim_free(&sim);
		return 0;
	}
	/* The zero page keeps its promises. */
	CHECK(bp.e820_entries <= E820_MAX_ENTRIES_ZEROPAGE);
	CHECK(out.e820_entries >= bp.e820_entries && out.e820_entries <= STUB_E820_WORK);
	/* The setup_data list: the start_info copy on Xen, then the e820 overflow. */
	uint64_t sd_next = bp.hdr.setup_data;
	if (bp.hdr.hardware_subarch == X86_SUBARCH_XEN) {
		CHECK(sd_next == 0x11f000 && si_node.type == SETUP_PVHSTUB_START_INFO &&
		      si_node.len == sizeof(si_node.si) && bp.hdr.hardware_subarch_data == 0x11f010);
		sd_next = si_node.next;
	}
	if (out.e820_entries > E820_MAX_ENTRIES_ZEROPAGE) {
		const struct setup_data *sd = (const void *)ext;

		CHECK(sd_next == 0x112000 && sd->type == SETUP_E820_EXT && !sd->next);
		CHECK(sd->len == (out.e820_entries - 128) * sizeof(struct boot_e820_entry));
	} else {
		CHECK(sd_next == 0);
	}
	for (uint32_t i = 1; i < bp.e820_entries; i++)
		CHECK(bp.e820_table[i - 1].addr <= bp.e820_table[i].addr);
	for (uint32_t i = 0; i < bp.e820_entries; i++)
		CHECK(bp.e820_table[i].size && bp.e820_table[i].addr + bp.e820_table[i].size > bp.e820_table[i].addr);
	CHECK(memchr(cmdline, 0, sizeof(cmdline)));
	CHECK(strlen(cmdline) <= hdr.cmdline_size);
	CHECK(bp.hdr.cmd_line_ptr == 0x110000);
	/* The command line is whose the policy says, and the image's is filtered too. */
	CHECK(!(out.cmdline_from & CMDLINE_FROM_IMAGE) || (choice[2] & 8));
	CHECK(!(info.flags & PI_CMDLINE_EMBEDDED) || !(out.cmdline_from & CMDLINE_FROM_LOADER));
	/* The image's comes first, whole (the kernel's limit is 64 bytes at least), its pvhstub.debug taken out. */
	CHECK(!(out.cmdline_from & CMDLINE_FROM_IMAGE) || !strncmp(cmdline, "own=1 \"a b\"", 11));
	CHECK(!(out.cmdline_from & CMDLINE_FROM_IMAGE) || out.debug);
	uint64_t rd = bp.hdr.ramdisk_image | (uint64_t)bp.ext_ramdisk_image << 32;
	uint64_t rd_size = bp.hdr.ramdisk_size | (uint64_t)bp.ext_ramdisk_size << 32;
	uint64_t own = info.initrd_size, limit = (hdr.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G) ? 0x100000000ULL :
									  (uint64_t)hdr.initrd_addr_max + 1;

	if (out.initrd_move.size) {
		/* The loader's initrd, moved: alone, or after the image's, which moved too or stays. */
		uint64_t d = out.initrd_move.dst, e = d + out.initrd_move.size;
		bool in_ram = false;

		CHECK(e > d && e <= 0x100000000ULL && d >= 0x100000 && (own || !(d & 0xfff)));
		CHECK(!overlaps(d, e, WIN_START, WIN_END) && !overlaps(d, e, STUB_START, STUB_END));
		for (uint32_t i = 0; i < out.e820_entries; i++)
			if (work[i].type == 1 && work[i].addr <= d && e <= work[i].addr + work[i].size)
				in_ram = true;
		CHECK(in_ram);
		CHECK(rd + own == d && rd_size == own + out.initrd_move.size && rd + rd_size <= limit);
	}
	if (out.initrd_move_own.size) {
		/* Both moved: to a home that covers neither source. */
		uint64_t d = out.initrd_move_own.dst, e = d + own + out.initrd_move.size;

		CHECK(own && out.initrd_move.size && out.initrd_move_own.src == OWN_INITRD &&
		      out.initrd_move_own.size == own && d == rd && !(d & 0xfff));
		CHECK(!overlaps(d, e, OWN_INITRD, OWN_INITRD + own));
		CHECK(!overlaps(d, e, out.initrd_move.src, out.initrd_move.src + out.initrd_move.size));
		CHECK(!overlaps(d, e, WIN_START, WIN_END) && !overlaps(d, e, STUB_START, STUB_END));
	} else if (own) {
		CHECK(rd == OWN_INITRD);
	}
	/* The kernel's window is RAM, every byte, and nothing else lies over it. */
	for (uint64_t at = WIN_START, moved = 1; moved && at < WIN_END;) {
		moved = 0;
		for (uint32_t i = 0; i < out.e820_entries; i++)
			if (work[i].type == 1 && work[i].addr <= at && at < work[i].addr + work[i].size)
				at = work[i].addr + work[i].size, moved = 1;
		CHECK(moved || at >= WIN_END);
	}
	for (uint32_t i = 0; i < out.e820_entries; i++)
		CHECK(work[i].type == 1 || !overlaps(work[i].addr, work[i].addr + work[i].size, WIN_START, WIN_END));
	CHECK(bp.hdr.hardware_subarch == X86_SUBARCH_PC || bp.hdr.hardware_subarch == X86_SUBARCH_XEN);
	CHECK(si_node.si.magic == XEN_HVM_START_MAGIC_VALUE);
	sim_free(&sim);
	return 0;
}
