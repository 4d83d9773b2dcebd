/*
 * A row group's columns into measurement rows (bd_internal.h): decoded in one part or in two
 * (numeric, string) by two decoders, then assembled over a row range with the NULL policy;
 * and the key pass that decodes src_addr alone.
 */
#include <math.h>
#include <string.h>

#include "build/bd_source.h"

static int64_t int_value(const prw_pq_column_data *cd, int64_t r) {
    if (cd->value_size == 8) {
        int64_t v;
        memcpy(&v, cd->values + (size_t)r * 8, 8);
        return v;
    }
    int32_t v;
    memcpy(&v, cd->values + (size_t)r * 4, 4);
    return v;
}

static float rtt_value(const prw_pq_column_info *c, const prw_pq_column_data *cd, int64_t r) {
    if (c->physical == PRW_PQ_FLOAT) {
        float v;
        memcpy(&v, cd->values + (size_t)r * 4, 4);
        return v;
    }
    if (c->physical == PRW_PQ_DOUBLE) {
        double v;
        memcpy(&v, cd->values + (size_t)r * 8, 8);
        return (float)v;
    }
    if (c->logical == PRW_PQ_LOGICAL_INT && !c->int_signed) {
        uint64_t u =
            c->int_bits == 64 ? (uint64_t)int_value(cd, r) : (uint64_t)(uint32_t)int_value(cd, r);
        return (float)u;
    }
    return (float)int_value(cd, r);
}

prw_status prw__pl_decode_cols(prw__pl_decoder *d, size_t rg, unsigned which, prw__intern *src_tab,
                               prw__intern *dst_tab, prw_error *err) {
    const pl_rg *g = &d->src->rgs[rg];
    const pl_file *f = &d->src->files[g->file];
    const char *path = f->path;
    if (f->dump)
        PRW_TRY(prw__pl_dump_columns(d, rg, false, err));
    for (int c = 0; c < PRW_COL_COUNT && !f->dump; c++) {
        bool str = c == PRW_COL_SRC_ADDR || c == PRW_COL_DST_ADDR;
        if (!(which & (str ? PRW_PL_COLS_STR : PRW_PL_COLS_NUM)) ||
            (c == PRW_COL_SRC_ADDR && d->keyids))
            continue;
        PRW_TRY(prw_pq_decode_column(d->pq, f->pq, g->rg, f->col[c], str ? PRW_PQ_DECODE_DICT : 0,
                                     &d->cd[c], err));
        PRW_CHECK(d->cd[c].num_rows == g->rows, err, PRW_E_CORRUPT, -1,
                  "%s: row group %d: column '%s' has %lld rows, the row group %lld", path, g->rg,
                  f->info[c]->name, (long long)d->cd[c].num_rows, (long long)g->rows);
    }
    size_t n = (size_t)g->rows;
    /* times, then src ids and dst ids, share one scratch area of 16 bytes per row. */
    PRW_TRY(prw__reserve_array((void **)&d->times, &d->times_cap, n ? 2 * n : 1, sizeof *d->times,
                               "decode buffers", err));
    if (which & PRW_PL_COLS_NUM) {
        prw_status st = prw_pq_timestamp_micros(f->info[PRW_COL_EVENT_TIME],
                                                &d->cd[PRW_COL_EVENT_TIME], d->times, err);
        if (st < 0) {
            prw__error_prefix(err, "%s: row group %d: column '%s': ", path, g->rg,
                              f->info[PRW_COL_EVENT_TIME]->name);
            return st;
        }
    }
    if (!(which & PRW_PL_COLS_STR))
        return PRW_OK;
    uint32_t *src_ids = (uint32_t *)(d->times + n);
    uint32_t *dst_ids = src_ids + n;
    if (d->keyids) {
        prw_status st = prw__pl_keyids_get(d->keyids, rg, src_ids, n, err);
        if (st < 0) {
            prw__error_prefix(err, "%s: row group %d: ", path, g->rg);
            return st;
        }
    } else if (d->keymap) {
        prw_status st = prw__pl_map_column(d, &d->cd[PRW_COL_SRC_ADDR], src_ids, err);
        if (st < 0) {
            prw__error_prefix(err, "%s: row group %d: ", path, g->rg);
            return st;
        }
    } else {
        PRW_TRY(prw__pl_intern_column(d, 0, &d->cd[PRW_COL_SRC_ADDR], src_tab, src_ids, err));
    }
    return prw__pl_intern_column(d, 1, &d->cd[PRW_COL_DST_ADDR], dst_tab, dst_ids, err);
}

/* --strict: the first out-of-range value fails the build, naming file, column, row group and
 * row, or for a dump the line and field. */
static prw_status out_of_range(const prw__pl_decoder *d, const pl_file *f, const pl_rg *g, int col,
                               size_t r, const char *what, int64_t v, const char *why,
                               prw_error *err) {
    if (f->dump)
        return prw__error_set(
            err, PRW_E_CORRUPT, -1, "%s: line %lld: '%s': %s %lld is %s (--strict)", f->path,
            (long long)d->dump_lines[r], f->info[col]->name, what, (long long)v, why);
    return prw__error_set(err, PRW_E_CORRUPT, -1,
                          "%s: column '%s', row group %d, row %zu: %s %lld is %s (--strict)",
                          f->path, f->info[col]->name, g->rg, r, what, (long long)v, why);
}

prw_status prw__pl_assemble_rows(const prw__pl_decoder *num, const prw__pl_decoder *str, size_t rg,
                                 size_t r0, size_t r1, prw_null_rtt policy, prw__pl_decoded *out,
                                 prw_error *err) {
    const pl_rg *g = &num->src->rgs[rg];
    const pl_file *f = &num->src->files[g->file];
    size_t n = (size_t)g->rows;
    const int64_t *times = num->times;
    const uint32_t *src_ids = (const uint32_t *)(str->times + n);
    const uint32_t *dst_ids = src_ids + n;
    const prw_pq_column_data *tv = &num->cd[PRW_COL_EVENT_TIME], *iv = &num->cd[PRW_COL_IP_VERSION],
                             *rv = &num->cd[PRW_COL_RTT];
    const prw_pq_column_info *rtt_info = f->info[PRW_COL_RTT];
    prw__pl_row *rows = out->rows;
    memset(out, 0, sizeof *out);
    out->rows = rows;
    prw__prefault(rows, (r1 - r0) * sizeof *rows); /* most rows are kept */
    size_t k = 0;
    for (size_t r = r0; r < r1; r++) {
        if (src_ids[r] == PRW_PL_NULL_ID) {
            out->dropped_null_src++;
            continue;
        }
        if (!present(tv, r)) {
            out->dropped_null_time++;
            continue;
        }
        if (times[r] < PRW_EVENT_TIME_MIN_US || times[r] >= PRW_EVENT_TIME_MAX_US) {
            if (num->src->strict)
                return out_of_range(num, f, g, PRW_COL_EVENT_TIME, r, "event_time", times[r],
                                    "outside 1970-01-01 .. 2199-12-31", err);
            out->dropped_time_range++;
            continue;
        }
        prw__pl_row row = {0};
        row.t = times[r];
        row.key = src_ids[r];
        row.dst = dst_ids[r];
        if (present(iv, r)) {
            int64_t v = int_value(iv, (int64_t)r);
            if (v < INT8_MIN || v > INT8_MAX)
                return prw__error_set(err, PRW_E_CORRUPT, -1,
                                      "%s: column '%s', row group %d, row %zu: ip_version %lld "
                                      "does not fit int8",
                                      f->path, f->info[PRW_COL_IP_VERSION]->name, g->rg, r,
                                      (long long)v);
            row.ipv = (int8_t)v;
            if (v != 4 && v != 6) {
                if (num->src->strict)
                    return out_of_range(num, f, g, PRW_COL_IP_VERSION, r, "ip_version", v,
                                        "neither 4 nor 6", err);
                out->ip_version_other++;
            }
        } else {
            row.flags |= PRW_PL_IPV_NULL;
        }
        if (present(rv, r)) {
            row.rtt = rtt_value(rtt_info, rv, (int64_t)r);
            out->rtt_nan += isnan(row.rtt) != 0;
            out->rtt_inf += isinf(row.rtt) != 0;
        } else if (policy == PRW_NULL_RTT_DROP) {
            out->dropped_null_rtt++;
            continue;
        } else if (policy == PRW_NULL_RTT_FAILED) {
            row.rtt = -1.0f;
            out->null_rtt_failed++;
        } else {
            row.flags |= PRW_PL_RTT_NULL;
            out->null_rtt_kept++;
        }
        rows[k++] = row;
    }
    out->n = k;
    return PRW_OK;
}

prw_status prw__pl_assemble_rg(const prw__pl_decoder *num, const prw__pl_decoder *str, size_t rg,
                               prw_null_rtt policy, prw__pl_decoded *out, prw_error *err) {
    memset(out, 0, sizeof *out);
    size_t n = (size_t)num->src->rgs[rg].rows;
    out->rows = prw__malloc_array(n ? n : 1, sizeof *out->rows);
    if (!out->rows)
        return prw__error_nomem(err, "decoded rows", n * sizeof *out->rows);
    prw_status st = prw__pl_assemble_rows(num, str, rg, 0, n, policy, out, err);
    if (st < 0) {
        prw__free(out->rows);
        out->rows = NULL;
    }
    return st;
}

prw_status prw__pl_decode_rg(prw__pl_decoder *d, size_t rg, prw__intern *src_tab,
                             prw__intern *dst_tab, prw_null_rtt policy, prw__pl_decoded *out,
                             prw_error *err) {
    memset(out, 0, sizeof *out);
    PRW_TRY(prw__pl_decode_cols(d, rg, PRW_PL_COLS_NUM | PRW_PL_COLS_STR, src_tab, dst_tab, err));
    return prw__pl_assemble_rg(d, d, rg, policy, out, err);
}

prw_status prw__pl_scan_keys_rg(prw__pl_decoder *d, size_t rg, prw__intern *src_tab, size_t *n,
                                const uint32_t **ids_out, prw_error *err) {
    const pl_rg *g = &d->src->rgs[rg];
    const pl_file *f = &d->src->files[g->file];
    prw_pq_column_data *cd = &d->cd[PRW_COL_SRC_ADDR];
    if (f->dump)
        PRW_TRY(prw__pl_dump_columns(d, rg, true, err));
    else
        PRW_TRY(prw_pq_decode_column(d->pq, f->pq, g->rg, f->col[PRW_COL_SRC_ADDR],
                                     PRW_PQ_DECODE_DICT, cd, err));
    PRW_CHECK(cd->num_rows == g->rows, err, PRW_E_CORRUPT, -1,
              "%s: row group %d: column '%s' has %lld rows, the row group %lld", f->path, g->rg,
              f->info[PRW_COL_SRC_ADDR]->name, (long long)cd->num_rows, (long long)g->rows);
    size_t rows = (size_t)g->rows;
    PRW_TRY(prw__reserve_array((void **)&d->times, &d->times_cap, rows ? (rows + 1) / 2 : 1,
                               sizeof *d->times, "decode buffers", err));
    uint32_t *ids = (uint32_t *)d->times;
    PRW_TRY(prw__pl_intern_column(d, 0, cd, src_tab, ids, err));
    /* Every id just returned is below the table's current size. */
    prw__mutex_lock(&src_tab->mu);
    size_t keys = src_tab->n;
    prw__mutex_unlock(&src_tab->mu);
    if (keys > d->key_rows_cap) {
        size_t cap = 2 * keys; /* keys < 2^32 ids */
        uint64_t *k = prw__realloc(d->key_rows, cap * sizeof *k);
        if (!k)
            return prw__error_nomem(err, "key counts", cap * sizeof *k);
        memset(k + d->key_rows_cap, 0, (cap - d->key_rows_cap) * sizeof *k);
        d->key_rows = k;
        d->key_rows_cap = cap;
    }
    for (size_t r = 0; r < rows; r++)
        if (ids[r] != PRW_PL_NULL_ID)
            d->key_rows[ids[r]]++;
    *n = rows;
    *ids_out = ids;
    return PRW_OK;
}

void prw__pl_decoder_take_key_rows(prw__pl_decoder *d, uint64_t *counts, size_t n) {
    size_t m = d->key_rows_cap < n ? d->key_rows_cap : n;
    for (size_t i = 0; i < m; i++)
        counts[i] += d->key_rows[i];
    prw__free(d->key_rows);
    d->key_rows = NULL;
    d->key_rows_cap = 0;
}
