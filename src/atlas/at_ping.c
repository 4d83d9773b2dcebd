/*
 * One RIPE Atlas ping result (one line of a dump) -> the fields proberows reads, for every
 * firmware generation of RIPE's "measurement result format" (../shared/docs/ATLAS.md):
 *
 *   fw 0      dst_addr, src_addr, no af, no result[]; numbers written as JSON strings
 *   fw 1      addr (+ name), no source address, no af, no result[]
 *   fw 4400   addr, srcaddr, mode "ICMP4" / "ICMP6", result[] appears
 *   fw 4460+  addr and dst_addr, src_addr, af, proto; 4540+ dst_addr only, lts, ...
 *   5000+     may add mver, stored_timestamp, step (possibly null)
 *
 * Keys in any order; unknown keys (" proto" with its leading space, country_code, ...) are
 * skipped whatever their value. A field given twice keeps its last value. Numbers may be JSON
 * strings holding a number (fw 0). null counts as absent. A field read with any other type is
 * a wrong-type line, but only once the whole line has parsed as JSON (malformed JSON wins).
 *
 * Mapping (the former DuckDB ingest): event_time = timestamp s -> µs; key = src_addr, else
 * srcaddr (or `from` with PRW_ATLAS_SRC_FROM); dst = dst_addr, else addr; ip_version = af,
 * else pf, else mode, else inferred from the destination (a ':' means IPv6, as sagan does);
 * rtt = avg / min / max as written (-1 when every packet was lost). Empty strings count as
 * absent addresses.
 */
#include <stddef.h>

#include "atlas/at_internal.h"

enum {
    K_OTHER,
    K_TIMESTAMP,
    K_SRC_ADDR,
    K_SRCADDR,
    K_FROM,
    K_DST_ADDR,
    K_ADDR,
    K_AF,
    K_PF,
    K_MODE,
    K_AVG,
    K_MIN,
    K_MAX,
    K_SENT,
    K_RCVD,
    K_FW,
    K_PRB_ID,
    K_MSM_ID,
    K_RESULT,
    K_ERR,
    K_DNSERR
};

static int key_id(prw__at_str k) {
#define KEY(name, id)                                                                              \
    { name, sizeof name - 1, id }
    static const struct {
        const char *name;
        size_t len;
        int id;
    } keys[] = {KEY("timestamp", K_TIMESTAMP),
                KEY("src_addr", K_SRC_ADDR),
                KEY("srcaddr", K_SRCADDR),
                KEY("from", K_FROM),
                KEY("dst_addr", K_DST_ADDR),
                KEY("addr", K_ADDR),
                KEY("af", K_AF),
                KEY("pf", K_PF),
                KEY("mode", K_MODE),
                KEY("avg", K_AVG),
                KEY("min", K_MIN),
                KEY("max", K_MAX),
                KEY("sent", K_SENT),
                KEY("rcvd", K_RCVD),
                KEY("fw", K_FW),
                KEY("prb_id", K_PRB_ID),
                KEY("msm_id", K_MSM_ID),
                KEY("result", K_RESULT),
                KEY("err", K_ERR),
                KEY("dnserr", K_DNSERR)};
#undef KEY
    if (k.n < 2 || k.n > 9)
        return K_OTHER;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) /* length and first byte first */
        if (keys[i].len == k.n && keys[i].name[0] == k.p[0] && memcmp(keys[i].name, k.p, k.n) == 0)
            return keys[i].id;
    return K_OTHER;
}

typedef struct pctx {
    prw__at_json *j;
    prw__at_ping *ping;
    const char *type_err; /* first wrong type seen, reported if the line is valid JSON */
    const uint8_t *type_at;
} pctx;

static void wrong_type(pctx *c, const char *what) {
    if (!c->type_err) {
        c->type_err = what;
        c->type_at = c->j->p;
    }
}

/* A string value (or null): *has says which. Other types: wrong type, skipped. */
static bool get_str(pctx *c, prw__at_str *out, const char *what) {
    int ch = prw__at_json_peek(c->j), which;
    *out = (prw__at_str){NULL, 0};
    if (ch == '"')
        return prw__at_json_string(c->j, out);
    if (ch == 'n')
        return prw__at_json_literal(c->j, &which) && (which == -1 || (wrong_type(c, what), 1));
    wrong_type(c, what);
    return prw__at_json_skip(c->j, 1);
}

/* A number, a string holding a number (fw 0), or null (*has false). */
static bool get_num(pctx *c, prw__at_num *out, bool *has, const char *what) {
    int ch = prw__at_json_peek(c->j), which;
    *has = false;
    if (ch == '-' || (ch >= '0' && ch <= '9'))
        return (*has = prw__at_json_number(c->j, out));
    if (ch == '"') {
        const uint8_t *at = c->j->p;
        prw__at_str s;
        if (!prw__at_json_string(c->j, &s))
            return false;
        *has = prw__at_parse_num_text(s.p, s.n, out);
        if (!*has) {
            const uint8_t *keep = c->j->p;
            c->j->p = at;
            wrong_type(c, what);
            c->j->p = keep;
        }
        return true;
    }
    if (ch == 'n' && prw__at_json_literal(c->j, &which) && which == -1)
        return true;
    if (c->j->what)
        return false;
    wrong_type(c, what);
    return prw__at_json_skip(c->j, 1);
}

static bool add_pkt(prw__at_ping *p, prw__at_pkt pkt) {
    if (!p->want_pkts)
        return true;
    if ((size_t)p->npkts == p->pkts_cap) {
        size_t cap = p->pkts_cap ? 2 * p->pkts_cap : 16;
        prw__at_pkt *n = prw__realloc(p->pkts, cap * sizeof *n);
        if (!n)
            return false;
        p->pkts = n;
        p->pkts_cap = cap;
    }
    p->pkts[p->npkts] = pkt;
    return true;
}

/* One result[] entry: {"rtt": …} (maybe "dup"), {"x": "*"}, {"error": …}, or other keys. */
static bool packet(pctx *c) {
    prw__at_json *j = c->j;
    if (prw__at_json_peek(j) != '{') {
        wrong_type(c, "a result[] entry is not an object");
        return prw__at_json_skip(j, 2);
    }
    j->p++;
    prw__at_pkt pkt = {PRW_AT_PKT_RTT, false, 0};
    bool has_rtt = false, timeout = false, error = false, has_dup = false;
    prw__at_num num;
    if (prw__at_json_peek(j) == '}') {
        j->p++;
        return true;
    }
    for (;;) {
        prw__at_str k;
        if (!prw__at_json_string(j, &k) || !prw__at_json_expect(j, ':', "expected ':'"))
            return false;
        if (k.n == 3 && memcmp(k.p, "rtt", 3) == 0) {
            if (!get_num(c, &num, &has_rtt, "packet rtt is not a number"))
                return false;
            pkt.rtt = num.d;
        } else if (k.n == 3 && memcmp(k.p, "dup", 3) == 0) {
            if (!get_num(c, &num, &has_dup, "packet dup is not a number"))
                return false;
            pkt.dup = has_dup && num.d != 0;
        } else if (k.n == 1 && k.p[0] == 'x') {
            timeout = true;
            if (!prw__at_json_skip(j, 3))
                return false;
        } else if (k.n == 5 && memcmp(k.p, "error", 5) == 0) {
            error = true;
            if (!prw__at_json_skip(j, 3))
                return false;
        } else if (!prw__at_json_skip(j, 3)) {
            return false;
        }
        bool end;
        if (!prw__at_json_sep(j, '}', &end))
            return false;
        if (end)
            break;
    }
    prw__at_ping *p = c->ping;
    if (!has_rtt && !timeout && !error)
        return true; /* neither a reply nor a loss (e.g. only "late"): not a packet */
    pkt.kind = has_rtt ? PRW_AT_PKT_RTT : error ? PRW_AT_PKT_ERROR : PRW_AT_PKT_TIMEOUT;
    p->ndup += pkt.dup;
    p->nerr += pkt.kind == PRW_AT_PKT_ERROR;
    p->ntimeout += pkt.kind == PRW_AT_PKT_TIMEOUT;
    if (!add_pkt(p, pkt))
        return prw__at_json_fail(j, PRW_ATLAS_BAD_JSON, "out of memory");
    p->npkts++;
    return true;
}

static bool result_array(pctx *c) {
    prw__at_json *j = c->j;
    int ch = prw__at_json_peek(j), which;
    if (ch == 'n')
        return prw__at_json_literal(j, &which) && (which == -1 || (wrong_type(c, "result"), 1));
    if (ch != '[') {
        wrong_type(c, "result is not an array");
        return prw__at_json_skip(j, 1);
    }
    j->p++;
    if (prw__at_json_peek(j) == ']') {
        j->p++;
        return true;
    }
    for (;;) {
        bool end;
        if (!packet(c) || !prw__at_json_sep(j, ']', &end))
            return false;
        if (end)
            return true;
    }
}

/* af / pf: 4 or 6. */
static bool get_family(pctx *c, int *out, const char *what) {
    prw__at_num num;
    bool has;
    *out = 0;
    if (!get_num(c, &num, &has, what))
        return false;
    if (has && num.d != 4 && num.d != 6)
        wrong_type(c, what);
    else if (has)
        *out = (int)num.d;
    return true;
}

/* The fields read as numbers and as strings: where they go in prw__at_ping. */
#define NUM(key, f)                                                                                \
    { key, offsetof(prw__at_ping, f), offsetof(prw__at_ping, has_##f), #f " is not a number" }
static const struct {
    int id;
    size_t value, has;
    const char *what;
} g_nums[] = {NUM(K_AVG, avg),   NUM(K_MIN, min), NUM(K_MAX, max),       NUM(K_SENT, sent),
              NUM(K_RCVD, rcvd), NUM(K_FW, fw),   NUM(K_PRB_ID, prb_id), NUM(K_MSM_ID, msm_id)};
#undef NUM
#define STR(key, f)                                                                                \
    { key, offsetof(prw__at_ping, f), #f " is not a string" }
static const struct {
    int id;
    size_t value;
    const char *what;
} g_strs[] = {STR(K_SRC_ADDR, src_addr), STR(K_SRCADDR, srcaddr), STR(K_FROM, from),
              STR(K_DST_ADDR, dst_addr), STR(K_ADDR, addr)};
#undef STR

static bool timestamp(pctx *c) {
    prw__at_ping *p = c->ping;
    prw__at_num ts;
    bool has;
    if (!get_num(c, &ts, &has, "timestamp is not a number"))
        return false;
    p->has_timestamp = has;
    if (has && !ts.is_int) { /* range first: converting a larger double is undefined */
        if (!(ts.d > -9e15 && ts.d < 9e15))
            ts.i = INT64_MAX; /* out of range: map_row says so */
        else if (ts.d == (double)(int64_t)ts.d)
            ts.i = (int64_t)ts.d;
        else
            wrong_type(c, "timestamp is not a whole number of seconds");
    }
    p->timestamp = ts.i;
    return true;
}

static bool field(pctx *c, int id) {
    prw__at_ping *p = c->ping;
    char *base = (char *)p;
    for (size_t i = 0; i < sizeof g_nums / sizeof *g_nums; i++)
        if (g_nums[i].id == id)
            return get_num(c, (prw__at_num *)(base + g_nums[i].value),
                           (bool *)(base + g_nums[i].has), g_nums[i].what);
    for (size_t i = 0; i < sizeof g_strs / sizeof *g_strs; i++)
        if (g_strs[i].id == id)
            return get_str(c, (prw__at_str *)(base + g_strs[i].value), g_strs[i].what);
    prw__at_str mode;
    switch (id) {
    case K_TIMESTAMP:
        return timestamp(c);
    case K_AF:
        return get_family(c, &p->af, "af is not 4 or 6");
    case K_PF:
        return get_family(c, &p->pf, "pf is not 4 or 6");
    case K_MODE:
        if (!get_str(c, &mode, "mode is not a string"))
            return false;
        if (mode.n == 5 && memcmp(mode.p, "ICMP", 4) == 0 && (mode.p[4] == '4' || mode.p[4] == '6'))
            p->mode_af = mode.p[4] - '0';
        return true;
    case K_RESULT:
        return result_array(c);
    case K_ERR:
    case K_DNSERR:
        p->not_run = prw__at_json_peek(c->j) != 'n';
        return prw__at_json_skip(c->j, 1);
    default:
        return prw__at_json_skip(c->j, 1);
    }
}

/* The top-level object; true when the line is valid JSON (wrong types noted in c). */
static bool object(pctx *c) {
    prw__at_json *j = c->j;
    if (!prw__at_json_expect(j, '{', "a line must hold one JSON object"))
        return false;
    if (prw__at_json_peek(j) == '}') {
        j->p++;
    } else {
        for (;;) {
            prw__at_str k;
            if (!prw__at_json_string(j, &k) || !prw__at_json_expect(j, ':', "expected ':'"))
                return false;
            bool end;
            if (!field(c, key_id(k)) || !prw__at_json_sep(j, '}', &end))
                return false;
            if (end)
                break;
        }
    }
    if (prw__at_json_peek(j) != -1)
        return prw__at_json_fail(j, PRW_ATLAS_BAD_JSON, "bytes after the object");
    return true;
}

static prw__at_str first_of(prw__at_str a, prw__at_str b) {
    return a.n ? a : b;
}

static prw__at_outcome map_row(const prw__at_ping *p, const prw_atlas_options *opt,
                               prw__at_row *row, prw__at_json *j) {
    if (!p->has_timestamp || p->timestamp > INT64_MAX / 1000000 ||
        p->timestamp < INT64_MIN / 1000000) {
        j->p = j->base;
        prw__at_json_fail(j, PRW_ATLAS_BAD_TIMESTAMP,
                          p->has_timestamp ? "timestamp out of range" : "no timestamp");
        return PRW_AT_BAD;
    }
    row->event_time = p->timestamp * 1000000;
    row->src = opt->src == PRW_ATLAS_SRC_FROM ? p->from : first_of(p->src_addr, p->srcaddr);
    row->dst = first_of(p->dst_addr, p->addr);
    row->ip_version = p->af ? p->af : p->pf ? p->pf : p->mode_af;
    if (!row->ip_version && row->dst.n)
        row->ip_version = memchr(row->dst.p, ':', row->dst.n) ? 6 : 4;
    const prw__at_num *v = opt->rtt == PRW_ATLAS_RTT_MIN   ? &p->min
                           : opt->rtt == PRW_ATLAS_RTT_MAX ? &p->max
                                                           : &p->avg;
    row->has_rtt = opt->rtt == PRW_ATLAS_RTT_MIN   ? p->has_min
                   : opt->rtt == PRW_ATLAS_RTT_MAX ? p->has_max
                                                   : p->has_avg;
    row->rtt = row->has_rtt ? v->d : 0;
    row->fw = p->has_fw && p->fw.d >= 0 && p->fw.d < 2e9 ? (int32_t)p->fw.d : -1;
    return row->src.n ? PRW_AT_ROW : PRW_AT_NO_SRC;
}

prw__at_outcome prw__at_parse_line(const uint8_t *line, size_t n, uint8_t *scratch,
                                   const prw_atlas_options *opt, prw__at_ping *ping,
                                   prw__at_row *row, prw__at_json *j) {
    prw__at_pkt *pkts = ping->pkts;
    size_t cap = ping->pkts_cap;
    bool want = ping->want_pkts;
    memset(ping, 0, sizeof *ping);
    ping->pkts = pkts;
    ping->pkts_cap = cap;
    ping->want_pkts = want;
    prw__at_json_init(j, line, n, scratch);
    if (prw__at_json_peek(j) == -1)
        return PRW_AT_BLANK;
    pctx c = {j, ping, NULL, NULL};
    if (!object(&c)) {
        if (j->bad == PRW_ATLAS_BAD_JSON && prw__at_is_binary(line, n))
            j->bad = PRW_ATLAS_BAD_BINARY;
        return PRW_AT_BAD;
    }
    if (c.type_err) {
        j->p = c.type_at;
        prw__at_json_fail(j, PRW_ATLAS_BAD_TYPE, c.type_err);
        return PRW_AT_BAD;
    }
    return map_row(ping, opt, row, j);
}

void prw__at_ping_cleanup(prw__at_ping *ping) {
    prw__free(ping->pkts);
    ping->pkts = NULL;
    ping->pkts_cap = 0;
}
