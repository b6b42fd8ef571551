/*
 * pacing_test.c: core.pacing_bucket(retry_delay) and core.pace_key, for
 * the specs only: one bucket of pacing.c driven on a virtual clock.
 *
 *   local b = core.pacing_bucket(1.0)
 *   b:seed(3, 10)                      -- rate_limits: 3 per 10 s
 *   b:delay(0)                         --> 0, or seconds, or math.huge (an answer)
 *   local q = b:send(0)                --> its number
 *   b:answer(q, 0.1, { limit = "3, 3;w=10", remaining = "2", reset = "10" })
 *   b:refused(q, 0.2, headers_or_nil, retry_after_or_nil, jitter)
 *   b:lost(q, 0.3)
 *   b:round_trip(q, 0.05)              -- before b:answer: the loop's measure
 *   b:view(now), b:state()
 */
#include <string.h>

#include "buckets.h"

#define PACING_TEST_MT "robloxsocial.PacingBucket"

static rs_bucket *check_bucket(lua_State *L)
{
    return luaL_checkudata(L, 1, PACING_TEST_MT);
}

static const char *header_field(lua_State *L, int t, const char *name)
{
    const char *v;
    lua_getfield(L, t, name);
    v = lua_tostring(L, -1);
    lua_pop(L, 1);              /* the table still holds it */
    return v ? v : "";
}

/* The headers table at idx ({ limit =, remaining =, reset = } strings),
 * parsed into r; r->has is 0 for nil. */
static const rs_rate *headers_at(lua_State *L, int idx, rs_rate *r)
{
    memset(r, 0, sizeof *r);
    if (lua_isnoneornil(L, idx))
        return r;
    luaL_checktype(L, idx, LUA_TTABLE);
    rs_rate_parse(r, header_field(L, idx, "limit"), header_field(L, idx, "remaining"),
                  header_field(L, idx, "reset"));
    return r;
}

static unsigned long long check_seq(lua_State *L, int idx)
{
    lua_Integer q = luaL_checkinteger(L, idx);
    luaL_argcheck(L, q > 0, idx, "a request number expected");
    return (unsigned long long)q;
}

static int pt_new(lua_State *L)
{
    double retry_delay = luaL_optnumber(L, 1, 1.0);
    rs_bucket *b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    luaL_setmetatable(L, PACING_TEST_MT);
    rs_bucket_init(b, retry_delay);
    return 1;
}

static int pt_gc(lua_State *L)
{
    rs_bucket_free(check_bucket(L));
    return 0;
}

static int pt_seed(lua_State *L)
{
    rs_bucket *b = check_bucket(L);
    lua_pushboolean(L, rs_bucket_seed(b, luaL_checknumber(L, 2), luaL_checknumber(L, 3)));
    return 1;
}

static int pt_delay(lua_State *L)
{
    lua_pushnumber(L, rs_bucket_delay(check_bucket(L), luaL_checknumber(L, 2)));
    return 1;
}

static int pt_send(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)rs_bucket_send(check_bucket(L), luaL_checknumber(L, 2)));
    return 1;
}

static int pt_answer(lua_State *L)
{
    rs_rate r;
    rs_bucket *b = check_bucket(L);
    rs_bucket_answer(b, check_seq(L, 2), luaL_checknumber(L, 3), headers_at(L, 4, &r),
                     lua_isnoneornil(L, 5) || lua_toboolean(L, 5));
    return 0;
}

static int pt_round_trip(lua_State *L)
{
    rs_bucket_round_trip(check_bucket(L), check_seq(L, 2), luaL_checknumber(L, 3));
    return 0;
}

static int pt_refused(lua_State *L)
{
    rs_rate r;
    rs_bucket *b = check_bucket(L);
    rs_bucket_refused(b, check_seq(L, 2), luaL_checknumber(L, 3), headers_at(L, 4, &r),
                      luaL_optnumber(L, 5, -1), luaL_optnumber(L, 6, 0));
    return 0;
}

static int pt_lost(lua_State *L)
{
    rs_bucket *b = check_bucket(L);
    rs_bucket_lost(b, check_seq(L, 2), luaL_checknumber(L, 3));
    return 0;
}

static void set_num(lua_State *L, const char *k, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static int pt_view(lua_State *L)
{
    rs_bucket_view v;
    int i;
    rs_bucket_view_at(check_bucket(L), luaL_checknumber(L, 2), &v);
    if (!v.known) {
        lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, 0, 6);
    set_num(L, "limit", v.limit);
    set_num(L, "remaining", v.remaining);
    set_num(L, "reset", v.reset);
    set_num(L, "window", v.window);
    set_num(L, "wait", v.wait);
    lua_createtable(L, v.windows, 0);
    for (i = 0; i < v.windows; i++) {
        lua_createtable(L, 2, 0);
        lua_pushnumber(L, v.window_list[i].limit);
        lua_rawseti(L, -2, 1);
        lua_pushnumber(L, v.window_list[i].seconds);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "windows");
    return 1;
}

static int pt_state(lua_State *L)
{
    rs_bucket *b = check_bucket(L);
    lua_createtable(L, 0, 10);
    lua_pushboolean(L, b->free);
    lua_setfield(L, -2, "free");
    lua_pushboolean(L, b->token);
    lua_setfield(L, -2, "token");
    set_num(L, "in_flight", b->in_flight);
    set_num(L, "sent", (double)b->sent);
    lua_pushboolean(L, b->probe);
    lua_setfield(L, -2, "probe");
    set_num(L, "closed_until", b->closed_until);
    set_num(L, "backoffs", b->backoffs);
    if (b->has_cap) {
        set_num(L, "cap", (double)b->cap);
        set_num(L, "cap_until", b->cap_until);
    }
    if (b->has_learnt) {
        lua_createtable(L, 2, 0);
        lua_pushnumber(L, b->learnt.limit);
        lua_rawseti(L, -2, 1);
        lua_pushnumber(L, b->learnt.seconds);
        lua_rawseti(L, -2, 2);
        lua_setfield(L, -2, "learnt");
    }
    set_num(L, "log", b->log_cap);
    if (b->fw) {                /* the fixed window learnt of an endpoint that says nothing */
        lua_createtable(L, 0, 4);
        set_num(L, "limit", b->fw_limit);
        set_num(L, "seconds", b->fw_seconds);
        set_num(L, "open", b->fw_open);
        set_num(L, "used", b->fw_used);
        lua_setfield(L, -2, "fixed");
    }
    lua_pushboolean(L, b->fw_banned);
    lua_setfield(L, -2, "fixed_given_up");
    set_num(L, "rtt", b->rtt_min);
    return 1;
}

/* core.pace_key(method, service, path[, tail]): the key of the bucket,
 * as a client finds it (tail: the id form, head .. id .. tail). */
static int pt_key(lua_State *L)
{
    rs_pace_table pt;
    rs_pace_entry *e;
    memset(&pt, 0, sizeof pt);
    e = rs_pace_find(&pt, luaL_checkstring(L, 1), luaL_checkstring(L, 2),
                     luaL_checkstring(L, 3), luaL_optstring(L, 4, NULL));
    if (e)
        lua_pushstring(L, e->key);
    rs_pace_release(&pt);
    if (e == NULL)
        return luaL_error(L, "not enough memory");
    return 1;
}

/* core.pace_keys{ { method, service, path[, tail] }, ... }: the keys of
 * each, found in turn in one client's table (as a client finds them,
 * the last one found first); the table's count of buckets second. */
static int pt_keys(lua_State *L)
{
    rs_pace_table pt;
    lua_Integer i, n;
    int ok = 1;
    luaL_checktype(L, 1, LUA_TTABLE);
    n = luaL_len(L, 1);
    memset(&pt, 0, sizeof pt);
    lua_createtable(L, (int)n, 0);
    for (i = 1; i <= n && ok; i++) {
        rs_pace_entry *e;
        const char *f[4];
        int k;
        lua_geti(L, 1, i);
        for (k = 0; k < 4; k++) {
            lua_geti(L, -1 - k, k + 1);
            f[k] = lua_tostring(L, -1);
        }
        ok = f[0] && f[1] && f[2];
        e = ok ? rs_pace_find(&pt, f[0], f[1], f[2], f[3]) : NULL;
        if (e)
            lua_pushstring(L, e->key);
        else
            lua_pushnil(L);
        lua_rawseti(L, -7, i);
        lua_pop(L, 5);
    }
    lua_pushinteger(L, pt.count);
    rs_pace_release(&pt);
    return 2;
}

static const luaL_Reg pt_methods[] = {
    {"seed", pt_seed}, {"delay", pt_delay}, {"send", pt_send}, {"answer", pt_answer},
    {"refused", pt_refused}, {"lost", pt_lost}, {"view", pt_view}, {"state", pt_state},
    {"round_trip", pt_round_trip},
    {NULL, NULL}
};

void rs_pacing_test_open(lua_State *L)
{
    if (luaL_newmetatable(L, PACING_TEST_MT)) {
        luaL_newlib(L, pt_methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, pt_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, pt_new);
    lua_setfield(L, -2, "pacing_bucket");
    lua_pushcfunction(L, pt_key);
    lua_setfield(L, -2, "pace_key");
    lua_pushcfunction(L, pt_keys);
    lua_setfield(L, -2, "pace_keys");
}
