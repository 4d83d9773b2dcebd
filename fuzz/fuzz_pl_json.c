/*
 * Fuzz target for the manifest's JSON reader (pl_json.c): any bytes -> parse -> walk every
 * node through the accessors, looking up the keys verify reads. Never crashes; a parse that
 * succeeds yields a tree whose child counts match the sibling links.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "common/json.h"

static size_t walk(const prw__json *j, const prw__json_node *n, int depth) {
    size_t seen = 1;
    if (depth > 100)
        abort(); /* the reader limits nesting to 64 */
    if (n->type == PRW_JSON_STRING && n->str[n->len] != 0)
        abort();
    size_t kids = 0;
    for (const prw__json_node *c = prw__json_at(j, n, 0); c; c = prw__json_next(j, c)) {
        kids++;
        if ((n->type == PRW_JSON_OBJECT) != (c->key != NULL))
            abort();
        seen += walk(j, c, depth + 1);
    }
    if (kids != n->count)
        abort();
    return seen;
}

FUZZ_TARGET(pl_json) {
    prw__json j;
    prw_error err;
    if (prw__json_parse((const char *)data, size, &j, &err) != PRW_OK)
        return 0;
    const prw__json_node *root = prw__json_root(&j);
    if (walk(&j, root, 0) != j.n)
        abort();
    const prw__json_node *opt = prw__json_get(&j, root, "options");
    (void)prw__json_get(&j, opt, "max_row_size");
    (void)prw__json_get(&j, prw__json_get(&j, root, "splits"), "train");
    prw__json_cleanup(&j);
    return 0;
}
