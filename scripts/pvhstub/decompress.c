// SPDX-License-Identifier: MIT
/*
 * Wrap-time decompression of a bzImage's payload with the well-kept
 * libraries: zlib (gzip), liblzma (xz, lzma), libbz2, liblz4 (the legacy
 * frame Linux uses), libzstd and liblzo2 (in an lzop container).  The
 * output is capped at DECOMPRESS_MAX (a decompression bomb is an error),
 * and must be exactly the size Linux appends to the payload.
 */
#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <lzo/lzo1x.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include "tool.h"

#define LZ4_LEGACY_MAGIC	0x184c2102
#define LZ4_LEGACY_BLOCK	(8u << 20)
#define LZMA_MEMLIMIT		(256u << 20)	/* Linux's xz uses a 32 MiB dictionary at most. */

/* lzop header flags (lzop's conf.h). */
#define LZOP_ADLER32_D	0x001
#define LZOP_ADLER32_C	0x002
#define LZOP_EXTRA	0x040
#define LZOP_CRC32_D	0x100
#define LZOP_CRC32_C	0x200
#define LZOP_FILTER	0x800

struct out {
	uint8_t *buf;
	size_t len, cap, max;
	char *err;
	size_t errsz;
};

/*
 * Room for n more bytes, or as many as o->max still allows; an error when
 * none are left (or exact is set and fewer than n are).
 */
static int grow_to(struct out *o, size_t n, int exact)
{
	size_t cap = o->cap ? o->cap : (o->max < (1u << 20) ? o->max : 1u << 20);
	uint8_t *p;

	/* cap never exceeds max, so neither does len. */
	if (!exact && n > o->max - o->len)
		n = o->max - o->len;
	if (!n || n > o->max - o->len) {
		snprintf(o->err, o->errsz, "the payload decompresses to more than the %zu bytes its size field claims: the payload is corrupt, or a decompression bomb",
			 o->max);
		return -1;
	}
	while (cap - o->len < n)
		cap = cap * 2 > o->max ? o->max : cap * 2;
	if (cap != o->cap) {
		p = realloc(o->buf, cap);
		if (!p) {
			snprintf(o->err, o->errsz, "out of memory");
			return -1;
		}
		o->buf = p;
		o->cap = cap;
	}
	return 0;
}

static int grow(struct out *o, size_t n)
{
	return grow_to(o, n, 0);
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static int fail(struct out *o, const char *what, long code)
{
	snprintf(o->err, o->errsz, "%s decompression failed (%ld): the payload is corrupt", what, code);
	return -1;
}

/*
 * gzip: Linux appends no size of its own (scripts/Makefile.lib's
 * cmd_gzip): the stream's trailer ends in its ISIZE, which is the payload's
 * last 4 bytes all the same, so the whole payload is the stream.
 */
static int do_gzip(struct blob in, struct out *o)
{
	z_stream zs = { 0 };
	int rc;

	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return fail(o, "gzip", 0);
	zs.next_in = (Bytef *)in.data;
	zs.avail_in = in.size;
	do {
		/*
		 * Full to the size: the stream's trailer may be left, which inflate
		 * reads with no room to write.  More output, and grow() says so.
		 */
		if (o->len == o->max && o->buf) {
			zs.next_out = o->buf + o->len;
			zs.avail_out = 0;
			rc = inflate(&zs, Z_NO_FLUSH);
			if (rc != Z_OK && rc != Z_BUF_ERROR)
				break;
		}
		if (grow(o, 1 << 20)) {
			inflateEnd(&zs);
			return -1;
		}
		zs.next_out = o->buf + o->len;
		zs.avail_out = o->cap - o->len;
		rc = inflate(&zs, Z_NO_FLUSH);
		o->len = o->cap - zs.avail_out;
	} while (rc == Z_OK);
	inflateEnd(&zs);
	return rc == Z_STREAM_END ? 0 : fail(o, "gzip", rc);
}

static int do_lzma(struct blob in, struct out *o, int xz)
{
	lzma_stream ls = LZMA_STREAM_INIT;
	/* A header may ask for a dictionary of any size: bound it. */
	lzma_ret rc = xz ? lzma_stream_decoder(&ls, LZMA_MEMLIMIT, 0) :
			   lzma_alone_decoder(&ls, LZMA_MEMLIMIT);

	if (rc != LZMA_OK)
		return fail(o, xz ? "xz" : "lzma", rc);
	ls.next_in = in.data;
	ls.avail_in = in.size;
	do {
		if (grow(o, 1 << 20)) {
			lzma_end(&ls);
			return -1;
		}
		ls.next_out = o->buf + o->len;
		ls.avail_out = o->cap - o->len;
		rc = lzma_code(&ls, LZMA_FINISH);
		o->len = o->cap - ls.avail_out;
	} while (rc == LZMA_OK);
	lzma_end(&ls);
	if (rc == LZMA_MEMLIMIT_ERROR) {
		snprintf(o->err, o->errsz, "%s payload needs more than %u MiB of memory to decompress: refusing it",
			 xz ? "xz" : "lzma", LZMA_MEMLIMIT >> 20);
		return -1;
	}
	return rc == LZMA_STREAM_END ? 0 : fail(o, xz ? "xz" : "lzma", rc);
}

static int do_bzip2(struct blob in, struct out *o)
{
	bz_stream bs = { 0 };
	int rc;

	if (BZ2_bzDecompressInit(&bs, 0, 0) != BZ_OK)
		return fail(o, "bzip2", 0);
	bs.next_in = (char *)in.data;
	bs.avail_in = in.size;
	do {
		unsigned int in_before = bs.avail_in;
		size_t out_before = o->len;

		if (grow(o, 1 << 20)) {
			BZ2_bzDecompressEnd(&bs);
			return -1;
		}
		bs.next_out = (char *)o->buf + o->len;
		bs.avail_out = o->cap - o->len;
		rc = BZ2_bzDecompress(&bs);
		o->len = o->cap - bs.avail_out;
		/* libbz2 says BZ_OK, not an error, when the input ends early. */
		if (rc == BZ_OK && bs.avail_in == in_before && o->len == out_before)
			rc = BZ_UNEXPECTED_EOF;
	} while (rc == BZ_OK);
	BZ2_bzDecompressEnd(&bs);
	return rc == BZ_STREAM_END ? 0 : fail(o, "bzip2", rc);
}

static int do_zstd(struct blob in, struct out *o)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	ZSTD_inBuffer ib = { in.data, in.size, 0 };
	size_t rc = 1;

	if (!ds)
		return fail(o, "zstd", 0);
	while (rc != 0) {
		ZSTD_outBuffer ob;

		if (grow(o, 1 << 20)) {
			ZSTD_freeDStream(ds);
			return -1;
		}
		ob = (ZSTD_outBuffer){ o->buf + o->len, o->cap - o->len, 0 };
		rc = ZSTD_decompressStream(ds, &ob, &ib);
		o->len += ob.pos;
		if (ZSTD_isError(rc) || (ib.pos == ib.size && ob.pos == 0 && rc != 0)) {
			ZSTD_freeDStream(ds);
			return fail(o, "zstd", ZSTD_isError(rc) ? (long)(0 - rc) : -1);
		}
	}
	ZSTD_freeDStream(ds);
	return 0;
}

/* The legacy LZ4 frame: a magic, then blocks of le32 size + data (8 MiB out each). */
static int do_lz4(struct blob in, struct out *o)
{
	size_t at = 4;

	while (at + 4 <= in.size) {
		uint32_t csize = le32(in.data + at);
		int n;

		at += 4;
		if (csize == LZ4_LEGACY_MAGIC)	/* Concatenated frames. */
			continue;
		if (!csize || csize > in.size - at || csize > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK))
			return fail(o, "lz4", csize);
		if (grow(o, LZ4_LEGACY_BLOCK))
			return -1;
		n = LZ4_decompress_safe((const char *)in.data + at, (char *)o->buf + o->len, (int)csize,
					(int)(o->cap - o->len < LZ4_LEGACY_BLOCK ? o->cap - o->len : LZ4_LEGACY_BLOCK));
		if (n < 0)
			return fail(o, "lz4", n);
		o->len += n;
		at += csize;
	}
	return at == in.size ? 0 : fail(o, "lz4", -1);
}

/* lzop: magic, header (lzop's own format), then blocks: be32 dst len, src len, checksums, data. */
static int do_lzo(struct blob in, struct out *o)
{
	const uint8_t *p = in.data + 9, *end = in.data + in.size;
	uint16_t version;
	uint32_t flags;

	if (lzo_init() != LZO_E_OK || end - p < 8)
		return fail(o, "lzo", 0);
	version = p[0] << 8 | p[1];
	p += 4;					/* version, lib_version */
	if (version >= 0x0940)
		p += 2;				/* version_needed_to_extract */
	p += 1;					/* method */
	if (version >= 0x0940)
		p += 1;				/* level */
	if (end - p < 4)
		return fail(o, "lzo", -1);
	flags = be32(p);
	p += 4;
	if (flags & LZOP_FILTER)
		p += 4;				/* filter */
	p += 8;					/* mode, mtime_low */
	if (version >= 0x0940)
		p += 4;				/* mtime_high */
	if (p >= end)
		return fail(o, "lzo", -1);
	p += 1 + *p;				/* name */
	p += 4;					/* header checksum */
	if (flags & LZOP_EXTRA) {		/* extra field: len, data, checksum */
		if (end - p < 4)
			return fail(o, "lzo", -1);
		p += 4 + be32(p) + 4;
	}
	for (;;) {
		uint32_t dlen, slen, sum_adler = 0, sum_crc = 0;
		lzo_uint got;

		if (end - p < 4)
			return fail(o, "lzo", -1);
		dlen = be32(p);
		if (!dlen)		/* The end marker. */
			return 0;
		if (end - p < 8)
			return fail(o, "lzo", -1);
		slen = be32(p + 4);
		p += 8;
		/* Checksums of the output, then (if compressed) of the input. */
		if (end - p < 4 * (!!(flags & LZOP_ADLER32_D) + !!(flags & LZOP_CRC32_D)))
			return fail(o, "lzo", -1);
		if (flags & LZOP_ADLER32_D)
			sum_adler = be32(p), p += 4;
		if (flags & LZOP_CRC32_D)
			sum_crc = be32(p), p += 4;
		if (slen < dlen)
			p += ((flags & LZOP_ADLER32_C) ? 4 : 0) + ((flags & LZOP_CRC32_C) ? 4 : 0);
		if (slen > dlen || p > end || (size_t)(end - p) < slen)
			return fail(o, "lzo", slen);
		if (grow_to(o, dlen, 1))
			return -1;
		got = dlen;
		if (slen == dlen)
			memcpy(o->buf + o->len, p, dlen);
		else if (lzo1x_decompress_safe(p, slen, o->buf + o->len, &got, NULL) != LZO_E_OK ||
			 got != dlen)
			return fail(o, "lzo", -2);
		if (((flags & LZOP_ADLER32_D) && adler32(1, o->buf + o->len, dlen) != sum_adler) ||
		    ((flags & LZOP_CRC32_D) && crc32(0, o->buf + o->len, dlen) != sum_crc))
			return fail(o, "lzo (checksum)", -3);
		o->len += dlen;
		p += slen;
	}
}

static int do_xz(struct blob in, struct out *o) { return do_lzma(in, o, 1); }
static int do_alone(struct blob in, struct out *o) { return do_lzma(in, o, 0); }

static const struct format {
	const char *name, *magic;
	size_t len;
	int (*fn)(struct blob, struct out *);
} formats[] = {
	{ "gzip", "\x1f\x8b", 2, do_gzip },
	{ "xz", "\xfd" "7zXZ\0", 6, do_xz },
	{ "lzma", "\x5d\x00\x00", 3, do_alone },
	{ "bzip2", "BZh", 3, do_bzip2 },
	{ "lz4", "\x02\x21\x4c\x18", 4, do_lz4 },
	{ "zstd", "\x28\xb5\x2f\xfd", 4, do_zstd },
	{ "lzo", "\x89LZO\x00\x0d\x0a\x1a\x0a", 9, do_lzo },
};

static const struct format *find_format(struct blob in)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (in.size >= formats[i].len && !memcmp(in.data, formats[i].magic, formats[i].len))
			return &formats[i];
	return NULL;
}

const char *compression_name(struct blob in)
{
	const struct format *f = find_format(in);

	return f ? f->name : NULL;
}

int decompress_payload(struct blob payload, uint8_t **out, size_t *outlen, char *err, size_t errsz)
{
	const struct format *f = find_format(payload);
	struct out o = { NULL, 0, 0, 0, err, errsz };
	uint32_t want;
	struct blob stream;

	if (!f || payload.size < 8) {
		snprintf(err, errsz, "unknown compression format (magic %02x %02x %02x %02x)",
			 payload.size > 0 ? payload.data[0] : 0, payload.size > 1 ? payload.data[1] : 0,
			 payload.size > 2 ? payload.data[2] : 0, payload.size > 3 ? payload.data[3] : 0);
		return -1;
	}
	/*
	 * The decompressed size (le32) ends every payload: Linux appends it to
	 * each but gzip's, whose trailer ends with it.
	 */
	want = le32(payload.data + payload.size - 4);
	stream = (struct blob){ payload.data, payload.size - (f->fn == do_gzip ? 0 : 4) };
	if (want > DECOMPRESS_MAX) {
		snprintf(err, errsz, "the payload claims %u MiB decompressed; the limit is %u MiB (a decompression bomb?)",
			 want >> 20, DECOMPRESS_MAX >> 20);
		return -1;
	}
	o.max = want;	/* Not a byte more than Linux says. */
	if (f->fn(stream, &o)) {
		free(o.buf);
		return -1;
	}
	if (o.len != want) {
		snprintf(err, errsz, "%s payload decompressed to %zu bytes, but the kernel says %u",
			 f->name, o.len, want);
		free(o.buf);
		return -1;
	}
	*out = o.buf;
	*outlen = o.len;
	return 0;
}
