// SPDX-License-Identifier: MIT
/*
 * A hostile loader: one table row per malformed start_info.  Each row
 * changes the fixture, then asserts the exact error code and message, or
 * the exact sanitized result.  The simulated memory (sim.h) lets the
 * translator read nothing it did not validate; under ASan and UBSan any
 * stray or misaligned read fails the test too.
 *
 * The choices these rows pin down:
 * - A start_info version above 1 is read as v1 (later versions only add fields).
 * - Reserved fields that "must be zero" are ignored, as Linux does.
 * - Overlapping or unsorted memmap entries are sorted and passed on; Linux
 *   resolves overlaps (the higher type wins) when it sanitizes the map.
 * - Structures the stub consumes before the handoff (memmap, modlist, the
 *   cmdline and start_info, which are copied) may lie in the decompression
 *   window; none may overlap the stub image.
 * - Modules after the first are ignored, so overlaps among them do not matter.
 */
#include "fixture.h"

struct row {
	const char *name;
	void (*mutate)(struct fx *f);
	int err;
	const char *msg;		/* The exact message, for an error. */
	void (*check)(struct fx *f);	/* The exact result, for success. */
};

static void window_region(struct fx *f)
{
	sim_add(&f->sim, WIN_START, 0x10000);
}

/* start_info */
static void bad_magic(struct fx *f) { f->si->magic = 0; }
static void v0_no_xen(struct fx *f) { f->si->version = 0; }
static void v0_xen_no_map(struct fx *f) { f->si->version = 0; f->in.xen = true; }
static void future(struct fx *f) { f->si->version = 2; }
static void si_unreadable(struct fx *f) { f->in.start_info_paddr = 0x7fff0000; }
static void si_zero(struct fx *f) { f->in.start_info_paddr = 0; }
static void si_reserved(struct fx *f) { f->si->reserved = 0xdeadbeef; }
static void si_unaligned(struct fx *f)
{
	memmove((uint8_t *)f->si + 3, f->si, sizeof(*f->si));
	f->in.start_info_paddr = SI_PADDR + 3;
}
static void si_v1_cut(struct fx *f)
{
	uint8_t *p = (uint8_t *)sim_add(&f->sim, 0x7000000 - 0x1000, 0x1000) + 0x1000 - 48;

	memcpy(p, f->si, 48);
	f->in.start_info_paddr = 0x7000000 - 48;
}
static void si_in_stub(struct fx *f)
{
	memcpy(sim_add(&f->sim, STUB_START, 0x1000), f->si, sizeof(*f->si));
	f->in.start_info_paddr = STUB_START;
}

/* memmap */
static void mm_zero_entries(struct fx *f) { f->si->memmap_entries = 0; }
static void mm_one(struct fx *f)
{
	f->si->memmap_entries = 0;
	set_memmap(f, 0, 0, RAM_END, 1);
}
static void mm_n(struct fx *f, uint32_t n)
{
	for (uint32_t i = 3; i < n; i++)
		set_memmap(f, i, 0x100000000ULL + i * 0x1000ULL, 0x1000, 2 + i % 3);
}
static void mm_128(struct fx *f) { mm_n(f, 128); }
static void mm_129(struct fx *f) { mm_n(f, 129); }
static void mm_1025(struct fx *f) { mm_n(f, 1025); }
static void mm_max(struct fx *f) { f->si->memmap_entries = 0xffffffff; }
static void mm_wrap(struct fx *f) { set_memmap(f, 3, 0xffffffffffff0000ULL, 0x20000, 2); }
static void mm_overlap(struct fx *f) { set_memmap(f, 3, 0x180000, 0x10000, 2); }
static void mm_unsorted(struct fx *f)
{
	struct hvm_memmap_table_entry t = f->mm[0];

	f->mm[0] = f->mm[2];
	f->mm[2] = t;
}
static void mm_null(struct fx *f) { f->si->memmap_paddr = 0; }
static void mm_high(struct fx *f) { f->si->memmap_paddr = 0x100000000ULL; }
static void mm_in_stub(struct fx *f)
{
	memcpy(sim_add(&f->sim, STUB_START, 0x1000), f->mm, 3 * sizeof(*f->mm));
	f->si->memmap_paddr = STUB_START;
}
static void mm_in_window(struct fx *f)
{
	window_region(f);
	memcpy(sim_ptr(&f->sim, WIN_START), f->mm, 3 * sizeof(*f->mm));
	f->si->memmap_paddr = WIN_START;
}
static void mm_reserved(struct fx *f) { f->mm[1].reserved = 7; }
static void mm_unaligned(struct fx *f)
{
	memmove((uint8_t *)f->mm + 5, f->mm, 3 * sizeof(*f->mm));
	f->si->memmap_paddr = MM_PADDR + 5;
}

/* modules */
static void ml_null(struct fx *f) { f->si->modlist_paddr = 0; }
static void ml_high(struct fx *f) { f->si->modlist_paddr = 0x100000000ULL; }
static void ml_in_stub(struct fx *f)
{
	memcpy(sim_add(&f->sim, STUB_END - 0x1000, 0x1000), f->ml, sizeof(*f->ml));
	f->si->modlist_paddr = STUB_END - 0x1000;
}
static void ml_huge(struct fx *f) { f->si->nr_modules = 0xffffffff; }
static void mod_empty(struct fx *f) { f->ml[0].size = 0; }
static void mod_overlap(struct fx *f)
{
	f->si->nr_modules = 2;
	f->ml[1] = (struct hvm_modlist_entry){ .paddr = 0x1f080000, .size = 0x100000 };
}
static void mod_reserved(struct fx *f) { f->ml[0].reserved = 1; f->ml[0].cmdline_paddr = 0x1234; }

/* cmdline */
static void cl_null(struct fx *f) { f->si->cmdline_paddr = 0; }
static void cl_high(struct fx *f) { f->si->cmdline_paddr = 0x100000000ULL; }
static void cl_in_stub(struct fx *f)
{
	strcpy(sim_add(&f->sim, STUB_START, 0x1000), "in the stub");
	f->si->cmdline_paddr = STUB_START;
}
static void cl_in_window(struct fx *f)
{
	window_region(f);
	strcpy(sim_ptr(&f->sim, WIN_START), "root=/dev/vda");
	f->si->cmdline_paddr = WIN_START;
}
static void cl_no_nul(struct fx *f) { memset(f->cl, 'z', LOW_END - CL_PADDR); }
static void rsdp_zero(struct fx *f) { f->si->rsdp_paddr = 0; }

/* Checks for the rows that succeed. */
static void ok_plain(struct fx *f)
{
	assert_int_equal(f->bp.e820_entries, 4);
	assert_string_equal(f->cmdline, "console=ttyS0");
	assert_int_equal(f->bp.hdr.ramdisk_image, 0x1f000000);
}
static void ok_future(struct fx *f) { ok_plain(f); assert_int_equal(f->out.warnings, TW_FUTURE_VERSION); }
static void ok_one(struct fx *f)
{
	assert_int_equal(f->bp.e820_entries, 3);
	assert_e820(&f->bp.e820_table[1], 0xa0000, 0x100000, 2);
}
static void ok_128(struct fx *f) { assert_int_equal(f->out.e820_entries, 129); assert_int_equal(f->bp.hdr.setup_data, EXT_PADDR); }
static void ok_129(struct fx *f) { assert_int_equal(f->out.e820_entries, 130); assert_int_equal(((struct setup_data *)f->ext)->len, 2 * 20); }
static void ok_overlap(struct fx *f)
{
	assert_int_equal(f->bp.e820_entries, 5);
	assert_e820(&f->bp.e820_table[3], 0x100000, RAM_END, 1);
	assert_e820(&f->bp.e820_table[4], 0x180000, 0x190000, 2);
}
static void ok_empty(struct fx *f)
{
	assert_int_equal(f->out.warnings, TW_EMPTY_INITRD);
	assert_int_equal(f->bp.hdr.ramdisk_image, 0);
	assert_int_equal(f->bp.hdr.ramdisk_size, 0);
}
static void ok_two_mods(struct fx *f) { ok_plain(f); assert_int_equal(f->out.warnings, TW_EXTRA_MODULES); }
static void ok_no_cmdline(struct fx *f) { assert_string_equal(f->cmdline, ""); assert_int_equal(f->bp.hdr.cmd_line_ptr, CMDLINE_PADDR); }
static void ok_cl_window(struct fx *f) { assert_string_equal(f->cmdline, "root=/dev/vda"); }
static void ok_no_rsdp(struct fx *f) { ok_plain(f); assert_int_equal(f->bp.acpi_rsdp_addr, 0); }

static const struct row rows[] = {
	{ "bad magic", bad_magic, TE_BAD_START_INFO, "start_info at 0x2000: bad magic 0x0 (want 0x336ec578)", NULL },
	{ "v0, not on Xen", v0_no_xen, TE_BAD_MEMMAP, "no memory map: start_info v0 carries none and this is not Xen", NULL },
	{ "v0, Xen gave no map", v0_xen_no_map, TE_BAD_MEMMAP, "no memory map: start_info v0 carries none and Xen gave none", NULL },
	{ "future version 2", future, TE_OK, NULL, ok_future },
	{ "start_info unreadable", si_unreadable, TE_BAD_START_INFO, "start_info [0x7fff0000, 0x7fff0028) is not readable memory", NULL },
	{ "start_info at 0", si_zero, TE_BAD_START_INFO, "no start_info (%ebx is 0)", NULL },
	{ "start_info v1 cut short", si_v1_cut, TE_BAD_START_INFO, "start_info v1 [0x6ffffd0, 0x7000008) is not readable memory", NULL },
	{ "start_info in the stub", si_in_stub, TE_OVERLAP, "start_info [0x100000, 0x100028) overlaps the stub image", NULL },
	{ "start_info reserved set", si_reserved, TE_OK, NULL, ok_plain },
	{ "start_info unaligned", si_unaligned, TE_OK, NULL, ok_plain },
	{ "memmap_entries 0", mm_zero_entries, TE_BAD_MEMMAP, "no memory map: start_info v1 carries none and this is not Xen", NULL },
	{ "memmap_entries 1", mm_one, TE_OK, NULL, ok_one },
	{ "memmap_entries 128", mm_128, TE_OK, NULL, ok_128 },
	{ "memmap_entries 129", mm_129, TE_OK, NULL, ok_129 },
	{ "memmap_entries 1025", mm_1025, TE_BAD_MEMMAP, "memmap has 1025 entries; at most 1024 are supported", NULL },
	{ "memmap_entries 2^32-1", mm_max, TE_BAD_MEMMAP, "memmap has 4294967295 entries; at most 1024 are supported", NULL },
	{ "memmap entry wraps", mm_wrap, TE_BAD_MEMMAP, "memmap entry 3: 0xffffffffffff0000 + 0x20000 wraps past 2^64", NULL },
	{ "memmap overlapping entries", mm_overlap, TE_OK, NULL, ok_overlap },
	{ "memmap unsorted", mm_unsorted, TE_OK, NULL, ok_plain },
	{ "memmap at 0", mm_null, TE_BAD_MEMMAP, "no memory map: start_info v1 carries none and this is not Xen", NULL },
	{ "memmap above 4 GiB", mm_high, TE_BAD_MEMMAP, "memmap [0x100000000, 0x100000048) is not readable memory", NULL },
	{ "memmap in the stub", mm_in_stub, TE_OVERLAP, "memmap [0x100000, 0x100048) overlaps the stub image", NULL },
	{ "memmap in the window", mm_in_window, TE_OK, NULL, ok_plain },
	{ "memmap reserved set", mm_reserved, TE_OK, NULL, ok_plain },
	{ "memmap unaligned", mm_unaligned, TE_OK, NULL, ok_plain },
	{ "modlist at 0", ml_null, TE_BAD_MODULE, "modlist [0x0, 0x20) is not readable memory", NULL },
	{ "modlist above 4 GiB", ml_high, TE_BAD_MODULE, "modlist [0x100000000, 0x100000020) is not readable memory", NULL },
	{ "modlist in the stub", ml_in_stub, TE_OVERLAP, "modlist [0x11f000, 0x11f020) overlaps the stub image", NULL },
	{ "nr_modules 2^32-1", ml_huge, TE_BAD_MODULE, "nr_modules is 4294967295; at most 1024 are supported", NULL },
	{ "module of size 0", mod_empty, TE_OK, NULL, ok_empty },
	{ "modules overlapping", mod_overlap, TE_OK, NULL, ok_two_mods },
	{ "module reserved set", mod_reserved, TE_OK, NULL, ok_plain },
	{ "cmdline at 0", cl_null, TE_OK, NULL, ok_no_cmdline },
	{ "cmdline above 4 GiB", cl_high, TE_BAD_CMDLINE, "cmdline at 0x100000000: no NUL within 65536 readable bytes", NULL },
	{ "cmdline in the stub", cl_in_stub, TE_OVERLAP, "cmdline [0x100000, 0x10000c) overlaps the stub image", NULL },
	{ "cmdline in the window", cl_in_window, TE_OK, NULL, ok_cl_window },
	{ "cmdline without a NUL", cl_no_nul, TE_BAD_CMDLINE, "cmdline at 0x20000: no NUL within 65536 readable bytes", NULL },
	{ "RSDP at 0", rsdp_zero, TE_OK, NULL, ok_no_rsdp },
};

#define ROWS (sizeof(rows) / sizeof(rows[0]))

static int row_setup(void **state)
{
	const struct row *r = *state;
	struct fx *f;

	setup(state);
	f = *state;
	r->mutate(f);
	f->row = r;
	return 0;
}

static void run_row(void **state)
{
	struct fx *f = *state;
	const struct row *r = f->row;
	int err = run(f);

	if (err != r->err)
		fail_msg("%s: want error %d, got %d (%s)", r->name, r->err, err, f->out.msg);
	if (r->msg)
		assert_string_equal(f->out.msg, r->msg);
	else
		r->check(f);
}

int main(void)
{
	struct CMUnitTest tests[ROWS];

	_Static_assert(ROWS >= 30, "the table holds at least 30 hostile cases");
	for (size_t i = 0; i < ROWS; i++)
		tests[i] = (struct CMUnitTest){ rows[i].name, run_row, row_setup, teardown, (void *)&rows[i] };
	return _cmocka_run_group_tests("hostile start_info", tests, ROWS, NULL, NULL);
}
