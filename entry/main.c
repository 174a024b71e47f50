// SPDX-License-Identifier: MIT
/*
 * stub_main(): from the PVH entry to the kernel's native entry.  Everything
 * the kernel reads after the handoff (zero page, command line, e820
 * setup_data, start_info copy) lives in the stub's own image, never at fixed
 * low addresses: other loaders keep their tables there.
 */
#include "kconfig.h"
#include "console.h"
#include "handoff.h"
#include "kaslr.h"
#include "lib.h"
#include "panic.h"
#include "xenguest.h"
#include "translate.h"
#include "xenpub.h"
#include "x86.h"

static struct boot_params zero_page __attribute__((aligned(4096)));
/*
 * Set once the zero page has been written.  Both live in bss, which every
 * ELF loader zero-fills (p_memsz beyond p_filesz), so on the first entry the
 * zero page is known clean and clearing it (1024 rep iterations) is skipped.
 * Entered again without a reload (a reset that keeps memory), we clear it.
 */
static bool zero_page_dirty;
static char cmdline_buf[STUB_CMDLINE_SIZE];
static uint8_t e820_ext_buf[sizeof(struct setup_data) +
			    STUB_E820_EXT_MAX * sizeof(struct boot_e820_entry)]
	__attribute__((aligned(8)));
static struct start_info_node start_info_copy;
static struct boot_e820_entry e820_work[STUB_E820_WORK];
static struct boot_e820_entry xen_map[STUB_MAX_E820];

/* Paging is off: guest memory is ours to read, below 4 GiB. */
static void *identity_map(const struct guest_mem *mem, uint64_t paddr, uint64_t len)
{
	(void)mem;
	if (!paddr || paddr + len < paddr || paddr + len > 0x100000000ULL)
		return NULL;
	return (void *)(uintptr_t)paddr;
}

static enum subarch_policy subarch_policy(void)
{
	if (IS_ENABLED(CONFIG_SUBARCH_PC))
		return SUBARCH_FORCE_PC;
	if (IS_ENABLED(CONFIG_SUBARCH_XEN))
		return SUBARCH_FORCE_XEN;
	return SUBARCH_AUTO;
}

static struct stub_buf buf(void *p, uint32_t size)
{
	return (struct stub_buf){ p, (uintptr_t)p, size };
}

static void report_warnings(const struct translate_out *out, const struct boot_params *bp)
{
	if (out->warnings & TW_CMDLINE_TRUNCATED)
		printk("warning: cmdline of %u bytes truncated to the kernel's limit of %u",
		       out->cmdline_full, cmdline_max(&bp->hdr));
	if (out->warnings & TW_EXTRA_MODULES)
		printk("warning: %u modules given; only module 0 (the initrd) is passed on",
		       out->nr_modules);
	if (out->warnings & TW_EMPTY_INITRD)
		printk("warning: module 0 is empty; no initrd");
	if (out->warnings & TW_RSDP_UNSUPPORTED)
		printk("warning: boot protocol %u.%02u has no acpi_rsdp_addr; RSDP not passed",
		       bp->hdr.version >> 8, bp->hdr.version & 0xff);
	if (out->warnings & TW_BAD_OPTION)
		printk("warning: pvhstub.subarch= takes xen, pc or auto; ignored");
	if (out->warnings & TW_DOM0_LINUX)
		printk("warning: this domain is dom0 (SIF_INITDOMAIN), but Linux entered at its native entry never learns it and runs as an unprivileged domain; boot dom0 through a CONFIG_PVH kernel's own PVH entry (its vmlinux) instead");
	if (out->warnings & TW_E820_TRUNCATED)
		printk("warning: boot protocol %u.%02u has no setup_data: e820 cut to its first %u entries",
		       bp->hdr.version >> 8, bp->hdr.version & 0xff, E820_MAX_ENTRIES_ZEROPAGE);
	if (out->warnings & TW_FUTURE_VERSION)
		printk("note: start_info v%u; using the v1 fields", out->version);
}

/*
 * On Xen: hypercalls, and what they are needed for.  A privileged domain
 * writes to Xen's console.  Xen's memory map is fetched for the translator,
 * which uses it when the start_info has no memmap (Xen's PVH dom0 gets v0);
 * if the call fails, that is the translator's "Xen gave none".  The
 * start_info is only peeked at here (x86 reads it unaligned just fine); the
 * translator validates it.
 */
static void xen_setup(uint32_t base, struct translate_in *in)
{
	const struct hvm_start_info *si = identity_map(in->mem, in->start_info_paddr, START_INFO_V0_SIZE);
	int n;

	if (!xen_hypercall_init(base))
		return;
	if (si && si->magic == XEN_HVM_START_MAGIC_VALUE && (si->flags & SIF_PRIVILEGED))
		console_use_xen();
	n = xen_memory_map(xen_map, STUB_MAX_E820);
	if (n > 0) {
		in->fw_map = xen_map;
		in->fw_map_entries = (uint32_t)n;
	}
}

/*
 * What a kernel moved by KASLR must not overwrite: the stub (zero page,
 * command line, setup_data, page tables, stack), the initrd, and the
 * loader's own tables (loader_tables(): a moved initrd avoids them too).
 */
static uint32_t kaslr_avoid(const struct boot_params *bp, const struct translate_in *in,
			    const struct translate_out *out, const struct hvm_start_info *si,
			    struct range *avoid)
{
	uint64_t rd_size = bp->hdr.ramdisk_size | (uint64_t)bp->ext_ramdisk_size << 32;
	uint32_t n = 1;

	_Static_assert(2 + LOADER_TABLES <= KASLR_AVOID_MAX, "room for every range");
	avoid[0] = in->stub;
	if (rd_size &&
	    range_make(bp->hdr.ramdisk_image | (uint64_t)bp->ext_ramdisk_image << 32, rd_size, &avoid[n]))
		n++;
	return n + loader_tables(in, si, out, avoid + n);
}

/* ", virtual +0x..., physical 0x..." when the stub randomized the kernel. */
static const char *kaslr_line(const struct kaslr_result *k)
{
	static char line[64];

	if (!k->done)
		return "";
	format(line, sizeof(line), ", virtual +0x%llx, physical 0x%llx", (unsigned long long)k->virt,
	       (unsigned long long)k->phys);
	return line;
}

/*
 * Mask the legacy 8259 PICs as a native boot's setup code does (Linux's
 * arch/x86/boot/pm.c: every line but the primary's cascade).
 * A PVH loader runs no firmware, and QEMU's microvm (10.0 on) hands over a
 * PIC in its reset state: vector base 0, nothing masked.  A kernel that
 * reads in microvm's ACPI tables that there is no PC-compatible PIC never
 * touches it, so the PIT's first tick, once start_kernel enables
 * interrupts, arrives as vector 0: "Oops: divide error".  (Linux's own PVH
 * entry dies so too.)  A kernel that does use the PIC programs it anew.  A
 * Xen PVH domU has no PIC: left alone there.
 */
static void pic_mask(void)
{
	outb(0xa1, 0xff);
	outb(0x21, 0xfb);
}

static void move_part(const struct initrd_move *m, const char *whose, const char *why)
{
	if (!m->size)
		return;
	printk("moving %sinitrd [0x%llx, 0x%llx) %s to 0x%llx", whose, (unsigned long long)m->src,
	       (unsigned long long)(m->src + m->size), why, (unsigned long long)m->dst);
	memmove((void *)(uintptr_t)m->dst, (const void *)(uintptr_t)m->src, m->size);
}

/*
 * The initrd, moved where the translation said it must go: the loader's,
 * and the image's own before it when they are joined (noinline: smaller).
 */
static void __attribute__((noinline)) move_initrd(const struct translate_out *out)
{
	struct range rd = { out->initrd_move.src, out->initrd_move.src + out->initrd_move.size };
	struct range window = { pvhstub_info.window_start, pvhstub_info.window_end };

	move_part(&out->initrd_move_own, "the image's ", "to join the loader's");
	move_part(&out->initrd_move, pvhstub_info.initrd_size ? "the loader's " : "",
		  pvhstub_info.initrd_size ? "after the image's" :
		  range_overlaps(rd, window) ? "out of the decompression window" : "below initrd_addr_max");
}

/*
 * KASLR for a pre-decompressed kernel (kaslr/randomize.c): relocate it and
 * maybe plan its move.  Returns the kernel's entry, after the move.
 */
static uint64_t plan_kaslr(struct boot_params *bp, const struct translate_in *in,
			   const struct translate_out *out, struct kaslr_result *kaslr)
{
	struct range avoid[KASLR_AVOID_MAX];
	/* Only a physical move needs the ranges to avoid: no work for it on other boots. */
	uint32_t navoid = pvhstub_info.flags & PI_KASLR_PHYS ?
			  kaslr_avoid(bp, in, out, &start_info_copy.si, avoid) : 0;

	uint64_t entry;

	kaslr_apply(bp, out->nokaslr, in->xen, avoid, navoid, kaslr);
	entry = pvhstub_info.entry + (kaslr->phys - pvhstub_info.window_start);
	if (out->debug && kaslr->done)	/* Under QEMU -icount, TSC ticks count instructions. */
		printk("KASLR cost: relocation %u TSC ticks; move %llu bytes (%llu rep movsq steps) of the kernel's %llu, %u physical slots",
		       kaslr->tsc_relocs, (unsigned long long)kaslr->move_bytes,
		       (unsigned long long)kaslr->move_bytes / 8,
		       (unsigned long long)(kaslr->end - kaslr->phys), kaslr->phys_slots);
	return entry;
}

/* What the image carried of its own, and whose command line the kernel got. */
static void report_own(const struct boot_params *bp, const struct translate_out *out)
{
	static const char *const whose[] = { "none", "the loader's", "the image's", "the image's + the loader's" };
	uint32_t own = (uint32_t)pvhstub_info.initrd_size;

	if (own || pvhstub_info.cmdline_len)
		printk("carried: initrd 0x%x + the loader's 0x%x, command line %s", own,
		       bp->hdr.ramdisk_size - own, whose[out->cmdline_from & 3]);
}

/* The one line a good boot prints. */
static void report_boot(const struct boot_params *bp, const struct translate_in *in,
			const struct translate_out *out, const struct kaslr_result *kaslr, uint64_t entry,
			bool la57)
{
	printk("start_info 0x%x v%u%s, e820 %u, cmdline %u, initrd 0x%x+0x%x, subarch %u, %s-bit entry 0x%llx%s%s%s%s",
	       (uint32_t)in->start_info_paddr, out->version, in->xen ? " on Xen" : "", out->e820_entries,
	       (unsigned int)__builtin_strlen(cmdline_buf), bp->hdr.ramdisk_image,
	       bp->hdr.ramdisk_size, bp->hdr.hardware_subarch,
	       pvhstub_info.flags & PI_HANDOFF_64 ? "64" : "32", (unsigned long long)entry,
	       la57 ? " (5-level paging)" : "",
	       kaslr->how ? ", KASLR " : "", kaslr->how ? kaslr->how : "", kaslr_line(kaslr));
}

/* Enter the kernel: in long mode (moving it to its slot first, if planned), or at its 32-bit entry. */
static void __attribute__((noreturn)) hand_off(struct boot_params *bp, const struct translate_in *in,
					       const struct kaslr_result *kaslr, uint64_t entry, bool la57)
{
	if (pvhstub_info.flags & PI_HANDOFF_64) {
		/* Where the kernel moves, if it does (a bzImage's kaslr.end is 0). */
		struct range slot = { 0, 0 };
		uint64_t top;

		if (kaslr->move_bytes)
			slot = (struct range){ kaslr->phys, kaslr->end };
		top = pvhstub_info.window_end > in->stub.end ? pvhstub_info.window_end : in->stub.end;
		/* The entry before the move: handoff64 moves the kernel, and it. */
		handoff64(bp, (uint32_t)pvhstub_info.entry, identity_map_build(top, slot, la57), la57);
	}
	handoff32(bp, (uint32_t)entry);
}

void stub_main(uint32_t start_info_paddr) __attribute__((noreturn));
void stub_main(uint32_t start_info_paddr)
{
	static const struct guest_mem mem = { identity_map, NULL };
	uint32_t xen_base = xen_cpuid_base();
	struct translate_in in = {
		.mem = &mem,
		.start_info_paddr = start_info_paddr,
		.payload = &pvhstub_info,
		.stub = { (uintptr_t)_image_start, (uintptr_t)_image_end },
		.xen = xen_base != 0,
		.subarch = subarch_policy(),
		.cmdline = buf(cmdline_buf, sizeof(cmdline_buf)),
		.e820_ext = buf(e820_ext_buf, sizeof(e820_ext_buf)),
		.start_info = buf(&start_info_copy, sizeof(start_info_copy)),
		.work = e820_work,
		.bp_zeroed = !zero_page_dirty,
	};
	struct translate_out out;
	struct boot_params *bp = &zero_page;
	struct kaslr_result kaslr;
	uint64_t entry;
	bool la57;

	zero_page_dirty = true;
	console_init();
	if (xen_base)
		xen_setup(xen_base, &in);
	else
		pic_mask();

	if (translate_start_info(&in, bp, &out))
		panic("%s", out.msg);
	if (out.debug)
		dump_start_info(&start_info_copy.si, in.fw_map, in.fw_map_entries);
	report_warnings(&out, bp);
	/* A 64-bit kernel's own entry would stop without a word on such a CPU. */
	if ((bp->hdr.xloadflags & XLF_KERNEL_64) && !cpu_has_long_mode())
		panic("a 64-bit kernel needs long mode (CPUID 0x80000001 EDX.LM); this CPU lacks it");

	move_initrd(&out);
	entry = plan_kaslr(bp, &in, &out, &kaslr);
	/*
	 * 5-level paging for a pre-decompressed kernel that supports it, as its
	 * decompressor would have turned on (a bzImage's decompressor does it
	 * itself): the CPU has LA57 and no5lvl is not on the command line.
	 */
	la57 = (pvhstub_info.flags & PI_HANDOFF_64) && pvhstub_info.kernel_end &&
	       (bp->hdr.xloadflags & XLF_5LEVEL) && !out.no5lvl && cpu_has_la57();
	report_own(bp, &out);
	report_boot(bp, &in, &out, &kaslr, entry, la57);
	hand_off(bp, &in, &kaslr, entry, la57);
}
