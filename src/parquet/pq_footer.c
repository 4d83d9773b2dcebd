/*
 * FileMetaData: the schema tree and the row groups with their column chunks
 * (parquet.thrift: FileMetaData, SchemaElement, LogicalType, RowGroup, ColumnChunk,
 * ColumnMetaData). Only the fields the reader uses are kept; everything else is skipped.
 *
 * The schema is a depth-first list of SchemaElements; element 0 is the root and a group
 * announces num_children. Leaves become columns in order (a row group has one chunk per leaf).
 * A leaf directly under the root that is REQUIRED or OPTIONAL is supported; a leaf inside a
 * group or REPEATED is listed but marked unsupported, so the flat columns still read.
 */
#include <stdio.h>

#include "parquet/pq_internal.h"

typedef struct pq_schema_el {
    const uint8_t *name;
    size_t name_len;
    int32_t type, type_length, repetition, num_children, converted, scale, precision;
    bool has_children;
    prw_pq_column_info lt; /* logical type fields parsed from LogicalType */
} pq_schema_el;

static prw_status corrupt(pq_thrift *t, const char *what) {
    return prw__error_set(t->err, PRW_E_CORRUPT, pq_thrift_off(t), "invalid footer: %s", what);
}

/* TimeUnit / TimestampType / TimeType / IntType / DecimalType unions and structs. */
static prw_status parse_time_unit(pq_thrift *t, int ft, prw_pq_time_unit *u) {
    PRW_TRY(prw__pq_t_enter(t, ft));
    int16_t last = 0, id;
    for (;;) {
        int f;
        PRW_TRY(prw__pq_t_field(t, &last, &id, &f));
        if (f == PQ_T_STOP)
            break;
        if (id >= 1 && id <= 3)
            *u = (prw_pq_time_unit)(id - 1);
        PRW_TRY(prw__pq_t_skip(t, f));
    }
    pq_t_leave(t);
    return PRW_OK;
}

static prw_status parse_logical_body(pq_thrift *t, int ft, int16_t kind, prw_pq_column_info *lt) {
    PRW_TRY(prw__pq_t_enter(t, ft));
    int16_t last = 0, id;
    for (;;) {
        int f;
        PRW_TRY(prw__pq_t_field(t, &last, &id, &f));
        if (f == PQ_T_STOP)
            break;
        int64_t v;
        if (kind == 5 && (id == 1 || id == 2)) { /* DecimalType: scale, precision */
            PRW_TRY(prw__pq_t_i64(t, f, &v));
            if (v < 0 || v > 1000)
                return corrupt(t, "decimal scale/precision out of range");
            if (id == 1)
                lt->scale = (int32_t)v;
            else
                lt->precision = (int32_t)v;
        } else if ((kind == 7 || kind == 8) && id == 1) { /* isAdjustedToUTC */
            PRW_TRY(prw__pq_t_bool(t, f, &lt->utc));
        } else if ((kind == 7 || kind == 8) && id == 2) {
            PRW_TRY(parse_time_unit(t, f, &lt->time_unit));
        } else if (kind == 10 && id == 1) { /* IntType.bitWidth (i8) */
            PRW_TRY(prw__pq_t_i64(t, f, &v));
            lt->int_bits = (int)v;
        } else if (kind == 10 && id == 2) {
            PRW_TRY(prw__pq_t_bool(t, f, &lt->int_signed));
        } else {
            PRW_TRY(prw__pq_t_skip(t, f));
        }
    }
    pq_t_leave(t);
    return PRW_OK;
}

static prw_status parse_logical(pq_thrift *t, int ft, prw_pq_column_info *lt) {
    PRW_TRY(prw__pq_t_enter(t, ft));
    lt->has_logical_type = true;
    int16_t last = 0, id;
    for (;;) {
        int f;
        PRW_TRY(prw__pq_t_field(t, &last, &id, &f));
        if (f == PQ_T_STOP)
            break;
        if (f != PQ_T_STRUCT) {
            PRW_TRY(prw__pq_t_skip(t, f));
            continue;
        }
        PRW_TRY(parse_logical_body(t, f, id, lt));
        switch (id) {
        case 1:  /* STRING */
        case 4:  /* ENUM */
        case 12: /* JSON */
            lt->logical = PRW_PQ_LOGICAL_STRING;
            break;
        case 5:
            lt->logical = PRW_PQ_LOGICAL_DECIMAL;
            break;
        case 6:
            lt->logical = PRW_PQ_LOGICAL_DATE;
            break;
        case 7:
            lt->logical = PRW_PQ_LOGICAL_TIME;
            break;
        case 8:
            lt->logical = PRW_PQ_LOGICAL_TIMESTAMP;
            break;
        case 10:
            lt->logical = PRW_PQ_LOGICAL_INT;
            break;
        case 14:
            lt->logical = PRW_PQ_LOGICAL_UUID;
            break;
        case 15:
            lt->logical = PRW_PQ_LOGICAL_FLOAT16;
            break;
        default: /* unknown or not a value annotation: read as the physical type */
            lt->logical = PRW_PQ_LOGICAL_NONE;
            break;
        }
    }
    pq_t_leave(t);
    return PRW_OK;
}

static prw_status parse_schema_el(pq_thrift *t, int ft, pq_schema_el *e) {
    PRW_TRY(prw__pq_t_enter(t, ft));
    memset(e, 0, sizeof *e);
    e->type = -1;
    e->repetition = PRW_PQ_REQUIRED;
    e->converted = -1;
    int16_t last = 0, id;
    for (;;) {
        int f;
        PRW_TRY(prw__pq_t_field(t, &last, &id, &f));
        if (f == PQ_T_STOP)
            break;
        switch (id) {
        case 1:
            PRW_TRY(prw__pq_t_i32(t, f, &e->type));
            break;
        case 2:
            PRW_TRY(prw__pq_t_i32(t, f, &e->type_length));
            break;
        case 3:
            PRW_TRY(prw__pq_t_i32(t, f, &e->repetition));
            break;
        case 4:
            PRW_TRY(prw__pq_t_binary(t, f, &e->name, &e->name_len));
            break;
        case 5:
            PRW_TRY(prw__pq_t_i32(t, f, &e->num_children));
            e->has_children = true;
            break;
        case 6:
            PRW_TRY(prw__pq_t_i32(t, f, &e->converted));
            break;
        case 7:
            PRW_TRY(prw__pq_t_i32(t, f, &e->scale));
            break;
        case 8:
            PRW_TRY(prw__pq_t_i32(t, f, &e->precision));
            break;
        case 10:
            PRW_TRY(parse_logical(t, f, &e->lt));
            break;
        default:
            PRW_TRY(prw__pq_t_skip(t, f));
            break;
        }
    }
    pq_t_leave(t);
    return PRW_OK;
}

/* Fills the resolved annotation of a leaf from its LogicalType, else its ConvertedType. */
static void resolve_annotation(const pq_schema_el *e, prw_pq_column_info *c) {
    c->converted_type = e->converted;
    c->has_logical_type = e->lt.has_logical_type;
    if (e->lt.has_logical_type && e->lt.logical != PRW_PQ_LOGICAL_NONE) {
        c->logical = e->lt.logical;
        c->int_bits = e->lt.int_bits;
        c->int_signed = e->lt.int_signed;
        c->time_unit = e->lt.time_unit;
        c->utc = e->lt.utc;
        c->precision = e->lt.precision;
        c->scale = e->lt.scale;
    } else if (!e->lt.has_logical_type) {
        switch (e->converted) {
        case 0:  /* UTF8 */
        case 4:  /* ENUM */
        case 19: /* JSON */
            c->logical = PRW_PQ_LOGICAL_STRING;
            break;
        case 5:
            c->logical = PRW_PQ_LOGICAL_DECIMAL;
            c->precision = e->precision;
            c->scale = e->scale;
            break;
        case 6:
            c->logical = PRW_PQ_LOGICAL_DATE;
            break;
        case 7:
        case 8:
            c->logical = PRW_PQ_LOGICAL_TIME;
            c->time_unit = e->converted == 7 ? PRW_PQ_MILLIS : PRW_PQ_MICROS;
            c->utc = true;
            break;
        case 9:
        case 10:
            c->logical = PRW_PQ_LOGICAL_TIMESTAMP;
            c->time_unit = e->converted == 9 ? PRW_PQ_MILLIS : PRW_PQ_MICROS;
            c->utc = true;
            break;
        default:
            if (e->converted >= 11 && e->converted <= 18) { /* UINT_8..UINT_64, INT_8..INT_64 */
                int k = (e->converted - 11) % 4;
                c->logical = PRW_PQ_LOGICAL_INT;
                c->int_bits = 8 << k;
                c->int_signed = e->converted >= 15;
            }
            break;
        }
    }
    /* Annotations that do not fit the physical type are ignored (read as physical). */
    bool ok = true;
    switch (c->logical) {
    case PRW_PQ_LOGICAL_STRING:
        ok = c->physical == PRW_PQ_BYTE_ARRAY;
        break;
    case PRW_PQ_LOGICAL_INT:
        ok = (c->physical == PRW_PQ_INT32 && c->int_bits >= 8 && c->int_bits <= 32 &&
              (c->int_bits & (c->int_bits - 1)) == 0) ||
             (c->physical == PRW_PQ_INT64 && c->int_bits == 64);
        break;
    case PRW_PQ_LOGICAL_DATE:
        ok = c->physical == PRW_PQ_INT32;
        break;
    case PRW_PQ_LOGICAL_TIMESTAMP:
        ok = c->physical == PRW_PQ_INT64;
        break;
    case PRW_PQ_LOGICAL_TIME:
        ok = c->physical == PRW_PQ_INT32 || c->physical == PRW_PQ_INT64;
        break;
    case PRW_PQ_LOGICAL_DECIMAL:
        ok = (c->physical == PRW_PQ_INT32 || c->physical == PRW_PQ_INT64 ||
              c->physical == PRW_PQ_BYTE_ARRAY || c->physical == PRW_PQ_FIXED_LEN_BYTE_ARRAY) &&
             c->scale >= 0 && c->scale <= 200;
        break;
    case PRW_PQ_LOGICAL_FLOAT16:
        ok = c->physical == PRW_PQ_FIXED_LEN_BYTE_ARRAY && c->type_length == 2;
        break;
    case PRW_PQ_LOGICAL_UUID:
        ok = c->physical == PRW_PQ_FIXED_LEN_BYTE_ARRAY && c->type_length == 16;
        break;
    default:
        break;
    }
    if (!ok)
        c->logical = PRW_PQ_LOGICAL_NONE;
}

static char *arena_name(prw__arena *a, const char *prefix, const uint8_t *name, size_t len) {
    size_t pl = prefix ? strlen(prefix) : 0;
    char *s = prw__arena_alloc(a, pl + (pl ? 1 : 0) + len + 1, 1);
    if (!s)
        return NULL;
    size_t k = 0;
    if (pl) {
        memcpy(s, prefix, pl);
        s[pl] = '.';
        k = pl + 1;
    }
    if (len)
        memcpy(s + k, name, len);
    s[k + len] = 0;
    return s;
}

/*
 * Walks the schema list depth-first from element *pos, adding leaves to f->cols.
 * `nested` is true under a group other than the root.
 */
static prw_status walk_schema(prw_pq_file *f, const pq_schema_el *els, int64_t n, int64_t *pos,
                              const char *prefix, bool nested, int depth, prw_error *err) {
    if (depth > 64)
        return prw__error_set(err, PRW_E_LIMIT, -1, "schema nested deeper than 64");
    if (*pos >= n) /* groups inside groups claimed more elements than the list holds */
        return prw__error_set(err, PRW_E_CORRUPT, -1, "schema ends inside a group (%lld elements)",
                              (long long)n);
    const pq_schema_el *e = &els[*pos];
    (*pos)++;
    char *name = arena_name(&f->arena, prefix, e->name, e->name_len);
    if (!name)
        return prw__error_nomem(err, "a column name", e->name_len);
    if (e->num_children > 0 || (e->has_children && e->type < 0)) {
        if (e->num_children < 0 || e->num_children > n - *pos)
            return prw__error_set(err, PRW_E_CORRUPT, -1,
                                  "schema group '%s' announces %d children, %lld elements left",
                                  name, e->num_children, (long long)(n - *pos));
        for (int32_t i = 0; i < e->num_children; i++)
            PRW_TRY(walk_schema(f, els, n, pos, name, true, depth + 1, err));
        return PRW_OK;
    }
    if (e->type < 0 || e->type > PRW_PQ_FIXED_LEN_BYTE_ARRAY)
        return prw__error_set(err, PRW_E_CORRUPT, -1, "column '%s' has invalid physical type %d",
                              name, e->type);
    if (e->repetition < 0 || e->repetition > 2)
        return prw__error_set(err, PRW_E_CORRUPT, -1, "column '%s' has invalid repetition %d", name,
                              e->repetition);
    if (e->type == PRW_PQ_FIXED_LEN_BYTE_ARRAY &&
        (e->type_length <= 0 || e->type_length > (1 << 20)))
        return prw__error_set(err, PRW_E_CORRUPT, -1, "column '%s' has invalid fixed length %d",
                              name, e->type_length);
    prw_pq_column_info *c = &f->cols[f->ncols++];
    memset(c, 0, sizeof *c);
    c->name = name;
    c->physical = (prw_pq_physical)e->type;
    c->type_length = e->type == PRW_PQ_FIXED_LEN_BYTE_ARRAY ? e->type_length : 0;
    c->repetition = (prw_pq_repetition)e->repetition;
    c->supported = !nested && e->repetition != PRW_PQ_REPEATED;
    resolve_annotation(e, c);
    return PRW_OK;
}

static prw_status parse_schema(pq_thrift *t, int ft, prw_pq_file *f) {
    int et;
    int64_t n = 0;
    PRW_TRY(prw__pq_t_list(t, ft, &et, &n));
    if (n < 1 || et != PQ_T_STRUCT)
        return corrupt(t, "empty schema or schema of non-structs");
    if (n > (1 << 20))
        return prw__error_set(t->err, PRW_E_LIMIT, pq_thrift_off(t), "%lld schema elements",
                              (long long)n);
    pq_schema_el *els = prw__malloc_array((size_t)n, sizeof *els);
    if (!els)
        return prw__error_nomem(t->err, "the schema", (size_t)n * sizeof *els);
    prw_status st = PRW_OK;
    for (int64_t i = 0; i < n && st >= 0; i++)
        st = parse_schema_el(t, et, &els[i]);
    if (st >= 0) {
        f->cols = prw__arena_alloc(&f->arena, (size_t)n * sizeof *f->cols, 8);
        if (!f->cols)
            st = prw__error_nomem(t->err, "the columns", (size_t)n * sizeof *f->cols);
    }
    if (st >= 0) {
        /* The root is a group whose children are the top-level fields. */
        const pq_schema_el *root = &els[0];
        if (root->num_children < 0 || root->num_children > n - 1) {
            st = prw__error_set(t->err, PRW_E_CORRUPT, -1,
                                "schema root announces %d children of %lld elements",
                                root->num_children, (long long)(n - 1));
        }
        int64_t pos = 1;
        for (int32_t i = 0; st >= 0 && i < root->num_children; i++)
            st = walk_schema(f, els, n, &pos, NULL, false, 1, t->err);
        if (st >= 0 && pos != n)
            st = prw__error_set(t->err, PRW_E_CORRUPT, -1,
                                "schema has %lld elements beyond its tree", (long long)(n - pos));
    }
    prw__free(els);
    return st;
}

static prw_status parse_column_meta(pq_thrift *t, int ft, pq_chunk_meta *m) {
    PRW_TRY(prw__pq_t_enter(t, ft));
    m->has_meta = true;
    m->physical = -1;
    m->codec = -1;
    m->data_page_offset = -1;
    m->dict_page_offset = -1;
    m->total_compressed = -1;
    int16_t last = 0, id;
    for (;;) {
        int f;
        PRW_TRY(prw__pq_t_field(t, &last, &id, &f));
        if (f == PQ_T_STOP)
            break;
        switch (id) {
        case 1:
            PRW_TRY(prw__pq_t_i32(t, f, &m->physical));
            break;
        case 2: {
            int et;
            int64_t n = 0;
            PRW_TRY(prw__pq_t_list(t, f, &et, &n));
            for (int64_t i = 0; i < n; i++) {
                int32_t e;
                PRW_TRY(prw__pq_t_i32(t, et, &e));
                if (e >= 0 && e < 32)
                    m->encodings |= 1u << e;
            }
            break;
        }
        case 4:
            PRW_TRY(prw__pq_t_i32(t, f, &m->codec));
            break;
        case 5:
            PRW_TRY(prw__pq_t_i64(t, f, &m->num_values));
            break;
        case 6:
            PRW_TRY(prw__pq_t_i64(t, f, &m->total_uncompressed));
            break;
        case 7:
            PRW_TRY(prw__pq_t_i64(t, f, &m->total_compressed));
            break;
        case 9:
            PRW_TRY(prw__pq_t_i64(t, f, &m->data_page_offset));
            break;
        case 11:
            PRW_TRY(prw__pq_t_i64(t, f, &m->dict_page_offset));
            break;
        default:
            PRW_TRY(prw__pq_t_skip(t, f));
            break;
        }
    }
    pq_t_leave(t);
    if (m->physical < 0 || m->codec < 0 || m->data_page_offset < 0 || m->total_compressed < 0)
        return corrupt(t, "column metadata lacks type, codec, offset or size");
    return PRW_OK;
}

static prw_status parse_chunk(pq_thrift *t, int ft, pq_chunk_meta *m) {
    PRW_TRY(prw__pq_t_enter(t, ft));
    int16_t last = 0, id;
    for (;;) {
        int f;
        PRW_TRY(prw__pq_t_field(t, &last, &id, &f));
        if (f == PQ_T_STOP)
            break;
        if (id == 1) {
            const uint8_t *p;
            size_t n;
            PRW_TRY(prw__pq_t_binary(t, f, &p, &n));
            m->external = n > 0;
        } else if (id == 3) {
            PRW_TRY(parse_column_meta(t, f, m));
        } else {
            PRW_TRY(prw__pq_t_skip(t, f));
        }
    }
    pq_t_leave(t);
    return PRW_OK;
}

static prw_status parse_row_group(pq_thrift *t, int ft, prw_pq_file *f, pq_row_group *rg) {
    PRW_TRY(prw__pq_t_enter(t, ft));
    rg->num_rows = -1;
    int16_t last = 0, id;
    bool have_cols = false;
    for (;;) {
        int fld;
        PRW_TRY(prw__pq_t_field(t, &last, &id, &fld));
        if (fld == PQ_T_STOP)
            break;
        if (id == 1) {
            int et;
            int64_t n = 0;
            int64_t at = pq_thrift_off(t);
            PRW_TRY(prw__pq_t_list(t, fld, &et, &n));
            if (n != f->ncols || (n > 0 && et != PQ_T_STRUCT))
                return prw__error_set(t->err, PRW_E_CORRUPT, at,
                                      "row group has %lld column chunks, schema has %d columns",
                                      (long long)n, f->ncols);
            rg->chunks = prw__arena_alloc(&f->arena, (size_t)(n ? n : 1) * sizeof *rg->chunks, 8);
            if (!rg->chunks)
                return prw__error_nomem(t->err, "column chunks", (size_t)n * sizeof *rg->chunks);
            memset(rg->chunks, 0, (size_t)(n ? n : 1) * sizeof *rg->chunks);
            for (int64_t i = 0; i < n; i++)
                PRW_TRY(parse_chunk(t, et, &rg->chunks[i]));
            have_cols = true;
        } else if (id == 3) {
            PRW_TRY(prw__pq_t_i64(t, fld, &rg->num_rows));
        } else {
            PRW_TRY(prw__pq_t_skip(t, fld));
        }
    }
    pq_t_leave(t);
    if (!have_cols || rg->num_rows < 0)
        return corrupt(t, "row group lacks its columns or row count");
    if (rg->num_rows > f->opts.max_rows)
        return prw__error_set(t->err, PRW_E_LIMIT, pq_thrift_off(t),
                              "row group of %lld rows exceeds the limit of %lld",
                              (long long)rg->num_rows, (long long)f->opts.max_rows);
    return PRW_OK;
}

prw_status prw__pq_parse_footer(prw_pq_file *f, const uint8_t *footer, size_t len, int64_t base,
                                prw_error *err) {
    pq_thrift t = {.base = base, .depth = 0, .err = err};
    prw__rd_init(&t.rd, footer, len);
    int16_t last = 0, id;
    bool have_schema = false, have_rgs = false, have_rows = false;
    int64_t num_rows = 0;
    f->created_by = "";
    for (;;) {
        int ft;
        PRW_TRY(prw__pq_t_field(&t, &last, &id, &ft));
        if (ft == PQ_T_STOP)
            break;
        switch (id) {
        case 2:
            if (have_schema)
                return corrupt(&t, "schema given twice");
            PRW_TRY(parse_schema(&t, ft, f));
            have_schema = true;
            break;
        case 3:
            PRW_TRY(prw__pq_t_i64(&t, ft, &num_rows));
            have_rows = true;
            break;
        case 4: {
            if (!have_schema)
                return corrupt(&t, "row groups before the schema");
            if (have_rgs)
                return corrupt(&t, "row groups given twice");
            int et;
            int64_t n = 0;
            PRW_TRY(prw__pq_t_list(&t, ft, &et, &n));
            if (n > 0 && et != PQ_T_STRUCT)
                return corrupt(&t, "row groups are not structs");
            if (n > INT32_MAX / 2)
                return prw__error_set(err, PRW_E_LIMIT, pq_thrift_off(&t), "%lld row groups",
                                      (long long)n);
            f->rgs = prw__arena_alloc(&f->arena, (size_t)(n ? n : 1) * sizeof *f->rgs, 8);
            if (!f->rgs)
                return prw__error_nomem(err, "row groups", (size_t)n * sizeof *f->rgs);
            for (int64_t i = 0; i < n; i++) {
                PRW_TRY(parse_row_group(&t, et, f, &f->rgs[i]));
                f->num_rows += f->rgs[i].num_rows;
                if (f->num_rows < 0)
                    return corrupt(&t, "row count overflows");
            }
            f->nrg = (int)n;
            have_rgs = true;
            break;
        }
        case 6: {
            const uint8_t *p;
            size_t n;
            PRW_TRY(prw__pq_t_binary(&t, ft, &p, &n));
            char *s = arena_name(&f->arena, NULL, p, n);
            if (!s)
                return prw__error_nomem(err, "created_by", n);
            f->created_by = s;
            break;
        }
        default:
            PRW_TRY(prw__pq_t_skip(&t, ft));
            break;
        }
    }
    if (!have_schema || !have_rgs || !have_rows)
        return prw__error_set(err, PRW_E_CORRUPT, base,
                              "invalid footer: FileMetaData lacks its schema, rows or row groups");
    if (num_rows != f->num_rows)
        return prw__error_set(err, PRW_E_CORRUPT, base,
                              "footer says %lld rows, its row groups hold %lld",
                              (long long)num_rows, (long long)f->num_rows);
    return PRW_OK;
}
