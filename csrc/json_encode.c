/*
 * json_encode.c: the JSON encoder of robloxsocial.core, and the Lua face
 * of the codec (json_decode, json_encode, null, array_mt).
 *
 * Integers are written exactly, whatever their size: Debian's lua-cjson
 * writes those of more than 14 digits in exponent form, which a server
 * reads back as a different id.
 */
#include <stdio.h>
#include <string.h>

#include "rs.h"

/*
 * The output grows in a userdata at a fixed stack slot rather than in a
 * luaL_Buffer: a luaL_Buffer wants its box at the top of the stack at
 * every call, while lua_next keeps keys and values above it.  Like a
 * luaL_Buffer it is garbage collected, so raising never leaks it.
 */
typedef struct encoder {
    lua_State *L;
    char *buf;
    size_t len, cap;
    int box;                /* stack slot of the userdata behind buf */
    int depth;
    char first[256];        /* buf until the output outgrows it */
} encoder;

/* How each byte is written inside a string: 0 as itself, 'u' as \u00XX,
 * any other letter after a backslash. */
#define U8 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u'
#define Z16 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
static const char escapes[256] = {
    U8, 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',             /* 0x00 */
    U8, U8,                                                 /* 0x10 */
    0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,       /* 0x20 */
    Z16, Z16,                                               /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,      /* 0x50 */
    Z16, Z16, Z16, Z16, Z16, Z16, Z16, Z16, Z16, Z16        /* 0x60 */
};

static void encode_value(encoder *e, int idx);

/* Raises "robloxsocial: cannot encode <what>: <why>". */
static void cannot(encoder *e, const char *what, const char *why)
{
    luaL_error(e->L, "robloxsocial: cannot encode %s: %s", what, why);
}

/* Makes room for n more bytes and returns where they go.  May raise a
 * memory error. */
static char *reserve(encoder *e, size_t n)
{
    if (e->cap - e->len < n) {
        size_t cap = e->cap * 2;
        char *nb;
        if (n > (size_t)-1 / 2 - e->len)
            cannot(e, "value", "output too large");
        if (cap - e->len < n)
            cap = e->len + n;
        nb = lua_newuserdatauv(e->L, cap, 0);
        memcpy(nb, e->buf, e->len);
        lua_replace(e->L, e->box);
        e->buf = nb;
        e->cap = cap;
    }
    return e->buf + e->len;
}

static void put(encoder *e, const char *s, size_t n)
{
    memcpy(reserve(e, n), s, n);
    e->len += n;
}

/* ---- scalars ---------------------------------------------------------- */

static void put_integer(encoder *e, lua_Integer i)
{
    char *o = reserve(e, 32);
    e->len += (size_t)snprintf(o, 32, LUA_INTEGER_FMT, (LUAI_UACINT)i);
}

/* %.17g round-trips every double.  A locale may use another decimal
 * point (even a multibyte one): any byte that is not part of the C
 * locale's number syntax is that point, and becomes one '.'. */
static void put_float(encoder *e, lua_Number x)
{
    char tmp[64], *o = reserve(e, sizeof tmp);
    int i, n = snprintf(tmp, sizeof tmp, "%.17g", (double)x);
    size_t k = 0;
    for (i = 0; i < n && i < (int)sizeof tmp - 1; i++) {
        char c = tmp[i];
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e')
            o[k++] = c;
        else if (k == 0 || o[k - 1] != '.')
            o[k++] = '.';
    }
    e->len += k;
}

static void encode_number(encoder *e, int idx)
{
    lua_Number x;
    lua_Integer i;
    if (lua_isinteger(e->L, idx)) {
        put_integer(e, lua_tointeger(e->L, idx));
        return;
    }
    x = lua_tonumber(e->L, idx);
    if (x != x)
        cannot(e, "number", "NaN is not valid JSON");
    if (x - x != 0)
        cannot(e, "number", "infinity is not valid JSON");
    if (lua_numbertointeger(x, &i) && (lua_Number)i == x)
        put_integer(e, i);              /* 12.0 is written 12 */
    else
        put_float(e, x);
}

static void encode_string(encoder *e, int idx)
{
    static const char hex[] = "0123456789abcdef";
    size_t len, i;
    const unsigned char *s =
        (const unsigned char *)lua_tolstring(e->L, idx, &len);
    char *o;
    if (len > ((size_t)-1 - 2) / 6)
        cannot(e, "string", "too long");
    o = reserve(e, len * 6 + 2);        /* each byte takes at most 6 */
    *o++ = '"';
    for (i = 0; i < len; i++) {
        char c = escapes[s[i]];
        if (c == 0) {
            *o++ = (char)s[i];
        } else if (c != 'u') {
            *o++ = '\\', *o++ = c;
        } else {
            memcpy(o, "\\u00", 4);
            o[4] = hex[s[i] >> 4], o[5] = hex[s[i] & 15];
            o += 6;
        }
    }
    *o++ = '"';
    e->len = (size_t)(o - e->buf);
}

/* ---- tables ----------------------------------------------------------- */

/* Returns n > 0 for a sequence 1..n, -1 for a table with only string
 * keys, 0 for an empty table; raises on anything else. */
static lua_Integer table_kind(encoder *e, int idx)
{
    lua_State *L = e->L;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), ints = 0, strings = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            strings++;
        } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1
                   && lua_tointeger(L, -1) <= n) {
            ints++;
        } else if (lua_type(L, -1) == LUA_TNUMBER) {
            cannot(e, "table", "sparse array or non-sequence number key");
        } else {
            lua_pushfstring(L, "key of type %s", luaL_typename(L, -1));
            cannot(e, "table", lua_tostring(L, -1));
        }
    }
    if (ints && strings)
        cannot(e, "table", "mixed array and object keys");
    if (ints != n && !strings)
        cannot(e, "table", "sparse array or non-sequence number key");
    return strings ? -1 : n;
}

static int has_array_mt(lua_State *L, int idx)
{
    int yes;
    if (!lua_getmetatable(L, idx))
        return 0;
    luaL_getmetatable(L, RS_ARRAY_MT);
    yes = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return yes;
}

static void encode_array(encoder *e, int idx, lua_Integer n)
{
    lua_Integer i;
    put(e, "[", 1);
    for (i = 1; i <= n; i++) {
        if (i > 1)
            put(e, ",", 1);
        lua_rawgeti(e->L, idx, i);
        encode_value(e, lua_gettop(e->L));
        lua_pop(e->L, 1);
    }
    put(e, "]", 1);
}

static void encode_object(encoder *e, int idx)
{
    int first = 1;
    put(e, "{", 1);
    lua_pushnil(e->L);
    while (lua_next(e->L, idx)) {
        if (!first)
            put(e, ",", 1);
        first = 0;
        encode_string(e, -2);
        put(e, ":", 1);
        encode_value(e, lua_gettop(e->L));
        lua_pop(e->L, 1);
    }
    put(e, "}", 1);
}

/* Cycles are caught by the depth limit, which every cycle reaches. */
static void encode_table(encoder *e, int idx)
{
    lua_Integer n;
    if (e->depth >= RS_JSON_MAX_DEPTH) {
        lua_pushfstring(e->L, "nested deeper than %d levels (is there a cycle?)",
                        RS_JSON_MAX_DEPTH);
        cannot(e, "table", lua_tostring(e->L, -1));
    }
    luaL_checkstack(e->L, 4, "robloxsocial: JSON nesting");
    n = table_kind(e, idx);
    e->depth++;
    if (n > 0)
        encode_array(e, idx, n);
    else if (n < 0)
        encode_object(e, idx);
    else
        put(e, has_array_mt(e->L, idx) ? "[]" : "{}", 2);
    e->depth--;
}

/* Appends the JSON text of the value at the absolute index idx. */
static void encode_value(encoder *e, int idx)
{
    lua_State *L = e->L;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        put(e, "null", 4);
        break;
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx))
            put(e, "true", 4);
        else
            put(e, "false", 5);
        break;
    case LUA_TNUMBER:
        encode_number(e, idx);
        break;
    case LUA_TSTRING:
        encode_string(e, idx);
        break;
    case LUA_TTABLE:
        encode_table(e, idx);
        break;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL) {
            put(e, "null", 4);
            break;
        }
        /* FALLTHROUGH */
    default:
        cannot(e, luaL_typename(L, idx), "no JSON equivalent");
    }
}

void rs_json_encode(lua_State *L, int idx)
{
    encoder e;
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 4, "robloxsocial: JSON encode");
    lua_pushnil(L);                     /* the slot for the output box */
    e.L = L;
    e.box = lua_gettop(L);
    e.buf = e.first;
    e.len = 0;
    e.cap = sizeof e.first;
    e.depth = 0;
    encode_value(&e, idx);
    lua_pushlstring(L, e.buf, e.len);
    lua_replace(L, e.box);
}

/* ---- the Lua functions ------------------------------------------------ */

/* json_decode(str) -> value | nil, message */
static int json_decode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char err[128];
    if (rs_json_decode(L, s, len, err, sizeof err))
        return 1;
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
}

/* json_encode(value) -> string; raises on what JSON cannot hold */
static int json_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    rs_json_encode(L, 1);
    return 1;
}

static const luaL_Reg json_funcs[] = {
    {"json_decode", json_decode},
    {"json_encode", json_encode},
    {NULL, NULL}
};

void rs_json_open(lua_State *L)
{
    luaL_setfuncs(L, json_funcs, 0);
    rs_pushnull(L);
    lua_setfield(L, -2, "null");
    luaL_newmetatable(L, RS_ARRAY_MT);
    lua_setfield(L, -2, "array_mt");
}
