/*
 * options.c: the options table of robloxsocial.new, read and checked
 * before anything is built: types, ranges, header values, and where
 * credentials may go (trust_domain).
 */
#define _POSIX_C_SOURCE 200809L

#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "options.h"
#include "store.h"

enum option_kind {
    OPT_HEADER,     /* string sent in a header: no CR, LF or NUL */
    OPT_COOKIE,     /* a cookie value: RFC 6265 cookie-octets only */
    OPT_STRING,     /* other string: no control bytes */
    OPT_SECONDS,    /* number of seconds, 0.001 to 86400 */
    OPT_DELAY,      /* number of seconds, 0 to 86400 */
    OPT_RETRIES,    /* integer 0 to 100 */
    OPT_SLOTS,      /* integer 1 to 256 */
    OPT_BOOLEAN,
    OPT_FUNCTION,   /* a hook: kept in the client's user value */
    OPT_LIMITS      /* rate_limits: { [bucket key] = { limit, seconds } } */
};

static const struct option_spec {
    const char *name;
    enum option_kind kind;
    size_t offset;
} option_specs[] = {
    {"cookie", OPT_COOKIE, offsetof(rs_options, cookie)},
    {"api_key", OPT_HEADER, offsetof(rs_options, api_key)},
    {"access_token", OPT_HEADER, offsetof(rs_options, access_token)},
    {"user_agent", OPT_HEADER, offsetof(rs_options, user_agent)},
    {"domain", OPT_STRING, offsetof(rs_options, domain)},
    {"base_url", OPT_STRING, offsetof(rs_options, base_url)},
    {"proxy", OPT_STRING, offsetof(rs_options, proxy)},
    {"cainfo", OPT_STRING, offsetof(rs_options, cainfo)},
    {"timeout", OPT_SECONDS, offsetof(rs_options, timeout)},
    {"connect_timeout", OPT_SECONDS, offsetof(rs_options, connect_timeout)},
    {"deadline", OPT_SECONDS, offsetof(rs_options, deadline)},
    {"retry_delay", OPT_DELAY, offsetof(rs_options, retry_delay)},
    {"max_retries", OPT_RETRIES, offsetof(rs_options, max_retries)},
    {"concurrency", OPT_SLOTS, offsetof(rs_options, concurrency)},
    {"http2", OPT_BOOLEAN, offsetof(rs_options, http2)},
    {"pace", OPT_BOOLEAN, offsetof(rs_options, pace)},
    {"rate_limits", OPT_LIMITS, offsetof(rs_options, rate_limits)},
    {"shared_limits", OPT_STRING, offsetof(rs_options, shared_limits)},
    {"trust_domain", OPT_BOOLEAN, offsetof(rs_options, trust_domain)},
    {"on_response", OPT_FUNCTION, offsetof(rs_options, hooks)},
    {"on_cookie", OPT_FUNCTION, offsetof(rs_options, hooks)},
    {NULL, OPT_STRING, 0}
};

/* Raises "bad argument #1 to 'new' (option 'x' ...)", worded by hand
 * because the Lua layer calls this through pcall.  Never shows the value:
 * it may be a credential. */
static int option_error(lua_State *L, const char *name, const char *why)
{
    return luaL_error(L, "bad argument #1 to 'new' (option '%s' %s)", name, why);
}

/* RFC 6265: printable ASCII but space, DQUOTE, comma, semicolon and
 * backslash, so that a value cannot add cookies of its own. */
static int is_cookie_octet(unsigned char ch)
{
    return ch > 0x20 && ch < 0x7f && ch != '"' && ch != ',' && ch != ';' && ch != '\\';
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
        if (o->kind == OPT_COOKIE && !is_cookie_octet(ch))
            option_error(L, o->name, "must be a cookie value: no space, '\"', ',', ';', "
                         "'\\' or control character");
    }
    if (o->kind == OPT_COOKIE && len == 0)
        option_error(L, o->name, "must not be empty");
    *out = s;
}

static lua_Integer read_integer(lua_State *L, const struct option_spec *o,
                                lua_Integer lo, lua_Integer hi)
{
    lua_Number n = lua_tonumber(L, -1);
    lua_Integer i;
    if (!lua_isinteger(L, -1) && !(n == (lua_Number)(lua_Integer)n))
        option_error(L, o->name, "must be an integer");
    i = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : (lua_Integer)n;
    if (i < lo || i > hi)
        option_error(L, o->name, lua_pushfstring(L, "must be between %I and %I", lo, hi));
    return i;
}

static void read_number(lua_State *L, const struct option_spec *o, void *out)
{
    int isnum;
    lua_Number n = lua_tonumberx(L, -1, &isnum);
    if (lua_type(L, -1) != LUA_TNUMBER || !isnum || n != n)
        option_error(L, o->name, lua_pushfstring(L, "must be a number (got %s)",
                                                 luaL_typename(L, -1)));
    if (o->kind == OPT_RETRIES || o->kind == OPT_SLOTS) {
        *(lua_Integer *)out = o->kind == OPT_RETRIES ? read_integer(L, o, 0, 100)
                                                     : read_integer(L, o, 1, 256);
        return;
    }
    if (n > 86400.0 || (o->kind == OPT_SECONDS ? !(n >= 0.001) : n < 0))
        option_error(L, o->name, o->kind == OPT_SECONDS
                     ? "must be a number of seconds from 0.001 to 86400"
                     : "must be a number of seconds from 0 to 86400");
    *(double *)out = (double)n;
}

static void read_boolean(lua_State *L, const struct option_spec *o, int *out)
{
    if (lua_type(L, -1) != LUA_TBOOLEAN)
        option_error(L, o->name, lua_pushfstring(L, "must be a boolean (got %s)",
                                                 luaL_typename(L, -1)));
    *out = lua_toboolean(L, -1);
}

/* rate_limits, as the Lua layer turns the user's table by method name
 * into bucket keys: { [key] = { limit, seconds } }, checked here too. */
static void read_limits(lua_State *L, const struct option_spec *o, int *out)
{
    int t = lua_gettop(L);
    if (lua_type(L, t) != LUA_TTABLE)
        option_error(L, o->name, "must be a table");
    lua_pushnil(L);
    while (lua_next(L, t)) {
        int ok = lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TTABLE;
        if (ok) {
            lua_rawgeti(L, -1, 1);
            lua_rawgeti(L, -2, 2);
            ok = lua_type(L, -2) == LUA_TNUMBER && lua_type(L, -1) == LUA_TNUMBER
                 && lua_tonumber(L, -2) >= 1 && lua_tonumber(L, -1) > 0
                 && lua_tonumber(L, -1) <= 86400;
            lua_pop(L, 2);
        }
        if (!ok)
            option_error(L, o->name, "must map bucket keys to { requests, seconds }");
        lua_pop(L, 1);
    }
    *out = 1;
}

/* Reads the options table at idx into o (strings stay owned by Lua and
 * live as long as the table is on the stack).  Raises on any misuse. */
static void read_table(lua_State *L, int idx, rs_options *o)
{
    memset(o, 0, sizeof *o);
    o->domain = "roblox.com";
    o->timeout = 30;
    o->connect_timeout = 10;
    o->retry_delay = 1.0;
    o->max_retries = 3;
    o->concurrency = 8;
    o->http2 = 1;
    o->pace = 1;
    if (lua_isnoneornil(L, idx))
        return;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const struct option_spec *s = option_specs;
        void *field;
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "bad argument #1 to 'new' (option names must be strings)");
        while (s->name && strcmp(s->name, lua_tostring(L, -2)) != 0)
            s++;
        if (s->name == NULL)
            option_error(L, lua_tostring(L, -2), "is not an option of robloxsocial.new");
        field = (char *)o + s->offset;
        if (s->kind == OPT_HEADER || s->kind == OPT_STRING || s->kind == OPT_COOKIE)
            read_string(L, s, (const char **)field);
        else if (s->kind == OPT_BOOLEAN)
            read_boolean(L, s, field);
        else if (s->kind == OPT_LIMITS)
            read_limits(L, s, field);
        else if (s->kind == OPT_FUNCTION) {
            if (lua_type(L, -1) != LUA_TFUNCTION)
                option_error(L, s->name, lua_pushfstring(L, "must be a function (got %s)",
                                                         luaL_typename(L, -1)));
            *(int *)field = 1;
        }
        else
            read_number(L, s, field);
        lua_pop(L, 1);
    }
}

/* base_url: http or https, no credentials in it (they would show in error
 * URLs).  Raises otherwise. */
static void check_base_url(lua_State *L, const char *base_url)
{
    const char *authority = strstr(base_url, "://");
    if (!(strncmp(base_url, "http://", 7) == 0 || strncmp(base_url, "https://", 8) == 0))
        option_error(L, "base_url", "must start with http:// or https://");
    if (strchr(base_url, ' ') || strchr(base_url, '?') || strchr(base_url, '#')
        || memchr(authority + 3, '@', strcspn(authority + 3, "/")) != NULL)
        option_error(L, "base_url", "must be a plain origin such as http://127.0.0.1:8123");
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

/* Whether the host of a base_url (what follows "://", up to a port or a
 * path) is the loopback: localhost, 127.0.0.0/8 or [::1]. */
static int is_loopback_origin(const char *base_url)
{
    const char *host = strstr(base_url, "://") + 3;
    size_t len = strcspn(host, "/");
    char name[64];
    unsigned char addr[4];
    if (len >= sizeof name)
        return 0;
    memcpy(name, host, len);
    name[len] = '\0';
    if (name[0] == '[')
        return strncmp(name, "[::1]", 5) == 0 && (name[5] == '\0' || name[5] == ':');
    name[strcspn(name, ":")] = '\0';
    if (strcasecmp(name, "localhost") == 0)
        return 1;
    return inet_pton(AF_INET, name, addr) == 1 && addr[0] == 127;
}

/* Credentials go to Roblox and to a loopback base_url (a sandbox, a
 * proxy of one's own on this machine); anywhere else only when the caller
 * says trust_domain.  Checked after base_url and domain are; never names
 * a credential's value. */
static void check_trust(lua_State *L, const rs_options *o)
{
    if (o->trust_domain || !(o->cookie || o->api_key || o->access_token))
        return;
    if (o->base_url && !is_loopback_origin(o->base_url))
        option_error(L, "trust_domain", "must be true to send credentials to a base_url "
                     "that is not the loopback");
    if (o->base_url == NULL && strcasecmp(o->domain, "roblox.com") != 0)
        option_error(L, "trust_domain", "must be true to send credentials to a domain "
                     "other than roblox.com");
}

/* shared_limits: a Redis URL, and a credential whose budget it shares. */
static void check_shared(lua_State *L, const rs_options *o)
{
    char host[256];
    int port, db;
    if (o->shared_limits == NULL)
        return;
    if (!rs_store_parse_url(o->shared_limits, host, sizeof host, &port, &db))
        option_error(L, "shared_limits", "must be a Redis URL such as redis://127.0.0.1:6379/0");
    if (!(o->cookie || o->api_key || o->access_token))
        option_error(L, "shared_limits", "needs a credential (cookie, api_key or access_token) "
                     "whose budget it shares");
}

void rs_options_read(lua_State *L, int idx, rs_options *o)
{
    read_table(L, idx, o);
    check_shared(L, o);
    if (o->base_url == NULL)
        check_domain(L, o->domain);
    else
        check_base_url(L, o->base_url);
    check_trust(L, o);
}
