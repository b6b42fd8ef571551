/*
 * url.c: where a request goes.  With base_url every service shares one
 * origin and the path is kept as is; otherwise each service has its host,
 * https://<service>.<domain>.
 */
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

void rs_url_push(lua_State *L, const rs_client *c, const char *service,
                 int arg_path, int arg_query)
{
    size_t path_len, query_len = 0;
    const char *path = lua_tolstring(L, arg_path, &path_len);
    const char *query = arg_query ? lua_tolstring(L, arg_query, &query_len) : NULL;
    luaL_Buffer b;
    if (path_len == 0 || path[0] != '/')
        luaL_argerror(L, arg_path, "the path must start with '/'");
    if (first_bad_byte(path, path_len, 0) != path_len)
        luaL_argerror(L, arg_path, "the path must be percent-encoded printable ASCII "
                      "without '?' or '#' (pass the query separately)");
    if (query && first_bad_byte(query, query_len, 1) != query_len)
        luaL_argerror(L, arg_query, "the query must be percent-encoded printable ASCII");
    luaL_buffinit(L, &b);
    if (c->origin)
        luaL_addstring(&b, c->origin);
    else {
        luaL_addstring(&b, "https://");
        luaL_addstring(&b, service);
        luaL_addchar(&b, '.');
        luaL_addstring(&b, c->domain);
    }
    luaL_addlstring(&b, path, path_len);
    if (query_len > 0) {
        luaL_addchar(&b, '?');
        luaL_addlstring(&b, query, query_len);
    }
    luaL_pushresult(&b);
}
