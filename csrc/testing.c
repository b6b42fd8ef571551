/*
 * testing.c: core.fail_alloc_after(n), for the specs only: makes the n-th
 * allocation from now that grows the Lua state's memory fail, the way it
 * fails when memory runs out.  Inert until called.
 *
 * Lua answers a failed allocation with an emergency collection and one
 * more try; both fail here, so the caller sees a memory error.  Then the
 * state's own allocator is back.  One state at a time (a static): the
 * specs need no more.
 */
#include "rs.h"
#include "fleet_key.h"
#include "store.h"

static struct {
    lua_Alloc f;            /* the state's own allocator, while armed */
    void *ud;
    lua_State *L;
    long left;              /* growing allocations before the failure */
    int failing;            /* 2: the failure and Lua's retry */
} armed;

static void disarm(void)
{
    if (armed.L != NULL)
        lua_setallocf(armed.L, armed.f, armed.ud);
    armed.L = NULL;
    armed.failing = 0;
}

static void *failing_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    int grows = nsize > (ptr ? osize : 0);
    (void)ud;
    if (grows && armed.failing == 0 && --armed.left <= 0)
        armed.failing = 2;
    if (grows && armed.failing > 0) {
        if (--armed.failing == 0) {
            disarm();           /* the failure is over: the state's own allocator again */
            armed.left = -1;    /* tells fail_alloc_after(nil) that it fired */
        }
        return NULL;
    }
    return armed.f(armed.ud, ptr, osize, nsize);
}

/* core.fail_alloc_after(n): arms the failure of the n-th growing
 * allocation; core.fail_alloc_after(nil) disarms it and returns whether
 * it fired since it was armed. */
static int testing_fail_alloc_after(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        int fired = armed.L == NULL && armed.left == -1;
        disarm();
        armed.left = 0;
        lua_pushboolean(L, fired);
        return 1;
    }
    disarm();
    armed.left = (long)luaL_checkinteger(L, 1);
    luaL_argcheck(L, armed.left > 0, 1, "a positive count expected");
    armed.f = lua_getallocf(L, &armed.ud);
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    armed.L = lua_tothread(L, -1);      /* lives as long as the state */
    lua_pop(L, 1);
    lua_setallocf(L, failing_alloc, NULL);
    return 0;
}

void rs_testing_open(lua_State *L)
{
    lua_pushcfunction(L, testing_fail_alloc_after);
    lua_setfield(L, -2, "fail_alloc_after");
    rs_pacing_test_open(L);
    rs_fleet_key_open(L);
    rs_store_open_test(L);
}
