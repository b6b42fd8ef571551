/*
 * ratelimit.c: what a service says of its limits.  Parses the
 * x-ratelimit-limit, -remaining and -reset headers (a limit header may
 * hold several windows: "1000, 1000;w=60, 50;w=1"), pushes them as the
 * contract's table.  Plain functions of strings: no libcurl, no
 * transfer.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rs.h"
#include "pacing.h"

/* A number at *p (after blanks): digits with an optional fraction, read
 * by hand because strtod costs more than the rest of the header work
 * together; anything else (an exponent, a sign) goes to strtod.  Advances
 * *p; returns 0 if there is none. */
static int read_number(const char **p, double *out)
{
    const char *s = *p;
    double v = 0, scale = 1;
    int digits = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    for (; *s >= '0' && *s <= '9' && digits < 15; s++, digits++)
        v = v * 10 + (*s - '0');
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9' && digits < 15; s++, digits++)
            v += (*s - '0') * (scale /= 10);
    if (digits > 0 && !((*s >= '0' && *s <= '9') || *s == 'e' || *s == 'E')) {
        *out = v;
        *p = s;
        return 1;
    }
    {
        char *end;
        s = *p;
        v = strtod(s, &end);
        if (end == s || v != v || v < 0 || v > 1e15)
            return 0;
        *out = v;
        *p = end;
        return 1;
    }
}

/* The "w=S" parameter of the element at p (up to the next comma), or 0. */
static double window_of(const char *p)
{
    double w;
    for (; *p && *p != ','; p++)
        if (p[0] == 'w' && p[1] == '=' ) {
            const char *v = p + 2;
            return read_number(&v, &w) ? w : 0;
        }
    return 0;
}

int rs_rate_parse(rs_rate *r, const char *limit, const char *remaining, const char *reset)
{
    const char *p = limit;
    int first = 1;
    memset(r, 0, sizeof *r);
    if (!read_number(&remaining, &r->remaining))
        return 0;
    if (!read_number(&reset, &r->reset))
        r->reset = 0;
    /* Elements "N" or "N;w=S", comma-separated; the first is the limit of
     * now, each with a window is a window. */
    for (;;) {
        double n, w;
        if (read_number(&p, &n)) {
            if (first)
                r->limit = n;
            w = window_of(p);
            if (w > 0 && r->windows < RS_RATE_WINDOWS) {
                r->window[r->windows].limit = n;
                r->window[r->windows].seconds = w;
                r->windows++;
            }
        } else if (first)
            return 0;
        first = 0;
        if ((p = strchr(p, ',')) == NULL)
            break;
        p++;
    }
    r->has = 1;
    return 1;
}

static void push_number(lua_State *L, double v)
{
    if (v == floor(v) && v <= 9007199254740992.0)
        lua_pushinteger(L, (lua_Integer)v);
    else
        lua_pushnumber(L, (lua_Number)v);
}

static void set_number(lua_State *L, const char *field, double v)
{
    push_number(L, v);
    lua_setfield(L, -2, field);
}

/* Sets field windows of the table on top to { {limit, seconds}, ... }. */
static void set_windows(lua_State *L, const rs_window *w, int n)
{
    int i;
    lua_createtable(L, n, 0);
    for (i = 0; i < n; i++) {
        lua_createtable(L, 2, 0);
        push_number(L, w[i].limit);
        lua_rawseti(L, -2, 1);
        push_number(L, w[i].seconds);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "windows");
}

void rs_rate_push(lua_State *L, const rs_rate *r, double age)
{
    luaL_checkstack(L, 4, "robloxsocial: rate limit");
    lua_createtable(L, 0, 5);
    set_number(L, "limit", r->limit);
    set_number(L, "remaining", r->remaining);
    set_number(L, "reset", r->reset);
    if (age >= 0)
        lua_pushnumber(L, age), lua_setfield(L, -2, "age");
    set_windows(L, r->window, r->windows);
}


void rs_pace_push_view(lua_State *L, const rs_bucket_view *v, int queued, int shared)
{
    luaL_checkstack(L, 4, "robloxsocial: rate limit");
    lua_createtable(L, 0, 7);
    set_number(L, "limit", v->limit);
    set_number(L, "remaining", v->remaining);
    set_number(L, "reset", v->reset);
    if (v->window > 0)
        set_number(L, "window", v->window);
    set_windows(L, v->window_list, v->windows);
    lua_pushinteger(L, queued);
    lua_setfield(L, -2, "queued");
    lua_pushboolean(L, shared);
    lua_setfield(L, -2, "shared");
}
