/*
 * Internals of the RIPE Atlas dump reader (include/proberows/atlas.h):
 *   at_stream.c   format sniffing and the decompressed byte stream of one file
 *   at_json.c     an RFC 8259 JSON scanner over one line (strings, numbers, skipping)
 *   at_ping.c     one ping result line -> its fields, for every firmware generation
 *   at_reader.c   line-aligned pieces, parsed on several threads, batches in input order
 */
#ifndef PRW_ATLAS_AT_INTERNAL_H
#define PRW_ATLAS_AT_INTERNAL_H

#include "common/common.h"
#include "proberows/atlas.h"

/* ---- the decompressed stream of one file (at_stream.c) --------------------------------- */

typedef struct prw__at_stream prw__at_stream;

/**
 * Maps `path`, sniffs its format and starts the decoder (`threads`, `max_buffered`: for the
 * bzip2 reader). Errors: PRW_E_IO, PRW_E_INVALID (a Parquet file), PRW_E_NOMEM.
 */
prw_status prw__at_stream_open(const char *path, int threads, size_t max_buffered,
                               prw__at_stream **out, prw_error *err);
/** The same over data[0, size) in memory (valid until close); `name` is copied. */
prw_status prw__at_stream_open_mem(const uint8_t *data, size_t size, const char *name, int threads,
                                   size_t max_buffered, prw__at_stream **out, prw_error *err);
/** The next decompressed piece (valid until the next call); *len 0 = the end. */
prw_status prw__at_stream_next(prw__at_stream *s, const uint8_t **data, size_t *len,
                               prw_error *err);
prw_atlas_format prw__at_stream_format(const prw__at_stream *s);
int64_t prw__at_stream_size(const prw__at_stream *s);
/** Compressed bytes consumed so far. */
int64_t prw__at_stream_pos(const prw__at_stream *s);
const char *prw__at_stream_name(const prw__at_stream *s);
void prw__at_stream_close(prw__at_stream *s);

/* ---- JSON scanning over one line (at_json.c) ------------------------------------------- */

/** Nesting deeper than this is malformed (real results nest 3 levels). */
#define PRW_AT_JSON_DEPTH 64

/**
 * A cursor over one line. Decoded strings with escapes go to `scratch`, which holds at least
 * the line's length, so every view stays valid for the whole line.
 */
typedef struct prw__at_json {
    const uint8_t *base, *p, *end;
    uint8_t *scratch;
    size_t scratch_len;
    prw_atlas_bad bad; /* set on failure */
    const char *what;  /* static text: what was expected */
    const uint8_t *at; /* where it failed */
} prw__at_json;

typedef struct prw__at_str {
    const uint8_t *p;
    size_t n;
} prw__at_str;

/** JSON number: value, and whether it was an integer literal that fits int64 (`i`). */
typedef struct prw__at_num {
    double d;
    int64_t i;
    bool is_int;
} prw__at_num;

void prw__at_json_init(prw__at_json *j, const uint8_t *line, size_t n, uint8_t *scratch);
/** Skips whitespace; returns the next byte or -1 at the end. */
int prw__at_json_peek(prw__at_json *j);
/** Consumes byte `c` (after whitespace) or fails with `what`. */
bool prw__at_json_expect(prw__at_json *j, int c, const char *what);
/** A string at the cursor (its opening quote next); escapes decoded, UTF-8 checked. */
bool prw__at_json_string(prw__at_json *j, prw__at_str *out);
/** A number at the cursor, by the RFC 8259 grammar. */
bool prw__at_json_number(prw__at_json *j, prw__at_num *out);
/** The literal true / false / null at the cursor; *which = 1, 0, -1. */
bool prw__at_json_literal(prw__at_json *j, int *which);
/** After a member or element: ',' (*end false) or `close` (*end true); else fails. */
bool prw__at_json_sep(prw__at_json *j, int close, bool *end);
/** Skips any value at the cursor. */
bool prw__at_json_skip(prw__at_json *j, int depth);
/** Fails with reason `bad` and text `what` at the cursor; returns false. */
bool prw__at_json_fail(prw__at_json *j, prw_atlas_bad bad, const char *what);
/** Parses a whole string view as a JSON number (numbers written as strings, firmware 0). */
bool prw__at_parse_num_text(const uint8_t *p, size_t n, prw__at_num *out);
/** True when line[0, n) holds a control byte or invalid UTF-8 (binary, not text). */
bool prw__at_is_binary(const uint8_t *line, size_t n);

/* ---- one ping result (at_ping.c) -------------------------------------------------------- */

typedef enum prw__at_pkt_kind {
    PRW_AT_PKT_RTT,
    PRW_AT_PKT_TIMEOUT,
    PRW_AT_PKT_ERROR
} prw__at_pkt_kind;

typedef struct prw__at_pkt {
    prw__at_pkt_kind kind;
    bool dup;
    double rtt;
} prw__at_pkt;

/** The fields of one result proberows reads; absent ones have has_* false / n 0. */
typedef struct prw__at_ping {
    int64_t timestamp;
    bool has_timestamp;
    prw__at_str src_addr, srcaddr, from, dst_addr, addr;
    int af, mode_af, pf; /* 0 when absent */
    prw__at_num avg, min, max, sent, rcvd, fw, prb_id, msm_id;
    bool has_avg, has_min, has_max, has_sent, has_rcvd, has_fw, has_prb_id, has_msm_id;
    bool not_run; /* top-level err or dnserr */
    int64_t npkts, ndup, nerr, ntimeout;
    bool want_pkts;
    prw__at_pkt *pkts; /* with want_pkts: every result[] entry with rtt, x or error */
    size_t pkts_cap;
} prw__at_ping;

/** What the mapping makes of a result. */
typedef struct prw__at_row {
    int64_t event_time;   /* µs */
    prw__at_str src, dst; /* src.n 0 = no key; dst.p NULL = NULL */
    int ip_version;       /* 0 = NULL */
    double rtt;
    bool has_rtt;
    int32_t fw; /* -1 when absent */
} prw__at_row;

/** Line outcome: a row, a result without a key, blank, or bad (j->bad says why). */
typedef enum prw__at_outcome {
    PRW_AT_ROW,
    PRW_AT_NO_SRC,
    PRW_AT_BLANK,
    PRW_AT_BAD
} prw__at_outcome;

/**
 * Parses line[0, n) (no line end) into `ping` (its pkts storage is reused) using `scratch`
 * (at least n bytes) and maps it by `opt` into `row`. On PRW_AT_BAD, `j` says why and where.
 * Returns PRW_AT_BAD with j->what "out of memory" only when the packet list cannot grow.
 */
prw__at_outcome prw__at_parse_line(const uint8_t *line, size_t n, uint8_t *scratch,
                                   const prw_atlas_options *opt, prw__at_ping *ping,
                                   prw__at_row *row, prw__at_json *j);
void prw__at_ping_cleanup(prw__at_ping *ping);

/* ---- the reader over memory (at_reader.c) ---------------------------------------------- */

/** prw_atlas_reader_open over data[0, size) (valid until close), for tests and fuzzing. */
prw_status prw__at_reader_open_mem(const uint8_t *data, size_t size, const char *name,
                                   const prw_atlas_options *opt, prw_atlas_reader **out,
                                   prw_error *err);

#endif
