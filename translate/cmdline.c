// SPDX-License-Identifier: MIT
/*
 * The command line, the loader's or the image's or both: copied into the
 * stub's own buffer (so the decompressor
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

/* The loader's command line: *src and *len, or len 0 when it has none. */
static int loader_cmdline(const struct translate_in *in, const struct hvm_start_info *si,
			  struct translate_out *out, const char **src, uint32_t *len)
{
	int64_t n;

	*len = 0;
	if (!si->cmdline_paddr)
		return TE_OK;
	n = scan_length(in->mem, si->cmdline_paddr);
	if (n < 0)
		return translate_fail(out, TE_BAD_CMDLINE, "cmdline at 0x%llx: no NUL within %u readable bytes",
				      (unsigned long long)si->cmdline_paddr, CMDLINE_SCAN_MAX);
	out->cmdline_len = *len = (uint32_t)n;
	return loader_table(in, out, "cmdline", si->cmdline_paddr, (uint64_t)n + 1, (const void **)src,
			    TE_BAD_CMDLINE);
}

/*
 * Add src[0, len), filtered, to the buffer at *at, after a blank if
 * something is there already; from says whose it is.  *at counts on past
 * the buffer's end (the full length).
 */
static void add_part(const struct translate_in *in, const char *src, uint32_t len, uint8_t from,
		     uint32_t *at, struct translate_out *out)
{
	char *buf = in->cmdline.ptr;
	uint32_t cap = in->cmdline.size, sep = *at ? 1 : 0, pos = *at + sep, n;

	if (!len)
		return;
	if (pos > cap - 1)
		pos = cap - 1;
	n = filter_cmdline(src, len, buf + pos, cap - pos, out);
	if (!n) {			/* Nothing left of it: no blank either. */
		buf[*at < cap - 1 ? *at : cap - 1] = '\0';
		return;
	}
	if (sep && *at < cap - 1)
		buf[*at] = ' ';
	*at += sep + n;
	out->cmdline_from |= from;
}

/*
 * The loader's command line, the image's own (pvhstub_info.cmdline_len),
 * or both, by the policy the image was wrapped with (PI_CMDLINE_*).
 */
int cmdline_build(const struct translate_in *in, const struct hvm_start_info *si,
		  struct boot_params *bp, struct translate_out *out)
{
	const struct pvhstub_info *pi = in->payload;
	const char *lsrc = NULL, *own = NULL;
	char *buf = in->cmdline.ptr;
	uint32_t max = cmdline_max(&bp->hdr), llen, at = 0;
	int err = loader_cmdline(in, si, out, &lsrc, &llen);

	if (err)
		return err;
	if (pi->cmdline_len && !(own = in->mem->map(in->mem, pi->cmdline_addr, pi->cmdline_len)))
		return translate_fail(out, TE_BAD_PAYLOAD, "the image's command line at 0x%x is not readable",
				      pi->cmdline_addr);
	if (max > in->cmdline.size - 1)
		max = in->cmdline.size - 1;
	buf[0] = '\0';
	if (own && (pi->flags & (PI_CMDLINE_EMBEDDED | PI_CMDLINE_APPEND)))
		add_part(in, own, pi->cmdline_len, CMDLINE_FROM_IMAGE, &at, out);
	if (!own || !(pi->flags & PI_CMDLINE_EMBEDDED))
		add_part(in, lsrc, llen, CMDLINE_FROM_LOADER, &at, out);
	/* By default the image's when the loader's is empty, or holds only pvhstub.* options. */
	if (own && !(pi->flags & (PI_CMDLINE_EMBEDDED | PI_CMDLINE_APPEND)) && !at)
		add_part(in, own, pi->cmdline_len, CMDLINE_FROM_IMAGE, &at, out);
	out->cmdline_full = at;
	if (at > max) {
		buf[max] = '\0';
		out->warnings |= TW_CMDLINE_TRUNCATED;
	}
	bp->hdr.cmd_line_ptr = (uint32_t)in->cmdline.paddr;
	bp->ext_cmd_line_ptr = (uint32_t)(in->cmdline.paddr >> 32);
	return TE_OK;
}
