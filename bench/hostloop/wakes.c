/*
 * wakes.c: the C host of the wake-up bench (bench/hostloop/README.md).
 *
 *   wakes LUA_DIR CPATH KIND MODE
 *
 * MODE fd: poll(2) on robloxsocial.pollfd() with robloxsocial.timeout() as
 * the timeout, then step(0); MODE timer: sleep next_timeout(), then
 * step(0) (the only way before the descriptor).  KIND is work.lua's.
 * Counts the wake-ups: each return from the wait that leads to a step.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

static void die(lua_State *L, const char *what)
{
    fprintf(stderr, "wakes: %s: %s\n", what, lua_tostring(L, -1));
    lua_close(L);
    _Exit(1);
}

/* Calls field name of the table at idx with nargs arguments on top. */
static void call(lua_State *L, int idx, const char *name, int nargs, int nres)
{
    lua_getfield(L, idx, name);
    lua_insert(L, -1 - nargs);
    if (lua_pcall(L, nargs, nres, 0) != LUA_OK)
        die(L, name);
}

int main(int argc, char **argv)
{
    lua_State *L;
    int fd = -1, by_fd, lib, work;
    if (argc != 5) {
        fprintf(stderr, "usage: %s LUA_DIR CPATH KIND fd|timer\n", argv[0]);
        return 2;
    }
    by_fd = strcmp(argv[4], "fd") == 0;
    L = luaL_newstate();
    luaL_openlibs(L);
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", argv[1], argv[1]);
    lua_getfield(L, -2, "path");
    lua_concat(L, 2);
    lua_setfield(L, -2, "path");
    lua_pushfstring(L, "%s;", argv[2]);
    lua_getfield(L, -2, "cpath");
    lua_concat(L, 2);
    lua_setfield(L, -2, "cpath");
    lua_pop(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "robloxsocial");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK)
        die(L, "require");
    lib = lua_gettop(L);
    if (luaL_dofile(L, "bench/hostloop/work.lua") != LUA_OK)
        die(L, "work.lua");
    work = lua_gettop(L);
    lua_pushstring(L, argv[3]);
    lua_pushfstring(L, "C, %s", by_fd ? "poll on pollfd" : "sleep next_timeout");
    call(L, work, "start", 2, 0);
    if (by_fd) {
        call(L, lib, "pollfd", 0, 1);
        fd = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
    }
    for (;;) {
        double wait;
        int ms;
        call(L, work, "done", 0, 1);
        if (lua_toboolean(L, -1))
            break;
        lua_pop(L, 1);
        call(L, lib, "timeout", 0, 1);
        wait = lua_isnil(L, -1) ? -1 : lua_tonumber(L, -1);
        lua_pop(L, 1);
        ms = wait < 0 ? (by_fd ? -1 : 1000) : (int)ceil(wait * 1000);
        if (by_fd) {
            struct pollfd p = { fd, POLLIN, 0 };
            (void)poll(&p, 1, ms);
        } else {
            struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
            nanosleep(&ts, NULL);
        }
        call(L, work, "wake", 0, 0);
        lua_pushnumber(L, 0);
        call(L, lib, "step", 1, 0);
    }
    lua_pop(L, 1);
    call(L, work, "report", 0, 0);
    lua_close(L);
    return 0;
}
