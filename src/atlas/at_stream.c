/*
 * A dump's bytes in order, whatever the file is: the format is sniffed from the first bytes
 * (bzip2 "BZh" + level + block or end-of-stream magic, gzip 1f 8b, zstd 28 b5 2f fd, Parquet
 * "PAR1"; anything else is plain newline-delimited JSON) and the file is mapped, then
 * decoded piece by piece: plain text is handed out straight from the mapping, gzip through
 * zlib's inflate (RFC 1952; every member of a multi-member file), zstd through its streaming
 * decoder (every frame, skippable ones too), bzip2 through the prw__bz_reader. At most one
 * piece of decompressed data is held here.
 *
 * Mapped pages of the file below what has been consumed are given back (MADV_DONTNEED on a
 * read-only file mapping only drops them from the resident set; touched again they are mapped
 * again from the page cache, unchanged), so reading a 2 GB dump does not hold 2 GB resident.
 * The bzip2 reader reads its mapping itself and does not say how far it has got, so there the
 * whole mapping is given back after every BZ_RELEASE decompressed bytes: the few pages its
 * threads still need are mapped again on their next access.
 *
 * A stream that ends early, trailing bytes that are not another member, and any decoder
 * error are errors naming the file, the format and the compressed byte offset.
 */
#define _DEFAULT_SOURCE /* madvise, MADV_DONTNEED */
#include <limits.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "bzip2/bz.h"
#include "atlas/at_internal.h"
#include "common/io.h"

#define PIECE (1u << 20)       /* decompressed bytes per piece (gzip, zstd) */
#define PLAIN_PIECE (8u << 20) /* bytes of a mapped plain file per piece */
#define BZ_RELEASE (64u << 20) /* decompressed bytes between give-backs of a bzip2 mapping */

struct prw__at_stream {
    prw_atlas_format fmt;
    prw__rfile file;
    const uint8_t *data;
    size_t size, pos;
    const char *name;
    char *own_name; /* for a stream over memory */
    uint8_t *out;
    z_stream z;
    bool z_active;
    ZSTD_DStream *zs;
    size_t zs_ret; /* last ZSTD_decompressStream result: 0 at a frame end */
    prw__bz_reader *bz;
    bool done;
    size_t released; /* bytes of the file mapping given back to the kernel */
    size_t bz_out;   /* bzip2: decompressed bytes since the mapping was last given back */
};

static const uint8_t BZ_BLOCK[6] = {0x31, 0x41, 0x59, 0x26, 0x53, 0x59};
static const uint8_t BZ_EOS[6] = {0x17, 0x72, 0x45, 0x38, 0x50, 0x90};

prw_atlas_format prw_atlas_detect(const uint8_t *h, size_t n) {
    if (n >= 10 && h[0] == 'B' && h[1] == 'Z' && h[2] == 'h' && h[3] >= '1' && h[3] <= '9' &&
        (memcmp(h + 4, BZ_BLOCK, 6) == 0 || memcmp(h + 4, BZ_EOS, 6) == 0))
        return PRW_ATLAS_FMT_BZIP2;
    if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
        return PRW_ATLAS_FMT_GZIP;
    if (n >= 4 && h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd)
        return PRW_ATLAS_FMT_ZSTD;
    if (n >= 4 && memcmp(h, "PAR1", 4) == 0)
        return PRW_ATLAS_FMT_PARQUET;
    return PRW_ATLAS_FMT_JSON;
}

const char *prw_atlas_format_name(prw_atlas_format f) {
    static const char *const names[] = {"json", "bzip2", "gzip", "zstd", "parquet"};
    return (unsigned)f < sizeof names / sizeof *names ? names[f] : "unknown";
}

prw_status prw_atlas_detect_file(const char *path, prw_atlas_format *out, prw_error *err) {
    prw__rfile f;
    memset(&f, 0, sizeof f);
    PRW_TRY(prw__rfile_open(&f, path, false, err));
    uint8_t head[16];
    size_t n = f.size < (int64_t)sizeof head ? (size_t)f.size : sizeof head;
    prw_status st = prw__rfile_pread(&f, head, n, 0, err);
    prw__rfile_close(&f);
    PRW_TRY(st);
    *out = prw_atlas_detect(head, n);
    return PRW_OK;
}

static prw_status open_decoder(prw__at_stream *s, int threads, size_t max_buffered,
                               prw_error *err) {
    switch (s->fmt) {
    case PRW_ATLAS_FMT_BZIP2:
        return prw__bz_reader_create(s->data, s->size, s->name, threads, max_buffered, &s->bz, err);
    case PRW_ATLAS_FMT_GZIP:
        if (inflateInit2(&s->z, 15 + 16) != Z_OK)
            return prw__error_nomem(err, "gzip decoder", sizeof s->z);
        s->z_active = true;
        break;
    case PRW_ATLAS_FMT_ZSTD:
        s->zs = ZSTD_createDStream();
        if (!s->zs || ZSTD_isError(ZSTD_initDStream(s->zs)))
            return prw__error_nomem(err, "zstd decoder", 0);
        break;
    case PRW_ATLAS_FMT_PARQUET:
        return prw__error_set(err, PRW_E_INVALID, 0, "%s: is a Parquet file, not a RIPE Atlas dump",
                              s->name);
    case PRW_ATLAS_FMT_JSON:
        return PRW_OK;
    }
    s->out = prw__malloc(PIECE);
    if (!s->out)
        return prw__error_nomem(err, "decompressed piece", PIECE);
    return PRW_OK;
}

/* The stream over s->data[0, size): sniffs the format, starts the decoder. */
static prw_status start(prw__at_stream *s, int threads, size_t max_buffered, prw_error *err) {
    s->fmt = prw_atlas_detect(s->data, s->size);
    return open_decoder(s, threads, max_buffered, err);
}

prw_status prw__at_stream_open(const char *path, int threads, size_t max_buffered,
                               prw__at_stream **out, prw_error *err) {
    *out = NULL;
    prw__at_stream *s = prw__calloc(1, sizeof *s);
    if (!s)
        return prw__error_nomem(err, "dump stream", sizeof *s);
    prw_status st = prw__rfile_open(&s->file, path, true, err);
    if (st < 0)
        goto fail;
    s->name = s->file.path;
    s->data = s->file.map;
    s->size = (size_t)s->file.size;
    st = start(s, threads, max_buffered, err);
    if (st < 0)
        goto fail;
    *out = s;
    return PRW_OK;
fail:
    prw__at_stream_close(s);
    return st;
}

prw_status prw__at_stream_open_mem(const uint8_t *data, size_t size, const char *name, int threads,
                                   size_t max_buffered, prw__at_stream **out, prw_error *err) {
    *out = NULL;
    prw__at_stream *s = prw__calloc(1, sizeof *s);
    if (!s || !(s->own_name = prw__strdup(name ? name : "input"))) {
        prw__free(s);
        return prw__error_nomem(err, "dump stream", sizeof *s);
    }
    s->name = s->own_name;
    s->data = data;
    s->size = size;
    prw_status st = start(s, threads, max_buffered, err);
    if (st < 0) {
        prw__at_stream_close(s);
        return st;
    }
    *out = s;
    return PRW_OK;
}

prw_atlas_format prw__at_stream_format(const prw__at_stream *s) {
    return s->fmt;
}
int64_t prw__at_stream_size(const prw__at_stream *s) {
    return (int64_t)s->size;
}
const char *prw__at_stream_name(const prw__at_stream *s) {
    return s->name;
}

static prw_status gzip_next(prw__at_stream *s, size_t *len, prw_error *err) {
    while (*len == 0 && !s->done) {
        if (!s->z_active) { /* another member must follow a finished one */
            const uint8_t *h = s->data + s->pos;
            PRW_CHECK(s->size - s->pos >= 2 && h[0] == 0x1f && h[1] == 0x8b, err, PRW_E_CORRUPT,
                      (int64_t)s->pos, "%s: gzip: trailing bytes that are not a gzip member",
                      s->name);
            if (inflateReset(&s->z) != Z_OK)
                return prw__error_set(err, PRW_E_CODEC, (int64_t)s->pos, "%s: gzip: reset failed",
                                      s->name);
            s->z_active = true;
        }
        size_t left = s->size - s->pos;
        s->z.next_in = (Bytef *)(uintptr_t)(s->data + s->pos);
        s->z.avail_in = left > UINT_MAX ? UINT_MAX : (uInt)left;
        uInt avail = s->z.avail_in;
        s->z.next_out = s->out;
        s->z.avail_out = PIECE;
        int rc = inflate(&s->z, Z_NO_FLUSH);
        s->pos += avail - s->z.avail_in;
        *len = PIECE - s->z.avail_out;
        if (rc == Z_STREAM_END) {
            s->z_active = false;
            s->done = s->pos == s->size;
        } else if (rc == Z_BUF_ERROR && s->pos == s->size && *len == 0) {
            return prw__error_set(err, PRW_E_TRUNCATED, (int64_t)s->pos,
                                  "%s: gzip: stream truncated", s->name);
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return prw__error_set(err, rc == Z_MEM_ERROR ? PRW_E_NOMEM : PRW_E_CORRUPT,
                                  (int64_t)s->pos, "%s: gzip: %s", s->name,
                                  s->z.msg ? s->z.msg : "corrupt data");
        }
    }
    return PRW_OK;
}

static prw_status zstd_next(prw__at_stream *s, size_t *len, prw_error *err) {
    while (*len == 0 && !s->done) {
        if (s->pos == s->size) {
            PRW_CHECK(s->zs_ret == 0, err, PRW_E_TRUNCATED, (int64_t)s->pos,
                      "%s: zstd: frame truncated", s->name);
            s->done = true;
            break;
        }
        ZSTD_inBuffer in = {s->data, s->size, s->pos};
        ZSTD_outBuffer o = {s->out, PIECE, 0};
        size_t rc = ZSTD_decompressStream(s->zs, &o, &in);
        if (ZSTD_isError(rc))
            return prw__error_set(err, PRW_E_CORRUPT, (int64_t)s->pos, "%s: zstd: %s", s->name,
                                  ZSTD_getErrorName(rc));
        s->pos = in.pos;
        s->zs_ret = rc;
        *len = o.pos;
    }
    return PRW_OK;
}

/* Gives back whole pages of the file mapping below s->pos: everything handed out before this
 * call has been consumed. Only for a file mapping (memory from a caller is left alone). */
static void release_consumed(prw__at_stream *s) {
    if (!s->file.map)
        return;
    long ps = sysconf(_SC_PAGESIZE);
    size_t page = ps > 0 ? (size_t)ps : 4096, upto = s->pos & ~(page - 1);
    if (upto >= s->released + (4u << 20)) { /* in steps of 4 MiB or more */
        (void)madvise((void *)(uintptr_t)(s->data + s->released), upto - s->released,
                      MADV_DONTNEED);
        s->released = upto;
    }
}

static prw_status next(prw__at_stream *s, const uint8_t **data, size_t *len, prw_error *err) {
    *data = s->out;
    *len = 0;
    if (s->fmt != PRW_ATLAS_FMT_BZIP2)
        release_consumed(s);
    switch (s->fmt) {
    case PRW_ATLAS_FMT_BZIP2:
        PRW_TRY(prw__bz_reader_next(s->bz, data, len, err));
        s->bz_out += *len;
        if (s->file.map && s->bz_out >= BZ_RELEASE) {
            (void)madvise((void *)(uintptr_t)s->data, s->size, MADV_DONTNEED);
            s->bz_out = 0;
        }
        return PRW_OK;
    case PRW_ATLAS_FMT_GZIP:
        return gzip_next(s, len, err);
    case PRW_ATLAS_FMT_ZSTD:
        return zstd_next(s, len, err);
    default:
        *data = s->data + s->pos;
        *len = s->size - s->pos < PLAIN_PIECE ? s->size - s->pos : PLAIN_PIECE;
        s->pos += *len;
        return PRW_OK;
    }
}

prw_status prw__at_stream_next(prw__at_stream *s, const uint8_t **data, size_t *len,
                               prw_error *err) {
    prw_status st = prw__rfile_blame_change(&s->file, next(s, data, len, err), err);
    /* At the end, the file must be as it was opened: else some of the bytes came from another
     * version of it, or were zeros where it was cut short (prw_guard_mapped_reads). */
    if (st >= 0 && *len == 0 && s->file.path)
        PRW_TRY(prw__rfile_check_unchanged(&s->file, err));
    return st;
}

int64_t prw__at_stream_pos(const prw__at_stream *s) {
    return (int64_t)s->pos;
}

void prw__at_stream_close(prw__at_stream *s) {
    if (!s)
        return;
    prw__bz_reader_destroy(s->bz);
    if (s->z_active || s->fmt == PRW_ATLAS_FMT_GZIP)
        inflateEnd(&s->z);
    ZSTD_freeDStream(s->zs);
    prw__free(s->out);
    prw__rfile_close(&s->file);
    prw__free(s->own_name);
    prw__free(s);
}
