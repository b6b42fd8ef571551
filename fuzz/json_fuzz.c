/*
 * json_fuzz.c: a mutational fuzzer for the core's JSON codec, meant to run
 * under AddressSanitizer and UBSan (`make fuzz`, and briefly in CI).
 *
 *   json_fuzz SECONDS [SEED_FILE...]
 *
 * Each input sits in a malloc'd buffer of exactly its length, so that ASan
 * reports any read past the end: the decoder's input is not NUL-terminated
 * (a Lua-level loop cannot check this, Lua strings always are).  Checked on
 * every input: the Lua stack grows by exactly the one decoded value or not
 * at all, a failure message is one line ending in its byte offset, and a
 * decoded value encodes, decodes again and encodes to the same length.
 * The decoder caches keys only in bodies of 512 bytes or more, so each
 * input is also decoded with enough trailing blanks to turn the caches on,
 * and the two values must be the same, key for key and integer for
 * integer: the differential check of the key cache and key-order
 * prediction.  The generator is seeded with a constant, so runs repeat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"
#include "rs.h"

#define MAX_SEEDS 64

static const char *const builtin_seeds[] = {
    "{\"count\":130}",
    "{\"userPresences\":[{\"userPresenceType\":2,\"lastLocation\":\"Obby\",\"placeId\":1818,"
    "\"rootPlaceId\":null,\"gameId\":\"a-b\",\"universeId\":9007199254740993,"
    "\"userId\":1234567890123456,\"lastOnline\":\"2026-01-01T00:00:00Z\"}]}",
    "{\"PreviousCursor\":null,\"PageItems\":[{\"id\":5000095028,\"hasVerifiedBadge\":false}],"
    "\"NextCursor\":\"eyJrIjoxfQ==\",\"HasMore\":true}",
    "{\"errors\":[{\"code\":1,\"message\":\"The target user is invalid\\u00e9 \\ud83d\\ude00\"}]}",
    "[1.5e-3,-0,-9223372036854775808,9223372036854775807,18446744073709551616,true,false,null]",
    "true",
    "  ",
    "[{\"a\":1,\"bb\":[2],\"ccc\":{\"a\":3}},{\"a\":4,\"bb\":[5],\"ccc\":{\"a\":6}},"
    "{\"bb\":7,\"a\":8},{\"a\":9},{\"a\":10,\"bb\":11,\"ccc\":12,\"dddd\":13},"
    "{\"a\\u0062\":14,\"ab\":15,\"ba\":16},{\"ab\":17,\"ba\":18,\"a\":19}]",
    "[{\"t\":\"Hi!\\nsame \\\"text\\\" \\u00e9\",\"u\":\"a long value of more than forty bytes, 0001\"},"
    "{\"t\":\"Hi!\\nsame \\\"text\\\" \\u00e9\",\"u\":\"a long value of more than forty bytes, 0001\"},"
    "{\"t\":\"Hi!\\nsama \\\"text\\\" \\u00e9\",\"u\":\"a long value of more than forty bytes, 0101\"},"
    "{\"t\":\"\",\"u\":\"a long value of more than forty bytes, 0001\"}]",
};

static const char *const tokens[] = {
    "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud83d", "\\ude00", "\\u00e9",
    "true", "false", "null", "-", "0", "1", "9223372036854775807", "-9223372036854775808",
    "9223372036854775808", "1e400", ".", "e", "E+", " ", "\n", "\x01", "\xff", "\"a\"",
    "{\"k\":", "[[[[", "]]]]", "1.5e-3", "00",
};

#define COUNT(a) (sizeof(a) / sizeof *(a))

static unsigned long long rng_state = 88172645463325252ULL;

static unsigned rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)rng_state;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fputs("json_fuzz: out of memory\n", stderr);
        exit(2);
    }
    return p;
}

static void die(const char *what, const char *text, size_t len)
{
    fprintf(stderr, "json_fuzz: %s\n%.*s\n", what, (int)len, text);
    abort();
}

/* Truncates, flips, deletes or inserts a token, one to four times. */
static size_t mutate(char *buf, size_t len, size_t cap)
{
    int n = 1 + (int)(rnd() % 4);
    while (n--) {
        size_t pos = len ? rnd() % (len + 1) : 0, tl;
        const char *t;
        switch (rnd() % 6) {
        case 0: if (len) len = rnd() % len; break;
        case 1: if (len) buf[rnd() % len] = (char)rnd(); break;
        case 2:
            if (pos < len) {
                memmove(buf + pos, buf + pos + 1, len - pos - 1);
                len--;
            }
            break;
        default:
            t = tokens[rnd() % COUNT(tokens)];
            tl = strlen(t);
            if (len + tl <= cap) {
                memmove(buf + pos + tl, buf + pos, len - pos);
                memcpy(buf + pos, t, tl);
                len += tl;
            }
        }
    }
    return len;
}

static int encode(lua_State *L)
{
    rs_json_encode(L, 1);
    return 1;
}

/* Encodes the value on top; returns its length, or 0 when it cannot be
 * encoded (NaN, infinities: a normal outcome).  Leaves the text on top. */
static size_t encoded_length(lua_State *L)
{
    size_t n;
    lua_pushcfunction(L, encode);
    lua_pushvalue(L, -2);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK)
        return 0;
    lua_tolstring(L, -1, &n);
    return n;
}

/* Decoded value on top: encode, decode the text again, encode again; the
 * two texts must have the same length (key order may differ). */
static void check_round_trip(lua_State *L)
{
    char err[160], *copy;
    size_t n1 = encoded_length(L), n2;
    if (n1 == 0)
        return;
    copy = xmalloc(n1);
    memcpy(copy, lua_tostring(L, -1), n1);
    if (!rs_json_decode(L, copy, n1, err, sizeof err))
        die("the encoder's output does not decode", copy, n1);
    n2 = encoded_length(L);
    if (n2 != n1)
        die("a round trip changed the text", copy, n1);
    free(copy);
}

/* 1 when the values at a and b (absolute indices) are the same: equal
 * scalars of the same subtype, tables with the same keys and values. */
static int same_value(lua_State *L, int a, int b, int depth)
{
    int ok = 1;
    if (lua_type(L, a) != lua_type(L, b))
        return 0;
    if (lua_type(L, a) == LUA_TNUMBER && lua_isinteger(L, a) != lua_isinteger(L, b))
        return 0;
    if (lua_type(L, a) != LUA_TTABLE || depth > RS_JSON_MAX_DEPTH + 2)
        return lua_rawequal(L, a, b) || (lua_type(L, a) == LUA_TNUMBER
                                         && lua_tonumber(L, a) != lua_tonumber(L, a)
                                         && lua_tonumber(L, b) != lua_tonumber(L, b));
    if (lua_rawlen(L, a) != lua_rawlen(L, b))
        return 0;
    luaL_checkstack(L, 4, "json_fuzz");
    lua_pushnil(L);
    while (ok && lua_next(L, a)) {
        int top = lua_gettop(L);
        lua_pushvalue(L, top - 1);
        lua_rawget(L, b);
        ok = same_value(L, top, top + 1, depth + 1);
        lua_settop(L, top - 1);
    }
    if (!ok) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pushnil(L);                     /* b has no key that a has not */
    while (ok && lua_next(L, b)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_rawget(L, a);
        ok = !lua_isnil(L, -1);
        lua_pop(L, 1);
    }
    if (!ok)
        lua_pop(L, 1);
    return ok;
}

/* Decodes input again with blanks after it, so that the key caches are
 * on; the value must be the one on top, decoded without them. */
static void check_cached(lua_State *L, const char *input, size_t len)
{
    char err[160], *padded;
    int top = lua_gettop(L);
    if (len >= 512)
        return;
    padded = xmalloc(len + 512);
    memcpy(padded, input, len);
    memset(padded + len, ' ', 512);
    if (!rs_json_decode(L, padded, len + 512, err, sizeof err))
        die("decodes only without the key caches:", input, len);
    if (!same_value(L, top, top + 1, 0))
        die("decodes differently with the key caches:", input, len);
    lua_settop(L, top);
    free(padded);
}

static void check_one(lua_State *L, const char *input, size_t len)
{
    char err[160];
    int top = lua_gettop(L), decoded = rs_json_decode(L, input, len, err, sizeof err);
    if (lua_gettop(L) != top + decoded)
        die("the stack is off after a decode of", input, len);
    if (!decoded && (strchr(err, '\n') || strstr(err, " at byte ") == NULL))
        die(err, input, len);
    if (decoded) {
        check_cached(L, input, len);
        check_round_trip(L);
    }
    lua_settop(L, top);
}

static size_t load_seeds(char **seeds, size_t *lens, int argc, char **argv)
{
    size_t n = 0;
    int i;
    for (i = 0; i < (int)COUNT(builtin_seeds); i++, n++) {
        lens[n] = strlen(builtin_seeds[i]);
        seeds[n] = xmalloc(lens[n]);
        memcpy(seeds[n], builtin_seeds[i], lens[n]);
    }
    for (i = 2; i < argc && n < MAX_SEEDS; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (f == NULL)
            continue;
        seeds[n] = xmalloc(1 << 20);
        lens[n] = fread(seeds[n], 1, 1 << 20, f);
        fclose(f);
        n++;
    }
    return n;
}

int main(int argc, char **argv)
{
    char *seeds[MAX_SEEDS];
    size_t lens[MAX_SEEDS], nseeds, s;
    double seconds = argc > 1 ? atof(argv[1]) : 60;
    long inputs = 0;
    time_t start = time(NULL);
    lua_State *L = luaL_newstate();
    if (L == NULL)
        return 2;
    luaL_openlibs(L);
    lua_newtable(L);
    rs_json_open(L);
    lua_pop(L, 1);
    nseeds = load_seeds(seeds, lens, argc, argv);
    while (difftime(time(NULL), start) < seconds) {
        size_t pick = rnd() % nseeds, cap = lens[pick] + 512, len;
        char *work = xmalloc(cap), *exact;
        memcpy(work, seeds[pick], lens[pick]);
        len = mutate(work, lens[pick], cap);
        exact = xmalloc(len);
        memcpy(exact, work, len);
        check_one(L, exact, len);
        free(exact);
        free(work);
        if ((++inputs & 4095) == 0)
            lua_gc(L, LUA_GCCOLLECT);
    }
    printf("json_fuzz: %ld inputs in %.0f s, no findings\n", inputs, seconds);
    lua_close(L);
    for (s = 0; s < nseeds; s++)
        free(seeds[s]);
    return 0;
}
