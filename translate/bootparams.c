// SPDX-License-Identifier: MIT
/*
 * translate_start_info(): validate the loader's start_info, then build the
 * zero page from it and from the payload's setup header.  Validation comes
 * first: the magic, then fields gated by version, then the bounds of every
 * address and count (each part's own file does its checks).
 */
#include "translate.h"
#include "xenpub.h"	/* SIF_INITDOMAIN */

#define copy_bytes __builtin_memcpy
#define zero_bytes(p, n) __builtin_memset(p, 0, n)

/* Read and copy the start_info into the stub, gated by its version. */
static int read_start_info(const struct translate_in *in, struct hvm_start_info *si,
			   struct translate_out *out)
{
	const void *src;
	int err;

	if (!in->start_info_paddr)
		return translate_fail(out, TE_BAD_START_INFO, "no start_info (%%ebx is 0)");
	err = loader_table(in, out, "start_info", in->start_info_paddr, START_INFO_V0_SIZE, &src,
			   TE_BAD_START_INFO);
	if (err)
		return err;
	/* The loader's structures may be unaligned: read them by copying. */
	zero_bytes(si, sizeof(*si));
	copy_bytes(si, src, START_INFO_V0_SIZE);
	if (si->magic != XEN_HVM_START_MAGIC_VALUE)
		return translate_fail(out, TE_BAD_START_INFO, "start_info at 0x%llx: bad magic 0x%x (want 0x%x)",
			    (unsigned long long)in->start_info_paddr, si->magic,
			    XEN_HVM_START_MAGIC_VALUE);
	if (si->version >= 1) {
		err = loader_table(in, out, "start_info v1", in->start_info_paddr, START_INFO_V1_SIZE, &src,
				   TE_BAD_START_INFO);
		if (err)
			return err;
		copy_bytes(si, src, START_INFO_V1_SIZE);
	}
	out->version = si->version;
	/*
	 * Linux learns that it is dom0 only in its own PVH entry (it sets
	 * xen_start_flags there); entered natively, it runs as a domU would.
	 */
	if ((si->flags & SIF_INITDOMAIN) && (in->payload->flags & PI_LINUX))
		out->warnings |= TW_DOM0_LINUX;
	/* Versions after 1 only add fields: we use what we know. */
	if (si->version > 1)
		out->warnings |= TW_FUTURE_VERSION;
	return TE_OK;
}

static bool want_xen_subarch(const struct translate_in *in, const struct boot_params *bp,
			     const struct translate_out *out)
{
	switch (out->subarch >= 0 ? (enum subarch_policy)out->subarch : in->subarch) {
	case SUBARCH_FORCE_PC:
		return false;
	case SUBARCH_FORCE_XEN:
		return true;
	default:
		return in->xen && (bp->hdr.xloadflags & XLF_KERNEL_64);
	}
}

int translate_start_info(const struct translate_in *in, struct boot_params *bp,
			 struct translate_out *out)
{
	const struct pvhstub_info *pi = in->payload;
	struct start_info_node *node = in->start_info.ptr;
	struct hvm_start_info *si = &node->si;
	int err;

	zero_bytes(out, sizeof(*out));
	out->subarch = -1;
	if (pi->magic != PVHSTUB_INFO_MAGIC || pi->version != PVHSTUB_INFO_VERSION ||
	    pi->setup_hdr_len < offsetof(struct setup_header, handover_offset) ||
	    pi->setup_hdr_len > SETUP_HDR_MAX)
		return translate_fail(out, TE_BAD_PAYLOAD, "no payload: wrap this stub with 'pvhstub wrap'");

	err = read_start_info(in, si, out);
	if (err)
		return err;

	/* Start from a clean zero page and the payload's own setup header. */
	if (!in->bp_zeroed)
		zero_bytes(bp, sizeof(*bp));
	copy_bytes(&bp->hdr, pi->setup_hdr, pi->setup_hdr_len);

	err = e820_build(in, si, bp, out);
	if (!err)
		err = cmdline_build(in, si, bp, out);
	if (!err)
		err = initrd_build(in, si, bp, out);
	if (!err)
		err = e820_check_window(in, out);
	if (err)
		return err;

	if (si->rsdp_paddr) {
		if (bp->hdr.version >= 0x020e)
			bp->acpi_rsdp_addr = si->rsdp_paddr;
		else
			out->warnings |= TW_RSDP_UNSUPPORTED;
	}

	if (want_xen_subarch(in, bp, out)) {
		bp->hdr.hardware_subarch = X86_SUBARCH_XEN;
		bp->hdr.hardware_subarch_data = in->start_info.paddr + offsetof(struct start_info_node, si);
		/* A kernel before boot protocol 2.09 knows no setup_data: the copy is then not reserved. */
		if (bp->hdr.version >= 0x0209) {
			node->next = bp->hdr.setup_data;
			node->type = SETUP_PVHSTUB_START_INFO;
			node->len = sizeof(node->si);
			bp->hdr.setup_data = in->start_info.paddr;
		}
	} else {
		bp->hdr.hardware_subarch = X86_SUBARCH_PC;
	}
	bp->hdr.type_of_loader = in->xen ? LOADER_TYPE_XEN : LOADER_TYPE_UNDEFINED;
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.loadflags &= ~KEEP_SEGMENTS;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.code32_start = (uint32_t)pi->payload_addr;
	return TE_OK;
}
