/*
 * A minimal flatbuffer builder and a verifying reader, enough for Arrow's Message/Schema
 * tables (../shared/docs/ARROW_IPC.md §5).
 *
 * Builder: writes front to back, parent before children, so every uoffset points forward
 * (uoffsets are unsigned). Each table gets its own vtable right before it (no dedup); fields
 * go largest first, each aligned to its size, and a table holding an int64 starts at 4 mod 8
 * so the int64 right after its soffset is 8-aligned. Alignment is relative to the start of
 * the flatbuffer, which sits 8 bytes into an 8-aligned message. It writes into caller memory
 * with a fixed capacity and flags overflow instead of writing past it.
 *
 * Reader: every access is checked the way flatbuffers::Verifier (run by pyarrow) checks it:
 * offsets in bounds and non-zero, tables 4-aligned, vtables 2-aligned with an even size of at
 * least 4, fields inside the table's inline size, scalars aligned to their size, vector and
 * string length words 4-aligned, strings NUL-terminated. Nothing is read before it is checked.
 */
#include "arrow/ipc_internal.h"

void prw__fbb_init(prw__fbb *b, uint8_t *p, size_t cap) {
    b->p = p;
    b->cap = cap;
    b->len = 0;
    b->overflow = false;
}

size_t prw__fbb_put(prw__fbb *b, const void *data, size_t n) {
    size_t at = b->len;
    if (n > b->cap - b->len) {
        b->overflow = true;
        return at;
    }
    if (data)
        memcpy(b->p + b->len, data, n);
    else
        memset(b->p + b->len, 0, n);
    b->len += n;
    return at;
}

void prw__fbb_pad(prw__fbb *b, size_t align, size_t rem) {
    size_t n = (rem - (b->len & (align - 1))) & (align - 1);
    prw__fbb_put(b, NULL, n);
}

void prw__fbb_put_u32(prw__fbb *b, uint32_t v) {
    uint8_t t[4];
    prw__store_le32(t, v);
    prw__fbb_put(b, t, 4);
}

void prw__fbb_patch(prw__fbb *b, size_t at, size_t target) {
    if (b->overflow || at + 4 > b->len)
        return;
    prw__store_le32(b->p + at, (uint32_t)(target - at));
}

size_t prw__fbb_table(prw__fbb *b, const prw__fb_slot *slots, int nslots, size_t *field_pos) {
    prw__fbb_pad(b, 4, 0);
    size_t vt = prw__fbb_put(b, NULL, 4 + 2 * (size_t)nslots);
    bool has8 = false;
    for (int k = 0; k < nslots; k++)
        has8 |= slots[k].size == 8;
    if (has8)
        prw__fbb_pad(b, 8, 4);
    else
        prw__fbb_pad(b, 4, 0);
    size_t table = b->len;
    prw__fbb_put_u32(b, (uint32_t)(table - vt));
    for (size_t size = 8; size >= 1; size /= 2) {
        for (int k = 0; k < nslots; k++) {
            if (slots[k].size != size)
                continue;
            prw__fbb_pad(b, size, 0);
            uint8_t t[8];
            prw__store_le64(t, slots[k].value);
            field_pos[k] = prw__fbb_put(b, t, size);
        }
    }
    if (b->overflow)
        return table;
    uint8_t *v = b->p + vt;
    prw__store_le16(v, (uint16_t)(4 + 2 * nslots));
    prw__store_le16(v + 2, (uint16_t)(b->len - table));
    for (int k = 0; k < nslots; k++) {
        size_t off = slots[k].size ? field_pos[k] - table : 0;
        if (!slots[k].size)
            field_pos[k] = 0;
        prw__store_le16(v + 4 + 2 * k, (uint16_t)off);
    }
    return table;
}

size_t prw__fbb_string(prw__fbb *b, const char *s, size_t n) {
    prw__fbb_pad(b, 4, 0);
    size_t at = b->len;
    prw__fbb_put_u32(b, (uint32_t)n);
    prw__fbb_put(b, s, n);
    prw__fbb_put(b, NULL, 1);
    return at;
}

/* ---- reader ------------------------------------------------------------------------------- */

#define FB_FAIL(r, pos, ...)                                                                       \
    prw__error_set(err, PRW_E_CORRUPT, (r)->base_off + (int64_t)(pos), __VA_ARGS__)

/* Verifies the table whose position is `pos`. */
static prw_status check_table(const prw__fbr *r, size_t pos, prw__fbt *t, prw_error *err) {
    if (pos % 4 || pos > r->len || r->len - pos < 4)
        return FB_FAIL(r, pos, "flatbuffer table at %zu out of bounds or misaligned", pos);
    int32_t soff = (int32_t)prw__load_le32(r->p + pos);
    int64_t vt = (int64_t)pos - soff;
    if (vt < 0 || vt % 2 || (uint64_t)vt + 4 > r->len)
        return FB_FAIL(r, pos, "flatbuffer vtable of the table at %zu out of bounds", pos);
    uint16_t vt_len = prw__load_le16(r->p + vt);
    uint16_t inline_len = prw__load_le16(r->p + vt + 2);
    if (vt_len < 4 || vt_len % 2 || (uint64_t)vt + vt_len > r->len)
        return FB_FAIL(r, vt, "flatbuffer vtable size %u invalid", vt_len);
    if (inline_len < 4 || inline_len > r->len - pos)
        return FB_FAIL(r, pos, "flatbuffer table size %u out of bounds", inline_len);
    t->pos = pos;
    t->vt = (size_t)vt;
    t->vt_len = vt_len;
    t->inline_len = inline_len;
    return PRW_OK;
}

/* Position of a field of `size` bytes, 0 when absent; checks it lies inside the table and is
 * aligned to `align`. */
static prw_status field_pos(const prw__fbr *r, const prw__fbt *t, int slot, size_t size,
                            size_t align, size_t *pos, prw_error *err) {
    *pos = 0;
    size_t e = 4 + 2 * (size_t)slot;
    if (e + 2 > t->vt_len)
        return PRW_OK;
    uint16_t off = prw__load_le16(r->p + t->vt + e);
    if (off == 0)
        return PRW_OK;
    if (off < 4 || (size_t)off + size > t->inline_len)
        return FB_FAIL(r, t->vt + e, "flatbuffer field %d of the table at %zu outside it", slot,
                       t->pos);
    size_t p = t->pos + off;
    if (p % align)
        return FB_FAIL(r, p, "flatbuffer field %d misaligned", slot);
    *pos = p;
    return PRW_OK;
}

prw_status prw__fbr_root(const prw__fbr *r, prw__fbt *t, prw_error *err) {
    if (r->len < 8)
        return FB_FAIL(r, 0, "flatbuffer of %zu bytes is too short", r->len);
    return prw__fbr_table_at(r, 0, t, err);
}

prw_status prw__fbr_scalar(const prw__fbr *r, const prw__fbt *t, int slot, size_t size,
                           uint64_t dflt, uint64_t *out, prw_error *err) {
    size_t p;
    PRW_TRY(field_pos(r, t, slot, size, size, &p, err));
    if (!p) {
        *out = dflt;
        return PRW_OK;
    }
    switch (size) {
    case 1:
        *out = r->p[p];
        break;
    case 2:
        *out = prw__load_le16(r->p + p);
        break;
    case 4:
        *out = prw__load_le32(r->p + p);
        break;
    default:
        *out = prw__load_le64(r->p + p);
        break;
    }
    return PRW_OK;
}

/* Follows the uoffset at absolute position `at`; *target = where it points. */
static prw_status follow(const prw__fbr *r, size_t at, size_t *target, prw_error *err) {
    if (at % 4 || at > r->len || r->len - at < 4)
        return FB_FAIL(r, at, "flatbuffer offset at %zu out of bounds or misaligned", at);
    uint32_t u = prw__load_le32(r->p + at);
    if (u == 0 || u > r->len - at)
        return FB_FAIL(r, at, "flatbuffer offset %u at %zu out of bounds", u, at);
    *target = at + u;
    return PRW_OK;
}

prw_status prw__fbr_table_at(const prw__fbr *r, size_t at, prw__fbt *t, prw_error *err) {
    size_t target = 0;
    PRW_TRY(follow(r, at, &target, err));
    return check_table(r, target, t, err);
}

prw_status prw__fbr_table(const prw__fbr *r, const prw__fbt *t, int slot, prw__fbt *child,
                          bool *present, prw_error *err) {
    size_t p;
    PRW_TRY(field_pos(r, t, slot, 4, 4, &p, err));
    *present = p != 0;
    if (!p)
        return PRW_OK;
    return prw__fbr_table_at(r, p, child, err);
}

prw_status prw__fbr_vector(const prw__fbr *r, const prw__fbt *t, int slot, size_t elem_size,
                           size_t elem_align, size_t *elems, uint32_t *count, bool *present,
                           prw_error *err) {
    size_t p, v = 0;
    *elems = 0;
    *count = 0;
    PRW_TRY(field_pos(r, t, slot, 4, 4, &p, err));
    *present = p != 0;
    if (!p)
        return PRW_OK;
    PRW_TRY(follow(r, p, &v, err));
    if (v % 4 || r->len - v < 4)
        return FB_FAIL(r, v, "flatbuffer vector at %zu misaligned or truncated", v);
    uint32_t n = prw__load_le32(r->p + v);
    size_t first = v + 4;
    if (first % elem_align)
        return FB_FAIL(r, v, "flatbuffer vector elements at %zu misaligned", first);
    if ((uint64_t)n * elem_size > r->len - first)
        return FB_FAIL(r, v, "flatbuffer vector of %u elements overruns the buffer", n);
    *elems = first;
    *count = n;
    return PRW_OK;
}

prw_status prw__fbr_string(const prw__fbr *r, const prw__fbt *t, int slot, const char **s,
                           uint32_t *n, bool *present, prw_error *err) {
    size_t first;
    uint32_t len;
    PRW_TRY(prw__fbr_vector(r, t, slot, 1, 1, &first, &len, present, err));
    *s = NULL;
    *n = 0;
    if (!*present)
        return PRW_OK;
    if (len >= r->len - first || r->p[first + len] != 0)
        return FB_FAIL(r, first, "flatbuffer string at %zu is not NUL-terminated", first - 4);
    *s = (const char *)(r->p + first);
    *n = len;
    return PRW_OK;
}
