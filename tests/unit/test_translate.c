// SPDX-License-Identifier: MIT
/*
 * translate_start_info() on hand-built start_info buffers: v0 and v1,
 * missing fields, bad magic, modules, memmap sizes, cmdline edge cases,
 * initrd placement, RSDP and subarch policy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "sim.h"

#include "fixture.h"
#include "xenpub.h"

/* --- start_info versions and validity ------------------------------------ */

static void test_v1_basic(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->out.version, 1);
	assert_int_equal(f->out.warnings, 0);
	assert_int_equal(f->bp.e820_entries, 4);
	assert_e820(&f->bp.e820_table[0], 0, 0x9fc00, 1);
	assert_e820(&f->bp.e820_table[1], 0xa0000, 0xf0000, 2);	/* The ISA hole's gap. */
	assert_e820(&f->bp.e820_table[2], 0xf0000, 0x100000, 2);
	assert_e820(&f->bp.e820_table[3], 0x100000, RAM_END, 1);
	assert_int_equal(f->bp.hdr.setup_data, 0);
	assert_string_equal(f->cmdline, "console=ttyS0");
	assert_int_equal(f->bp.hdr.cmd_line_ptr, CMDLINE_PADDR);
	assert_int_equal(f->bp.ext_cmd_line_ptr, 0);
	assert_int_equal(f->bp.hdr.ramdisk_image, 0x1f000000);
	assert_int_equal(f->bp.hdr.ramdisk_size, 0x100000);
	assert_int_equal(f->bp.ext_ramdisk_image, 0);
	assert_int_equal(f->out.initrd_move.size, 0);
	assert_int_equal(f->bp.acpi_rsdp_addr, 0xf59d0);
	assert_int_equal(f->bp.hdr.type_of_loader, LOADER_TYPE_UNDEFINED);
	assert_int_equal(f->bp.hdr.hardware_subarch, X86_SUBARCH_PC);
	assert_int_equal(f->bp.hdr.hardware_subarch_data, 0);
	assert_int_equal(f->bp.hdr.setup_data, 0);
	assert_int_equal(f->bp.hdr.code32_start, WIN_START);
	assert_int_equal(f->bp.hdr.loadflags, LOADED_HIGH | CAN_USE_HEAP);
	/* The payload's header is copied faithfully. */
	assert_int_equal(f->bp.hdr.kernel_alignment, 0x200000);
	assert_int_equal(f->bp.hdr.init_size, WIN_END - WIN_START);
	assert_int_equal(f->bp.hdr.header, BZ_HDRS_MAGIC);
	assert_int_equal(f->bp.hdr.version, 0x020f);
	/* Outside the header, the zero page starts zeroed. */
	assert_int_equal(f->bp.sentinel, 0);
	assert_int_equal(f->bp.screen_info.orig_x, 0);
	assert_int_equal(f->bp._pad9[275], 0);
	/* The start_info copy in the stub. */
	assert_int_equal(f->si_node.si.magic, XEN_HVM_START_MAGIC_VALUE);
	assert_int_equal(f->si_node.si.memmap_entries, 3);
}

/* bp_zeroed: the stub's zero page is still the zero-filled bss; nothing else changes. */
static void test_bp_zeroed_skips_only_the_clearing(void **state)
{
	struct fx *f = *state;
	static struct boot_params want;

	assert_int_equal(run(f), TE_OK);	/* run() fills bp with 0xa5 first. */
	want = f->bp;
	assert_int_equal(want.screen_info.orig_video_mode, 0);	/* Cleared, then written. */

	memcpy(f->info.setup_hdr, &f->hdr, sizeof(f->hdr));
	memset(&f->bp, 0, sizeof(f->bp));
	f->in.bp_zeroed = true;
	assert_int_equal(translate_start_info(&f->in, &f->bp, &f->out), TE_OK);
	assert_memory_equal(&f->bp, &want, sizeof(want));

	/* The flag is trusted: a dirty page stays dirty where nothing writes. */
	memset(&f->bp, 0xa5, sizeof(f->bp));
	assert_int_equal(translate_start_info(&f->in, &f->bp, &f->out), TE_OK);
	assert_int_equal(f->bp.screen_info.orig_video_mode, 0xa5);
}

static void test_v0_without_xen_has_no_map(void **state)
{
	struct fx *f = *state;

	f->si->version = 0;
	expect_error(f, TE_BAD_MEMMAP, "no memory map: start_info v0 carries none and this is not Xen");
}

static void test_v0_uses_firmware_map(void **state)
{
	struct fx *f = *state;
	static const struct boot_e820_entry fw[] = {
		{ 0x100000, 0x1ff00000, 1 }, { 0, 0xa0000, 1 },
	};

	f->si->version = 0;
	f->in.xen = true;
	f->in.fw_map = fw;
	f->in.fw_map_entries = 2;
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->bp.e820_entries, 3);
	assert_e820(&f->bp.e820_table[0], 0, 0xa0000, 1);
	assert_e820(&f->bp.e820_table[1], 0xa0000, 0x100000, 2);
	assert_e820(&f->bp.e820_table[2], 0x100000, 0x20000000, 1);
}

static void test_v0_reads_only_40_bytes(void **state)
{
	struct fx *f = *state;
	/* A v0 start_info in the last 40 bytes of a region: reading v1 fields would fail. */
	uint64_t at = 0x7000000 - START_INFO_V0_SIZE;
	struct hvm_start_info *si;
	static const struct boot_e820_entry fw[] = { { 0, 0x20000000, 1 } };

	si = (void *)((uint8_t *)sim_add(&f->sim, 0x7000000 - 0x1000, 0x1000) + 0x1000 - START_INFO_V0_SIZE);
	memcpy(si, f->si, START_INFO_V0_SIZE);
	si->version = 0;
	f->in.start_info_paddr = at;
	f->in.xen = true;
	f->in.fw_map = fw;
	f->in.fw_map_entries = 1;
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->si_node.si.memmap_entries, 0);
	assert_int_equal(f->si_node.si.memmap_paddr, 0);
}

static void test_bad_magic(void **state)
{
	struct fx *f = *state;

	f->si->magic = 0x336ec579;
	expect_error(f, TE_BAD_START_INFO, "bad magic 0x336ec579");
}

static void test_start_info_unreadable(void **state)
{
	struct fx *f = *state;

	f->in.start_info_paddr = 0x7fff0000;
	expect_error(f, TE_BAD_START_INFO, "not readable");
	f->in.start_info_paddr = 0;
	expect_error(f, TE_BAD_START_INFO, "no start_info");
}

static void test_start_info_in_stub(void **state)
{
	struct fx *f = *state;
	void *p = sim_add(&f->sim, STUB_START, 0x1000);

	memcpy(p, f->si, sizeof(*f->si));
	f->in.start_info_paddr = STUB_START;
	expect_error(f, TE_OVERLAP, "start_info [0x100000, 0x100028) overlaps the stub image");
}

static void test_future_version(void **state)
{
	struct fx *f = *state;

	f->si->version = 7;
	assert_int_equal(run(f), TE_OK);
	assert_true(f->out.warnings & TW_FUTURE_VERSION);
	assert_int_equal(f->bp.e820_entries, 4);
}

static void test_not_wrapped(void **state)
{
	struct fx *f = *state;

	f->info.magic = 0;
	expect_error(f, TE_BAD_PAYLOAD, "no payload");
}

/* --- memory map -------------------------------------------------------------- */

static void test_memmap_more_than_128(void **state)
{
	struct fx *f = *state;
	const uint32_t n = 300;
	const struct setup_data *sd = (const void *)f->ext;
	const struct boot_e820_entry *ext = (const void *)sd->data;

	/* 3 low entries, then 297 alternating 1 MiB blocks above 4 GiB. */
	for (uint32_t i = 3; i < n; i++)
		set_memmap(f, i, 0x100000000ULL + (i - 3) * 0x100000ULL, 0x100000, i % 2 ? 1 : 2);
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->out.e820_entries, n + 1);	/* Plus the ISA gap. */
	assert_int_equal(f->bp.e820_entries, 128);
	assert_int_equal(f->bp.hdr.setup_data, EXT_PADDR);
	assert_int_equal(sd->type, SETUP_E820_EXT);
	assert_int_equal(sd->next, 0);
	assert_int_equal(sd->len, (n + 1 - 128) * sizeof(struct boot_e820_entry));
	/* The zero page holds the first 128 in order; the record the rest. */
	assert_e820(&f->bp.e820_table[127], 0x100000000ULL + 123 * 0x100000ULL,
		    0x100000000ULL + 124 * 0x100000ULL, 128 % 2 ? 1 : 2);
	assert_e820(&ext[0], 0x100000000ULL + 124 * 0x100000ULL, 0x100000000ULL + 125 * 0x100000ULL,
		    129 % 2 ? 1 : 2);
	assert_e820(&ext[n - 128], 0x100000000ULL + (n - 4) * 0x100000ULL,
		    0x100000000ULL + (n - 3) * 0x100000ULL, (n - 1) % 2 ? 1 : 2);

	/* On Xen the start_info copy heads the list, then the e820 record. */
	f->in.xen = true;
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->bp.hdr.setup_data, SICOPY_PADDR);
	assert_int_equal(f->si_node.next, EXT_PADDR);
	assert_int_equal(sd->next, 0);
}

static void test_memmap_at_the_limit(void **state)
{
	struct fx *f = *state;

	for (uint32_t i = 3; i < STUB_MAX_E820; i++)
		set_memmap(f, i, 0x100000000ULL + i * 0x1000ULL, 0x1000, 2);
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->out.e820_entries, STUB_MAX_E820 + 1);

	set_memmap(f, STUB_MAX_E820, 0x200000000ULL, 0x1000, 2);
	expect_error(f, TE_BAD_MEMMAP, "memmap has 1025 entries; at most 1024 are supported");
}

static void test_memmap_huge_count(void **state)
{
	struct fx *f = *state;

	f->si->memmap_entries = 0xffffffff;
	expect_error(f, TE_BAD_MEMMAP, "memmap has 4294967295 entries");
}

static void test_memmap_wraps(void **state)
{
	struct fx *f = *state;

	set_memmap(f, 3, 0xfffffffffffff000ULL, 0x2000, 2);
	expect_error(f, TE_BAD_MEMMAP, "memmap entry 3: 0xfffffffffffff000 + 0x2000 wraps past 2^64");
}

static void test_memmap_unreadable(void **state)
{
	struct fx *f = *state;

	f->si->memmap_paddr = LOW_END - 24;
	f->si->memmap_entries = 2;
	expect_error(f, TE_BAD_MEMMAP, "memmap [0x9efe8, 0x9f018) is not readable memory");
}

static void test_memmap_unsorted_and_isa_split(void **state)
{
	struct fx *f = *state;

	f->si->memmap_entries = 0;
	set_memmap(f, 0, 0xfd00000000ULL, 0x300000000ULL, 2);
	set_memmap(f, 1, 0, RAM_END, 1);	/* RAM straight across the ISA hole. */
	set_memmap(f, 2, 0, 0, 1);		/* Empty: dropped. */
	set_memmap(f, 3, 0xfffc0000, 0x40000, 9);	/* Unknown type: kept. */
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->bp.e820_entries, 5);
	assert_e820(&f->bp.e820_table[0], 0, 0xa0000, 1);
	assert_e820(&f->bp.e820_table[1], 0xa0000, 0x100000, 2);
	assert_e820(&f->bp.e820_table[2], 0x100000, RAM_END, 1);
	assert_e820(&f->bp.e820_table[3], 0xfffc0000, 0x100000000ULL, 9);
	assert_e820(&f->bp.e820_table[4], 0xfd00000000ULL, 0x10000000000ULL, 2);
}

static void test_isa_hole_gaps(void **state)
{
	struct fx *f = *state;

	/* Two firmware ranges inside the hole: the stub reserves the three gaps. */
	set_memmap(f, 1, 0xe0000, 0x10000, 4);
	set_memmap(f, 3, 0xc0000, 0x8000, 2);
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->bp.e820_entries, 7);
	assert_e820(&f->bp.e820_table[0], 0, 0x9fc00, 1);
	assert_e820(&f->bp.e820_table[1], 0xa0000, 0xc0000, 2);
	assert_e820(&f->bp.e820_table[2], 0xc0000, 0xc8000, 2);
	assert_e820(&f->bp.e820_table[3], 0xc8000, 0xe0000, 2);
	assert_e820(&f->bp.e820_table[4], 0xe0000, 0xf0000, 4);
	assert_e820(&f->bp.e820_table[5], 0xf0000, 0x100000, 2);
	assert_e820(&f->bp.e820_table[6], 0x100000, RAM_END, 1);
}

/* Any number of pieces: five firmware ranges in the hole leave six gaps. */
static void test_isa_hole_many_pieces(void **state)
{
	struct fx *f = *state;
	static const uint64_t fw[5][2] = {
		{ 0xa8000, 0xa9000 }, { 0xb0000, 0xb4000 }, { 0xc0000, 0xc8000 },
		{ 0xd0000, 0xd1000 }, { 0xe0000, 0xf0000 },
	};

	f->si->memmap_entries = 0;
	set_memmap(f, 0, 0, 0x9fc00, 1);
	for (int i = 4; i >= 0; i--)	/* Unsorted on purpose. */
		set_memmap(f, 5 - i, fw[i][0], fw[i][1] - fw[i][0], 4);
	set_memmap(f, 6, 0x100000, RAM_END - 0x100000, 1);
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->bp.e820_entries, 13);
	assert_e820(&f->bp.e820_table[0], 0, 0x9fc00, 1);
	for (int i = 0; i < 5; i++) {
		assert_e820(&f->bp.e820_table[1 + 2 * i], i ? fw[i - 1][1] : 0xa0000, fw[i][0], 2);
		assert_e820(&f->bp.e820_table[2 + 2 * i], fw[i][0], fw[i][1], 4);
	}
	assert_e820(&f->bp.e820_table[11], 0xf0000, 0x100000, 2);
	assert_e820(&f->bp.e820_table[12], 0x100000, RAM_END, 1);
}

/* A full map whose hole needs more gaps than the work room: a clear refusal. */
static void test_isa_hole_no_room(void **state)
{
	struct fx *f = *state;
	const uint32_t pieces = 40;

	f->si->memmap_entries = 0;
	for (uint32_t i = 0; i < pieces; i++)	/* 40 one-page ranges, a page apart. */
		set_memmap(f, i, 0xa1000 + i * 0x2000ULL, 0x1000, 2);
	set_memmap(f, pieces, 0x100000, RAM_END - 0x100000, 1);
	for (uint32_t i = pieces + 1; i < STUB_MAX_E820; i++)
		set_memmap(f, i, 0x100000000ULL + i * 0x1000ULL, 0x1000, 2);
	expect_error(f, TE_BAD_MEMMAP, "the ISA hole's gaps take the map past 1056 e820 entries");

	f->si->memmap_entries = STUB_MAX_E820 - 20;	/* Room for the 41 gaps now. */
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->out.e820_entries, STUB_MAX_E820 - 20 + pieces + 1);
}

static void test_memmap_zero_entries_means_none(void **state)
{
	struct fx *f = *state;

	f->si->memmap_entries = 0;
	expect_error(f, TE_BAD_MEMMAP, "no memory map");
}

/* --- command line ---------------------------------------------------------------- */

static void test_cmdline_absent(void **state)
{
	struct fx *f = *state;

	f->si->cmdline_paddr = 0;
	assert_int_equal(run(f), TE_OK);
	assert_string_equal(f->cmdline, "");
	assert_int_equal(f->bp.hdr.cmd_line_ptr, CMDLINE_PADDR);
}

static void test_cmdline_long_is_truncated(void **state)
{
	struct fx *f = *state;

	memset(f->cl, 'x', 3000);
	f->cl[3000] = '\0';
	assert_int_equal(run(f), TE_OK);
	assert_true(f->out.warnings & TW_CMDLINE_TRUNCATED);
	assert_int_equal(f->out.cmdline_len, 3000);
	assert_int_equal(strlen(f->cmdline), 2047);
}

/* The image's own command line, by each policy (PI_CMDLINE_*). */
static void test_cmdline_own_policies(void **state)
{
	static const struct {
		uint32_t flags;
		const char *loader;		/* NULL: no cmdline_paddr */
		const char *want;
		uint8_t from;
	} cases[] = {
		{ 0, "loader=1", "loader=1", CMDLINE_FROM_LOADER },
		{ 0, "", "own=1 \"a b\"", CMDLINE_FROM_IMAGE },
		{ 0, NULL, "own=1 \"a b\"", CMDLINE_FROM_IMAGE },
		/* The loader's holds only our options: those act, the image's is the kernel's. */
		{ 0, "pvhstub.debug", "own=1 \"a b\"", CMDLINE_FROM_IMAGE },
		{ PI_CMDLINE_EMBEDDED, "loader=1", "own=1 \"a b\"", CMDLINE_FROM_IMAGE },
		{ PI_CMDLINE_APPEND, "loader=1", "own=1 \"a b\" loader=1", CMDLINE_FROM_IMAGE | CMDLINE_FROM_LOADER },
		{ PI_CMDLINE_APPEND, "pvhstub.debug", "own=1 \"a b\"", CMDLINE_FROM_IMAGE },
		{ PI_CMDLINE_APPEND, NULL, "own=1 \"a b\"", CMDLINE_FROM_IMAGE },
	};
	struct fx *f = *state;
	char *own = (char *)sim_add(&f->sim, 0x7000000, 0x1000);
	static const char text[] = "own=1 pvhstub.debug \"a b\"";

	memcpy(own, text, sizeof(text) - 1);
	own[sizeof(text) - 1] = 'X';		/* No NUL: the length counts. */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->info.flags = PI_HANDOFF_32 | cases[i].flags;
		f->info.cmdline_addr = 0x7000000;
		f->info.cmdline_len = sizeof(text) - 1;
		if (cases[i].loader)
			set_cmdline(f, cases[i].loader);
		else
			f->si->cmdline_paddr = 0;
		assert_int_equal(run(f), TE_OK);
		if (strcmp(f->cmdline, cases[i].want) || f->out.cmdline_from != cases[i].from)
			fail_msg("case %zu: cmdline \"%s\" from %u, want \"%s\" from %u", i, f->cmdline,
				 f->out.cmdline_from, cases[i].want, cases[i].from);
		/* pvhstub.debug acts when its command line is used. */
		assert_int_equal(f->out.debug, (cases[i].from & CMDLINE_FROM_IMAGE) ||
					       (cases[i].loader && strstr(cases[i].loader, "pvhstub.debug")));
	}
	f->info.cmdline_addr = 0x8000000;
	expect_error(f, TE_BAD_PAYLOAD, "the image's command line at 0x8000000 is not readable");
}

static void test_cmdline_at_the_limit(void **state)
{
	struct fx *f = *state;

	memset(f->cl, 'y', 2047);
	f->cl[2047] = '\0';
	assert_int_equal(run(f), TE_OK);
	assert_false(f->out.warnings & TW_CMDLINE_TRUNCATED);
	assert_int_equal(strlen(f->cmdline), 2047);
}

static void test_cmdline_without_nul(void **state)
{
	struct fx *f = *state;

	memset(f->cl, 'z', LOW_END - CL_PADDR);
	expect_error(f, TE_BAD_CMDLINE, "cmdline at 0x20000: no NUL");
}

/* dom0 with a Linux payload gets a warning; dom0 with another payload, or a Linux domU, none. */
static void test_dom0_linux_warning(void **state)
{
	struct fx *f = *state;
	static const struct { uint32_t si_flags, pi_flags; bool warn; } cases[] = {
		{ SIF_INITDOMAIN | SIF_PRIVILEGED, PI_LINUX, true },
		{ SIF_INITDOMAIN, PI_LINUX, true },
		{ SIF_PRIVILEGED, PI_LINUX, false },
		{ 0, PI_LINUX, false },
		{ SIF_INITDOMAIN | SIF_PRIVILEGED, 0, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->si->flags = cases[i].si_flags;
		f->info.flags = PI_HANDOFF_32 | cases[i].pi_flags;
		assert_int_equal(run(f), TE_OK);
		assert_int_equal(!!(f->out.warnings & TW_DOM0_LINUX), cases[i].warn);
	}
}

/* nokaslr and no5lvl are noted for the stub, and kept for the kernel. */
static void test_cmdline_kernel_options(void **state)
{
	struct fx *f = *state;

	set_cmdline(f, "a nokaslr no5lvl b");
	assert_int_equal(run(f), TE_OK);
	assert_string_equal(f->cmdline, "a nokaslr no5lvl b");
	assert_true(f->out.nokaslr);
	assert_true(f->out.no5lvl);
	set_cmdline(f, "nokaslr=1 xnokaslr no5lvlx \"nokaslr\"");
	assert_int_equal(run(f), TE_OK);
	assert_false(f->out.nokaslr);
	assert_false(f->out.no5lvl);
}

/*
 * Boot protocols before 2.10 (the wrap derives their window): before 2.06
 * the cmdline limit is 255 bytes, not cmdline_size; before 2.09 there is no
 * setup_data, so the e820 stops at 128 entries and the start_info copy is
 * not chained.
 */
static void test_old_protocols(void **state)
{
	struct fx *f = *state;
	char longer[400];

	memset(longer, 'c', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	f->hdr.version = 0x0205;
	f->hdr.cmdline_size = 2047;	/* A stray byte of setup code, in a 2.05 kernel. */
	set_cmdline(f, longer);
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(strlen(f->cmdline), 255);
	assert_true(f->out.warnings & TW_CMDLINE_TRUNCATED);

	f->hdr.version = 0x0206;
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(strlen(f->cmdline), 399);

	f->hdr.version = 0x0208;
	for (uint32_t i = 3; i < 300; i++)
		set_memmap(f, i, 0x100000000ULL + (i - 3) * 0x100000ULL, 0x100000, i % 2 ? 1 : 2);
	f->in.subarch = SUBARCH_FORCE_XEN;
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->bp.e820_entries, 128);
	assert_int_equal(f->out.e820_entries, 128);
	assert_true(f->out.warnings & TW_E820_TRUNCATED);
	assert_int_equal(f->bp.hdr.setup_data, 0);
	assert_int_equal(f->bp.hdr.hardware_subarch, X86_SUBARCH_XEN);

	f->hdr.version = 0x0209;
	assert_int_equal(run(f), TE_OK);
	assert_false(f->out.warnings & TW_E820_TRUNCATED);
	assert_int_equal(f->bp.hdr.setup_data, SICOPY_PADDR);
	assert_int_equal(f->si_node.next, EXT_PADDR);
}

static void check_filter(struct fx *f, const char *in, const char *want, bool debug)
{
	set_cmdline(f, in);
	assert_int_equal(run(f), TE_OK);
	if (strcmp(f->cmdline, want) || f->out.debug != debug)
		fail_msg("\"%s\" gave \"%s\" (debug %d), want \"%s\" (debug %d)", in, f->cmdline,
			 f->out.debug, want, debug);
}

static void test_cmdline_debug_option(void **state)
{
	struct fx *f = *state;

	check_filter(f, "pvhstub.debug", "", true);
	check_filter(f, "a pvhstub.debug b", "a b", true);
	check_filter(f, "pvhstub.debug  a", "a", true);
	check_filter(f, "a  pvhstub.debug=1", "a", true);
	check_filter(f, "a pvhstub.debug pvhstub.debug", "a", true);
	check_filter(f, "x=\"y pvhstub.debug\" z", "x=\"y pvhstub.debug\" z", false);
	check_filter(f, "pvhstub.debugger a", "pvhstub.debugger a", false);
	check_filter(f, "a  b\tc", "a  b\tc", false);
}

static void test_cmdline_subarch_option(void **state)
{
	struct fx *f = *state;

	set_cmdline(f, "a pvhstub.subarch=xen b");
	assert_int_equal(run(f), TE_OK);
	assert_string_equal(f->cmdline, "a b");
	assert_int_equal(f->bp.hdr.hardware_subarch, X86_SUBARCH_XEN);
	assert_int_equal(f->bp.hdr.hardware_subarch_data, SICOPY_PADDR + 16);

	f->in.xen = true;
	set_cmdline(f, "pvhstub.subarch=pc");
	assert_int_equal(run(f), TE_OK);
	assert_string_equal(f->cmdline, "");
	assert_int_equal(f->bp.hdr.hardware_subarch, X86_SUBARCH_PC);

	set_cmdline(f, "pvhstub.subarch=bogus x");
	assert_int_equal(run(f), TE_OK);
	assert_string_equal(f->cmdline, "x");
	assert_true(f->out.warnings & TW_BAD_OPTION);
	assert_int_equal(f->bp.hdr.hardware_subarch, X86_SUBARCH_XEN);	/* auto, on Xen */

	/* Only the exact words count; a later option overrides an earlier one. */
	const char *bad[] = { "pvhstub.subarch", "pvhstub.subarch=", "pvhstub.subarch=xenx",
			      "pvhstub.subarch=pc=1", "pvhstub.subarch=p" };
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_cmdline(f, bad[i]);
		assert_int_equal(run(f), TE_OK);
		assert_string_equal(f->cmdline, "");
		assert_true(f->out.warnings & TW_BAD_OPTION);
		assert_int_equal(f->out.subarch, -1);
	}
	set_cmdline(f, "pvhstub.subarch=pc pvhstub.subarch=auto");
	assert_int_equal(run(f), TE_OK);
	assert_false(f->out.warnings & TW_BAD_OPTION);
	assert_int_equal(f->out.subarch, SUBARCH_AUTO);
	assert_int_equal(f->bp.hdr.hardware_subarch, X86_SUBARCH_XEN);
	set_cmdline(f, "pvhstub.subarchy=pc");	/* Not ours: passed on. */
	assert_int_equal(run(f), TE_OK);
	assert_string_equal(f->cmdline, "pvhstub.subarchy=pc");
	assert_int_equal(f->out.subarch, -1);
}

/* --- modules and the initrd -------------------------------------------------------- */

static void test_no_modules(void **state)
{
	struct fx *f = *state;

	f->si->nr_modules = 0;
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->bp.hdr.ramdisk_image, 0);
	assert_int_equal(f->bp.hdr.ramdisk_size, 0);
}

static void test_many_modules(void **state)
{
	struct fx *f = *state;

	f->si->nr_modules = 3;
	f->ml[1] = (struct hvm_modlist_entry){ .paddr = 0x1e000000, .size = 0x1000 };
	f->ml[2] = (struct hvm_modlist_entry){ .paddr = 0x1e100000, .size = 0x1000 };
	assert_int_equal(run(f), TE_OK);
	assert_true(f->out.warnings & TW_EXTRA_MODULES);
	assert_int_equal(f->out.nr_modules, 3);
	assert_int_equal(f->bp.hdr.ramdisk_image, 0x1f000000);
}

static void test_modlist_missing(void **state)
{
	struct fx *f = *state;

	f->si->modlist_paddr = 0;
	expect_error(f, TE_BAD_MODULE, "modlist [0x0, 0x20) is not readable memory");
	f->si->modlist_paddr = ML_PADDR;
	f->si->nr_modules = 0x7fffffff;
	expect_error(f, TE_BAD_MODULE, "nr_modules is 2147483647");
}

static void test_empty_module(void **state)
{
	struct fx *f = *state;

	f->ml[0].size = 0;
	assert_int_equal(run(f), TE_OK);
	assert_true(f->out.warnings & TW_EMPTY_INITRD);
	assert_int_equal(f->bp.hdr.ramdisk_image, 0);
}

static void test_initrd_above_4g(void **state)
{
	struct fx *f = *state;

	f->ml[0] = (struct hvm_modlist_entry){ .paddr = 0x123456000ULL, .size = 0x100001000ULL };
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->out.initrd_move.size, 0);
	assert_int_equal(f->bp.hdr.ramdisk_image, 0x23456000);
	assert_int_equal(f->bp.ext_ramdisk_image, 1);
	assert_int_equal(f->bp.hdr.ramdisk_size, 0x1000);
	assert_int_equal(f->bp.ext_ramdisk_size, 1);
}

static void test_initrd_above_4g_cannot_move(void **state)
{
	struct fx *f = *state;

	f->hdr.xloadflags = XLF_KERNEL_64;
	f->ml[0] = (struct hvm_modlist_entry){ .paddr = 0x123456000ULL, .size = 0x1000 };
	expect_error(f, TE_NO_ROOM, "initrd [0x123456000, 0x123457000) must move (decompression window [0x1000000, 0x4000000), limit 0x80000000), but it lies above 4 GiB, out of the stub's reach");
}

static void test_initrd_in_window_moves(void **state)
{
	struct fx *f = *state;

	f->ml[0] = (struct hvm_modlist_entry){ .paddr = WIN_START + 0x800000, .size = 0x123456 };
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->out.initrd_move.src, WIN_START + 0x800000);
	assert_int_equal(f->out.initrd_move.size, 0x123456);
	/* The highest 4 KiB-aligned fit in RAM. */
	assert_int_equal(f->out.initrd_move.dst, (RAM_END - 0x123456) & ~0xfffULL);
	assert_int_equal(f->bp.hdr.ramdisk_image, f->out.initrd_move.dst);
	assert_int_equal(f->bp.hdr.ramdisk_size, 0x123456);
}

static void test_initrd_move_avoids_others(void **state)
{
	struct fx *f = *state;

	/* Module 1 sits at the top of RAM, and a reserved range just below it. */
	f->si->nr_modules = 2;
	f->ml[0] = (struct hvm_modlist_entry){ .paddr = WIN_START, .size = 0x200000 };
	f->ml[1] = (struct hvm_modlist_entry){ .paddr = RAM_END - 0x100000, .size = 0x100000 };
	set_memmap(f, 3, RAM_END - 0x180000, 0x80000, 2);
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->out.initrd_move.dst, RAM_END - 0x180000 - 0x200000);
}

/* A moved initrd covers none of the loader's tables: the RSDP's page and the next, the memory map. */
static void test_initrd_move_avoids_loader_tables(void **state)
{
	struct fx *f = *state;
	uint8_t *top = sim_add(&f->sim, RAM_END - 0x100000, 0x100000);

	f->ml[0] = (struct hvm_modlist_entry){ .paddr = WIN_START, .size = 0x200000 };
	f->si->rsdp_paddr = RAM_END - 0x1f00;
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->out.initrd_move.dst, RAM_END - 0x2000 - 0x200000);

	memcpy(top + 0x80000, f->mm, f->si->memmap_entries * sizeof(*f->mm));
	f->si->memmap_paddr = RAM_END - 0x80000;
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->out.initrd_move.dst, RAM_END - 0x80000 - 0x200000);
}

static void test_initrd_in_window_no_room(void **state)
{
	struct fx *f = *state;

	/* RAM ends with the window: nowhere to go above, the stub and low memory below. */
	set_memmap(f, 2, 0x100000, WIN_END - 0x100000, 1);
	f->ml[0] = (struct hvm_modlist_entry){ .paddr = WIN_START + 0x100000, .size = 0x1000000 };
	expect_error(f, TE_NO_ROOM,
		     "initrd [0x1100000, 0x2100000) must move (decompression window [0x1000000, 0x4000000), limit 0x100000000), but no free RAM below the limit holds it");
}

static void test_initrd_above_addr_max_moves(void **state)
{
	struct fx *f = *state;

	f->hdr.xloadflags = XLF_KERNEL_64;
	f->hdr.initrd_addr_max = 0x0fffffff;
	f->ml[0] = (struct hvm_modlist_entry){ .paddr = 0x1f000000, .size = 0x100000 };
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->out.initrd_move.dst, 0x10000000 - 0x100000);
	assert_true(f->bp.hdr.ramdisk_image + f->bp.hdr.ramdisk_size - 1 <= 0x0fffffff);

	/* Below initrd_addr_max there is only low memory, the stub and the window. */
	f->hdr.initrd_addr_max = WIN_END + 0xfffff;
	f->ml[0].size = 0x1000000;
	expect_error(f, TE_NO_ROOM,
		     "initrd [0x1f000000, 0x20000000) must move (decompression window [0x1000000, 0x4000000), limit 0x4100000), but no free RAM below the limit holds it");
}

/* --- the image's own initrd, and the loader's after it ---------------------------- */

#define OWN_START	(WIN_END + 0x200000)	/* Where the wrap puts it: above the window. */
#define OWN_SIZE	0x300000ULL

static void own_initrd(struct fx *f)
{
	f->info.initrd_addr = OWN_START;
	f->info.initrd_size = OWN_SIZE;
}

static void test_own_initrd_alone(void **state)
{
	struct fx *f = *state;

	own_initrd(f);
	f->si->nr_modules = 0;
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->bp.hdr.ramdisk_image, OWN_START);
	assert_int_equal(f->bp.hdr.ramdisk_size, OWN_SIZE);
	assert_int_equal(f->out.initrd_move.size, 0);
	assert_int_equal(f->out.initrd_move_own.size, 0);
}

/* The loader's module goes right after the image's own, which stays. */
static void test_own_initrd_then_loaders(void **state)
{
	struct fx *f = *state;

	own_initrd(f);
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->out.initrd_move_own.size, 0);
	assert_int_equal(f->out.initrd_move.src, 0x1f000000);
	assert_int_equal(f->out.initrd_move.dst, OWN_START + OWN_SIZE);
	assert_int_equal(f->out.initrd_move.size, 0x100000);
	assert_int_equal(f->bp.hdr.ramdisk_image, OWN_START);
	assert_int_equal(f->bp.hdr.ramdisk_size, OWN_SIZE + 0x100000);
}

/*
 * Something the kernel needs lies right after the image's initrd (here
 * the RSDP's page, a module, reserved memory): both go to a new home
 * that covers neither of them.
 */
static void test_own_initrd_both_move(void **state)
{
	struct fx *f = *state;
	const uint64_t after = OWN_START + OWN_SIZE;

	own_initrd(f);
	for (int k = 0; k < 3; k++) {
		f->si->rsdp_paddr = k == 0 ? after + 0x10 : 0xf59d0;
		f->si->nr_modules = k == 1 ? 2 : 1;
		f->ml[1] = (struct hvm_modlist_entry){ .paddr = after + 0x1000, .size = 0x1000 };
		set_memmap(f, 2, 0x100000, (k == 2 ? after + 0x80000 : RAM_END) - 0x100000, 1);
		set_memmap(f, 3, after + 0x80000, 0x1000, 2);
		set_memmap(f, 4, after + 0x81000, RAM_END - after - 0x81000, 1);
		assert_int_equal(run(f), TE_OK);
		/* The highest fit in RAM, above the loader's module at 0x1f000000. */
		assert_int_equal(f->out.initrd_move_own.src, OWN_START);
		assert_int_equal(f->out.initrd_move_own.dst, RAM_END - OWN_SIZE - 0x100000);
		assert_int_equal(f->out.initrd_move_own.size, OWN_SIZE);
		assert_int_equal(f->out.initrd_move.dst, f->out.initrd_move_own.dst + OWN_SIZE);
		assert_int_equal(f->out.initrd_move.size, 0x100000);
		assert_int_equal(f->bp.hdr.ramdisk_image, f->out.initrd_move_own.dst);
		assert_int_equal(f->bp.hdr.ramdisk_size, OWN_SIZE + 0x100000);
	}
}

static void test_own_initrd_cannot_join(void **state)
{
	struct fx *f = *state;

	own_initrd(f);
	f->ml[0] = (struct hvm_modlist_entry){ .paddr = 0x123456000ULL, .size = 0x1000 };
	expect_error(f, TE_NO_ROOM, "the image's initrd [0x4200000, 0x4500000) and the loader's [0x123456000, 0x123457000) must be joined below 0x100000000, but the loader's lies above 4 GiB, out of the stub's reach");
	/*
	 * Module 1 right after the image's initrd, RAM ending 1 MiB later, the
	 * loader's in the window (it would move anyway): 19 MiB fit nowhere.
	 */
	f->si->nr_modules = 2;
	f->ml[1] = (struct hvm_modlist_entry){ .paddr = OWN_START + OWN_SIZE, .size = 0x1000 };
	f->ml[0] = (struct hvm_modlist_entry){ .paddr = WIN_START + 0x100000, .size = 0x1000000 };
	set_memmap(f, 2, 0x100000, OWN_START + OWN_SIZE + 0x100000 - 0x100000, 1);
	expect_error(f, TE_NO_ROOM, "must be joined below 0x100000000, but no free RAM holds both");
	f->ml[0] = (struct hvm_modlist_entry){ .paddr = OWN_START + 0x1000, .size = 0x1000 };
	expect_error(f, TE_OVERLAP, "initrd [0x4201000, 0x4202000) overlaps the image's own initrd [0x4200000, 0x4500000)");
	f->hdr.xloadflags = XLF_KERNEL_64;
	f->hdr.initrd_addr_max = OWN_START;
	expect_error(f, TE_BAD_PAYLOAD, "the image's initrd [0x4200000, +0x300000) is not below 0x4200001");
}

static void test_initrd_over_stub(void **state)
{
	struct fx *f = *state;

	f->ml[0] = (struct hvm_modlist_entry){ .paddr = STUB_END - 0x1000, .size = 0x2000 };
	expect_error(f, TE_OVERLAP, "initrd [0x11f000, 0x121000) overlaps the stub image");
}

/* The kernel's window must be RAM, all of it, and nothing else. */
static void test_window_not_ram(void **state)
{
	struct fx *f = *state;

	/* RAM ends inside the window. */
	set_memmap(f, 2, 0x100000, 0x2000000 - 0x100000, 1);
	f->ml[0] = (struct hvm_modlist_entry){ .paddr = 0x1800000 - 0x100000, .size = 0x100000 };
	expect_error(f, TE_NO_ROOM, "the kernel's window [0x1000000, 0x4000000) is not all RAM: the memory map has no entry for [0x2000000, 0x4000000)");

	/* A hole inside, then RAM again: the gap is named, up to the next entry. */
	set_memmap(f, 3, 0x3000000, RAM_END - 0x3000000, 1);
	expect_error(f, TE_NO_ROOM, "the kernel's window [0x1000000, 0x4000000) is not all RAM: the memory map has no entry for [0x2000000, 0x3000000)");

	/* The hole filled by a reserved entry. */
	set_memmap(f, 4, 0x2000000, 0x1000000, 2);
	expect_error(f, TE_NO_ROOM, "the kernel's window [0x1000000, 0x4000000) is not all RAM: [0x2000000, 0x3000000) is e820 type 2");

	/* By RAM instead, in an unsorted map: it boots. */
	set_memmap(f, 4, 0x2000000, 0x1000000, 1);
	assert_int_equal(run(f), TE_OK);

	/* ACPI NVS inside RAM that covers it all. */
	set_memmap(f, 2, 0x100000, RAM_END - 0x100000, 1);
	set_memmap(f, 3, 0x3ff0000, 0x20000, 4);
	f->si->memmap_entries = 4;
	expect_error(f, TE_NO_ROOM, "the kernel's window [0x1000000, 0x4000000) is not all RAM: [0x3ff0000, 0x4000000) is e820 type 4");

	/* No RAM at all past low memory (and no initrd to move first). */
	f->si->memmap_entries = 2;
	f->si->nr_modules = 0;
	expect_error(f, TE_NO_ROOM, "the kernel's window [0x1000000, 0x4000000) is not all RAM: the memory map has no entry for [0x1000000, 0x4000000)");
}

static void test_initrd_wraps(void **state)
{
	struct fx *f = *state;

	f->ml[0] = (struct hvm_modlist_entry){ .paddr = ~0ULL - 10, .size = 100 };
	expect_error(f, TE_BAD_MODULE, "is not a valid range");
}

/* --- RSDP, subarch, loader type ------------------------------------------------------ */

static void test_rsdp_absent(void **state)
{
	struct fx *f = *state;

	f->si->rsdp_paddr = 0;
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->bp.acpi_rsdp_addr, 0);
}

static void test_rsdp_old_protocol(void **state)
{
	struct fx *f = *state;

	f->hdr.version = 0x020d;
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->bp.acpi_rsdp_addr, 0);
	assert_true(f->out.warnings & TW_RSDP_UNSUPPORTED);
}

static void test_subarch_policy(void **state)
{
	struct fx *f = *state;

	f->in.xen = true;
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->bp.hdr.hardware_subarch, X86_SUBARCH_XEN);
	assert_int_equal(f->bp.hdr.hardware_subarch_data, SICOPY_PADDR + 16);
	assert_int_equal(f->bp.hdr.type_of_loader, LOADER_TYPE_XEN);
	/* The copy it points at is a setup_data node, which Linux reserves. */
	assert_int_equal(f->bp.hdr.setup_data, SICOPY_PADDR);
	assert_int_equal(f->si_node.type, SETUP_PVHSTUB_START_INFO);
	assert_int_equal(f->si_node.len, sizeof(struct hvm_start_info));
	assert_int_equal(f->si_node.next, 0);
	assert_int_equal(f->si_node.si.magic, XEN_HVM_START_MAGIC_VALUE);

	f->hdr.xloadflags = 0;		/* A 32-bit kernel: PC. */
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->bp.hdr.hardware_subarch, X86_SUBARCH_PC);
	assert_int_equal(f->bp.hdr.hardware_subarch_data, 0);

	f->in.subarch = SUBARCH_FORCE_XEN;
	f->in.xen = false;
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->bp.hdr.hardware_subarch, X86_SUBARCH_XEN);
	assert_int_equal(f->bp.hdr.type_of_loader, LOADER_TYPE_UNDEFINED);

	f->hdr.xloadflags = XLF_KERNEL_64;
	f->in.subarch = SUBARCH_FORCE_PC;
	f->in.xen = true;
	assert_int_equal(run(f), TE_OK);
	assert_int_equal(f->bp.hdr.hardware_subarch, X86_SUBARCH_PC);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_v1_basic),
		T(test_bp_zeroed_skips_only_the_clearing),
		T(test_v0_without_xen_has_no_map),
		T(test_v0_uses_firmware_map),
		T(test_v0_reads_only_40_bytes),
		T(test_bad_magic),
		T(test_start_info_unreadable),
		T(test_start_info_in_stub),
		T(test_future_version),
		T(test_not_wrapped),
		T(test_memmap_more_than_128),
		T(test_memmap_at_the_limit),
		T(test_memmap_huge_count),
		T(test_memmap_wraps),
		T(test_memmap_unreadable),
		T(test_memmap_unsorted_and_isa_split),
		T(test_memmap_zero_entries_means_none),
		T(test_isa_hole_gaps),
		T(test_isa_hole_many_pieces),
		T(test_isa_hole_no_room),
		T(test_cmdline_absent),
		T(test_cmdline_long_is_truncated),
		T(test_cmdline_at_the_limit),
		T(test_cmdline_own_policies),
		T(test_cmdline_without_nul),
		T(test_cmdline_debug_option),
		T(test_cmdline_subarch_option),
		T(test_no_modules),
		T(test_many_modules),
		T(test_modlist_missing),
		T(test_empty_module),
		T(test_initrd_above_4g),
		T(test_initrd_above_4g_cannot_move),
		T(test_initrd_in_window_moves),
		T(test_initrd_move_avoids_others),
		T(test_initrd_move_avoids_loader_tables),
		T(test_initrd_in_window_no_room),
		T(test_own_initrd_alone),
		T(test_own_initrd_then_loaders),
		T(test_own_initrd_both_move),
		T(test_own_initrd_cannot_join),
		T(test_initrd_above_addr_max_moves),
		T(test_initrd_over_stub),
		T(test_window_not_ram),
		T(test_initrd_wraps),
		T(test_rsdp_absent),
		T(test_rsdp_old_protocol),
		T(test_subarch_policy),
		T(test_cmdline_kernel_options),
		T(test_dom0_linux_warning),
		T(test_old_protocols),
	};

	return cmocka_run_group_tests_name("translate", tests, NULL, NULL);
}
