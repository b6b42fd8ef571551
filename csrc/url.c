/*
 * url.c: where a request goes.  With base_url every service shares one
 * origin and the path is kept as is; otherwise each service has its host,
 * https://<service>.<domain>.
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"

/* Printable ASCII without space and '#'; '?' only where allowed.  Returns
 * the offending byte's position, or len when all are fine. */
static size_t first_bad_byte(const char *s, size_t len, int allow_question)
{
    size_t i;
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch >= 0x7f || ch == '#' || (ch == '?' && !allow_question))
            return i;
    }
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

const char *rs_url_build(lua_State *L, rs_client *c, const char *service,
                         int arg_path, int arg_query)
{
    size_t path_len, query_len = 0, at = 0;
    const char *path = lua_tolstring(L, arg_path, &path_len);
    const char *query = arg_query ? lua_tolstring(L, arg_query, &query_len) : NULL;
    if (path_len == 0 || path[0] != '/')
        luaL_argerror(L, arg_path, "the path must start with '/'");
    if (first_bad_byte(path, path_len, 0) != path_len)
        luaL_argerror(L, arg_path, "the path must be percent-encoded printable ASCII "
                      "without '?' or '#' (pass the query separately)");
    if (query && first_bad_byte(query, query_len, 1) != query_len)
        luaL_argerror(L, arg_query, "the query must be percent-encoded printable ASCII");
    if (c->origin)
        append(L, c, &at, c->origin, strlen(c->origin));
    else {
        append(L, c, &at, "https://", 8);
        append(L, c, &at, service, strlen(service));
        append(L, c, &at, ".", 1);
        append(L, c, &at, c->domain, strlen(c->domain));
    }
    append(L, c, &at, path, path_len);
    if (query_len > 0) {
        append(L, c, &at, "?", 1);
        append(L, c, &at, query, query_len);
    }
    return c->url;
}
