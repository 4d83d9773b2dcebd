/*
 * Thrift compact protocol, as used by Parquet's footer (FileMetaData) and page headers.
 *
 * Spec: https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md and
 * parquet-format/src/main/thrift/parquet.thrift. A field header is one byte (delta << 4 | type)
 * optionally followed by a zigzag varint field id; integers are zigzag varints; binaries are a
 * varint length then bytes; lists are (size << 4 | elem type) with a varint size when the nibble
 * is 15. Everything read here is untrusted: nesting depth is bounded, and each list or binary
 * size is checked against the bytes actually left before anything is allocated for it.
 */
#include "parquet/pq_internal.h"

static prw_status bad(pq_thrift *t, const char *what) {
    return prw__error_set(t->err, PRW_E_CORRUPT, pq_thrift_off(t), "malformed Thrift: %s", what);
}

static prw_status t_trunc(pq_thrift *t) {
    return prw__error_set(t->err, PRW_E_TRUNCATED, pq_thrift_off(t),
                          "Thrift structure cut off after %lld bytes",
                          (long long)prw__rd_pos(&t->rd));
}

static prw_status varint(pq_thrift *t, uint64_t *v) {
    if (!prw__rd_varint(&t->rd, v))
        return prw__rd_left(&t->rd) < PRW_VARINT_MAX ? t_trunc(t) : bad(t, "overlong varint");
    return PRW_OK;
}

prw_status prw__pq_t_field(pq_thrift *t, int16_t *last_id, int16_t *id, int *type) {
    uint8_t b;
    if (!prw__rd_u8(&t->rd, &b))
        return t_trunc(t);
    *type = b & 0x0f;
    if (*type == PQ_T_STOP)
        return PRW_OK;
    if (*type > PQ_T_STRUCT)
        return bad(t, "unknown field type");
    int delta = b >> 4;
    if (delta) {
        *id = (int16_t)(*last_id + delta);
    } else {
        uint64_t v;
        PRW_TRY(varint(t, &v));
        int64_t s = prw__zigzag_dec(v);
        if (s < INT16_MIN || s > INT16_MAX)
            return bad(t, "field id out of range");
        *id = (int16_t)s;
    }
    *last_id = *id;
    return PRW_OK;
}

prw_status prw__pq_t_i64(pq_thrift *t, int type, int64_t *out) {
    if (type == PQ_T_BYTE) {
        uint8_t b;
        if (!prw__rd_u8(&t->rd, &b))
            return t_trunc(t);
        *out = (int8_t)b;
        return PRW_OK;
    }
    if (type != PQ_T_I16 && type != PQ_T_I32 && type != PQ_T_I64)
        return bad(t, "integer field of another type");
    uint64_t v;
    PRW_TRY(varint(t, &v));
    *out = prw__zigzag_dec(v);
    return PRW_OK;
}

prw_status prw__pq_t_i32(pq_thrift *t, int type, int32_t *out) {
    int64_t v;
    PRW_TRY(prw__pq_t_i64(t, type, &v));
    if (v < INT32_MIN || v > INT32_MAX)
        return bad(t, "32-bit integer out of range");
    *out = (int32_t)v;
    return PRW_OK;
}

prw_status prw__pq_t_bool(pq_thrift *t, int type, bool *out) {
    if (type != PQ_T_TRUE && type != PQ_T_FALSE)
        return bad(t, "boolean field of another type");
    *out = type == PQ_T_TRUE;
    return PRW_OK;
}

prw_status prw__pq_t_binary(pq_thrift *t, int type, const uint8_t **p, size_t *n) {
    if (type != PQ_T_BINARY)
        return bad(t, "binary field of another type");
    uint64_t len;
    PRW_TRY(varint(t, &len));
    if (len > prw__rd_left(&t->rd))
        return t_trunc(t);
    *n = (size_t)len;
    prw__rd_take(&t->rd, *n, p);
    return PRW_OK;
}

prw_status prw__pq_t_list(pq_thrift *t, int type, int *elem_type, int64_t *count) {
    if (type != PQ_T_LIST && type != PQ_T_SET)
        return bad(t, "list field of another type");
    uint8_t b;
    if (!prw__rd_u8(&t->rd, &b))
        return t_trunc(t);
    *elem_type = b & 0x0f;
    uint64_t n = b >> 4;
    if (n == 15)
        PRW_TRY(varint(t, &n));
    /* Every element takes at least one byte (booleans in lists are one byte each). */
    if (n > prw__rd_left(&t->rd))
        return t_trunc(t);
    if (*elem_type == PQ_T_STOP || *elem_type > PQ_T_STRUCT)
        return n ? bad(t, "unknown list element type") : PRW_OK;
    *count = (int64_t)n;
    return PRW_OK;
}

prw_status prw__pq_t_enter(pq_thrift *t, int type) {
    if (type != PQ_T_STRUCT)
        return bad(t, "struct field of another type");
    if (++t->depth > PQ_THRIFT_MAX_DEPTH)
        return prw__error_set(t->err, PRW_E_LIMIT, pq_thrift_off(t),
                              "Thrift nesting deeper than %d", PQ_THRIFT_MAX_DEPTH);
    return PRW_OK;
}

prw_status prw__pq_t_skip(pq_thrift *t, int type) {
    switch (type) {
    case PQ_T_TRUE:
    case PQ_T_FALSE:
        return PRW_OK;
    case PQ_T_BYTE:
        return prw__rd_skip(&t->rd, 1) ? PRW_OK : t_trunc(t);
    case PQ_T_I16:
    case PQ_T_I32:
    case PQ_T_I64: {
        uint64_t v;
        return varint(t, &v);
    }
    case PQ_T_DOUBLE:
        return prw__rd_skip(&t->rd, 8) ? PRW_OK : t_trunc(t);
    case PQ_T_BINARY: {
        const uint8_t *p;
        size_t n;
        return prw__pq_t_binary(t, type, &p, &n);
    }
    case PQ_T_LIST:
    case PQ_T_SET: {
        int et;
        int64_t n = 0;
        PRW_TRY(prw__pq_t_list(t, type, &et, &n));
        if (++t->depth > PQ_THRIFT_MAX_DEPTH)
            return bad(t, "nesting too deep");
        for (int64_t i = 0; i < n; i++) {
            if (et == PQ_T_TRUE || et == PQ_T_FALSE) {
                if (!prw__rd_skip(&t->rd, 1))
                    return t_trunc(t);
            } else {
                PRW_TRY(prw__pq_t_skip(t, et));
            }
        }
        t->depth--;
        return PRW_OK;
    }
    case PQ_T_MAP: {
        uint64_t n;
        PRW_TRY(varint(t, &n));
        if (n == 0)
            return PRW_OK;
        uint8_t kv;
        if (!prw__rd_u8(&t->rd, &kv))
            return t_trunc(t);
        if (n > prw__rd_left(&t->rd))
            return t_trunc(t);
        int kt = kv >> 4, vt = kv & 0x0f;
        if (kt == PQ_T_STOP || kt > PQ_T_STRUCT || vt == PQ_T_STOP || vt > PQ_T_STRUCT)
            return bad(t, "unknown map element type");
        if (++t->depth > PQ_THRIFT_MAX_DEPTH)
            return bad(t, "nesting too deep");
        for (uint64_t i = 0; i < n; i++) {
            PRW_TRY(prw__pq_t_skip(t, kt));
            PRW_TRY(prw__pq_t_skip(t, vt));
        }
        t->depth--;
        return PRW_OK;
    }
    case PQ_T_STRUCT: {
        PRW_TRY(prw__pq_t_enter(t, type));
        int16_t last = 0, id;
        for (;;) {
            int ft;
            PRW_TRY(prw__pq_t_field(t, &last, &id, &ft));
            if (ft == PQ_T_STOP)
                break;
            PRW_TRY(prw__pq_t_skip(t, ft));
        }
        pq_t_leave(t);
        return PRW_OK;
    }
    default:
        return bad(t, "unknown type");
    }
}

/* ---- page header ------------------------------------------------------------------------ */

static prw_status parse_data_page_header(pq_thrift *t, pq_page_header *h, bool v2) {
    int16_t last = 0, id;
    for (;;) {
        int ft;
        PRW_TRY(prw__pq_t_field(t, &last, &id, &ft));
        if (ft == PQ_T_STOP)
            break;
        if (!v2) {
            switch (id) {
            case 1:
                PRW_TRY(prw__pq_t_i32(t, ft, &h->num_values));
                continue;
            case 2:
                PRW_TRY(prw__pq_t_i32(t, ft, &h->encoding));
                continue;
            case 3: /* definition_level_encoding; in a dictionary header: is_sorted (bool) */
                if (h->type == PQ_PAGE_DICT)
                    break;
                PRW_TRY(prw__pq_t_i32(t, ft, &h->def_encoding));
                continue;
            default:
                break;
            }
        } else {
            switch (id) {
            case 1:
                PRW_TRY(prw__pq_t_i32(t, ft, &h->num_values));
                continue;
            case 2:
                PRW_TRY(prw__pq_t_i32(t, ft, &h->num_nulls));
                continue;
            case 3:
                PRW_TRY(prw__pq_t_i32(t, ft, &h->num_rows));
                continue;
            case 4:
                PRW_TRY(prw__pq_t_i32(t, ft, &h->encoding));
                continue;
            case 5:
                PRW_TRY(prw__pq_t_i32(t, ft, &h->def_len));
                continue;
            case 6:
                PRW_TRY(prw__pq_t_i32(t, ft, &h->rep_len));
                continue;
            case 7:
                PRW_TRY(prw__pq_t_bool(t, ft, &h->v2_compressed));
                continue;
            default:
                break;
            }
        }
        PRW_TRY(prw__pq_t_skip(t, ft));
    }
    return PRW_OK;
}

prw_status prw__pq_parse_page_header(pq_thrift *t, pq_page_header *h) {
    memset(h, 0, sizeof *h);
    h->type = -1;
    h->uncompressed_size = -1;
    h->compressed_size = -1;
    h->num_values = -1;
    h->encoding = -1;
    h->def_encoding = PQ_ENC_RLE;
    h->v2_compressed = true;
    int16_t last = 0, id;
    for (;;) {
        int ft;
        PRW_TRY(prw__pq_t_field(t, &last, &id, &ft));
        if (ft == PQ_T_STOP)
            break;
        switch (id) {
        case 1:
            PRW_TRY(prw__pq_t_i32(t, ft, &h->type));
            break;
        case 2:
            PRW_TRY(prw__pq_t_i32(t, ft, &h->uncompressed_size));
            break;
        case 3:
            PRW_TRY(prw__pq_t_i32(t, ft, &h->compressed_size));
            break;
        case 4: {
            int32_t crc;
            PRW_TRY(prw__pq_t_i32(t, ft, &crc));
            h->has_crc = true;
            h->crc = (uint32_t)crc;
            break;
        }
        case 5:
        case 7:
        case 8: {
            bool mine = (id == 5 && h->type == PQ_PAGE_DATA) ||
                        (id == 7 && h->type == PQ_PAGE_DICT) ||
                        (id == 8 && h->type == PQ_PAGE_DATA_V2);
            if (!mine) {
                PRW_TRY(prw__pq_t_skip(t, ft));
                break;
            }
            PRW_TRY(prw__pq_t_enter(t, ft));
            /* The dictionary header's fields 1 (num_values) and 2 (encoding) match v1's. */
            PRW_TRY(parse_data_page_header(t, h, id == 8));
            pq_t_leave(t);
            h->has_sub = true;
            break;
        }
        default:
            PRW_TRY(prw__pq_t_skip(t, ft));
            break;
        }
    }
    if (h->type < 0 || h->uncompressed_size < 0 || h->compressed_size < 0)
        return prw__error_set(t->err, PRW_E_CORRUPT, t->base,
                              "page header lacks its type or sizes");
    return PRW_OK;
}
