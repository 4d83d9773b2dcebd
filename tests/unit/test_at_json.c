/*
 * Unit tests of the dump's JSON line reader and ping mapping (src/atlas/at_json.c, at_ping.c):
 * strings, escapes and UTF-8, number grammar and correct rounding (against strtod), and the
 * mapping rules of every firmware generation, one line at a time.
 */
#include <stdlib.h>

#include "atlas/at_internal.h"
#include "harness.h"

/* ---- the JSON grammar, line by line ------------------------------------------------------ */

typedef struct one {
    prw__at_outcome oc;
    prw__at_row row;
    prw__at_json j;
    prw__at_ping ping;
    uint8_t scratch[4096];
} one;

static prw__at_outcome parse1(one *o, const char *line, const prw_atlas_options *opt) {
    static const prw_atlas_options dflt = {0};
    memset(&o->ping, 0, sizeof o->ping);
    o->oc = prw__at_parse_line((const uint8_t *)line, strlen(line), o->scratch, opt ? opt : &dflt,
                               &o->ping, &o->row, &o->j);
    return o->oc;
}

static bool str_is(prw__at_str s, const char *want) {
    return s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

TEST(atlas_json_strings_escapes_and_utf8) {
    one o;
    ASSERT_EQ_I64(
        parse1(&o, "{\"timestamp\":1,\"src_addr\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\tZ\"}", NULL),
        PRW_AT_ROW);
    ASSERT_TRUE(str_is(o.row.src, "a\"b\\c/d\b\f\n\r\tZ"));
    ASSERT_EQ_I64(
        parse1(&o, "{\"timestamp\":1,\"src_addr\":\"\\u0031\\u00e9\\u20AC\\ud83d\\ude00\"}", NULL),
        PRW_AT_ROW);
    ASSERT_TRUE(str_is(o.row.src, "1\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
    ASSERT_EQ_I64(
        parse1(&o, "{\"timestamp\":1,\"src_addr\":\"raw \xc3\xa9 \xf0\x9f\x98\x80\"}", NULL),
        PRW_AT_ROW);
    ASSERT_TRUE(str_is(o.row.src, "raw \xc3\xa9 \xf0\x9f\x98\x80"));
    /* keys decoded before they are matched; a key with a leading space is another key */
    ASSERT_EQ_I64(parse1(&o, "{\"\\u0074imestamp\":5,\"src\\u005faddr\":\"x\",\" af\":6}", NULL),
                  PRW_AT_ROW);
    ASSERT_EQ_I64(o.row.event_time, 5000000);
    ASSERT_EQ_I64(o.row.ip_version, 0);
    static const char *const bad[] = {
        "{\"timestamp\":1,\"src_addr\":\"\\ud83d\"}",        /* lone high surrogate */
        "{\"timestamp\":1,\"src_addr\":\"\\ude00\"}",        /* lone low surrogate */
        "{\"timestamp\":1,\"src_addr\":\"\\ud83d\\u0041\"}", /* high + non-low */
        "{\"timestamp\":1,\"src_addr\":\"\\u12\"}",          /* short \u */
        "{\"timestamp\":1,\"src_addr\":\"\\a\"}",            /* no such escape */
        "{\"timestamp\":1,\"src_addr\":\"open}",             /* unterminated */
        "{'timestamp':1}",                                   /* single quotes */
        "{timestamp:1}",                                     /* bare key */
        "{\"timestamp\":1,}",
        "{\"timestamp\" 1}",
        "{\"timestamp\":1",
        "{}}",
        "",
        "nul",
        "{\"timestamp\":tru}",
        "{\"a\":[1,]}",
        "{\"a\":[1 2]}",
        "{\"a\":{\"b\":1,}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        prw__at_outcome oc = parse1(&o, bad[i], NULL);
        if (i == 12) {
            ASSERT_EQ_I64(oc, PRW_AT_BLANK);
            continue;
        }
        if (oc != PRW_AT_BAD || o.j.bad != PRW_ATLAS_BAD_JSON)
            th_note("case %zu: '%s'", i, bad[i]);
        ASSERT_EQ_I64(oc, PRW_AT_BAD);
        ASSERT_EQ_I64(o.j.bad, PRW_ATLAS_BAD_JSON);
        ASSERT_TRUE(o.j.what != NULL);
    }
    static const char *const binary[] = {
        "{\"timestamp\":1,\"src_addr\":\"\xc0\x80\"}",         /* overlong NUL */
        "{\"timestamp\":1,\"src_addr\":\"\xed\xa0\x80\"}",     /* encoded surrogate */
        "{\"timestamp\":1,\"src_addr\":\"\xf4\x90\x80\x80\"}", /* beyond U+10FFFF */
        "{\"timestamp\":1,\"src_addr\":\"\xe2\x82\"}",         /* cut sequence */
        "\x01\x02garbage",
    };
    for (size_t i = 0; i < sizeof binary / sizeof *binary; i++) {
        ASSERT_EQ_I64(parse1(&o, binary[i], NULL), PRW_AT_BAD);
        ASSERT_EQ_I64(o.j.bad, PRW_ATLAS_BAD_BINARY);
    }
}

TEST(atlas_json_numbers_are_correctly_rounded) {
    static const char *const nums[] = {
        "0",
        "-0",
        "1",
        "-1",
        "0.1",
        "12.345",
        "107.4862066667",
        "1e2",
        "1E+2",
        "1.5e-7",
        "-2.5E-3",
        "123456789012345678",
        "12345678901234567890123",
        "0.1000000000000000055511151231257827",
        "9007199254740993",
        "1.7976931348623157e308",
        "4.9e-324",
        "2.2250738585072011e-308",
        "1e400",
        "-1e-400",
        "0.000000000000000000000000000001",
        "3.14159265358979323846264338327950288",
    };
    one o;
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        char line[200];
        snprintf(line, sizeof line, "{\"timestamp\":1,\"src_addr\":\"s\",\"avg\":%s}", nums[i]);
        ASSERT_EQ_I64(parse1(&o, line, NULL), PRW_AT_ROW);
        double want = strtod(nums[i], NULL);
        if (memcmp(&o.row.rtt, &want, sizeof want) != 0)
            th_note("%s: got %.17g, want %.17g", nums[i], o.row.rtt, want);
        ASSERT_TRUE(memcmp(&o.row.rtt, &want, sizeof want) == 0);
        /* the same number written as a string (firmware 0) */
        snprintf(line, sizeof line, "{\"timestamp\":1,\"src_addr\":\"s\",\"avg\":\"%s\"}", nums[i]);
        ASSERT_EQ_I64(parse1(&o, line, NULL), PRW_AT_ROW);
        ASSERT_TRUE(memcmp(&o.row.rtt, &want, sizeof want) == 0);
    }
    static const char *const bad[] = {"01",   "1.",   ".5",  "+1",  "1e",       "1e+",  "-",
                                      "0x10", "1.e3", "--1", "NaN", "Infinity", "1_000"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char line[200];
        snprintf(line, sizeof line, "{\"timestamp\":1,\"src_addr\":\"s\",\"avg\":%s}", bad[i]);
        ASSERT_EQ_I64(parse1(&o, line, NULL), PRW_AT_BAD);
        ASSERT_EQ_I64(o.j.bad, PRW_ATLAS_BAD_JSON);
        snprintf(line, sizeof line, "{\"timestamp\":1,\"src_addr\":\"s\",\"avg\":\"%s\"}", bad[i]);
        ASSERT_EQ_I64(parse1(&o, line, NULL), PRW_AT_BAD);
        ASSERT_EQ_I64(o.j.bad, PRW_ATLAS_BAD_TYPE);
    }
}

TEST(atlas_ping_mapping_rules) {
    one o;
    /* af beats pf beats mode beats the destination; dst_addr beats addr; src_addr beats srcaddr */
    ASSERT_EQ_I64(parse1(&o,
                         "{\"timestamp\":7,\"srcaddr\":\"s2\",\"src_addr\":\"s1\",\"addr\":"
                         "\"1.2.3.4\",\"dst_addr\":\"::1\",\"mode\":\"ICMP4\",\"af\":6}",
                         NULL),
                  PRW_AT_ROW);
    ASSERT_TRUE(str_is(o.row.src, "s1") && str_is(o.row.dst, "::1"));
    ASSERT_EQ_I64(o.row.ip_version, 6);
    ASSERT_EQ_I64(parse1(&o,
                         "{\"timestamp\":7,\"srcaddr\":\"s2\",\"addr\":\"1.2.3.4\","
                         "\"mode\":\"ICMP6\"}",
                         NULL),
                  PRW_AT_ROW);
    ASSERT_TRUE(str_is(o.row.src, "s2") && str_is(o.row.dst, "1.2.3.4"));
    ASSERT_EQ_I64(o.row.ip_version, 6);
    ASSERT_EQ_I64(
        parse1(&o, "{\"timestamp\":7,\"src_addr\":\"s\",\"dst_addr\":\"2001:db8::1\"}", NULL),
        PRW_AT_ROW);
    ASSERT_EQ_I64(o.row.ip_version, 6); /* inferred */
    ASSERT_TRUE(!o.row.has_rtt);
    ASSERT_EQ_I64(parse1(&o, "{\"timestamp\":7,\"src_addr\":\"s\"}", NULL), PRW_AT_ROW);
    ASSERT_EQ_I64(o.row.ip_version, 0); /* no destination: unknown */
    ASSERT_TRUE(o.row.dst.n == 0);
    /* -1 stays -1; min / max chosen; `from` as the key; empty strings are absent */
    prw_atlas_options mx = {.rtt = PRW_ATLAS_RTT_MAX}, fr = {.src = PRW_ATLAS_SRC_FROM};
    const char *l = "{\"timestamp\":7,\"src_addr\":\"\",\"from\":\"f\",\"avg\":-1,\"min\":-1,"
                    "\"max\":-1,\"step\":null,\"x\":[{\"y\":[true,false,null]}]}";
    ASSERT_EQ_I64(parse1(&o, l, NULL), PRW_AT_NO_SRC);
    ASSERT_EQ_I64(parse1(&o, l, &fr), PRW_AT_ROW);
    ASSERT_TRUE(str_is(o.row.src, "f") && o.row.has_rtt && o.row.rtt == -1);
    ASSERT_EQ_I64(parse1(&o, "{\"timestamp\":7,\"src_addr\":\"s\",\"avg\":2,\"max\":3}", &mx),
                  PRW_AT_ROW);
    ASSERT_TRUE(o.row.rtt == 3);
    /* timestamps: whole numbers (also as strings or 1.7e9), nothing else */
    ASSERT_EQ_I64(parse1(&o, "{\"timestamp\":1.7e9,\"src_addr\":\"s\"}", NULL), PRW_AT_ROW);
    ASSERT_EQ_I64(o.row.event_time, 1700000000000000);
    ASSERT_EQ_I64(parse1(&o, "{\"timestamp\":\"1328019792\",\"src_addr\":\"s\"}", NULL),
                  PRW_AT_ROW);
    ASSERT_EQ_I64(o.row.event_time, 1328019792000000);
    ASSERT_EQ_I64(parse1(&o, "{\"timestamp\":-5,\"src_addr\":\"s\"}", NULL), PRW_AT_ROW);
    ASSERT_EQ_I64(o.row.event_time, -5000000);
    ASSERT_EQ_I64(parse1(&o, "{\"timestamp\":1e300,\"src_addr\":\"s\"}", NULL), PRW_AT_BAD);
    ASSERT_EQ_I64(o.j.bad, PRW_ATLAS_BAD_TIMESTAMP);
    ASSERT_EQ_I64(parse1(&o, "{\"src_addr\":\"s\",\"timestamp\":{}}", NULL), PRW_AT_BAD);
    ASSERT_EQ_I64(o.j.bad, PRW_ATLAS_BAD_TYPE);
    /* a wrong type is reported only if the line is valid JSON */
    ASSERT_EQ_I64(parse1(&o, "{\"timestamp\":\"x\",\"src_addr\":\"s\",}", NULL), PRW_AT_BAD);
    ASSERT_EQ_I64(o.j.bad, PRW_ATLAS_BAD_JSON);
    /* packets: rtt, dup, timeouts, errors, entries without any of them */
    o.ping.want_pkts = true;
    memset(&o.ping, 0, sizeof o.ping);
    o.ping.want_pkts = true;
    const char *pk = "{\"timestamp\":7,\"src_addr\":\"s\",\"result\":[{\"rtt\":1.5},{\"dup\":1,"
                     "\"rtt\":1.75},{\"x\":\"*\"},{\"error\":\"e\"},{\"late\":2},{}],\"err\":null}";
    ASSERT_EQ_I64(
        prw__at_parse_line((const uint8_t *)pk, strlen(pk), o.scratch, &mx, &o.ping, &o.row, &o.j),
        PRW_AT_ROW);
    ASSERT_EQ_I64(o.ping.npkts, 4);
    ASSERT_EQ_I64(o.ping.ndup, 1);
    ASSERT_EQ_I64(o.ping.ntimeout, 1);
    ASSERT_EQ_I64(o.ping.nerr, 1);
    ASSERT_TRUE(!o.ping.not_run);
    ASSERT_TRUE(o.ping.pkts[1].dup && o.ping.pkts[1].rtt == 1.75);
    prw__at_ping_cleanup(&o.ping);
    ASSERT_EQ_I64(parse1(&o, "{\"timestamp\":7,\"src_addr\":\"s\",\"dnserr\":\"nx\"}", NULL),
                  PRW_AT_ROW);
    ASSERT_TRUE(o.ping.not_run);
    /* nesting beyond the limit */
    char deep[400];
    size_t k = (size_t)snprintf(deep, sizeof deep, "{\"timestamp\":7,\"src_addr\":\"s\",\"x\":");
    for (int d = 0; d < 70; d++)
        deep[k++] = '[';
    for (int d = 0; d < 70; d++)
        deep[k++] = ']';
    deep[k++] = '}';
    deep[k] = 0;
    ASSERT_EQ_I64(parse1(&o, deep, NULL), PRW_AT_BAD);
    ASSERT_EQ_I64(o.j.bad, PRW_ATLAS_BAD_JSON);
}
