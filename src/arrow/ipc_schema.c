/*
 * Schema messages and RecordBatch message headers (ARROW_IPC.md §2-§5).
 *
 * The schema message is built with the flatbuffer builder in the order the recipe gives:
 * Message, Schema, the fields vector, then per field its table, name, type table (and time
 * zone) and an empty children vector — so the two contract schemas come out byte for byte as
 * the reference encodings. pyarrow always writes `nullable` (true) and the empty `children`
 * vector, never `dictionary`, custom metadata, endianness (Little is the default) or a
 * bodyLength of 0, and neither do we.
 *
 * The RecordBatch flatbuffer has a fixed shape once every field is written (`length` even
 * when 0, and `bodyLength`): 88 + 16 × (nodes + buffers) bytes, always a multiple of 8, so it
 * needs no padding and is written from a template with only the int64 values filled in.
 */
#include <stdio.h>

#include "arrow/ipc_internal.h"

const char *prw_ipc_type_name(prw_ipc_type type, prw_ipc_time_unit unit) {
    static const char *const units[] = {"timestamp[s]", "timestamp[ms]", "timestamp[us]",
                                        "timestamp[ns]"};
    switch (type) {
    case PRW_IPC_INT8:
        return "int8";
    case PRW_IPC_INT16:
        return "int16";
    case PRW_IPC_INT32:
        return "int32";
    case PRW_IPC_INT64:
        return "int64";
    case PRW_IPC_FLOAT32:
        return "float32";
    case PRW_IPC_FLOAT64:
        return "float64";
    case PRW_IPC_TIMESTAMP:
        return (unsigned)unit <= PRW_IPC_NANOSECOND ? units[unit] : "timestamp[?]";
    case PRW_IPC_UTF8:
        return "utf8";
    case PRW_IPC_BINARY:
        return "binary";
    }
    return "unknown";
}

size_t prw_ipc_type_width(prw_ipc_type type) {
    switch (type) {
    case PRW_IPC_INT8:
        return 1;
    case PRW_IPC_INT16:
        return 2;
    case PRW_IPC_INT32:
    case PRW_IPC_FLOAT32:
        return 4;
    case PRW_IPC_INT64:
    case PRW_IPC_FLOAT64:
    case PRW_IPC_TIMESTAMP:
        return 8;
    case PRW_IPC_UTF8:
    case PRW_IPC_BINARY:
        return 0;
    }
    return 0;
}

static const prw_ipc_field g_inner_fields[] = {
    {"event_time", PRW_IPC_TIMESTAMP, PRW_IPC_MICROSECOND, NULL, true},
    {"src_addr", PRW_IPC_UTF8, 0, NULL, true},
    {"dst_addr", PRW_IPC_UTF8, 0, NULL, true},
    {"ip_version", PRW_IPC_INT8, 0, NULL, true},
    {"rtt", PRW_IPC_FLOAT32, 0, NULL, true},
};
static const prw_ipc_field g_outer_fields[] = {
    {"src_id", PRW_IPC_INT64, 0, NULL, true},
    {"measurements", PRW_IPC_BINARY, 0, NULL, true},
    {"n_measurements", PRW_IPC_INT32, 0, NULL, true},
    {"time_span_seconds", PRW_IPC_FLOAT64, 0, NULL, true},
    {"first_timestamp", PRW_IPC_TIMESTAMP, PRW_IPC_MICROSECOND, NULL, true},
    {"last_timestamp", PRW_IPC_TIMESTAMP, PRW_IPC_MICROSECOND, NULL, true},
};
static const prw_ipc_schema g_inner_schema = {g_inner_fields, 5};
static const prw_ipc_schema g_outer_schema = {g_outer_fields, 6};

const prw_ipc_schema *prw_ipc_inner_schema(void) {
    return &g_inner_schema;
}
const prw_ipc_schema *prw_ipc_outer_schema(void) {
    return &g_outer_schema;
}

static bool tz_present(const prw_ipc_field *f) {
    return f->type == PRW_IPC_TIMESTAMP && f->timezone && f->timezone[0];
}

bool prw_ipc_schema_equal(const prw_ipc_schema *s, const prw_ipc_schema *expect) {
    if (s->n_fields != expect->n_fields)
        return false;
    for (size_t i = 0; i < s->n_fields; i++) {
        const prw_ipc_field *a = &s->fields[i], *b = &expect->fields[i];
        if (a->type != b->type || a->nullable != b->nullable || strcmp(a->name, b->name) != 0)
            return false;
        if (a->type == PRW_IPC_TIMESTAMP) {
            if (a->unit != b->unit || tz_present(a) != tz_present(b))
                return false;
            if (tz_present(a) && strcmp(a->timezone, b->timezone) != 0)
                return false;
        }
    }
    return true;
}

prw_status prw__ipc_schema_check(const prw_ipc_schema *s, prw_error *err) {
    PRW_CHECK(s && s->fields && s->n_fields > 0, err, PRW_E_INVALID, -1, "schema has no fields");
    PRW_CHECK(s->n_fields <= PRW__IPC_MAX_FIELDS, err, PRW_E_INVALID, -1,
              "schema has %zu fields (at most %d)", s->n_fields, PRW__IPC_MAX_FIELDS);
    for (size_t i = 0; i < s->n_fields; i++) {
        const prw_ipc_field *f = &s->fields[i];
        PRW_CHECK(f->name, err, PRW_E_INVALID, -1, "field %zu has no name", i);
        PRW_CHECK(f->type >= PRW_IPC_INT8 && f->type <= PRW_IPC_BINARY, err, PRW_E_INVALID, -1,
                  "field '%s' has unknown type %d", f->name, (int)f->type);
        PRW_CHECK(f->type != PRW_IPC_TIMESTAMP || (unsigned)f->unit <= PRW_IPC_NANOSECOND, err,
                  PRW_E_INVALID, -1, "field '%s' has unknown time unit %d", f->name, (int)f->unit);
        PRW_CHECK(strlen(f->name) < (1u << 30) &&
                      (!tz_present(f) || strlen(f->timezone) < (1u << 30)),
                  err, PRW_E_INVALID, -1, "field %zu: name or time zone too long", i);
    }
    return PRW_OK;
}

size_t prw__ipc_schema_message_bound(const prw_ipc_schema *s) {
    /* Per field: vector slot 4, Field vtable 16 + pad 4 + table 20, name 4+len+1+3, type
     * vtable 8 + table 12 + pad 4, time zone 4+len+1+3, children 4 (+ slack). */
    size_t n = 64;
    for (size_t i = 0; i < s->n_fields; i++) {
        const prw_ipc_field *f = &s->fields[i];
        n += 128 + strlen(f->name) + (tz_present(f) ? strlen(f->timezone) : 0);
    }
    return n;
}

static void write_field(prw__fbb *b, const prw_ipc_field *f, size_t vec_slot) {
    uint8_t tag;
    switch (f->type) {
    case PRW_IPC_INT8:
    case PRW_IPC_INT16:
    case PRW_IPC_INT32:
    case PRW_IPC_INT64:
        tag = PRW__IPC_T_INT;
        break;
    case PRW_IPC_FLOAT32:
    case PRW_IPC_FLOAT64:
        tag = PRW__IPC_T_FLOAT;
        break;
    case PRW_IPC_TIMESTAMP:
        tag = PRW__IPC_T_TIMESTAMP;
        break;
    case PRW_IPC_UTF8:
        tag = PRW__IPC_T_UTF8;
        break;
    default:
        tag = PRW__IPC_T_BINARY;
        break;
    }
    /* Field: 0 name, 1 nullable, 2 type_type, 3 type, 4 dictionary (absent), 5 children. */
    prw__fb_slot fs[6] = {{4, 0}, {f->nullable ? 1 : 0, 1}, {1, tag}, {4, 0}, {0, 0}, {4, 0}};
    size_t fp[6];
    size_t table = prw__fbb_table(b, fs, 6, fp);
    prw__fbb_patch(b, vec_slot, table);
    prw__fbb_patch(b, fp[0], prw__fbb_string(b, f->name, strlen(f->name)));

    prw__fb_slot ts[2] = {{0, 0}, {0, 0}};
    size_t tp[2];
    int nts = 0;
    bool tz = tz_present(f);
    if (tag == PRW__IPC_T_INT) {
        ts[0] = (prw__fb_slot){4, prw_ipc_type_width(f->type) * 8};
        ts[1] = (prw__fb_slot){1, 1};
        nts = 2;
    } else if (tag == PRW__IPC_T_FLOAT) {
        ts[0] = (prw__fb_slot){2, f->type == PRW_IPC_FLOAT32 ? 1 : 2};
        nts = 1;
    } else if (tag == PRW__IPC_T_TIMESTAMP) {
        /* The absent time zone slot is still covered by the vtable, as pyarrow does. */
        ts[0] = (prw__fb_slot){2, (uint64_t)f->unit};
        ts[1] = (prw__fb_slot){tz ? 4 : 0, 0};
        nts = 2;
    }
    size_t type_table = prw__fbb_table(b, ts, nts, tp);
    prw__fbb_patch(b, fp[3], type_table);
    if (tz)
        prw__fbb_patch(b, tp[1], prw__fbb_string(b, f->timezone, strlen(f->timezone)));
    prw__fbb_pad(b, 4, 0);
    prw__fbb_patch(b, fp[5], b->len);
    prw__fbb_put_u32(b, 0);
}

prw_status prw__ipc_schema_message(const prw_ipc_schema *s, uint8_t *dst, size_t cap, size_t *len,
                                   prw_error *err) {
    PRW_TRY(prw__ipc_schema_check(s, err));
    PRW_CHECK(cap >= 8, err, PRW_E_LIMIT, -1, "no room for a schema message");
    prw__fbb b;
    prw__fbb_init(&b, dst + 8, cap - 8);
    prw__fbb_put_u32(&b, 0); /* root uoffset */
    /* Message: 0 version, 1 header_type, 2 header; bodyLength (0) left out. */
    prw__fb_slot ms[3] = {{2, PRW__IPC_VERSION_V5}, {1, PRW__IPC_MSG_SCHEMA}, {4, 0}};
    size_t mp[3];
    prw__fbb_patch(&b, 0, prw__fbb_table(&b, ms, 3, mp));
    /* Schema: 0 endianness (Little = default, left out), 1 fields. */
    prw__fb_slot ss[2] = {{0, 0}, {4, 0}};
    size_t sp[2];
    prw__fbb_patch(&b, mp[2], prw__fbb_table(&b, ss, 2, sp));
    prw__fbb_pad(&b, 4, 0);
    prw__fbb_patch(&b, sp[1], b.len);
    prw__fbb_put_u32(&b, (uint32_t)s->n_fields);
    size_t vec = prw__fbb_put(&b, NULL, 4 * s->n_fields);
    for (size_t i = 0; i < s->n_fields && !b.overflow; i++)
        write_field(&b, &s->fields[i], vec + 4 * i);
    prw__fbb_pad(&b, 8, 0);
    PRW_CHECK(!b.overflow && b.len <= INT32_MAX, err, PRW_E_LIMIT, -1,
              "schema message larger than its %zu-byte buffer", cap);
    prw__store_le32(dst, 0xFFFFFFFFu);
    prw__store_le32(dst + 4, (uint32_t)b.len);
    *len = 8 + b.len;
    return PRW_OK;
}

void prw__ipc_batch_header(uint8_t *dst, int64_t length, int64_t body_len, size_t n, size_t nb) {
    /* Positions below are from the flatbuffer start (dst + 8); see ARROW_IPC.md §6. */
    /* clang-format off */
    static const uint8_t head[0x50] = {
        0x14, 0, 0, 0,                                     /* root -> Message @0x14 */
        0x0c, 0, 0x13, 0, 0x10, 0, 0x12, 0, 0x0c, 0, 4, 0, /* Message vtable, 4 slots */
        0, 0, 0, 0,                                        /* pad: table at 4 mod 8 */
        0x10, 0, 0, 0,                                     /* soffset -> vtable */
        0, 0, 0, 0, 0, 0, 0, 0,                            /* bodyLength @0x18 */
        0x14, 0, 0, 0,                                     /* header -> 0x34 */
        PRW__IPC_VERSION_V5, 0, PRW__IPC_MSG_RECORD_BATCH, 0, /* version, header_type */
        0x0a, 0, 0x14, 0, 4, 0, 0x0c, 0, 0x10, 0, 0, 0,    /* RecordBatch vtable + pad */
        0x0c, 0, 0, 0,                                     /* soffset -> vtable */
        0, 0, 0, 0, 0, 0, 0, 0,                            /* length @0x38 */
        0x0c, 0, 0, 0,                                     /* nodes -> 0x4c */
        0, 0, 0, 0,                                        /* buffers (patched) */
        0, 0, 0, 0,                                        /* pad: count at 4 mod 8 */
        0, 0, 0, 0,                                        /* node count @0x4c */
    };
    /* clang-format on */
    size_t meta = prw__ipc_batch_meta_len(n, nb);
    prw__store_le32(dst, 0xFFFFFFFFu);
    prw__store_le32(dst + 4, (uint32_t)meta);
    uint8_t *fb = dst + 8;
    memcpy(fb, head, sizeof head);
    prw__store_le64(fb + 0x18, (uint64_t)body_len);
    prw__store_le64(fb + 0x38, (uint64_t)length);
    prw__store_le32(fb + 0x44, (uint32_t)(0x54 + 16 * n - 0x44));
    prw__store_le32(fb + 0x4c, (uint32_t)n);
    uint8_t *p = fb + 0x50 + 16 * n;
    prw__store_le32(p, 0);
    prw__store_le32(p + 4, (uint32_t)nb);
}
