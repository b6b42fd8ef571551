/*
 * hooks.c: the client's on_response and on_cookie hooks, called with
 * what a transfer saw once its exchange is over, outside libcurl
 * (rs_loop_take calls them before it hands out the result).
 */
#include "hooks.h"
#include "fleet.h"

/* Sets field rate_limit of the table on top to what client:rate_limit
 * gives for t's bucket now (its answers are in it), or leaves it out
 * when the bucket knows no limit.  The bucket is held until t's result
 * is made. */
static void push_bucket_view(lua_State *L, const rs_transfer *t)
{
    rs_bucket_view v;
    if (t->session == NULL || t->pace.entry == NULL)
        return;
    rs_bucket_view_at(&t->pace.entry->b, rs_now(), &v);
    if (!v.known)
        return;
    rs_pace_push_view(L, &v, t->pace.entry->queued, rs_fleet_shared(t->session));
    lua_setfield(L, -2, "rate_limit");
}

/* Pushes the on_response argument for attempt i of t. */
static void push_attempt_info(lua_State *L, const rs_transfer *t, int i)
{
    const rs_attempt *a = &t->attempts[i];
    const rs_session *s = t->session;
    lua_createtable(L, 0, 10);
    lua_pushstring(L, t->method);
    lua_setfield(L, -2, "method");
    if (s && t->service >= 0 && t->service < s->service_count) {
        lua_pushstring(L, s->services[t->service].name);
        lua_setfield(L, -2, "service");
    }
    lua_pushstring(L, t->url);
    lua_setfield(L, -2, "url");
    if (s && t->pace.entry) {   /* held: the buckets live until its result is made */
        lua_pushstring(L, t->pace.entry->key);
        lua_setfield(L, -2, "bucket");
    }
    if (a->status > 0) {
        lua_pushinteger(L, a->status);
        lua_setfield(L, -2, "status");
    }
    lua_pushinteger(L, i);
    lua_setfield(L, -2, "attempt");
    lua_pushnumber(L, a->seconds);
    lua_setfield(L, -2, "seconds");
    lua_pushinteger(L, (lua_Integer)a->bytes);
    lua_setfield(L, -2, "bytes");
    if (a->retry_in >= 0) {
        lua_pushnumber(L, a->retry_in);
        lua_setfield(L, -2, "retry_in");
    }
    push_bucket_view(L, t);
    if (a->error_kind) {
        lua_pushstring(L, a->error_kind);
        lua_setfield(L, -2, "error_kind");
    }
}

/* Calls the hook in field name of the hooks table at hooks with the value
 * on top (popped).  On an error, keeps the first one at *first (a stack
 * slot) and goes on. */
static void call_hook(lua_State *L, int hooks, const char *name, int *first)
{
    if (lua_getfield(L, hooks, name) != LUA_TFUNCTION) {
        lua_pop(L, 2);
        return;
    }
    lua_insert(L, -2);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        if (*first)
            lua_pop(L, 1);
        else
            *first = lua_gettop(L);
    }
}

/* Calls the hooks (the table at 1) with what t (light userdata at 2)
 * saw; returns whether one raised, and the first error.  Run protected:
 * the tables it builds may raise a memory error, and t must be settled
 * whatever happens here. */
static int run_hooks(lua_State *L)
{
    const rs_transfer *t = lua_touserdata(L, 2);
    int first = 0, i;
    for (i = 0; i < t->attempt_count; i++) {
        push_attempt_info(L, t, i);
        call_hook(L, 1, "on_response", &first);
    }
    if (t->new_cookie) {
        lua_pushstring(L, t->new_cookie);
        call_hook(L, 1, "on_cookie", &first);
    }
    lua_pushboolean(L, first != 0);
    if (first)
        lua_pushvalue(L, first);
    else
        lua_pushnil(L);
    return 2;
}

int rs_hooks_call(lua_State *L, const rs_transfer *t, int hooks)
{
    if (hooks == 0 || (t->attempt_count == 0 && t->new_cookie == NULL)
        || lua_type(L, hooks) != LUA_TTABLE)
        return 0;
    lua_pushcfunction(L, run_hooks);
    lua_pushvalue(L, hooks);
    lua_pushlightuserdata(L, (void *)t);     /* run_hooks only reads it */
    if (lua_pcall(L, 2, 2, 0) != LUA_OK)
        return 1;                   /* the memory error */
    if (lua_toboolean(L, -2)) {
        lua_remove(L, -2);
        return 1;
    }
    lua_pop(L, 2);
    return 0;
}
