/*
 * url.c: where a request goes.  With base_url every service shares one
 * origin and the path is kept as is; otherwise each service has its host,
 * https://<service>.<domain>.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "rs.h"

/* What may stand in a URL here, by byte: 1 in a path and a query, 2 in
 * a query only.  Printable ASCII without space and '#' (0x23); '?'
 * (0x3f) only in a query.  A table, because every request's path passes
 * through it. */
static const unsigned char url_bytes[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Returns the offending byte's position, or len when all are fine. */
static size_t first_bad_byte(const char *s, size_t len, int allow_question)
{
    unsigned char ok = allow_question ? 3 : 1;
    size_t i;
    for (i = 0; i < len; i++)
        if ((url_bytes[(unsigned char)s[i]] & ok) == 0)
            return i;
    return len;
}

/* Appends len bytes at *at, growing c->url (a string the client owns, so
 * a memory error leaks nothing). */
static void append(lua_State *L, rs_client *c, size_t *at, const char *s, size_t len)
{
    if (*at + len + 1 > c->url_cap) {
        size_t cap = c->url_cap ? c->url_cap : 256;
        char *grown;
        while (cap < *at + len + 1)
            cap *= 2;
        grown = realloc(c->url, cap);
        if (grown == NULL)
            luaL_error(L, "robloxsocial: not enough memory");
        c->url = grown;
        c->url_cap = cap;
    }
    memcpy(c->url + *at, s, len);
    *at += len;
    c->url[*at] = '\0';
}

/* Checks the path piece at arg (may_be_empty: a tail after an id). */
static const char *check_path(lua_State *L, int arg, size_t *len, int may_be_empty)
{
    const char *path = lua_tolstring(L, arg, len);
    if (path == NULL || (!may_be_empty && (*len == 0 || path[0] != '/')))
        luaL_argerror(L, arg, "the path must start with '/'");
    if (first_bad_byte(path, *len, 0) != *len)
        luaL_argerror(L, arg, "the path must be percent-encoded printable ASCII "
                      "without '?' or '#' (pass the query separately)");
    return path;
}

static void append_origin(lua_State *L, rs_client *c, size_t *at, const char *service)
{
    if (c->origin)
        append(L, c, at, c->origin, strlen(c->origin));
    else {
        append(L, c, at, "https://", 8);
        append(L, c, at, service, strlen(service));
        append(L, c, at, ".", 1);
        append(L, c, at, c->domain, strlen(c->domain));
    }
}

const char *rs_url_build(lua_State *L, rs_client *c, const char *service,
                         int arg_path, int arg_query)
{
    size_t path_len, query_len = 0, at = 0;
    const char *path = check_path(L, arg_path, &path_len, 0);
    const char *query = arg_query ? lua_tolstring(L, arg_query, &query_len) : NULL;
    if (query && first_bad_byte(query, query_len, 1) != query_len)
        luaL_argerror(L, arg_query, "the query must be percent-encoded printable ASCII");
    append_origin(L, c, &at, service);
    append(L, c, &at, path, path_len);
    if (query_len > 0) {
        append(L, c, &at, "?", 1);
        append(L, c, &at, query, query_len);
    }
    return c->url;
}

const char *rs_url_build_id(lua_State *L, rs_client *c, const char *service,
                            int arg_head, lua_Integer id, int arg_tail)
{
    size_t head_len, tail_len, at = 0;
    const char *head = check_path(L, arg_head, &head_len, 0);
    const char *tail = check_path(L, arg_tail, &tail_len, 1);
    char digits[20];
    size_t n = rs_put_decimal(digits, (unsigned long long)id);   /* positive: checked by the caller */
    append_origin(L, c, &at, service);
    append(L, c, &at, head, head_len);
    append(L, c, &at, digits, n);
    append(L, c, &at, tail, tail_len);
    return c->url;
}
