// SPDX-License-Identifier: MIT
/*
 * The command line: copied into the stub's own buffer (so the decompressor
 * cannot clobber it), with our own options (pvhstub.debug, pvhstub.subarch=)
 * taken out, and truncated to the kernel's cmdline_size.  "nokaslr" and
 * "no5lvl" are noted (the stub's KASLR and 5-level paging heed them) and
 * kept.
 */
#include "translate.h"

static inline __attribute__((always_inline)) bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Find the NUL: returns the length, or -1 if there is none we may read. */
static int64_t scan_length(const struct guest_mem *mem, uint64_t paddr)
{
	uint64_t len = 0;

	while (len < CMDLINE_SCAN_MAX) {
		uint64_t p = paddr + len;
		uint64_t chunk = 4096 - (p & 4095);
		const char *s;

		if (p < paddr || !(s = mem->map(mem, p, chunk)))
			return -1;
		for (uint64_t i = 0; i < chunk; i++)
			if (!s[i])
				return (int64_t)(len + i);
		len += chunk;
	}
	return -1;
}

/* The length of word if tok[0, n) is word, or word and then '='; else 0. */
static uint32_t option(const char *tok, uint32_t n, const char *word)
{
	uint32_t i;

	for (i = 0; word[i]; i++)
		if (i >= n || tok[i] != word[i])
			return 0;
	return i == n || tok[i] == '=' ? i : 0;
}

/*
 * Is tok one of our options?  If so, act on it.  They are pvhstub.debug
 * (print what the loader handed over) and pvhstub.subarch=xen|pc|auto
 * (override the subarch policy).
 */
static bool take_stub_option(const char *tok, uint32_t n, struct translate_out *out)
{
	/* In enum subarch_policy's order. */
	static const char *const policies[] = { "auto", "pc", "xen" };
	uint32_t len, vn;

	if (n < 8 || tok[7] != '.')	/* Cheap first: not "pvhstub.". */
		return false;
	if (option(tok, n, "pvhstub.debug")) {
		out->debug = true;
		return true;
	}
	if (!(len = option(tok, n, "pvhstub.subarch")))
		return false;
	vn = n > len ? n - len - 1 : 0;
	for (int k = 0; k < 3; k++)
		if (vn && option(tok + len + 1, vn, policies[k]) == vn) {
			out->subarch = k;
			return true;
		}
	out->warnings |= TW_BAD_OPTION;
	return true;
}

/*
 * Copy src[0, len) to dst (at most cap - 1 bytes), removing every
 * pvhstub.* option outside quotes together with the blank before it.
 * Returns the length the result would have without the cap.
 */
static uint32_t filter_cmdline(const char *src, uint32_t len, char *dst, uint32_t cap,
			       struct translate_out *res)
{
	uint32_t out = 0, i = 0;

	while (i < len) {
		uint32_t start, blank_start = out;
		bool quoted = false;

		while (i < len && is_space(src[i])) {
			if (out < cap - 1)
				dst[out] = src[i];
			out++, i++;
		}
		start = i;
		while (i < len && (quoted || !is_space(src[i]))) {
			if (src[i] == '"')
				quoted = !quoted;
			i++;
		}
		/* The kernel's own "no KASLR": the stub heeds it too (and keeps it). */
		if (i - start == 7 && option(src + start, 7, "nokaslr") == 7)
			res->nokaslr = true;
		if (i - start == 6 && option(src + start, 6, "no5lvl") == 6)
			res->no5lvl = true;
		if (i > start && take_stub_option(src + start, i - start, res)) {
			out = blank_start;	/* Drop the blank run before it, */
			if (!out)		/* or at the start, the one after. */
				while (i < len && is_space(src[i]))
					i++;
			continue;
		}
		for (uint32_t k = start; k < i; k++, out++)
			if (out < cap - 1)
				dst[out] = src[k];
	}
	dst[out < cap - 1 ? out : cap - 1] = '\0';
	return out;
}

int cmdline_build(const struct translate_in *in, const struct hvm_start_info *si,
		  struct boot_params *bp, struct translate_out *out)
{
	char *buf = in->cmdline.ptr;
	uint32_t max = cmdline_max(&bp->hdr), full = 0;

	if (max > in->cmdline.size - 1)
		max = in->cmdline.size - 1;
	buf[0] = '\0';

	if (si->cmdline_paddr) {
		int64_t len = scan_length(in->mem, si->cmdline_paddr);
		const void *src;
		int err;

		if (len < 0)
			return translate_fail(out, TE_BAD_CMDLINE,
				    "cmdline at 0x%llx: no NUL within %u readable bytes",
				    (unsigned long long)si->cmdline_paddr, CMDLINE_SCAN_MAX);
		err = loader_table(in, out, "cmdline", si->cmdline_paddr, (uint64_t)len + 1, &src,
				   TE_BAD_CMDLINE);
		if (err)
			return err;
		out->cmdline_len = (uint32_t)len;
		full = filter_cmdline(src, (uint32_t)len, buf, in->cmdline.size, out);
	}
	if (full > max) {
		buf[max] = '\0';
		out->warnings |= TW_CMDLINE_TRUNCATED;
	}
	bp->hdr.cmd_line_ptr = (uint32_t)in->cmdline.paddr;
	bp->ext_cmd_line_ptr = (uint32_t)(in->cmdline.paddr >> 32);
	return TE_OK;
}
