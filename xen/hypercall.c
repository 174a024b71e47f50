// SPDX-License-Identifier: MIT
/*
 * Xen hypercalls from the stub: 32-bit mode, paging off.  Xen fills a page
 * of ours with hypercall stubs when we write its address to the MSR that
 * CPUID leaf base + 2 names; hypercall N is then a call to page + N * 32,
 * arguments in EBX, ECX, EDX, return value in EAX.
 */
#include "lib.h"
#include "x86.h"
#include "xenguest.h"
#include "xenpub.h"

#define MSR_OP(msr, lo, hi) asm volatile("wrmsr" : : "c"(msr), "a"(lo), "d"(hi))

static uint8_t hypercall_page[4096] __attribute__((aligned(4096)));
static bool hypercalls_ready __file_backed;

bool xen_hypercall_init(uint32_t cpuid_base)
{
	uint32_t pages, msr, ecx, edx;
	uint32_t page = (uint32_t)(uintptr_t)hypercall_page;

	if (!cpuid_base)
		return false;
	cpuid(cpuid_base + 2, &pages, &msr, &ecx, &edx);
	if (!pages)
		return false;
	MSR_OP(msr, page, 0);
	hypercalls_ready = true;
	return true;
}

static long hypercall2(unsigned int op, uint32_t a1, uint32_t a2)
{
	long ret;
	uint32_t clobber1, clobber2;

	asm volatile("call *%[entry]"
		     : "=a"(ret), "=b"(clobber1), "=c"(clobber2)
		     : [entry] "D"(hypercall_page + op * 32), "1"(a1), "2"(a2)
		     : "memory", "edx", "esi");
	return ret;
}

static long hypercall3(unsigned int op, uint32_t a1, uint32_t a2, uint32_t a3)
{
	long ret;
	uint32_t clobber1, clobber2, clobber3;

	asm volatile("call *%[entry]"
		     : "=a"(ret), "=b"(clobber1), "=c"(clobber2), "=d"(clobber3)
		     : [entry] "D"(hypercall_page + op * 32), "1"(a1), "2"(a2), "3"(a3)
		     : "memory", "esi");
	return ret;
}

/* XENMEM_memory_map: this domain's e820.  Returns the entry count, or a negative error. */
int xen_memory_map(struct boot_e820_entry *buf, uint32_t max)
{
	struct xen_memory_map map = { .nr_entries = max };
	long rc;

	if (!hypercalls_ready)
		return -1;
	set_xen_guest_handle(map.buffer, buf);
	rc = hypercall2(__HYPERVISOR_memory_op, XENMEM_memory_map, (uint32_t)(uintptr_t)&map);
	return rc < 0 ? (int)rc : (int)map.nr_entries;
}

/* Xen's own console: privileged domains only. */
void xen_console_write(const char *s, uint32_t len)
{
	if (hypercalls_ready)
		hypercall3(__HYPERVISOR_console_io, CONSOLEIO_write, len, (uint32_t)(uintptr_t)s);
}

/* SCHEDOP_shutdown with reason crash: the toolstack sees a crashed domain. */
void xen_crash(void)
{
	struct sched_shutdown sd = { .reason = SHUTDOWN_crash };

	if (hypercalls_ready)
		hypercall2(__HYPERVISOR_sched_op, SCHEDOP_shutdown, (uint32_t)(uintptr_t)&sd);
}
