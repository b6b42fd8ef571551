/*
 * host.c: the face of the loop that a host's own event loop sees.
 * core.pollfd() is the descriptor of poll.c, readable when step has work;
 * core.strict(on) makes a call that would block raise instead (for hosts
 * where blocking the loop is a bug: a luv or cqueues callback).
 */
#include <errno.h>
#include <string.h>

#include "host.h"

void rs_host_check_strict(lua_State *L, rs_loop *lp, const char *what)
{
    if (lp->strict)
        luaL_error(L, "robloxsocial: %s would block the host's loop (robloxsocial.strict is on):"
                      " make it inside a task (robloxsocial.spawn)", what);
}

/* core.pollfd(): the descriptor and whether it shows everything (false in
 * poll.c's portable fallback: then wake after timeout() too), or nil and
 * the system's reason. */
static int host_pollfd(lua_State *L)
{
    rs_loop *lp = rs_loop_get(L);
    int fd = rs_poll_fd(&lp->poll);
    if (fd < 0) {
        luaL_pushfail(L);
        lua_pushfstring(L, "robloxsocial: no descriptor for the host's loop: %s", strerror(errno));
        return 2;
    }
    /* Readable once: the host's first step settles it (work now or not). */
    rs_poll_wake(&lp->poll);
    lua_pushinteger(L, fd);
    lua_pushboolean(L, rs_poll_complete(&lp->poll));
    return 2;
}

/* core.strict([on]): whether strict mode was on; a boolean sets it. */
static int host_strict(lua_State *L)
{
    rs_loop *lp = rs_loop_get(L);
    int was = lp->strict;
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TBOOLEAN);
        lp->strict = lua_toboolean(L, 1);
    }
    lua_pushboolean(L, was);
    return 1;
}

/* core.check_strict(what): rs_host_check_strict for the Lua layer (a
 * sleep outside a task). */
static int host_check_strict(lua_State *L)
{
    rs_host_check_strict(L, rs_loop_get(L), luaL_checkstring(L, 1));
    return 0;
}

static const luaL_Reg host_functions[] = {
    {"pollfd", host_pollfd},
    {"strict", host_strict},
    {"check_strict", host_check_strict},
    {NULL, NULL}
};

void rs_host_open(lua_State *L)
{
    luaL_setfuncs(L, host_functions, 0);
}
