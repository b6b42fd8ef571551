/*
 * loop_lua.c: the loop as Lua sees it (loop.c is the loop itself): the
 * loop userdata of a Lua state, core.progress, core.now and the loop's
 * stats, and the transfer userdata (its result, cancel, withdraw, adopt,
 * done, __gc), with spend(), the one way out of a transfer.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "loop.h"
#include "loop_int.h"
#include "loop_lists.h"

/* Registry key of the loop userdata.  The anchor table, which keeps
 * transfers alive while libcurl or a queue points at them, is in the
 * registry too, at lp->anchors. */
static const char loop_key = 'L';

#define RS_LOOP_MT "robloxsocial.Loop"

rs_loop *rs_loop_get(lua_State *L)
{
    rs_loop *lp;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &loop_key);
    lp = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return lp;
}

/* ---- the Lua face --------------------------------------------------------- */

/* The one way out of a transfer, for a result taken, a release and
 * __gc alike: t leaves its client's members, lets go of its session,
 * frees its buffers and is spent.  Idempotent, never raises. */
static void spend(rs_transfer *t)
{
    rs_transfer_unhold(t);      /* a take that failed before its result was made */
    rs_loop_unlink_member(t);
    t->session = NULL;
    if (!rs_transfer_is_spent(t)) {     /* a result taken freed them already */
        rs_transfer_free_buffers(t);
        t->state = RS_T_SPENT;
    }
}

/* Pushes the result of t (light userdata at 1); run protected by
 * rs_loop_take, so that its count of takes is right whatever happens. */
static int push_result(lua_State *L)
{
    return rs_transfer_push_result(L, lua_touserdata(L, 1));
}

int rs_loop_take(lua_State *L, rs_loop *lp, rs_transfer *t, int hooks)
{
    int n, failed, status, base;
    rs_loop_wait(lp, t);
    unlist(lp, t);
    rs_loop_unlink_member(t);
    rs_loop_unanchor(L, lp, t);
    /* The hooks, and the finalizers that run while the result is built,
     * may not step: the scheduler checks this count. */
    lp->taking++;
    rs_transfer_hold(t);        /* a hook that closes the client leaves the error its secrets */
    failed = rs_hooks_call(L, t, hooks);
    base = lua_gettop(L);
    lua_pushcfunction(L, push_result);
    lua_pushlightuserdata(L, t);
    status = lua_pcall(L, 1, LUA_MULTRET, 0);
    lp->taking--;
    spend(t);       /* already, unless the call failed before it ran: then the hold goes here */
    if (status != LUA_OK)
        return lua_error(L);
    n = lua_gettop(L) - base;
    if (failed) {
        lua_pop(L, n);
        return lua_error(L);   /* a hook's error, once the request is settled */
    }
    return n;
}

#define check_transfer rs_loop_check_transfer

/* core.result(t): the decoded body, or nil and the error; drives the loop
 * until t is over.  A result is handed out once. */
static int transfer_result(lua_State *L)
{
    rs_transfer *t = check_transfer(L, 1);
    luaL_argcheck(L, t->state != RS_T_SPENT, 1, "its result was already taken");
    lua_settop(L, 1);
    lua_getiuservalue(L, 1, 1);         /* its client */
    lua_getiuservalue(L, 2, 1);         /* whose hooks, or nil */
    return rs_loop_take(L, rs_loop_get(L), t, 3);
}

void rs_loop_abandon(lua_State *L, rs_loop *lp, rs_transfer *t)
{
    if (t == NULL || t->state == RS_T_SPENT)    /* NULL: a box whose making failed */
        return;
    rs_loop_cancel(lp, t);
    unlist(lp, t);
    rs_loop_unanchor(L, lp, t);
}

void rs_loop_release(lua_State *L, rs_loop *lp, rs_transfer *t)
{
    rs_loop_abandon(L, lp, t);
    spend(t);
}

/* core.cancel(t): abandons t; its result becomes a "cancelled" error. */
static int transfer_cancel(lua_State *L)
{
    rs_loop_abandon(L, rs_loop_get(L), check_transfer(L, 1));
    return 0;
}

/* core.withdraw(t): cancels t if it is still waiting for a slot; returns
 * whether it did.  A batch that failed starts no further request. */
static int transfer_withdraw(lua_State *L)
{
    rs_transfer *t = check_transfer(L, 1);
    int queued = t->state == RS_T_QUEUED;
    if (queued)
        transfer_cancel(L);
    lua_pushboolean(L, queued);
    return 1;
}

/* core.adopt(t): a transfer of core.start_blocking that a task is about
 * to wait for (a prefetched page of an iterator started outside a task,
 * continued in one) becomes one the loop lists when over, anchored until
 * its result is taken.  Any other transfer is left as it is. */
static int transfer_adopt(lua_State *L)
{
    rs_transfer *t = check_transfer(L, 1);
    rs_loop *lp = rs_loop_get(L);
    if (!t->blocking || t->state == RS_T_SPENT)
        return 0;
    lua_settop(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, lp->anchors);
    lua_pushvalue(L, 1);
    t->ref = luaL_ref(L, 2);        /* may raise: nothing changed yet */
    t->blocking = 0;
    if (rs_loop_is_over(t))
        list_done(lp, t);
    return 0;
}

static int transfer_done(lua_State *L)
{
    lua_pushboolean(L, rs_loop_is_over(check_transfer(L, 1)));
    return 1;
}

/* __gc: a transfer is collected only once nothing points at it (the loop
 * anchors it while it moves), or when the Lua state closes. */
static int transfer__gc(lua_State *L)
{
    rs_transfer **box = luaL_checkudata(L, 1, RS_TRANSFER_MT), *t = *box;
    rs_loop *lp = rs_loop_get(L);
    if (lp)
        lp->transfers--;
    if (t == NULL)
        return 0;
    *box = NULL;
    if (lp) {
        rs_loop_cancel(lp, t);
        unlist(lp, t);
    }
    t->ref = LUA_NOREF;     /* the anchor table held no collected value */
    spend(t);
    rs_loop_give_transfer(lp, t);
    return 0;
}

static int transfer__tostring(lua_State *L)
{
    static const char *const names[] = {
        "queued", "running", "delayed", "finished", "cancelled", "spent"
    };
    rs_transfer *t = check_transfer(L, 1);
    lua_pushfstring(L, "robloxsocial.Transfer (%s)", names[t->state]);
    return 1;
}

/* Seconds a timeout argument allows: nil is 0, negatives are 0. */
static double opt_seconds(lua_State *L, int idx)
{
    lua_Number n = luaL_optnumber(L, idx, 0);
    return n > 0 ? (double)n : 0;
}

rs_transfer *rs_loop_pop_done(lua_State *L, rs_loop *lp)
{
    while (lp->done_head) {
        rs_transfer *t = lp->done_head;
        unlist(lp, t);
        if (t->ref == LUA_NOREF)
            continue;
        lua_rawgeti(L, LUA_REGISTRYINDEX, lp->anchors);
        lua_rawgeti(L, -1, t->ref);
        lua_remove(L, -2);
        return t;
    }
    return NULL;
}

/* core.progress([timeout]): moves every transfer, like a blocking call
 * does; finished transfers stay listed for the scheduler. */
static int loop_progress(lua_State *L)
{
    rs_loop *lp = rs_loop_get(L);
    rs_loop_progress(lp, opt_seconds(L, 1));
    rs_poll_flush_extras(&lp->poll);        /* a fleet's writes, as a step's end */
    return 0;
}

/* core.stats(): counts for tests and leak checks. */
static int loop_stats(lua_State *L)
{
    rs_loop *lp = rs_loop_get(L);
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, lp->live);
    lua_setfield(L, -2, "in_flight");
    lua_pushinteger(L, lp->on_network);
    lua_setfield(L, -2, "on_network");
    lua_pushinteger(L, lp->transfers);
    lua_setfield(L, -2, "transfers");
    lua_pushinteger(L, lp->sessions);
    lua_setfield(L, -2, "sessions");
    return 1;
}

/* core.now(): monotonic seconds, the clock of the loop's timers. */
static int loop_now(lua_State *L)
{
    lua_pushnumber(L, rs_now());
    return 1;
}

static int loop__gc(lua_State *L)
{
    rs_loop *lp = luaL_checkudata(L, 1, RS_LOOP_MT);
    if (lp->multi) {
        curl_multi_cleanup(lp->multi);
        lp->multi = NULL;
    }
    rs_poll_free(&lp->poll);
    rs_timers_free(&lp->timers);
    rs_loop_free_kept(lp);
    return 0;
}

static const luaL_Reg loop_functions[] = {
    {"progress", loop_progress},
    {"stats", loop_stats},
    {"now", loop_now},
    {"withdraw", transfer_withdraw},
    {"result", transfer_result},
    {"cancel", transfer_cancel},
    {"done", transfer_done},
    {"adopt", transfer_adopt},
    {NULL, NULL}
};

void rs_loop_open(lua_State *L)
{
    rs_loop *lp;
    luaL_newmetatable(L, RS_TRANSFER_MT);
    lua_pushcfunction(L, transfer__gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, transfer__tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &loop_key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lp = lua_newuserdatauv(L, sizeof *lp, 0);
        memset(lp, 0, sizeof *lp);
        rs_poll_init(&lp->poll, NULL);  /* no descriptor yet: __gc closes none */
        luaL_newmetatable(L, RS_LOOP_MT);
        lua_pushcfunction(L, loop__gc);
        lua_setfield(L, -2, "__gc");
        lua_setmetatable(L, -2);
        lua_newtable(L);
        lp->anchors = luaL_ref(L, LUA_REGISTRYINDEX);
        lp->multi = curl_multi_init();
        if (lp->multi == NULL
            || curl_multi_setopt(lp->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX) != CURLM_OK)
            luaL_error(L, "robloxsocial: libcurl could not create a multi handle");
        rs_poll_init(&lp->poll, lp->multi);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &loop_key);
    } else
        lua_pop(L, 1);
    luaL_setfuncs(L, loop_functions, 0);
}
