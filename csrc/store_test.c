/*
 * store_test.c: core.fleet_store(url, timeout), a store (store.h) on
 * this state's loop for the specs: store:wait_up(seconds),
 * store:take(key, windows[, flight[, want]]) ("go", the first share's name
 * and how many were granted, or "wait", seconds, or "down"),
 * store:record(key, member, refused, seconds[, remaining, reset[, windows[, limit[, queued]]]])
 * (with queued, the bytes unsent after the record and after the flush),
 * store:release(key, member, first, last), store:up(), store:close().  Each call drives the loop until the store
 * has answered, bounded by the store's own timeout.
 */
#include <math.h>

#include "rs.h"
#include "loop.h"
#include "session.h"
#include "store.h"

#define STORE_TEST_MT "robloxsocial.FleetStoreTest"

typedef struct {
    rs_store *s;
    rs_loop *lp;
} store_box;

typedef struct {
    int done, verdict, shares;
    double wait;
    char member[RS_STORE_MEMBER_MAX + 8];
} answer;

static store_box *check_box(lua_State *L)
{
    store_box *b = luaL_checkudata(L, 1, STORE_TEST_MT);
    luaL_argcheck(L, b->s != NULL, 1, "closed store");
    return b;
}

/* Drives the loop for at most seconds, or until *flag is set. */
static void drive(store_box *b, double seconds, const int *flag, int want_up)
{
    double end = rs_now() + seconds;
    while (rs_now() < end && !(flag && *flag) && !(want_up && rs_store_up(b->s))) {
        double t = rs_store_tick(b->s, rs_now());
        double left = end - rs_now();
        rs_loop_progress(b->lp, t < left ? (t < 0.05 ? t : 0.05) : (left < 0.05 ? left : 0.05));
    }
}

static int st_wait_up(lua_State *L)
{
    store_box *b = check_box(L);
    drive(b, luaL_checknumber(L, 2), NULL, 1);
    lua_pushboolean(L, rs_store_up(b->s));
    return 1;
}

static void on_answer(void *arg, int verdict, double wait, const char *member, int shares)
{
    answer *a = arg;
    a->done = 1;
    a->verdict = verdict;
    a->wait = wait;
    a->shares = shares;
    if (verdict == RS_STORE_GO)             /* the first share's name */
        snprintf(a->member, sizeof a->member, "%s.1", member);
}

/* The windows { {limit, seconds}, ... } at idx (none: nil) into w. */
static int windows_of(lua_State *L, int idx, rs_window *w)
{
    int n = 0;
    if (lua_isnoneornil(L, idx))
        return 0;
    luaL_checktype(L, idx, LUA_TTABLE);
    for (; n < RS_RATE_WINDOWS && lua_rawgeti(L, idx, n + 1) == LUA_TTABLE; n++) {
        lua_rawgeti(L, -1, 1);
        lua_rawgeti(L, -2, 2);
        w[n].limit = luaL_checknumber(L, -2);
        w[n].seconds = luaL_checknumber(L, -1);
        lua_pop(L, 3);
    }
    lua_pop(L, 1);
    return n;
}

static int st_take(lua_State *L)
{
    store_box *b = check_box(L);
    const char *key = luaL_checkstring(L, 2);
    rs_window w[RS_RATE_WINDOWS];
    answer a = {0, 0, 0, 0, ""};
    int n;
    luaL_checktype(L, 3, LUA_TTABLE);
    n = windows_of(L, 3, w);
    if (rs_store_take(b->s, key, w, n, luaL_optnumber(L, 4, 60), (int)luaL_optinteger(L, 5, 1),
                      on_answer, &a) != 0) {
        lua_pushliteral(L, "down");
        return 1;
    }
    drive(b, 3600, &a.done, 0);     /* the store's timeout ends it first */
    if (!a.done)
        return luaL_error(L, "robloxsocial: fleet store: no answer");
    lua_pushstring(L, a.verdict == RS_STORE_GO ? "go" : a.verdict == RS_STORE_WAIT ? "wait" : "down");
    if (a.verdict == RS_STORE_WAIT)
        lua_pushnumber(L, a.wait);
    else
        lua_pushstring(L, a.member);
    lua_pushinteger(L, a.shares);
    return 3;
}

static int st_record(lua_State *L)
{
    store_box *b = check_box(L);
    rs_window w[RS_RATE_WINDOWS];
    rs_store_answer a = {0, 1, -1, -1, -1, w, 0};
    a.refused = lua_toboolean(L, 4);
    a.retry_after = luaL_optnumber(L, 5, 1);
    a.remaining = luaL_optnumber(L, 6, -1);
    a.reset = luaL_optnumber(L, 7, -1);
    a.windows = windows_of(L, 8, w);
    a.limit = luaL_optnumber(L, 9, -1);
    rs_store_record(b->s, luaL_checkstring(L, 2), luaL_checkstring(L, 3), &a);
    if (lua_toboolean(L, 10))       /* queued: the bytes still unsent */
        lua_pushinteger(L, (lua_Integer)rs_store_unsent(b->s));
    rs_poll_flush_extras(&b->lp->poll);     /* as the loop's judging of a step's answers ends */
    drive(b, 0.2, NULL, 0);         /* lets the answer come */
    if (!lua_toboolean(L, 10))
        lua_pushinteger(L, 0);
    lua_pushinteger(L, (lua_Integer)rs_store_unsent(b->s));
    return 2;
}

static int st_release(lua_State *L)
{
    store_box *b = check_box(L);
    rs_store_release(b->s, luaL_checkstring(L, 2), luaL_checkstring(L, 3),
                     (int)luaL_checkinteger(L, 4), (int)luaL_checkinteger(L, 5));
    rs_poll_flush_extras(&b->lp->poll);     /* as a step's end */
    drive(b, 0.2, NULL, 0);
    return 0;
}

static int st_up(lua_State *L)
{
    lua_pushboolean(L, rs_store_up(check_box(L)->s));
    return 1;
}

static int st_close(lua_State *L)
{
    store_box *b = luaL_checkudata(L, 1, STORE_TEST_MT);
    rs_store_close(b->s);
    b->s = NULL;
    return 0;
}

static int fleet_store(lua_State *L)
{
    const char *url = luaL_checkstring(L, 1);
    double timeout = luaL_optnumber(L, 2, 1);
    store_box *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->s = NULL;
    b->lp = rs_loop_get(L);
    luaL_setmetatable(L, STORE_TEST_MT);
    if ((b->s = rs_store_open(&b->lp->poll, url, timeout, NULL, NULL)) == NULL)
        return luaL_argerror(L, 1, "a Redis URL expected");
    return 1;
}

void rs_store_open_test(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"wait_up", st_wait_up}, {"take", st_take}, {"record", st_record},
        {"release", st_release},
        {"up", st_up}, {"close", st_close}, {NULL, NULL}};
    if (luaL_newmetatable(L, STORE_TEST_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, st_close);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, fleet_store);
    lua_setfield(L, -2, "fleet_store");
}
