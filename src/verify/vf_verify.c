/*
 * `proberows verify`: proves an output directory complete and correct (docs/VERIFY.md).
 *
 *   1. manifest.json is parsed (pl_json.c); it gives the options (row limit, split rule,
 *      NULL policy, shards, columns) and the totals the output must match.
 *   2. Every file is walked chunk by chunk from byte 0 (every block header, chunk header and
 *      data hash; no decompression), opened through its footer, and every record is read on
 *      a thread pool (prw_ar_reader_read_range: the data chunks decoded). Each record is
 *      checked on its own (schemas, one src_addr, src_id, times, first/last/span, NULLs,
 *      exact sizes) and leaves a small summary: src_addr, counts, first/last time, the size
 *      counts of its piece and of its first row, and a digest of its measurements.
 *   3. The summaries are walked in order: probe order and time order across pieces, greedy
 *      maximality of cut pieces, the split rule, and the totals of the manifest.
 *   4. With --input, the input is decoded again through the pipeline's own decode path
 *      (prw__pl_decode_rg: the same NULL policy and conversions) in parallel over row groups,
 *      and per probe the count and the digest must equal the output's.
 *
 * The digest of a probe is order-sensitive: a polynomial hash sum(h_i * B^i) mod 2^61 - 1 over
 * its measurements in output order (two bases), h_i a strong hash of the row's fields. A
 * record's digest uses positions from 0 and pieces combine as D1 + B^n1 * D2. The input side
 * sorts each probe's rows by (event_time, position in the input) -- a total order, so the
 * result does not depend on the sort being stable -- and hashes them the same way: equal
 * digests mean the same rows in the contract's order, ties included.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "arrayrecord/ar_internal.h"
#include "common/io.h"
#include "verify/vf_internal.h"
#include "verify/vf_verify.h"
#include "proberows/arrayrecord.h"
#include "proberows/arrow_ipc.h"
#include "proberows/verify.h"

#define DEFAULT_KEEP 20

void prw_verify_options_init(prw_verify_options *o) {
    memset(o, 0, sizeof *o);
    o->max_failures = DEFAULT_KEEP;
}

void prw_verify_report_cleanup(prw_verify_report *r) {
    if (!r)
        return;
    prw__free(r->failures);
    r->failures = NULL;
    r->n_kept = 0;
}

void prw__vf_fail(vctx *v, size_t ord, const char *file, int64_t record, const char *check,
                  const char *fmt, ...) {
    prw_verify_failure f;
    memset(&f, 0, sizeof f);
    snprintf(f.file, sizeof f.file, "%s", file);
    f.record = record;
    f.check = check;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f.message, sizeof f.message, fmt, ap);
    va_end(ap);
    prw__mutex_lock(&v->mu);
    prw_verify_report *r = v->rep;
    r->n_failures++;
    size_t pos = r->n_kept;
    while (pos > 0 && (v->key_ord[pos - 1] > ord ||
                       (v->key_ord[pos - 1] == ord && r->failures[pos - 1].record > record)))
        pos--;
    if (pos < v->keep) {
        size_t n = r->n_kept < v->keep ? r->n_kept : v->keep - 1;
        memmove(&r->failures[pos + 1], &r->failures[pos], (n - pos) * sizeof *r->failures);
        memmove(&v->key_ord[pos + 1], &v->key_ord[pos], (n - pos) * sizeof *v->key_ord);
        r->failures[pos] = f;
        v->key_ord[pos] = ord;
        if (r->n_kept < v->keep)
            r->n_kept++;
    }
    prw__mutex_unlock(&v->mu);
}

/* ---- files ----------------------------------------------------------------------------------- */

static prw_status setup_files(vctx *v, prw_error *err) {
    int shards = v->man.shards;
    v->nfiles = 2 * (size_t)shards;
    v->files = prw__calloc(v->nfiles, sizeof *v->files);
    if (!v->files)
        return prw__error_nomem(err, "file list", v->nfiles * sizeof *v->files);
    static const char *const names[2] = {"train", "test"};
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < shards; k++) {
            vfile *f = &v->files[(size_t)s * (size_t)shards + (size_t)k];
            f->split = s;
            if (shards == 1)
                snprintf(f->name, sizeof f->name, "%s.arrayrecord", names[s]);
            else
                snprintf(f->name, sizeof f->name, "%s.arrayrecord-%05d-of-%05d", names[s], k,
                         shards);
        }
    return PRW_OK;
}

/* Walks every chunk of the file from byte 0 to the end: every block header (hash and
 * distances), chunk header hash and data hash, and the chunk types. The data is not
 * decompressed here: the record pass decodes every data chunk (checking its hashes again). */
static prw_status walk_file(const char *path, prw_error *err) {
    prw__rfile rf;
    PRW_TRY(prw__rfile_open(&rf, path, true, err));
    prw_status st = PRW_OK;
    if (rf.size < AR_BLOCK || rf.size % AR_BLOCK != 0 || !rf.map)
        st = prw__error_set(err, PRW_E_TRUNCATED, rf.size,
                            "file size %lld is not a positive multiple of 65536: truncated or "
                            "not an ArrayRecord file",
                            (long long)rf.size);
    prw__ar_image img = {rf.map, (size_t)rf.size};
    prw__ar_chunkbuf cb;
    prw__ar_chunkbuf_init(&cb);
    uint64_t pos = 0;
    while (st == PRW_OK && pos < (uint64_t)rf.size) {
        prw__ar_chunk_hdr h;
        const uint8_t *data;
        uint64_t end;
        st = prw__ar_read_chunk(&img, pos, &cb, &h, &data, &end, err);
        if (st < 0)
            break;
        bool sig = h.type == AR_CHUNK_SIGNATURE;
        if (sig != (pos == 0))
            st = prw__error_set(err, PRW_E_CORRUPT, (int64_t)pos,
                                pos ? "a file signature chunk at byte %llu"
                                    : "the first chunk is not a file signature (byte %llu)",
                                (unsigned long long)pos);
        else if (h.type != AR_CHUNK_SIMPLE && h.type != AR_CHUNK_PADDING && !sig &&
                 h.type != AR_CHUNK_METADATA)
            st = prw__error_set(err, PRW_E_CORRUPT, (int64_t)pos,
                                "chunk at byte %llu has type 0x%02x", (unsigned long long)pos,
                                h.type);
        pos = end;
    }
    prw__ar_chunkbuf_cleanup(&cb);
    prw__rfile_close(&rf);
    return st;
}

/* Record indexes a sample reads: pairs (i, i+1) spread evenly, so the checks between
 * consecutive records still run on them. */
static prw_status read_file(vctx *v, size_t fi, uint64_t sample_here, prw_error *err) {
    vfile *f = &v->files[fi];
    char path[PRW_PATH_BUF];
    snprintf(path, sizeof path, "%s/%s", v->o->dir, f->name);
    prw_error e;
    prw_error_clear(&e);
    prw_ar_reader *r = NULL;
    if (!v->o->sample) {
        prw_status st = walk_file(path, &e);
        if (st == PRW_E_NOMEM)
            return prw__error_nomem(err, f->name, 0);
        if (st < 0) {
            f->bad = true;
            prw__vf_fail(v, ORD_FILE(fi), f->name, -1, "arrayrecord", "%s (at byte %lld)", e.msg,
                         (long long)e.offset);
            return PRW_OK;
        }
    }
    prw_status st = prw_ar_reader_open(&r, path, &e);
    if (st == PRW_E_NOMEM)
        return prw__error_nomem(err, f->name, 0);
    if (st < 0) {
        f->bad = true;
        prw__vf_fail(v, ORD_FILE(fi), f->name, -1, "arrayrecord", "%s (at byte %lld)", e.msg,
                     (long long)e.offset);
        return PRW_OK;
    }
    /* The summaries take ~100 bytes per record, so the count read from the footer is bounded
     * before it sizes an allocation: a probe row is at least 992 bytes, and no real file
     * compresses its records below one byte each. */
    if (prw_ar_reader_num_records(r) > prw_ar_reader_file_size(r)) {
        f->bad = true;
        prw__vf_fail(v, ORD_FILE(fi), f->name, -1, "arrayrecord",
                     "the footer claims %llu records in a file of %llu bytes",
                     (unsigned long long)prw_ar_reader_num_records(r),
                     (unsigned long long)prw_ar_reader_file_size(r));
        prw_ar_reader_close(r);
        return PRW_OK;
    }
    f->opened = true;
    f->nrec = prw_ar_reader_num_records(r);
    f->bytes = prw_ar_reader_file_size(r);
    v->rep->files++;
    v->rep->records += (int64_t)f->nrec;
    f->recs = prw__calloc(f->nrec ? f->nrec : 1, sizeof *f->recs);
    if (!f->recs) {
        prw_ar_reader_close(r);
        return prw__error_nomem(err, "record summaries", f->nrec * sizeof *f->recs);
    }
    vread rd = {v, fi, f};
    if (!v->o->sample || f->nrec <= sample_here) {
        st = prw_ar_reader_read_range(r, 0, f->nrec, v->workers, prw__vf_on_record, &rd, &e);
        v->rep->records_checked += (int64_t)f->nrec;
    } else {
        uint64_t pairs = (sample_here + 1) / 2, stride = f->nrec / pairs; /* stride >= 2 */
        for (uint64_t p = 0; p < pairs && st == PRW_OK; p++) {
            st = prw_ar_reader_read_range(r, p * stride, p * stride + 2, 1, prw__vf_on_record, &rd,
                                          &e);
            v->rep->records_checked += 2;
        }
    }
    prw_ar_reader_close(r);
    if (st == PRW_E_NOMEM)
        return prw__error_nomem(err, f->name, 0);
    if (st < 0) {
        f->bad = true;
        prw__vf_fail(v, ORD_FILE(fi), f->name, -1, "arrayrecord", "%s (at byte %lld)", e.msg,
                     (long long)e.offset);
    }
    return PRW_OK;
}

/* ---- checks across records ------------------------------------------------------------------- */

static bool probes_push(vprobes *ps, const vrec *r, int split) {
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? 2 * ps->cap : 1024;
        vprobe *np = prw__realloc(ps->p, cap * sizeof *np);
        if (!np)
            return false;
        ps->p = np;
        ps->cap = cap;
    }
    ps->p[ps->n++] = (vprobe){r->src, r->src_len, (uint8_t)split, 0, {0, 0}};
    return true;
}

/* Two consecutive pieces of one probe: times go on, and the first piece is greedily
 * maximal (adding the next row of the probe would exceed the limit). */
static void check_pieces(vctx *v, const vrec *prev, size_t prev_fi, uint64_t prev_i, const vrec *r,
                         size_t fi, uint64_t i) {
    const vman *m = &v->man;
    if (r->first_t < prev->last_t)
        prw__vf_fail(v, ORD_FILE(fi), v->files[fi].name, (int64_t)i, "order",
                     "first_timestamp %lld is before the last_timestamp %lld of the previous "
                     "piece of this probe",
                     (long long)r->first_t, (long long)prev->last_t);
    prw_ipc_inner_counts k = prev->counts;
    k.rows++;
    k.src_bytes += r->src_len;
    k.dst_bytes += r->first_dst_len;
    k.null_dst += (r->first_nulls & NULL_DST) != 0;
    k.null_ip_version += (r->first_nulls & NULL_IPV) != 0;
    k.null_rtt += (r->first_nulls & NULL_RTT) != 0;
    uint64_t grown = prw_ipc_stream_size(&k);
    if (grown <= m->max_row)
        prw__vf_fail(v, ORD_FILE(prev_fi), v->files[prev_fi].name, (int64_t)prev_i, "greedy",
                     "the piece is not maximal: with the next row of its probe it would be %llu "
                     "bytes, within max_row_size %llu",
                     (unsigned long long)grown, (unsigned long long)m->max_row);
}

/* Walks the records of both splits in order (shards concatenated): probe order, time order
 * and greedy cuts across pieces, the hash rule, and the probe list. */
static prw_status walk(vctx *v, vprobes *ps, vtotals *t, prw_error *err) {
    const vman *m = &v->man;
    for (int s = 0; s < 2; s++) {
        const vrec *prev = NULL;
        size_t prev_fi = 0;
        uint64_t prev_i = 0;
        int64_t pieces = 0;
        for (size_t fi = 0; fi < v->nfiles; fi++) {
            vfile *f = &v->files[fi];
            if (f->split != s || !f->opened)
                continue;
            for (uint64_t i = 0; i < f->nrec; i++) {
                const vrec *r = &f->recs[i];
                if (!r->checked)
                    continue;
                t->records[s]++;
                t->meas[s] += r->n;
                t->null_rtt += r->null_rtt;
                t->failed_rtt += r->failed_rtt;
                if (m->split == PRW_SPLIT_HASH && m->den > 0 &&
                    ((r->src_id % m->den) < m->num) != (s == 0))
                    prw__vf_fail(v, ORD_FILE(fi), f->name, (int64_t)i, "split",
                                 "src_id %lld %% %lld = %lld puts this probe in %s, not %s",
                                 (long long)r->src_id, (long long)m->den,
                                 (long long)(r->src_id % m->den), s ? "train" : "test",
                                 s ? "test" : "train");
                /* Consecutive in the file order? (A sample reads pairs.) */
                bool adjacent =
                    prev && ((prev_fi == fi && prev_i + 1 == i) ||
                             (prev_fi + 1 == fi && i == 0 && prev_i + 1 == v->files[prev_fi].nrec));
                int c = prev ? vf_cmp_bytes(prev->src, prev->src_len, r->src, r->src_len) : -1;
                if (c > 0)
                    prw__vf_fail(v, ORD_FILE(fi), f->name, (int64_t)i, "order",
                                 "src_addr '%.*s' comes after '%.*s': probes are not in byte "
                                 "order (or a probe's pieces are not consecutive)",
                                 (int)(r->src_len > 64 ? 64 : r->src_len), r->src,
                                 (int)(prev->src_len > 64 ? 64 : prev->src_len), prev->src);
                if (c == 0) {
                    pieces++;
                    if (adjacent)
                        check_pieces(v, prev, prev_fi, prev_i, r, fi, i);
                } else {
                    if (pieces > 1)
                        t->cut++;
                    pieces = 1;
                    t->probes[s]++;
                    if (!probes_push(ps, r, s))
                        return prw__error_nomem(err, "the probe list", ps->cap * sizeof *ps->p);
                }
                vprobe *p = &ps->p[ps->n - 1];
                dig_concat(p->digest, p->count, r->digest);
                p->count += r->n;
                prev = r;
                prev_fi = fi;
                prev_i = i;
            }
        }
        if (pieces > 1)
            t->cut++;
    }
    return PRW_OK;
}

static int cmp_probe(const void *a, const void *b) {
    const vprobe *x = a, *y = b;
    int c = vf_cmp_bytes(x->src, x->len, y->src, y->len);
    return c ? c : (x->split > y->split) - (x->split < y->split);
}

#define TFAIL(check, ...) prw__vf_fail(v, ORD_TOTALS(v), "", -1, check, __VA_ARGS__)

/* Split rule and totals against the manifest. ps is sorted by src_addr on return. */
static void check_totals(vctx *v, vprobes *ps, const vtotals *t) {
    const vman *m = &v->man;
    static const char *const names[2] = {"train", "test"};
    /* No probe in both splits. */
    if (ps->n > 1)
        qsort(ps->p, ps->n, sizeof *ps->p, cmp_probe);
    for (size_t i = 1; i < ps->n; i++)
        if (ps->p[i - 1].split != ps->p[i].split &&
            vf_cmp_bytes(ps->p[i - 1].src, ps->p[i - 1].len, ps->p[i].src, ps->p[i].len) == 0)
            TFAIL("split", "probe '%.*s' is in both train and test",
                  (int)(ps->p[i].len > 64 ? 64 : ps->p[i].len), ps->p[i].src);
    /* Counts of a file that could not be read whole would only repeat its failure. */
    bool bad = false;
    for (size_t fi = 0; fi < v->nfiles; fi++)
        bad |= v->files[fi].bad;
    if (v->o->sample || !m->ok || bad)
        return;
    int64_t n_probes = t->probes[0] + t->probes[1];
    if (m->split == PRW_SPLIT_RATIO) {
        int64_t want = prw__pl_ratio_train_count(n_probes, m->ratio);
        if (t->probes[0] != want)
            TFAIL("split", "train has %lld probes, the ratio rule floor(%lld * %.17g) gives %lld",
                  (long long)t->probes[0], (long long)n_probes, m->ratio, (long long)want);
        /* Byte order: every train probe before every test probe. */
        for (size_t i = 1; i < ps->n; i++)
            if (ps->p[i - 1].split == 1 && ps->p[i].split == 0) {
                TFAIL("split", "test probe '%.*s' sorts before train probe '%.*s'",
                      (int)(ps->p[i - 1].len > 64 ? 64 : ps->p[i - 1].len), ps->p[i - 1].src,
                      (int)(ps->p[i].len > 64 ? 64 : ps->p[i].len), ps->p[i].src);
                break;
            }
    }
    for (int s = 0; s < 2; s++) {
        const vfile *f0 = &v->files[(size_t)s * (size_t)m->shards];
        int64_t bytes = 0;
        for (int k = 0; k < m->shards; k++)
            bytes += (int64_t)f0[k].bytes;
        if (t->probes[s] != m->probes[s] || t->records[s] != m->records[s] ||
            t->meas[s] != m->meas[s])
            TFAIL("totals",
                  "%s holds %lld probes, %lld records, %lld measurements; the manifest says "
                  "%lld, %lld, %lld",
                  names[s], (long long)t->probes[s], (long long)t->records[s],
                  (long long)t->meas[s], (long long)m->probes[s], (long long)m->records[s],
                  (long long)m->meas[s]);
        if (m->files[s] != m->shards)
            TFAIL("totals", "%s: the manifest lists %lld files, options.shards is %d", names[s],
                  (long long)m->files[s], m->shards);
        if (bytes != m->bytes[s])
            TFAIL("totals", "%s files hold %lld bytes, the manifest says %lld", names[s],
                  (long long)bytes, (long long)m->bytes[s]);
    }
    int64_t written = t->meas[0] + t->meas[1];
    int64_t dropped = m->dropped[0] + m->dropped[1] + m->dropped[2];
    if (m->rows_written != written)
        TFAIL("totals", "the output holds %lld measurements, manifest rows_written is %lld",
              (long long)written, (long long)m->rows_written);
    if (m->rows_read != m->rows_written + dropped)
        TFAIL("totals",
              "manifest rows_read %lld != rows_written %lld + dropped %lld (NULL src_addr "
              "%lld, NULL event_time %lld, NULL rtt %lld)",
              (long long)m->rows_read, (long long)m->rows_written, (long long)dropped,
              (long long)m->dropped[0], (long long)m->dropped[1], (long long)m->dropped[2]);
    int64_t in_rows = 0;
    for (size_t i = 0; i < m->n_inputs; i++)
        in_rows += m->input_rows[i];
    if (in_rows != m->rows_read)
        TFAIL("totals", "the manifest's input files hold %lld rows, rows_read is %lld",
              (long long)in_rows, (long long)m->rows_read);
    if (t->cut != m->probes_cut)
        TFAIL("totals", "%lld probes are cut into pieces, the manifest says %lld",
              (long long)t->cut, (long long)m->probes_cut);
    if (m->null_rtt == PRW_NULL_RTT_KEEP && t->null_rtt != m->null_kept)
        TFAIL("nulls", "the output holds %lld NULL rtt, the manifest says %lld were kept",
              (long long)t->null_rtt, (long long)m->null_kept);
    if (m->null_rtt == PRW_NULL_RTT_FAILED && t->failed_rtt < m->null_failed)
        TFAIL("nulls", "the output holds %lld rtt of -1.0, the manifest stored %lld NULL rtt so",
              (long long)t->failed_rtt, (long long)m->null_failed);
}

/* ---- the whole verification ----------------------------------------------------------------- */

static void ctx_cleanup(vctx *v) {
    for (size_t fi = 0; fi < v->nfiles; fi++) {
        vfile *f = &v->files[fi];
        if (f->recs)
            for (uint64_t i = 0; i < f->nrec; i++)
                prw__free(f->recs[i].src);
        prw__free(f->recs);
    }
    prw__free(v->files);
    prw__free(v->key_ord);
    prw__free(v->man.input_rows);
    prw__json_cleanup(&v->man.json);
    prw__mutex_destroy(&v->mu);
}

static prw_status verify_run(vctx *v, prw_error *err) {
    const prw_verify_options *o = v->o;
    PRW_TRY(prw__vf_read_manifest(v, err));
    PRW_TRY(setup_files(v, err));
    uint64_t per_file = o->sample ? (o->sample + v->nfiles - 1) / v->nfiles : 0;
    if (per_file == 1)
        per_file = 2;
    for (size_t fi = 0; fi < v->nfiles; fi++)
        PRW_TRY(read_file(v, fi, per_file, err));
    vprobes ps = {0};
    vtotals t;
    memset(&t, 0, sizeof t);
    prw_status st = walk(v, &ps, &t, err);
    if (st == PRW_OK) {
        check_totals(v, &ps, &t);
        for (int s = 0; s < 2; s++) {
            v->rep->probes[s] = t.probes[s];
            v->rep->records_split[s] = t.records[s];
            v->rep->measurements[s] = t.meas[s];
        }
    }
    if (st == PRW_OK && o->n_inputs)
        st = prw__vf_check_input(v, &ps, &t, err);
    prw__free(ps.p);
    return st;
}

prw_status prw_verify(const prw_verify_options *opts, prw_verify_report *report, prw_error *err) {
    memset(report, 0, sizeof *report);
    PRW_CHECK(opts && opts->dir && opts->dir[0], err, PRW_E_INVALID, -1, "no output directory");
    PRW_CHECK(strlen(opts->dir) < PRW_PATH_BUF - 256, err, PRW_E_INVALID, -1,
              "output directory path too long");
    PRW_CHECK(!(opts->sample && opts->n_inputs), err, PRW_E_INVALID, -1,
              "--sample cannot be combined with --input (the input check needs every record)");
    PRW_CHECK(opts->n_inputs == 0 || opts->inputs, err, PRW_E_INVALID, -1, "no input globs");
    PRW_CHECK(opts->workers >= 0 && opts->workers <= 1024, err, PRW_E_INVALID, -1,
              "--workers must be between 1 and 1024");
    double t0 = prw__now();
    vctx v;
    memset(&v, 0, sizeof v);
    v.o = opts;
    v.rep = report;
    v.keep = opts->max_failures ? opts->max_failures : DEFAULT_KEEP;
    if (v.keep > 100000)
        v.keep = 100000;
    v.workers = opts->workers > 0 ? opts->workers : prw__online_cpus();
    prw__mutex_init(&v.mu);
    report->sampled = opts->sample != 0;
    report->failures = prw__calloc(v.keep, sizeof *report->failures);
    v.key_ord = prw__calloc(v.keep, sizeof *v.key_ord);
    prw_status st;
    if (!report->failures || !v.key_ord)
        st = prw__error_nomem(err, "the report", v.keep * sizeof *report->failures);
    else
        st = verify_run(&v, err);
    ctx_cleanup(&v);
    report->seconds = prw__now() - t0;
    return st;
}

int prw__pl_verify_one_record(const uint8_t *data, size_t len) {
    prw_verify_options o;
    prw_verify_options_init(&o);
    o.dir = "fuzz";
    prw_verify_report rep;
    memset(&rep, 0, sizeof rep);
    vctx v;
    memset(&v, 0, sizeof v);
    v.o = &o;
    v.rep = &rep;
    v.keep = 1;
    v.man.max_row = 8u << 20;
    v.man.null_rtt = PRW_NULL_RTT_KEEP;
    prw__mutex_init(&v.mu);
    vfile f;
    memset(&f, 0, sizeof f);
    snprintf(f.name, sizeof f.name, "fuzz");
    f.nrec = 1;
    vrec rec;
    memset(&rec, 0, sizeof rec);
    f.recs = &rec;
    v.files = &f;
    v.nfiles = 1;
    rep.failures = prw__calloc(1, sizeof *rep.failures);
    v.key_ord = prw__calloc(1, sizeof *v.key_ord);
    int result = -1;
    if (rep.failures && v.key_ord) {
        vread rd = {&v, 0, &f};
        prw__vf_on_record(&rd, 0, data, len);
        result = (int)rep.n_failures;
    }
    prw__free(rec.src);
    prw__free(rep.failures);
    prw__free(v.key_ord);
    prw__mutex_destroy(&v.mu);
    return result;
}
