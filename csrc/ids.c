/*
 * ids.c: lists of ids, checked and written as JSON in C.
 *
 * The batch methods send a list of ids as a one-field JSON body,
 * {"userIds":[1,2,3]}.  Checking the list in Lua and encoding a copy of
 * it with json_encode cost more instructions than libcurl spends on the
 * whole request; here the list is checked in place (raw access, as
 * args.lua did) and its ids are written straight into the body, with a
 * formatter of our own rather than printf.
 *
 *   ids_check(list)                    -> n | nil, why, index
 *   ids_body(list, field [, first, last]) -> '{"<field>":[...]}'
 *
 * The rules are the contract's: each element a positive integer, or a
 * float with an integral value in range (12.0 is 12); no key but 1..n.
 */
#include <stdint.h>
#include <string.h>

#include "rs.h"

#define EXPECTED "list of positive integers expected, got "

/* Longest id: 2^63 - 1 has 19 digits; one more byte for the comma. */
#define ID_MAX 20

/* Elements are read CHUNK at a time and popped together: one
 * lua_settop per chunk instead of one per element. */
#define CHUNK 32

/* The id at idx, or 0 when the value there is not one. */
static lua_Integer id_at(lua_State *L, int idx)
{
    int exact;
    lua_Integer i = lua_tointegerx(L, idx, &exact);  /* integral floats too */
    return exact && i > 0 ? i : 0;
}

/* What args.describe says of the value at idx: its math.type or type,
 * "no value" for nil. */
static const char *describe(lua_State *L, int idx)
{
    switch (lua_type(L, idx)) {
    case LUA_TNONE:
    case LUA_TNIL:
        return "no value";
    case LUA_TNUMBER:
        return lua_isinteger(L, idx) ? "integer" : "float";
    default:
        return luaL_typename(L, idx);
    }
}

/* Pushes the elements first..first+k-1 (k <= CHUNK) of the table at 1
 * (raw access) and reads them into ids.  Returns k, or the offset of the
 * first that is not an id (the values stay pushed: the caller drops
 * them). */
static int read_chunk(lua_State *L, lua_Integer first, int k,
                      lua_Integer *ids)
{
    int j;
    for (j = 0; j < k; j++)
        if (lua_rawgeti(L, 1, first + j) != LUA_TNUMBER)
            return j;
    for (j = 0; j < k; j++)
        if ((ids[j] = id_at(L, j - k)) == 0)
            return j;
    return k;
}

/* Checks the elements first..last of the table at 1.  Returns 0, or the
 * first bad index with its description pushed. */
static lua_Integer check_range(lua_State *L, lua_Integer first,
                               lua_Integer last)
{
    lua_Integer ids[CHUNK];
    int top = lua_gettop(L);
    luaL_checkstack(L, CHUNK + 2, "robloxsocial: list of ids");
    while (first <= last) {
        int k = last - first + 1 < CHUNK ? (int)(last - first + 1) : CHUNK;
        int ok = read_chunk(L, first, k, ids);
        if (ok < k) {
            const char *what = describe(L, top + ok + 1);
            lua_settop(L, top);
            lua_pushstring(L, what);
            return first + ok;
        }
        lua_settop(L, top);
        first += k;
    }
    return 0;
}

/* 1 when the table at 1 has no key but 1..n.  Its n keys 1..n are there
 * (check_range saw them), so any key more is a stray one. */
static int only_sequence(lua_State *L, lua_Integer n)
{
    lua_Integer keys = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        if (++keys > n) {
            lua_pop(L, 1);
            return 0;
        }
    }
    return 1;
}

/* Pushes why the value at 1 is not a list of ids, or returns 0 when it
 * is one; *at gets the bad index (0 when it is not about one element). */
static int why_not(lua_State *L, lua_Integer *at)
{
    lua_Integer n;
    *at = 0;
    if (lua_type(L, 1) != LUA_TTABLE) {
        lua_pushfstring(L, EXPECTED "%s", describe(L, 1));
        return 1;
    }
    n = (lua_Integer)lua_rawlen(L, 1);
    if ((*at = check_range(L, 1, n)) != 0) {
        lua_pushfstring(L, EXPECTED "%s at index %I", lua_tostring(L, -1),
                        (LUAI_UACINT)*at);
        return 1;
    }
    if (!only_sequence(L, n)) {
        lua_pushliteral(L, EXPECTED "a table with other keys");
        return 1;
    }
    return 0;
}

/* ids_check(list) -> n | nil, why, index.  Never raises for a bad list,
 * so that the Lua layer can raise at its caller's call. */
static int ids_check(lua_State *L)
{
    lua_Integer at;
    lua_settop(L, 1);
    if (why_not(L, &at)) {
        luaL_pushfail(L);
        lua_insert(L, -2);
        if (at == 0)
            return 2;
        lua_pushinteger(L, at);
        return 3;
    }
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, 1));
    return 1;
}

#if defined(__GNUC__) && defined(__BYTE_ORDER__) \
    && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__

/* The eight decimal digits of v < 10^8, leading zeros included, as eight
 * ASCII bytes of a little-endian word (the first digit in the lowest
 * byte).  Paul Khuong's method: the two halves of four digits, then their
 * pairs, then the single digits are split in parallel, each step with one
 * multiply by a reciprocal that is exact over its range. */
static uint64_t eight_digits(uint32_t v)
{
    uint64_t merged = (uint64_t)(v / 10000) | (uint64_t)(v % 10000) << 32;
    uint64_t hundreds = (merged * 10486) >> 20 & 0x0000007F0000007Fu;
    uint64_t tens;
    hundreds = (merged - 100 * hundreds) << 16 | hundreds;
    tens = (hundreds * 103) >> 10 & 0x000F000F000F000Fu;
    tens |= (hundreds - 10 * tens) << 8;
    return tens | 0x3030303030303030u;
}

/* "00" to "99", for heads of one or two digits (most ids have ten). */
static const char pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

/* Writes 1 <= v < 10^8 without leading zeros at o, as a whole word (the
 * caller leaves 8 bytes of room); returns the number of digits. */
static size_t put_head(char *o, uint32_t v)
{
    size_t n;
    uint64_t w;
    if (v < 100) {
        o[0] = pairs[v * 2 + (v < 10)];
        o[1] = pairs[v * 2 + 1];
        return 1 + (v >= 10);
    }
    n = v < 10000 ? (v < 1000 ? 3 : 4)
                  : (v < 1000000 ? (v < 100000 ? 5 : 6)
                                 : (v < 10000000 ? 7 : 8));
    w = eight_digits(v) >> (8 * (8 - n));
    memcpy(o, &w, 8);
    return n;
}

static void put_eight(char *o, uint32_t v)
{
    uint64_t w = eight_digits(v);
    memcpy(o, &w, 8);
}

/* Writes the decimal digits of u > 0 at o (with 8 bytes of room beyond
 * them); returns the number of bytes.  At most two 64-bit divisions, the
 * rest in parallel in one word. */
static size_t put_uint(char *o, uint64_t u)
{
    const uint64_t e8 = 100000000u;
    size_t n;
    if (u < e8)
        return put_head(o, (uint32_t)u);
    if (u < e8 * e8) {
        n = put_head(o, (uint32_t)(u / e8));
        put_eight(o + n, (uint32_t)(u % e8));
        return n + 8;
    }
    n = put_head(o, (uint32_t)(u / (e8 * e8)));
    u %= e8 * e8;
    put_eight(o + n, (uint32_t)(u / e8));
    put_eight(o + n + 8, (uint32_t)(u % e8));
    return n + 16;
}

#else

/* Two digits at a time, as many integer formatters do. */
static const char pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

static size_t put_uint(char *o, uint64_t u)
{
    char tmp[ID_MAX], *end = tmp + sizeof tmp, *q = end;
    while (u >= 100) {
        unsigned d = (unsigned)(u % 100) * 2;
        u /= 100;
        *--q = pairs[d + 1];
        *--q = pairs[d];
    }
    if (u >= 10) {
        *--q = pairs[u * 2 + 1];
        *--q = pairs[u * 2];
    } else {
        *--q = (char)('0' + u);
    }
    memcpy(o, q, (size_t)(end - q));
    return (size_t)(end - q);
}

#endif

/* A field name goes into the body as it is: no quote, backslash or
 * control character. */
static int plain_name(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\'
            || s[i] == 0x7f)
            return 0;
    return n > 0;
}

/* Raises the argument error for a bad list (why_not pushed why). */
static int bad_list(lua_State *L)
{
    return luaL_argerror(L, 1, lua_tostring(L, -1));
}

/* Writes the ids first..last of the table at 1 at o, each followed by a
 * comma, checking each; returns the end, or NULL with why pushed.  The
 * elements are read above top, which is the stack top. */
static char *write_ids(lua_State *L, char *o, lua_Integer first,
                       lua_Integer last)
{
    lua_Integer ids[CHUNK];
    int top = lua_gettop(L), j, k, ok;
    luaL_checkstack(L, CHUNK + 2, "robloxsocial: list of ids");
    for (; first <= last; first += k) {
        k = last - first + 1 < CHUNK ? (int)(last - first + 1) : CHUNK;
        if ((ok = read_chunk(L, first, k, ids)) < k) {
            lua_pushfstring(L, EXPECTED "%s at index %I",
                            describe(L, top + ok + 1), (LUAI_UACINT)(first + ok));
            return NULL;
        }
        lua_settop(L, top);
        for (j = 0; j < k; j++) {
            o += put_uint(o, (uint64_t)ids[j]);
            *o++ = ',';
        }
    }
    return o;
}

/* ids_body(list, field [, first, last]) -> '{"<field>":[...]}'.  Writes
 * the elements first..last (default: the whole list) and checks each as
 * it goes, in one pass.  Without a range the whole list is checked,
 * stray keys included; with one, only the elements written are (a caller sending a
 * list in chunks checks it once with ids_check).  May raise an argument
 * error or a memory error; a body too large for the C stack is written
 * in a userdata, so nothing leaks. */
static int ids_body(lua_State *L)
{
    size_t flen, cap;
    const char *field = luaL_checklstring(L, 2, &flen);
    int whole = lua_isnoneornil(L, 3) && lua_isnoneornil(L, 4);
    lua_Integer n, first, last;
    char local[4096], *o, *start = local;
    luaL_argcheck(L, plain_name(field, flen), 2,
                  "field name without quotes, backslashes or control characters expected");
    if (lua_type(L, 1) != LUA_TTABLE) {
        lua_pushfstring(L, EXPECTED "%s", describe(L, 1));
        return bad_list(L);
    }
    n = (lua_Integer)lua_rawlen(L, 1);
    first = luaL_optinteger(L, 3, 1);
    last = luaL_optinteger(L, 4, n);
    luaL_argcheck(L, first >= 1 && first <= n + 1, 3, "range start out of the list");
    luaL_argcheck(L, last >= first - 1 && last <= n, 4, "range end out of the list");
    lua_settop(L, 2);
    if ((lua_Integer)((((size_t)-1) - flen - 16) / ID_MAX) < last - first + 1)
        return luaL_error(L, "robloxsocial: list of ids too long");
    cap = flen + 7 + 8 + (size_t)(last - first + 1) * ID_MAX;  /* 8: put_uint's room */
    if (cap > sizeof local)
        start = lua_newuserdatauv(L, cap, 0);
    o = start;
    *o++ = '{', *o++ = '"';
    memcpy(o, field, flen);
    o += flen;
    *o++ = '"', *o++ = ':', *o++ = '[';
    if ((o = write_ids(L, o, first, last)) == NULL)
        return bad_list(L);
    if (whole && !only_sequence(L, n)) {  /* after the elements, as why_not */
        lua_pushliteral(L, EXPECTED "a table with other keys");
        return bad_list(L);
    }
    if (last >= first)
        o--;                            /* the last comma */
    *o++ = ']', *o++ = '}';
    lua_pushlstring(L, start, (size_t)(o - start));
    return 1;
}

static const luaL_Reg ids_funcs[] = {
    {"ids_check", ids_check},
    {"ids_body", ids_body},
    {NULL, NULL}
};

void rs_ids_open(lua_State *L)
{
    luaL_setfuncs(L, ids_funcs, 0);
}
