/*
 * client.c: the client userdata: options, construction, lifetime and the
 * core.send entry point that the Lua layer builds every method on.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

/* ---- options ---------------------------------------------------------- */

typedef struct rs_options {
    const char *cookie, *api_key, *access_token;
    const char *domain, *base_url, *user_agent, *proxy, *cainfo;
    double timeout, connect_timeout, retry_delay;
    lua_Integer max_retries;
} rs_options;

enum option_kind {
    OPT_HEADER,     /* string sent in a header: no CR, LF or NUL */
    OPT_STRING,     /* other string: no control bytes */
    OPT_POSITIVE,   /* number > 0 (seconds) */
    OPT_NONNEG,     /* number >= 0 (seconds) */
    OPT_COUNT       /* integer >= 0 */
};

static const struct option_spec {
    const char *name;
    enum option_kind kind;
    size_t offset;
} option_specs[] = {
    {"cookie", OPT_HEADER, offsetof(rs_options, cookie)},
    {"api_key", OPT_HEADER, offsetof(rs_options, api_key)},
    {"access_token", OPT_HEADER, offsetof(rs_options, access_token)},
    {"user_agent", OPT_HEADER, offsetof(rs_options, user_agent)},
    {"domain", OPT_STRING, offsetof(rs_options, domain)},
    {"base_url", OPT_STRING, offsetof(rs_options, base_url)},
    {"proxy", OPT_STRING, offsetof(rs_options, proxy)},
    {"cainfo", OPT_STRING, offsetof(rs_options, cainfo)},
    {"timeout", OPT_POSITIVE, offsetof(rs_options, timeout)},
    {"connect_timeout", OPT_POSITIVE, offsetof(rs_options, connect_timeout)},
    {"retry_delay", OPT_NONNEG, offsetof(rs_options, retry_delay)},
    {"max_retries", OPT_COUNT, offsetof(rs_options, max_retries)},
    {NULL, OPT_STRING, 0}
};

/* Raises "bad argument #1 to 'new' (option 'x' ...)", worded by hand
 * because the Lua layer calls this through pcall.  Never shows the value:
 * it may be a credential. */
static int option_error(lua_State *L, const char *name, const char *why)
{
    return luaL_error(L, "bad argument #1 to 'new' (option '%s' %s)", name, why);
}

static void read_string(lua_State *L, const struct option_spec *o, const char **out)
{
    size_t len, i;
    const char *s;
    if (lua_type(L, -1) != LUA_TSTRING)
        option_error(L, o->name, lua_pushfstring(L, "must be a string (got %s)",
                                                 luaL_typename(L, -1)));
    s = lua_tolstring(L, -1, &len);
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\r' || ch == '\n' || ch == '\0')
            option_error(L, o->name, "must not contain CR, LF or NUL");
        if (o->kind == OPT_STRING && (ch < 0x20 || ch == 0x7f))
            option_error(L, o->name, "must not contain control characters");
    }
    *out = s;
}

static void read_number(lua_State *L, const struct option_spec *o, void *out)
{
    int isnum;
    lua_Number n = lua_tonumberx(L, -1, &isnum);
    if (lua_type(L, -1) != LUA_TNUMBER || !isnum || n != n)
        option_error(L, o->name, lua_pushfstring(L, "must be a number (got %s)",
                                                 luaL_typename(L, -1)));
    if (o->kind == OPT_COUNT) {
        lua_Integer i;
        if (!lua_isinteger(L, -1) && !(n == (lua_Number)(lua_Integer)n))
            option_error(L, o->name, "must be an integer");
        i = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : (lua_Integer)n;
        if (i < 0 || i > 100)
            option_error(L, o->name, "must be between 0 and 100");
        *(lua_Integer *)out = i;
        return;
    }
    if (n < 0 || (o->kind == OPT_POSITIVE && n == 0) || n > 86400.0)
        option_error(L, o->name, o->kind == OPT_POSITIVE
                     ? "must be a number of seconds above 0 and at most 86400"
                     : "must be a number of seconds from 0 to 86400");
    *(double *)out = (double)n;
}

/* Reads the options table at idx into o (strings stay owned by Lua and
 * live as long as the table is on the stack).  Raises on any misuse. */
static void read_options(lua_State *L, int idx, rs_options *o)
{
    memset(o, 0, sizeof *o);
    o->domain = "roblox.com";
    o->timeout = 30;
    o->connect_timeout = 10;
    o->retry_delay = 1.0;
    o->max_retries = 3;
    if (lua_isnoneornil(L, idx))
        return;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const struct option_spec *s = option_specs;
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "bad argument #1 to 'new' (option names must be strings)");
        while (s->name && strcmp(s->name, lua_tostring(L, -2)) != 0)
            s++;
        if (s->name == NULL)
            option_error(L, lua_tostring(L, -2), "is not an option of robloxsocial.new");
        if (s->kind == OPT_HEADER || s->kind == OPT_STRING)
            read_string(L, s, (const char **)((char *)o + s->offset));
        else
            read_number(L, s, (char *)o + s->offset);
        lua_pop(L, 1);
    }
}

/* ---- construction and release ----------------------------------------- */

/* Overwrites a secret before its memory goes back to the allocator; the
 * volatile pointer keeps the compiler from dropping the stores. */
static void wipe(char *s)
{
    volatile char *p = s;
    while (p && *p)
        *p++ = 0;
}

void rs_free_secret(char *s)
{
    wipe(s);
    free(s);
}

void rs_free_headers(struct curl_slist **list)
{
    struct curl_slist *item;
    for (item = *list; item; item = item->next)
        wipe(item->data);
    curl_slist_free_all(*list);
    *list = NULL;
}

/* One idempotent release serves close(), __gc and __close; it runs on
 * half-built clients too, so every field may still be NULL. */
void rs_client_release(rs_client *c)
{
    if (c->easy) {
        curl_easy_cleanup(c->easy);
        c->easy = NULL;
    }
    if (c->share) {
        curl_share_cleanup(c->share);
        c->share = NULL;
    }
    rs_free_headers(&c->read_headers);
    rs_free_headers(&c->write_headers);
    rs_free_secret(c->csrf_token);
    free(c->origin);
    free(c->domain);
    free(c->response.body);
    free(c->url);
    c->csrf_token = c->origin = c->domain = c->response.body = c->url = NULL;
    c->close_pending = 0;
}

static char *copy_string(lua_State *L, const char *s, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy == NULL)
        luaL_error(L, "robloxsocial: not enough memory");
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

/* Appends "name: value" to the list; raises on out-of-memory (the list
 * belongs to the client, so nothing leaks). */
static void add_header(lua_State *L, struct curl_slist **list, const char *line)
{
    struct curl_slist *grown = curl_slist_append(*list, line);
    if (grown == NULL)
        luaL_error(L, "robloxsocial: not enough memory");
    *list = grown;
}

/* User-Agent is a header line rather than CURLOPT_USERAGENT: libcurl
 * formats the option anew for every request, a list line it only copies. */
static void build_read_headers(lua_State *L, rs_client *c, const rs_options *o)
{
    add_header(L, &c->read_headers, "Accept: application/json");
    add_header(L, &c->read_headers,
               lua_pushfstring(L, "User-Agent: %s",
                               o->user_agent ? o->user_agent : "robloxsocial/" RS_VERSION));
    lua_pop(L, 1);
    if (o->cookie) {
        add_header(L, &c->read_headers,
                   lua_pushfstring(L, "Cookie: .ROBLOSECURITY=%s", o->cookie));
        lua_pop(L, 1);
    }
    if (o->api_key) {
        add_header(L, &c->read_headers, lua_pushfstring(L, "x-api-key: %s", o->api_key));
        lua_pop(L, 1);
    }
    if (o->access_token) {
        add_header(L, &c->read_headers,
                   lua_pushfstring(L, "Authorization: Bearer %s", o->access_token));
        lua_pop(L, 1);
    }
}

/* base_url: http or https, no credentials in it (they would show in error
 * URLs), kept without a trailing slash. */
static void set_origin(lua_State *L, rs_client *c, const char *base_url)
{
    size_t len = strlen(base_url);
    const char *authority = strstr(base_url, "://");
    if (!(strncmp(base_url, "http://", 7) == 0 || strncmp(base_url, "https://", 8) == 0))
        option_error(L, "base_url", "must start with http:// or https://");
    if (strchr(base_url, ' ') || strchr(base_url, '?') || strchr(base_url, '#')
        || memchr(authority + 3, '@', strcspn(authority + 3, "/")) != NULL)
        option_error(L, "base_url", "must be a plain origin such as http://127.0.0.1:8123");
    while (len > 0 && base_url[len - 1] == '/')
        len--;
    c->origin = copy_string(L, base_url, len);
}

static void check_domain(lua_State *L, const char *domain)
{
    const char *p;
    for (p = domain; *p; p++)
        if (!(*p == '.' || *p == '-' || (*p >= '0' && *p <= '9')
              || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            option_error(L, "domain", "must be a host name such as roblox.com");
    if (*domain == '\0')
        option_error(L, "domain", "must not be empty");
}

static void client_init(lua_State *L, rs_client *c, const rs_options *o)
{
    CURLcode rc;
    c->share = curl_share_init();
    c->easy = curl_easy_init();
    if (c->share == NULL || c->easy == NULL)
        luaL_error(L, "robloxsocial: libcurl could not create a handle");
    if (curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK
        || curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK
        || curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK)
        luaL_error(L, "robloxsocial: libcurl refused to share its caches");
    if (o->base_url)
        set_origin(L, c, o->base_url);
    else
        c->domain = copy_string(L, o->domain, strlen(o->domain));
    c->timeout = o->timeout;
    c->retry_delay = o->retry_delay;
    c->max_retries = o->max_retries;
    build_read_headers(L, c, o);
    if (!rs_transport_write_headers(c))
        luaL_error(L, "robloxsocial: not enough memory");
    rc = rs_transport_setup(c, o->connect_timeout, o->proxy, o->cainfo);
    if (rc != CURLE_OK)
        luaL_error(L, "robloxsocial: libcurl refused an option: %s", curl_easy_strerror(rc));
}

/* new(options): validates everything first, then builds the userdata
 * closed-first (zeroed, metatable set) so that a failure halfway leaves an
 * object that __gc can free. */
static int client_new(lua_State *L)
{
    rs_options o;
    rs_client *c;
    read_options(L, 1, &o);
    if (o.base_url == NULL)
        check_domain(L, o.domain);
    c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    luaL_setmetatable(L, RS_CLIENT_MT);
    client_init(L, c, &o);
    return 1;
}

/* ---- methods ----------------------------------------------------------- */

/* The open, idle client at idx; raises otherwise. */
static rs_client *client_check(lua_State *L, int idx)
{
    rs_client *c = luaL_checkudata(L, idx, RS_CLIENT_MT);
    if (c->easy == NULL || c->close_pending)
        luaL_error(L, "robloxsocial: attempt to use a closed client");
    if (c->busy)
        luaL_error(L, "robloxsocial: the client is busy with a request "
                   "(a finalizer cannot use the client whose request it interrupted)");
    return c;
}

/* close(), __gc and __close.  During a request (a finalizer run by its
 * decoding) the release waits for the request to end. */
static int client_close(lua_State *L)
{
    rs_client *c = luaL_checkudata(L, 1, RS_CLIENT_MT);
    if (c->busy)
        c->close_pending = 1;
    else
        rs_client_release(c);
    return 0;
}

static int client__tostring(lua_State *L)
{
    rs_client *c = luaL_checkudata(L, 1, RS_CLIENT_MT);
    if (c->easy == NULL || c->close_pending)
        lua_pushliteral(L, "robloxsocial.Client (closed)");
    else
        lua_pushfstring(L, "robloxsocial.Client (%p)", (void *)c);
    return 1;
}

static const char *const http_methods[] = {"GET", "POST", "DELETE", "PATCH", "PUT", NULL};
static const char *const services[] = {
    "friends", "presence", "groups", "contacts", "privatemessages", NULL
};

/* core.send(client, method, service, path[, query[, body]]): query is an
 * encoded query string without '?', body a JSON text.  Returns the decoded
 * body, or nil and an error table. */
static int client_send(lua_State *L)
{
    rs_client *c = client_check(L, 1);
    int m = luaL_checkoption(L, 2, NULL, http_methods);
    const char *service = services[luaL_checkoption(L, 3, NULL, services)];
    size_t body_len = 0;
    const char *body = luaL_optlstring(L, 6, NULL, &body_len);
    luaL_checkstring(L, 4);
    luaL_optstring(L, 5, NULL);
    if (m == 0 && body != NULL)
        luaL_argerror(L, 6, "a GET request has no body");
    return rs_transport_call(L, c, http_methods[m],
                             rs_url_build(L, c, service, 4, lua_isnoneornil(L, 5) ? 0 : 5),
                             body, body_len);
}

/* core.is_open(client): whether the client can still be used.  The Lua
 * layer raises itself, so that the error points at the user's call. */
static int client_is_open(lua_State *L)
{
    rs_client *c = luaL_checkudata(L, 1, RS_CLIENT_MT);
    lua_pushboolean(L, c->easy != NULL && !c->close_pending);
    return 1;
}

static const luaL_Reg client_methods[] = {
    {"close", client_close},
    {NULL, NULL}
};

static const luaL_Reg client_meta[] = {
    {"__gc", client_close},
    {"__close", client_close},
    {"__tostring", client__tostring},
    {NULL, NULL}
};

void rs_client_open(lua_State *L)
{
    luaL_newmetatable(L, RS_CLIENT_MT);
    luaL_setfuncs(L, client_meta, 0);
    luaL_newlib(L, client_methods);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__index");
    lua_setfield(L, -3, "methods");
    lua_setfield(L, -2, "client_mt");
    lua_pushcfunction(L, client_new);
    lua_setfield(L, -2, "new");
    lua_pushcfunction(L, client_send);
    lua_setfield(L, -2, "send");
    lua_pushcfunction(L, client_is_open);
    lua_setfield(L, -2, "is_open");
}
