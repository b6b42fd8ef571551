/*
 * host.c: a C program that embeds Lua 5.4 and robloxsocial the way a game
 * engine does (README "Embedding in a C host").  It runs a script that
 * spawns tasks, then drives them from a 60 Hz frame loop: each frame calls
 * robloxsocial.step(0), which never waits, and spends the rest of the
 * frame in poll(2) on robloxsocial.pollfd()'s descriptor, bounded by
 * robloxsocial.timeout(), stepping again whenever it wakes before the
 * frame is over (README "Inside a host's event loop").
 *
 *   build/host LUA_DIR SCRIPT                the core linked in
 *   build/host_module LUA_DIR SCRIPT CPATH   the core loaded from core.so
 *
 * LUA_DIR is the checkout's lua/ folder (the pure-Lua layer), SCRIPT
 * returns a function the host calls at the end (it returns how many
 * things failed), CPATH is a package.cpath that finds robloxsocial/core.so.
 * `make host-example` runs both against the sandbox.  The exit status is
 * non-zero when anything failed.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, poll */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include <curl/curl.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#ifndef RS_HOST_LOADS_MODULE
/* From librobloxsocial_core.a: the module's only exported function. */
int luaopen_robloxsocial_core(lua_State *L);
#endif

#define FRAME_SECONDS (1.0 / 60)
#define MAX_FRAMES (60 * 30) /* the tasks have 30 s; after that the host gives up */

struct frame_stats {
    long frames;        /* frames run */
    long steps;         /* step(0) calls: one a frame, more when next_timeout asked */
    long overruns;      /* frames whose work took longer than the frame */
    long woken;         /* times poll() returned with the descriptor readable */
    double worst_step;  /* seconds: the longest step(0) */
    double worst_work;  /* seconds: the longest frame's own work (its first step(0) and the game's) */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The message handler of every lua_pcall here: the error with a traceback. */
static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL)
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Calls the function under its nargs arguments at the top of the stack
 * with nresults results; on an error prints it and returns 0. */
static int call_n(lua_State *L, int nargs, int nresults, const char *what)
{
    int base = lua_gettop(L) - nargs;
    int rc;
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    rc = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    if (rc != LUA_OK) {
        fprintf(stderr, "host: %s: %s\n", what, lua_tostring(L, -1));
        lua_pop(L, 1);
        return 0;
    }
    return 1;
}

/* The same with one result. */
static int call(lua_State *L, int nargs, const char *what)
{
    return call_n(L, nargs, 1, what);
}

/* robloxsocial.step(0), timed.  Returns the number of tasks not done, or
 * -1 after an error.  lib is the stack index of the robloxsocial table. */
static lua_Integer step(lua_State *L, int lib, struct frame_stats *st)
{
    double start = now(), spent;
    lua_Integer pending;
    int isnum;
    lua_getfield(L, lib, "step");
    lua_pushnumber(L, 0);
    if (!call(L, 1, "robloxsocial.step"))
        return -1;
    spent = now() - start;
    st->steps++;
    if (spent > st->worst_step)
        st->worst_step = spent;
    pending = lua_tointegerx(L, -1, &isnum);
    lua_pop(L, 1);
    if (!isnum)
        fprintf(stderr, "host: robloxsocial.step did not return a count\n");
    return isnum ? pending : -1;
}

/* robloxsocial.timeout(): seconds until step has work even if the
 * descriptor stays quiet; -1 when it says nil (no such time), -2 after an
 * error. */
static double lib_timeout(lua_State *L, int lib)
{
    double seconds;
    lua_getfield(L, lib, "timeout");
    if (!call(L, 0, "robloxsocial.timeout"))
        return -2;
    seconds = lua_isnil(L, -1) ? -1 : lua_tonumber(L, -1);
    lua_pop(L, 1);
    return seconds;
}

/* robloxsocial.pollfd(): the descriptor that is readable when step has
 * work, or -1 after an error.  Asked once, before the first step: it
 * moves the library to libcurl's socket interface.  Its second result
 * (false: the portable fallback, whose descriptor does not show libcurl's
 * sockets) needs nothing more here: timeout() bounds every wait. */
static int lib_pollfd(lua_State *L, int lib)
{
    int isnum;
    lua_Integer fd;
    lua_getfield(L, lib, "pollfd");
    if (!call_n(L, 0, 2, "robloxsocial.pollfd"))
        return -1;
    fd = lua_tointegerx(L, -2, &isnum);
    if (!isnum || fd < 0 || fd > INT_MAX) {
        fprintf(stderr, "host: robloxsocial.pollfd: %s\n",
                lua_isstring(L, -1) ? lua_tostring(L, -1) : "no descriptor");
        fd = -1;
    }
    lua_pop(L, 2);
    return (int)fd;
}

/* Waits in poll(2) on fd until it is readable or seconds have passed
 * (rounded up to poll's milliseconds, so that a wait ends after the time
 * asked for, not just before it).  Returns 1 when fd is readable, 0 when
 * the time passed, -1 on an error. */
static int wait_readable(int fd, double seconds)
{
    struct pollfd pfd;
    int ms = (int)ceil(seconds * 1e3), rc;
    pfd.fd = fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    rc = poll(&pfd, 1, ms > 0 ? ms : 0);
    if (rc < 0 && errno == EINTR)
        return 0;               /* as if the time passed: the caller steps and asks again */
    if (rc < 0) {
        fprintf(stderr, "host: poll: %s\n", strerror(errno));
        return -1;
    }
    return rc > 0;
}

/* Waits on the library's descriptor until the frame's deadline, bounded
 * by robloxsocial.timeout() (the library's own timers, and libcurl's, or
 * at most 5 ms in the portable fallback whose descriptor does not show
 * libcurl's sockets); steps each time it wakes before the deadline.
 * Returns the tasks not done, or -1 after an error. */
static lua_Integer rest_of_frame(lua_State *L, int lib, int fd, double deadline,
                                 lua_Integer pending, struct frame_stats *st)
{
    while (pending > 0) {
        double wait = lib_timeout(L, lib), left = deadline - now();
        int readable;
        if (wait < -1)
            return -1;
        if (left <= 0)
            break;
        if (wait < 0 || wait > left)
            wait = left;
        if ((readable = wait_readable(fd, wait)) < 0)
            return -1;
        st->woken += readable;
        if (!readable && now() >= deadline)
            break;
        pending = step(L, lib, st);
    }
    return pending;
}

/* The frame loop, waiting on the descriptor fd between steps: returns 0
 * when every task is done, -1 otherwise. */
static int frame_loop(lua_State *L, int lib, int fd, struct frame_stats *st)
{
    double frame_start = now();
    lua_Integer pending = 1;
    while (pending > 0) {
        double deadline = frame_start + FRAME_SECONDS, work, t;
        if (st->frames >= MAX_FRAMES) {
            fprintf(stderr, "host: tasks still running after %ld frames\n", st->frames);
            return -1;
        }
        st->frames++;
        if ((pending = step(L, lib, st)) < 0)
            return -1;
        /* ... the game's own work for the frame: input, physics, drawing ... */
        work = now() - frame_start;
        if (work > st->worst_work)
            st->worst_work = work;
        if (work > FRAME_SECONDS)
            st->overruns++;
        if ((pending = rest_of_frame(L, lib, fd, deadline, pending, st)) < 0)
            return -1;
        /* A frame that ran late does not make the next ones hurry. */
        t = now();
        frame_start = t > deadline + FRAME_SECONDS ? t : deadline;
    }
    return 0;
}

/* package.path to LUA_DIR, package.cpath to cpath ("" links nothing in
 * from disk: every C module the script needs is in the program). */
static void set_paths(lua_State *L, const char *lua_dir, const char *cpath)
{
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua", lua_dir, lua_dir);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, cpath);
    lua_setfield(L, -2, "cpath");
    lua_pop(L, 1);
}

/* Opens the libraries and the core, then requires robloxsocial and runs
 * the script: on success the stack holds the robloxsocial table (index 1)
 * and the script's finishing function (index 2). */
static int load(lua_State *L, int argc, char **argv)
{
    luaL_openlibs(L);
#ifdef RS_HOST_LOADS_MODULE
    set_paths(L, argv[1], argc > 3 ? argv[3] : "");
#else
    (void)argc;
    /* The linked-in core goes into package.loaded["robloxsocial.core"],
     * where `require` finds it without looking on disk. */
    luaL_requiref(L, "robloxsocial.core", luaopen_robloxsocial_core, 0);
    lua_pop(L, 1);
    set_paths(L, argv[1], "");
#endif
    lua_getglobal(L, "require");
    lua_pushliteral(L, "robloxsocial");
    if (!call(L, 1, "require \"robloxsocial\""))
        return 0;
    if (luaL_loadfile(L, argv[2]) != LUA_OK) {
        fprintf(stderr, "host: %s\n", lua_tostring(L, -1));
        return 0;
    }
    if (!call(L, 0, argv[2]))
        return 0;
    if (!lua_isfunction(L, -1)) {
        fprintf(stderr, "host: %s did not return a function\n", argv[2]);
        return 0;
    }
    return 1;
}

/* Runs the frame loop and the script's finishing function; returns the
 * process's exit status. */
static int run(lua_State *L)
{
    struct frame_stats st = {0, 0, 0, 0, 0, 0};
    int fd = lib_pollfd(L, 1);
    int looped = fd < 0 ? -1 : frame_loop(L, 1, fd, &st);
    lua_Integer failures;
    int isnum;
    printf("host: %ld frames at 60 Hz, %ld step(0) calls, the longest %.2f ms; "
           "the longest frame's work %.2f ms, %ld frames over budget; "
           "woken %ld times by robloxsocial.pollfd()\n",
           st.frames, st.steps, st.worst_step * 1e3, st.worst_work * 1e3, st.overruns, st.woken);
    /* The finishing function reports each task's result; it runs after a
     * failed loop too, so the output says which task did not finish. */
    if (!call(L, 0, "the script's finishing function"))
        return EXIT_FAILURE;
    failures = lua_tointegerx(L, -1, &isnum);
    lua_pop(L, 1);
    if (!isnum) {
        fprintf(stderr, "host: the finishing function did not return a count of failures\n");
        return EXIT_FAILURE;
    }
    return looped == 0 && failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int main(int argc, char **argv)
{
    lua_State *L;
    int status = EXIT_FAILURE;
    if (argc < 3) {
        fprintf(stderr, "usage: %s LUA_DIR SCRIPT [CPATH]\n", argv[0]);
        return EXIT_FAILURE;
    }
    /* libcurl's global state, set up before any thread starts (this host
     * has one thread; an engine with several does it here too).  The
     * module's own call, when it is first opened, only counts then. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "host: curl_global_init failed\n");
        return EXIT_FAILURE;
    }
    L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "host: out of memory\n");
    } else {
        if (load(L, argc, argv))
            status = run(L);
        lua_close(L);
    }
    curl_global_cleanup();
    return status;
}
