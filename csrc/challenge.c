/*
 * challenge.c: a challenge (403 with rblx-challenge-id / -type): whether
 * an answer is one, and its rblx-challenge-metadata, base64 of JSON,
 * decoded for the error.  A challenge is never retried and never taken
 * for the csrf handshake.
 */
#include <string.h>

#include "rs.h"

int rs_challenge_is(long status, const char *id, const char *type)
{
    return status == 403 && (id[0] || type[0]);
}

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Decodes base64 (standard or URL alphabet, padding optional) into out,
 * which holds at least 3/4 of len; returns the length, or -1. */
static long b64_decode(const char *s, size_t len, char *out)
{
    unsigned long acc = 0;
    int bits = 0;
    long n = 0;
    size_t i;
    for (i = 0; i < len; i++) {
        int v;
        if (s[i] == '=')
            break;
        if ((v = b64_value((unsigned char)s[i])) < 0)
            return -1;
        acc = (acc << 6) | (unsigned long)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    return n;
}

void rs_push_challenge_metadata(lua_State *L, const char *b64)
{
    size_t len = b64 ? strlen(b64) : 0;
    char err[64];
    luaL_Buffer b;
    long n;
    char *out;
    if (len == 0) {
        lua_pushnil(L);
        return;
    }
    out = luaL_buffinitsize(L, &b, len);
    n = b64_decode(b64, len, out);
    if (n < 0) {
        luaL_pushresultsize(&b, 0);
        lua_pop(L, 1);
        lua_pushnil(L);
        return;
    }
    luaL_pushresultsize(&b, (size_t)n);
    if (rs_json_decode(L, lua_tostring(L, -1), (size_t)n, err, sizeof err))
        lua_remove(L, -2);
    else {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
}
