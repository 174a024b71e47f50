// SPDX-License-Identifier: MIT
/*
 * KASLR for a pre-decompressed kernel (pvhstub wrap --decompress): what
 * Linux's decompressor does when it runs, done here because it does not.
 *   - Entropy, as Linux's kaslr_get_random_long() gathers it: RDSEED and
 *     RDRAND where CPUID has them, the TSC, the i8254 counter (not on Xen,
 *     which has none), and a hash of the boot data (the zero page with its
 *     e820 map, and the command line).
 *   - A random virtual offset, aligned to kernel_alignment, that keeps the
 *     kernel inside its KERNEL_IMAGE_SIZE; the relocation table the wrap
 *     kept is applied for it, in place.
 *   - With PI_KASLR_PHYS, a random 2 MiB-aligned physical slot in e820 RAM
 *     at or above the kernel's own address, clear of the stub, the initrd
 *     and the loader's tables; above 4 GiB too (up to SLOT_MAX) when the
 *     kernel may be loaded there (XLF_CAN_BE_LOADED_ABOVE_4G).  The move
 *     itself is handoff64's, in long mode (entry/head.S): 8 bytes a step,
 *     and only the bytes the kernel needs in place (pvhstub_info.move_size:
 *     not the .bss, .brk and .init.scratch it clears or scratches itself).
 *     Everything else the kernel reads (zero page, cmdline, setup_data)
 *     lives in the stub.
 *   - KASLR_FLAG in loadflags, so the kernel randomizes its memory regions.
 */
#include "console.h"
#include "handoff.h"
#include "kaslr.h"
#include "lib.h"
#include "panic.h"
#include "x86.h"

#define CPUID1_ECX_RDRAND	(1u << 30)
#define CPUID1_EDX_TSC		(1u << 4)
#define CPUID7_EBX_RDSEED	(1u << 18)
#define SLOT_ALIGN		0x200000ULL	/* The kernel's page tables map 2 MiB pages. */
#define FOUR_GIB		0x100000000ULL
#define TRIES			10		/* RDRAND/RDSEED may fail transiently. */
#define I8254_PORT_CONTROL	0x43
#define I8254_PORT_COUNTER0	0x40

struct kernel_move kernel_move;

static uint64_t mix(uint64_t h, uint32_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/* Mix in n bytes, a 32-bit word at a time (the tail zero-padded). */
static uint64_t mix_bytes(uint64_t h, const void *p, uint32_t n)
{
	const uint8_t *b = p;
	uint32_t w;

	for (; n >= 4; b += 4, n -= 4) {
		memcpy(&w, b, 4);
		h = mix(h, w);
	}
	if (n) {
		w = 0;
		memcpy(&w, b, n);
		h = mix(h, w);
	}
	return h;
}

static bool rdrand(uint32_t *v)
{
	bool ok;

	asm volatile("rdrand %0" : "=r"(*v), "=@ccc"(ok));
	return ok;
}

/* The TSC's low half, for measuring (0 on a CPU without one). */
static uint32_t tsc32(bool has_tsc)
{
	return has_tsc ? (uint32_t)rdtsc() : 0;
}

static bool rdseed(uint32_t *v)
{
	bool ok;

	asm volatile("rdseed %0" : "=r"(*v), "=@ccc"(ok));
	return ok;
}

/*
 * The i8254's counter 0, latched.  No PIT reads as all ones (Linux loops on
 * the status there; we take one reading and say whether it looked real).
 */
static bool i8254(uint32_t *v)
{
	uint32_t lo, hi;

	outb(I8254_PORT_CONTROL, 0x00);		/* latch counter 0 */
	lo = inb(I8254_PORT_COUNTER0);
	hi = inb(I8254_PORT_COUNTER0);
	*v = hi << 8 | lo;
	return *v != 0xffff;
}

/* Append "+name" (or "name") to the sources line. */
static void source(char *how, size_t size, const char *name)
{
	size_t n = strlen(how);

	format(how + n, size - n, "%s%s", n ? "+" : "", name);
}

/*
 * 64 random bits, and which sources gave them (for the boot line): only
 * those that delivered.  The boot data are no secret, but they tell apart
 * boots of one image with other memory or command lines, as in Linux.
 */
static uint64_t random_u64(const struct boot_params *bp, bool xen, char *how, size_t howsz,
			   bool *tsc)
{
	uint32_t max, b, c, d, v;
	bool has_rdrand, has_tsc, has_rdseed = false;
	uint64_t h = 0x243f6a8885a308d3ULL;
	const char *cmdline = (const char *)(uintptr_t)bp->hdr.cmd_line_ptr;
	int seeds = 0, rands = 0;

	how[0] = '\0';
	cpuid(0, &max, &b, &c, &d);
	cpuid(1, &v, &b, &c, &d);
	has_rdrand = c & CPUID1_ECX_RDRAND;
	has_tsc = d & CPUID1_EDX_TSC;
	if (max >= 7) {
		cpuid(7, &v, &b, &c, &d);
		has_rdseed = b & CPUID7_EBX_RDSEED;
	}
	for (int i = 0; has_rdseed && seeds < 2 && i < TRIES; i++)
		if (rdseed(&v))
			h = mix(h, v), seeds++;
	for (int i = 0; has_rdrand && seeds + rands < 2 && i < TRIES; i++)
		if (rdrand(&v))
			h = mix(h, v), rands++;
	if (seeds)
		source(how, howsz, "RDSEED");
	if (rands)
		source(how, howsz, "RDRAND");
	if (has_tsc) {
		uint64_t t = rdtsc();

		h = mix(mix(h, (uint32_t)t), (uint32_t)(t >> 32));
		source(how, howsz, "TSC");
	}
	if (!xen && i8254(&v)) {
		h = mix(h, v);
		source(how, howsz, "i8254");
	}
	*tsc = has_tsc;
	if (!seeds && !rands && !has_tsc)
		panic("KASLR: the CPU has no RDRAND, RDSEED or TSC to randomize with; boot with nokaslr or wrap with --kaslr off");
	h = mix_bytes(h, bp->e820_table, bp->e820_entries * (uint32_t)sizeof(bp->e820_table[0]));
	h = mix_bytes(h, &bp->hdr, sizeof(bp->hdr));
	if (cmdline)
		h = mix_bytes(h, cmdline, (uint32_t)strlen(cmdline));
	source(how, howsz, "boot data");
	return mix(h, 0);
}

/*
 * A random physical slot for the kernel's size bytes at start; the move to
 * it is handoff64's (kernel_move).  Returns the slot (start: no move).
 */
static uint64_t plan_move(const struct boot_params *bp, const struct range *avoid, uint32_t navoid,
			  uint64_t start, uint64_t size, uint64_t align, uint32_t rnd, uint32_t *slots)
{
	const struct pvhstub_info *pi = &pvhstub_info;
	struct kaslr_space k = {
		.map = bp->e820_table, .nmap = bp->e820_entries,
		.navoid = navoid,
		.min = start, .max = bp->hdr.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G ? SLOT_MAX : FOUR_GIB,
		/* Whole 8-byte steps: the move may not write past the slot. */
		.size = (size + 7) & ~7ULL, .align = align,	/* kaslr_apply made it at least SLOT_ALIGN */
	};
	uint64_t to, move = pi->move_size && pi->move_size < size ? pi->move_size : size;

	for (uint32_t i = 0; i < navoid; i++)
		k.avoid[i] = avoid[i];
	*slots = kaslr_slot(&k, rnd, &to);
	if (!*slots) {
		printk("warning: KASLR: no free physical slot for the kernel's 0x%llx bytes; it stays at 0x%llx",
		       (unsigned long long)size, (unsigned long long)start);
		return start;
	}
	if (to != start)
		kernel_move = (struct kernel_move){ start, to, (move + 7) / 8 };
	return to;
}

void kaslr_apply(struct boot_params *bp, bool nokaslr, bool xen, const struct range *avoid,
		 uint32_t navoid, struct kaslr_result *res)
{
	const struct pvhstub_info *pi = &pvhstub_info;
	uint64_t start = pi->window_start, size = pi->kernel_end - start;
	uint64_t align = bp->hdr.kernel_alignment, rnd;
	uint32_t slots, t0;
	char msg[128];
	bool tsc;

	res->phys = start;
	res->end = pi->kernel_end;
	res->virt = 0;
	res->how = NULL;
	res->done = false;
	res->move_bytes = 0;
	res->phys_slots = 0;
	kernel_move.qwords = 0;
	if (pi->flags & PI_KASLR_NONE)
		printk("warning: no KASLR: the wrap kept no relocation table for this kernel; it runs at 0x%llx",
		       (unsigned long long)start);
	if (!(pi->flags & PI_KASLR_VIRT))
		return;
	if (nokaslr) {
		res->how = "off (nokaslr)";
		return;
	}
	if (!align || (align & (align - 1)) || align < SLOT_ALIGN)
		align = SLOT_ALIGN;
	if (!pi->kernel_end || pi->kernel_end <= start || pi->kernel_end > FOUR_GIB ||
	    pi->virt_limit < start + size || pi->move_size > size + 7)
		panic("KASLR: the kernel [0x%llx, 0x%llx) does not fit its virtual limit 0x%llx: a corrupt image",
		      (unsigned long long)start, (unsigned long long)pi->kernel_end,
		      (unsigned long long)pi->virt_limit);

	rnd = random_u64(bp, xen, res->sources, sizeof(res->sources), &tsc);
	res->how = res->sources;
	slots = (uint32_t)((pi->virt_limit - start - size) >> log2_pow2(align)) + 1;
	res->virt = (uint64_t)((uint32_t)rnd % slots) * align;
	t0 = tsc32(tsc);
	if (relocs_apply((const void *)(uintptr_t)pi->relocs_addr, pi->relocs_size,
			 (uint8_t *)(uintptr_t)start, (uint32_t)size, res->virt, msg, sizeof(msg)))
		panic("KASLR: %s", msg);
	res->tsc_relocs = tsc32(tsc) - t0;
	/* The move is the 64-bit handoff's: it alone can reach a slot above 4 GiB. */
	if ((pi->flags & PI_KASLR_PHYS) && (pi->flags & PI_HANDOFF_64)) {
		res->phys = plan_move(bp, avoid, navoid, start, size, align, (uint32_t)(rnd >> 32),
				      &res->phys_slots);
		res->move_bytes = kernel_move.qwords * 8;
	}
	res->end = res->phys + size;
	bp->hdr.loadflags |= KASLR_FLAG;
	res->done = true;
}
