/* SPDX-License-Identifier: MIT */
/*
 * The translator's test fixture: a QEMU-like v1 start_info in simulated
 * guest memory (3 memmap entries, a cmdline, one module, an RSDP), a
 * 64-bit kernel's setup header, and the stub's buffers.  Tests change what
 * they need, then run().
 */
#ifndef PVHSTUB_TEST_FIXTURE_H
#define PVHSTUB_TEST_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "sim.h"

#define STUB_START	0x100000ULL
#define STUB_END	0x120000ULL
#define WIN_START	0x1000000ULL
#define WIN_END		0x4000000ULL
#define SI_PADDR	0x2000ULL
#define MM_PADDR	0x3000ULL
#define ML_PADDR	0x10000ULL
#define CL_PADDR	0x20000ULL
#define LOW_END		0x9f000ULL
#define RAM_END		0x20000000ULL	/* 512 MiB */
#define CMDLINE_PADDR	0x110000ULL	/* Our buffers' guest addresses. */
#define EXT_PADDR	0x112000ULL
#define SICOPY_PADDR	0x11f000ULL

struct fx {
	struct sim sim;
	struct pvhstub_info info;
	struct setup_header hdr;
	struct translate_in in;
	struct translate_out out;
	struct boot_params bp;
	char cmdline[STUB_CMDLINE_SIZE];
	uint8_t ext[sizeof(struct setup_data) + STUB_E820_EXT_MAX * sizeof(struct boot_e820_entry)];
	struct start_info_node si_node;
	struct boot_e820_entry work[STUB_E820_WORK];
	/* The loader's structures, inside the simulated memory. */
	struct hvm_start_info *si;
	struct hvm_memmap_table_entry *mm;
	struct hvm_modlist_entry *ml;
	char *cl;
	const void *row;		/* test_hostile.c's table row */
};

static inline void set_memmap(struct fx *f, uint32_t i, uint64_t addr, uint64_t size, uint32_t type)
{
	f->mm[i] = (struct hvm_memmap_table_entry){ addr, size, type, 0 };
	if (f->si->memmap_entries <= i)
		f->si->memmap_entries = i + 1;
}

static inline void set_cmdline(struct fx *f, const char *s)
{
	strcpy(f->cl, s);
	f->si->cmdline_paddr = CL_PADDR;
}

static inline int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	uint8_t *low;

	sim_init(&f->sim);
	low = sim_add(&f->sim, 0x1000, LOW_END - 0x1000);
	f->si = (void *)(low + SI_PADDR - 0x1000);
	f->mm = (void *)(low + MM_PADDR - 0x1000);
	f->ml = (void *)(low + ML_PADDR - 0x1000);
	f->cl = (void *)(low + CL_PADDR - 0x1000);

	f->si->magic = XEN_HVM_START_MAGIC_VALUE;
	f->si->version = 1;
	f->si->memmap_paddr = MM_PADDR;
	set_memmap(f, 0, 0, 0x9fc00, 1);
	set_memmap(f, 1, 0xf0000, 0x10000, 2);
	set_memmap(f, 2, 0x100000, RAM_END - 0x100000, 1);
	set_cmdline(f, "console=ttyS0");
	f->si->nr_modules = 1;
	f->si->modlist_paddr = ML_PADDR;
	f->ml[0] = (struct hvm_modlist_entry){ .paddr = 0x1f000000, .size = 0x100000 };
	f->si->rsdp_paddr = 0xf59d0;

	f->hdr = (struct setup_header){
		.setup_sects = 39, .header = BZ_HDRS_MAGIC, .version = 0x020f,
		.loadflags = LOADED_HIGH, .initrd_addr_max = 0x7fffffff,
		.kernel_alignment = 0x200000, .relocatable_kernel = 1,
		.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G, .cmdline_size = 2047,
		.pref_address = WIN_START, .init_size = WIN_END - WIN_START,
	};
	f->info = (struct pvhstub_info){
		.magic = PVHSTUB_INFO_MAGIC, .version = PVHSTUB_INFO_VERSION,
		.flags = PI_HANDOFF_32, .setup_hdr_len = sizeof(struct setup_header),
		.payload_addr = WIN_START, .payload_size = 0x800000,
		.window_start = WIN_START, .window_end = WIN_END, .entry = WIN_START,
	};

	f->in = (struct translate_in){
		.mem = &f->sim.mem,
		.start_info_paddr = SI_PADDR,
		.payload = &f->info,
		.stub = { STUB_START, STUB_END },
		.subarch = SUBARCH_AUTO,
		.cmdline = { f->cmdline, CMDLINE_PADDR, sizeof(f->cmdline) },
		.e820_ext = { f->ext, EXT_PADDR, sizeof(f->ext) },
		.start_info = { &f->si_node, SICOPY_PADDR, sizeof(f->si_node) },
		.work = f->work,
	};
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fx *f = *state;

	sim_free(&f->sim);
	free(f);
	return 0;
}

static inline int run(struct fx *f)
{
	memcpy(f->info.setup_hdr, &f->hdr, sizeof(f->hdr));
	memset(&f->bp, 0xa5, sizeof(f->bp));	/* Everything must be written. */
	return translate_start_info(&f->in, &f->bp, &f->out);
}

static inline void expect_error(struct fx *f, int err, const char *needle)
{
	int got = run(f);

	if (got != err || !strstr(f->out.msg, needle))
		fail_msg("want error %d with \"%s\", got %d: \"%s\"", err, needle, got, f->out.msg);
}

static inline void assert_e820(const struct boot_e820_entry *e, uint64_t addr, uint64_t end, uint32_t type)
{
	if (e->addr != addr || e->addr + e->size != end || e->type != type)
		fail_msg("e820 [0x%llx, 0x%llx) type %u, want [0x%llx, 0x%llx) type %u",
			 (unsigned long long)e->addr, (unsigned long long)(e->addr + e->size), e->type,
			 (unsigned long long)addr, (unsigned long long)end, type);
}

#endif
