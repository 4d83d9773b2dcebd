/*
 * JSON reader (RFC 8259) for manifest.json: recursive descent with an explicit depth limit,
 * every read through the bounds of the text. See pl_json.h.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/json.h"

#define MAX_DEPTH 64
#define MAX_NUMBER 64

typedef struct jp {
    const char *s;
    size_t len, pos;
    prw__json *j;
    prw_error *err;
} jp;

static prw_status bad(jp *p, const char *what) {
    return prw__error_set(p->err, PRW_E_CORRUPT, (int64_t)p->pos, "JSON: %s at byte %zu", what,
                          p->pos);
}

static void skip_ws(jp *p) {
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static prw_status new_node(jp *p, prw__json_type type, size_t *idx) {
    prw__json *j = p->j;
    if (j->n == j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 64;
        prw__json_node *nn = prw__realloc(j->nodes, cap * sizeof *nn);
        if (!nn)
            return prw__error_nomem(p->err, "JSON nodes", cap * sizeof *nn);
        j->nodes = nn;
        j->cap = cap;
    }
    *idx = j->n++;
    prw__json_node *n = &j->nodes[*idx];
    memset(n, 0, sizeof *n);
    n->type = type;
    n->first = n->next = SIZE_MAX;
    return PRW_OK;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool hex4(jp *p, uint32_t *out) {
    if (p->len - p->pos < 4)
        return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p->s[p->pos + (size_t)i]);
        if (h < 0)
            return false;
        v = v << 4 | (uint32_t)h;
    }
    p->pos += 4;
    *out = v;
    return true;
}

size_t prw__utf8_put(void *dst, uint32_t cp) {
    uint8_t *d = dst;
    if (cp < 0x80) {
        d[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (uint8_t)(0xC0 | cp >> 6);
        d[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (uint8_t)(0xE0 | cp >> 12);
        d[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (uint8_t)(0xF0 | cp >> 18);
    d[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses a string at p->pos (the opening quote) into the arena. A decoded string is never
 * longer than its escaped form, so the raw length bounds the allocation. */
static prw_status parse_string(jp *p, const char **out, size_t *out_len) {
    size_t start = ++p->pos, end = start;
    while (end < p->len && p->s[end] != '"') {
        if (p->s[end] == '\\')
            end++;
        end++;
    }
    if (end >= p->len) {
        p->pos = start - 1;
        return bad(p, "unterminated string");
    }
    char *d = prw__arena_alloc(&p->j->strings, end - start + 1, 1);
    if (!d)
        return prw__error_nomem(p->err, "JSON strings", end - start + 1);
    size_t k = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20)
            return bad(p, "control character in a string");
        if (c != '\\') {
            d[k++] = (char)c;
            p->pos++;
            continue;
        }
        char e = p->s[++p->pos];
        p->pos++;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            d[k++] = e;
            break;
        case 'b':
            d[k++] = '\b';
            break;
        case 'f':
            d[k++] = '\f';
            break;
        case 'n':
            d[k++] = '\n';
            break;
        case 'r':
            d[k++] = '\r';
            break;
        case 't':
            d[k++] = '\t';
            break;
        case 'u': {
            uint32_t cp;
            if (!hex4(p, &cp) || p->pos > end)
                return bad(p, "bad \\u escape");
            if (cp >= 0xD800 && cp < 0xDC00) {
                uint32_t lo;
                if (end - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
                    return bad(p, "unpaired surrogate");
                p->pos += 2;
                if (!hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return bad(p, "unpaired surrogate");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                return bad(p, "unpaired surrogate");
            }
            /* 6 escaped bytes (12 for a pair) always cover the 1..4 bytes written. */
            k += prw__utf8_put(d + k, cp);
            break;
        }
        default:
            p->pos--;
            return bad(p, "bad escape");
        }
    }
    d[k] = 0;
    p->pos = end + 1;
    *out = d;
    *out_len = k;
    return PRW_OK;
}

static prw_status parse_number(jp *p, prw__json_node *n) {
    size_t start = p->pos;
    bool integral = true;
    if (p->pos < p->len && p->s[p->pos] == '-')
        p->pos++;
    size_t digits = p->pos;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
        p->pos++;
    if (p->pos == digits || (p->s[digits] == '0' && p->pos - digits > 1)) {
        p->pos = digits;
        return bad(p, "bad number");
    }
    if (p->pos < p->len && p->s[p->pos] == '.') {
        integral = false;
        size_t f = ++p->pos;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
        if (p->pos == f)
            return bad(p, "bad number");
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        integral = false;
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        size_t e = p->pos;
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
        if (p->pos == e)
            return bad(p, "bad number");
    }
    size_t len = p->pos - start;
    if (len > MAX_NUMBER)
        return prw__error_set(p->err, PRW_E_LIMIT, (int64_t)start,
                              "JSON: number longer than %d characters at byte %zu", MAX_NUMBER,
                              start);
    char buf[MAX_NUMBER + 1];
    memcpy(buf, p->s + start, len);
    buf[len] = 0;
    n->num = strtod(buf, NULL);
    if (integral) {
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno == 0) {
            n->i64 = v;
            n->is_int = true;
        }
    }
    return PRW_OK;
}

static bool literal(jp *p, const char *word) {
    size_t l = strlen(word);
    if (p->len - p->pos < l || memcmp(p->s + p->pos, word, l) != 0)
        return false;
    p->pos += l;
    return true;
}

static prw_status parse_value(jp *p, int depth, size_t *idx);

/* Parses the members or elements of a container whose opening bracket is at p->pos. */
static prw_status parse_container(jp *p, int depth, size_t self, bool object) {
    char close = object ? '}' : ']';
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return PRW_OK;
    }
    size_t last = SIZE_MAX;
    for (;;) {
        const char *key = NULL;
        size_t key_len = 0;
        skip_ws(p);
        if (object) {
            if (p->pos >= p->len || p->s[p->pos] != '"')
                return bad(p, "expected a member name");
            PRW_TRY(parse_string(p, &key, &key_len));
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':')
                return bad(p, "expected ':'");
            p->pos++;
        }
        size_t child;
        PRW_TRY(parse_value(p, depth + 1, &child));
        prw__json_node *c = &p->j->nodes[child];
        c->key = key;
        if (last == SIZE_MAX)
            p->j->nodes[self].first = child;
        else
            p->j->nodes[last].next = child;
        last = child;
        p->j->nodes[self].count++;
        skip_ws(p);
        if (p->pos >= p->len)
            return bad(p, object ? "unterminated object" : "unterminated array");
        char c2 = p->s[p->pos++];
        if (c2 == close)
            return PRW_OK;
        if (c2 != ',') {
            p->pos--;
            return bad(p, "expected ',' or a closing bracket");
        }
    }
}

static prw_status parse_value(jp *p, int depth, size_t *idx) {
    if (depth > MAX_DEPTH)
        return prw__error_set(p->err, PRW_E_LIMIT, (int64_t)p->pos,
                              "JSON: nested deeper than %d at byte %zu", MAX_DEPTH, p->pos);
    skip_ws(p);
    if (p->pos >= p->len)
        return bad(p, "expected a value");
    char c = p->s[p->pos];
    if (c == '{' || c == '[') {
        PRW_TRY(new_node(p, c == '{' ? PRW_JSON_OBJECT : PRW_JSON_ARRAY, idx));
        return parse_container(p, depth, *idx, c == '{');
    }
    if (c == '"') {
        PRW_TRY(new_node(p, PRW_JSON_STRING, idx));
        const char *s;
        size_t l;
        PRW_TRY(parse_string(p, &s, &l));
        p->j->nodes[*idx].str = s;
        p->j->nodes[*idx].len = l;
        return PRW_OK;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        PRW_TRY(new_node(p, PRW_JSON_NUMBER, idx));
        return parse_number(p, &p->j->nodes[*idx]);
    }
    if (literal(p, "true") || literal(p, "false")) {
        PRW_TRY(new_node(p, PRW_JSON_BOOL, idx));
        p->j->nodes[*idx].boolean = c == 't';
        return PRW_OK;
    }
    if (literal(p, "null"))
        return new_node(p, PRW_JSON_NULL, idx);
    return bad(p, "unexpected character");
}

prw_status prw__json_parse(const char *text, size_t len, prw__json *out, prw_error *err) {
    memset(out, 0, sizeof *out);
    prw__arena_init(&out->strings, 4096);
    if (len > PRW_JSON_MAX_TEXT) {
        prw__json_cleanup(out);
        return prw__error_set(err, PRW_E_LIMIT, -1, "JSON: text of %zu bytes is over %u", len,
                              PRW_JSON_MAX_TEXT);
    }
    jp p = {text, len, 0, out, err};
    size_t root;
    prw_status st = parse_value(&p, 0, &root);
    if (st == PRW_OK) {
        skip_ws(&p);
        if (p.pos != p.len)
            st = bad(&p, "trailing characters");
    }
    if (st < 0)
        prw__json_cleanup(out);
    return st;
}

void prw__json_cleanup(prw__json *j) {
    prw__free(j->nodes);
    prw__arena_cleanup(&j->strings);
    memset(j, 0, sizeof *j);
}

const prw__json_node *prw__json_get(const prw__json *j, const prw__json_node *obj,
                                    const char *key) {
    if (!obj || obj->type != PRW_JSON_OBJECT)
        return NULL;
    const prw__json_node *found = NULL;
    for (size_t i = obj->first; i != SIZE_MAX; i = j->nodes[i].next)
        if (j->nodes[i].key && strcmp(j->nodes[i].key, key) == 0)
            found = &j->nodes[i];
    return found;
}

const prw__json_node *prw__json_at(const prw__json *j, const prw__json_node *arr, size_t i) {
    if (!arr || (arr->type != PRW_JSON_ARRAY && arr->type != PRW_JSON_OBJECT))
        return NULL;
    size_t k = arr->first;
    while (k != SIZE_MAX && i > 0) {
        k = j->nodes[k].next;
        i--;
    }
    return k == SIZE_MAX ? NULL : &j->nodes[k];
}
