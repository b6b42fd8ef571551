/*
 * sched.c: tasks, the scheduler of a Lua state.  A task runs a function
 * on a coroutine; a call inside it suspends it (core.send yields, the loop
 * anchors the task) and step() resumes it once the loop has finished its
 * transfer.  Tasks also wait for transfers of batches and iterators
 * (core.await, core.await_any), for time (core.sleep_until), for another
 * task (task:wait) or for the next step (a plain coroutine.yield()).
 *
 * Coroutines are reused: when a task's function returns, its coroutine
 * goes to a pool for the next spawn.  Creating a coroutine and collecting
 * it later cost more than the rest of a task of one request, and a pool
 * keeps a program that spawns task after task from making garbage of
 * them.  Only step(), run() and task:wait() resume tasks.
 *
 * An error raised in here (out of memory, mostly) must leave everything
 * consistent: whatever may raise (growing a table, making a coroutine)
 * happens before the state it belongs to changes.  The lists keep their
 * slots (false when free), so that filing a task there allocates nothing;
 * a task that could not be filed, or that the program resumed behind the
 * scheduler's back, is a stray, which the next step finds and settles.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

#if LUA_VERSION_RELEASE_NUM >= 50406
#define reset_thread(co, from) lua_closethread(co, from)
#else
#define reset_thread(co, from) ((void)(from), lua_resetthread(co))
#endif

/* Idle coroutines kept for later tasks.  Each holds about a kilobyte; a
 * program that runs more tasks at once than this makes the rest anew. */
#define RS_POOL_MAX 1024

/* Transfers of finished tasks kept for the next ones (320 bytes each). */
#define RS_SPARE_TRANSFERS 256

/* Stack slots that a step needs for itself (checked before it starts). */
#define RS_STEP_STACK 24

/* Registry key of the scheduler userdata. */
static const char sched_key = 'S';

/* The first of the two values of each yield of ours; the second is what
 * the task waits for.  No Lua code can make these light userdata, so a
 * plain coroutine.yield() inside a task is never taken for one. */
static const char awaits_mark = 'A';    /* core.send: its transfer, which anchors the task */
static const char transfer_mark = 'T';  /* core.await: a transfer of core.start */
static const char any_mark = 'Y';       /* core.await_any: a list of them */
static const char sleep_mark = 'Z';     /* core.sleep_until: a time of core.now */
static const char join_mark = 'J';      /* task:wait: another task */

/* User values of the scheduler. */
enum {
    SV_TASKS = 1,   /* coroutine -> task, while the task lives (it anchors it) */
    SV_POOL,        /* idle coroutines, 1..pool.n */
    SV_WAITING,     /* transfer of core.start -> the task that waits for it */
    SV_SLEEPERS,    /* tasks in sleep_until, 1..sleepers.n, unsorted */
    SV_READY,       /* tasks that yielded plainly: resumed at the next step */
    SV_WOKEN,       /* tasks whose awaited task ended: resumed in this step */
    SV_COUNT = SV_WOKEN
};

/* A list in a user value of the scheduler: entries 1..n; the slots
 * n+1..cap exist too, holding false, so that filling them allocates
 * nothing.  An entry may be false (taken) or a task no longer waiting
 * there (cancelled): each user checks the task's state and wait. */
typedef struct rs_list {
    int n, cap;
} rs_list;

typedef struct rs_sched {
    rs_loop *lp;
    int live;       /* tasks not finished */
    int resuming;   /* tasks being resumed, nested */
    int stepping;   /* step, run, a wait or a cancel under way, nested */
    int strays;     /* tasks with stray set */
    int joiners;    /* tasks listed as joiners of others: the woken list keeps room for them */
    rs_list pool, sleepers, ready, woken;
    int spares;
    rs_transfer *spare[RS_SPARE_TRANSFERS];
} rs_sched;

typedef enum { TASK_RUNNING, TASK_DONE, TASK_FAILED, TASK_CANCELLED } task_state_kind;

typedef enum {
    WAIT_NONE,      /* running, being resumed, or not filed yet */
    WAIT_SEND,      /* the transfer of core.send: TV_WAITS, or the task's own */
    WAIT_TRANSFER,  /* TV_WAITS: a transfer of core.start */
    WAIT_ANY,       /* TV_WAITS: a list of them */
    WAIT_SLEEP,     /* due */
    WAIT_JOIN,      /* TV_WAITS: the task in whose joiners it is */
    WAIT_READY      /* on the ready list */
} wait_kind;

/* User values of a task. */
enum {
    TV_THREAD = 1,  /* its coroutine while it runs; then its results table
                       (nil when it returned nothing) or its error */
    TV_WAITS,       /* what it waits for, as task_wait says */
    TV_JOINERS,     /* tasks in its wait(), or nil */
    TV_COUNT = TV_JOINERS
};

typedef struct rs_task {
    unsigned char state, wait;
    unsigned char waits_held;   /* TV_WAITS holds something */
    unsigned char joined;       /* TV_JOINERS holds a table */
    unsigned char in_resume;    /* the scheduler is resuming it now */
    unsigned char stray;        /* the next step must settle it (see settle) */
    int yielded;                /* values of its last yield, while not filed */
    lua_State *co;              /* its coroutine (TV_THREAD) while it runs */
    rs_sched *sched;
    double due;
    /* The transfer of the task's calls to clients: one call at a
     * time, so one transfer serves them all.  It is C memory (NULL until
     * the first call), so the collector neither finalizes nor counts it:
     * the task lets go of it when it ends.  Spent when no call uses it. */
    rs_transfer *transfer;
} rs_task;

/* The functions' upvalues: the scheduler, then the task metatable. */
#define SCHED lua_upvalueindex(1)
#define TASK_MT lua_upvalueindex(2)

static rs_sched *sched_of(lua_State *L)
{
    return lua_touserdata(L, SCHED);
}

static rs_task *check_task(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, RS_TASK_MT);
}

/* Pushes item i of the list of tasks at idx and returns it (NULL for a
 * free slot). */
static rs_task *push_task_at(lua_State *L, int idx, int i)
{
    lua_rawgeti(L, idx, i);
    return lua_touserdata(L, -1);
}

static void set_stray(rs_sched *s, rs_task *task, int on)
{
    if (task->stray != on) {
        task->stray = (unsigned char)on;
        s->strays += on ? 1 : -1;
    }
}

/* Whether co is running now or resuming another: the program resumed it
 * itself, behind the scheduler's back. */
static int is_active(lua_State *co)
{
    lua_Debug ar;
    return lua_status(co) == LUA_OK && lua_getstack(co, 0, &ar);
}

/* Makes the slots 1..need of the list in user value uv exist, so that
 * filling them allocates nothing.  May raise (memory): call it before
 * changing anything, and allocate nothing after it until the list is
 * filled. */
static void reserve(lua_State *L, int uv, rs_list *l, int need)
{
    if (l->cap >= need)
        return;
    lua_getiuservalue(L, SCHED, uv);
    while (l->cap < need) {
        lua_pushboolean(L, 0);
        lua_rawseti(L, -2, l->cap + 1);
        l->cap++;
    }
    lua_pop(L, 1);
}

/* Appends the value on top (popped) to the list in user value uv when a
 * slot is free, and returns 1; otherwise drops it and returns 0.  Never
 * allocates, never raises. */
static int put(lua_State *L, int uv, rs_list *l)
{
    if (l->n >= l->cap) {
        lua_pop(L, 1);
        return 0;
    }
    lua_getiuservalue(L, SCHED, uv);
    lua_insert(L, -2);
    lua_rawseti(L, -2, ++l->n);
    lua_pop(L, 1);
    return 1;
}

/* Files the task at ti on the list in user value uv, or, when no slot is
 * free, makes it a stray that the next step resumes. */
static void put_task(lua_State *L, rs_sched *s, int uv, rs_list *l, int ti)
{
    lua_pushvalue(L, ti);
    if (!put(L, uv, l))
        set_stray(s, lua_touserdata(L, ti), 1);
}

/* waiting[the value at idx] = the value on top (popped).  A new key may
 * raise (memory); nil for an existing one never does. */
static void set_waiting(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_getiuservalue(L, SCHED, SV_WAITING);
    lua_pushvalue(L, idx);
    lua_rotate(L, -3, -1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

static void clear_waits(lua_State *L, int ti, rs_task *task)
{
    if (task->waits_held) {
        lua_pushnil(L);
        lua_setiuservalue(L, ti, TV_WAITS);
        task->waits_held = 0;
    }
}

/* Lets go of the transfers that the task at ti waits for: drops them from
 * the waiting table, and when abandon is set cancels them as well. */
static void release_waits(lua_State *L, int ti, rs_task *task, int abandon)
{
    int w = task->wait;
    if (w == WAIT_SEND || w == WAIT_TRANSFER || w == WAIT_ANY) {
        int wi;
        lua_getiuservalue(L, ti, TV_WAITS);
        wi = lua_gettop(L);
        if (w == WAIT_ANY) {
            lua_Integer i, n = (lua_Integer)lua_rawlen(L, wi);
            for (i = 1; i <= n; i++) {
                lua_rawgeti(L, wi, i);
                lua_pushnil(L);
                set_waiting(L, -2);
                if (abandon && luaL_testudata(L, -1, RS_TRANSFER_MT))
                    rs_loop_abandon(L, sched_of(L)->lp, lua_touserdata(L, -1));
                lua_pop(L, 1);
            }
        } else {
            if (w == WAIT_TRANSFER) {
                lua_pushnil(L);
                set_waiting(L, wi);
            }
            if (abandon && lua_type(L, wi) == LUA_TUSERDATA)
                rs_loop_abandon(L, sched_of(L)->lp, lua_touserdata(L, wi));
        }
        lua_pop(L, 1);
        clear_waits(L, ti, task);
    }
    task->wait = WAIT_NONE;
}

/* Lets go of the task's own transfer, if a call left it in use: the task
 * was cancelled in that call, or the call raised after taking it. */
static void release_own(lua_State *L, rs_sched *s, rs_task *task)
{
    rs_transfer *t = task->transfer;
    if (t == NULL)
        return;
    task->transfer = NULL;
    if (t->state != RS_T_SPENT || t->url != NULL)
        rs_loop_release(L, s->lp, t);
    if (s->spares < RS_SPARE_TRANSFERS)
        s->spare[s->spares++] = t;
    else
        free(t);
}

/* Takes an idle coroutine from the pool, or makes one (may raise); pushes it. */
static lua_State *take_thread(lua_State *L, rs_sched *s)
{
    lua_State *co;
    if (s->pool.n == 0)
        return lua_newthread(L);
    lua_getiuservalue(L, SCHED, SV_POOL);
    lua_rawgeti(L, -1, s->pool.n);
    lua_pushboolean(L, 0);
    lua_rawseti(L, -3, s->pool.n--);
    lua_remove(L, -2);
    co = lua_tothread(L, -1);
    return co;
}

/* Ends the task at ti, whose outcome (nil, its results table or its
 * error) is on top (popped): it leaves the table of tasks, its coroutine
 * co, emptied, goes back to the pool, and the tasks in its wait() wake.
 * Never allocates, never raises. */
static void finish(lua_State *L, rs_sched *s, int ti, lua_State *co)
{
    rs_task *task = lua_touserdata(L, ti);
    release_own(L, s, task);
    set_stray(s, task, 0);
    s->live--;
    task->co = NULL;
    lua_getiuservalue(L, SCHED, SV_TASKS);
    lua_getiuservalue(L, ti, TV_THREAD);
    lua_pushvalue(L, -1);
    lua_pushnil(L);
    lua_rawset(L, -4);
    lua_settop(co, 0);
    if (lua_status(co) == LUA_OK && !is_active(co))
        (void)put(L, SV_POOL, &s->pool);
    else
        lua_pop(L, 1);
    lua_pop(L, 1);
    lua_setiuservalue(L, ti, TV_THREAD);
    clear_waits(L, ti, task);
    if (task->joined) {
        lua_Integer i, n;
        lua_getiuservalue(L, ti, TV_JOINERS);
        n = (lua_Integer)lua_rawlen(L, -1);
        for (i = 1; i <= n; i++) {
            lua_rawgeti(L, -1, i);
            s->joiners--;
            put_task(L, s, SV_WOKEN, &s->woken, lua_gettop(L));
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_setiuservalue(L, ti, TV_JOINERS);
        task->joined = 0;
    }
}

/* Moves the nres results on top of the coroutine (light userdata at 1)
 * into a table, which it pushes; run protected: the table may not fit. */
static int build_results(lua_State *L)
{
    lua_State *co = lua_touserdata(L, 1);
    int i, nres = (int)lua_tointeger(L, 2);
    lua_createtable(L, nres, 1);
    for (i = nres; i >= 1; i--) {
        lua_xmove(co, L, 1);
        lua_rawseti(L, -2, i);
    }
    lua_pushinteger(L, nres);
    lua_setfield(L, -2, "n");
    return 1;
}

/* The task at ti returned (status LUA_OK) nres values on co's stack, or
 * raised (co's top is the error).  Results that do not fit in memory make
 * it fail with a memory error.  Never raises. */
static void end_task(lua_State *L, rs_sched *s, int ti, rs_task *task, lua_State *co,
                     int status, int nres)
{
    if (status == LUA_OK) {
        if (nres == 0)
            lua_pushnil(L);         /* most tasks return nothing: no table */
        else {
            lua_pushcfunction(L, build_results);
            lua_pushlightuserdata(L, co);
            lua_pushinteger(L, nres);
            if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
                task->state = TASK_FAILED;      /* its error is on top */
                (void)reset_thread(co, L);
                finish(L, s, ti, co);
                return;
            }
        }
        task->state = TASK_DONE;
    } else {
        task->state = TASK_FAILED;
        /* Closes its pending to-be-closed variables, as coroutine.close
         * would, and makes the coroutine fit for another task.  The error
         * is then the only value on it (an error raised by a __close
         * replaces the first, as it does in Lua).  A __close that steps
         * raises: the library is moving requests. */
        s->stepping++;
        (void)reset_thread(co, L);
        s->stepping--;
        if (lua_gettop(co) > 0)
            lua_xmove(co, L, 1);
        else
            lua_pushnil(L);
    }
    finish(L, s, ti, co);
}

/* Copies the value at i of co's stack onto L's.  May raise (memory). */
static void copy_from(lua_State *L, lua_State *co, int i)
{
    if (!lua_checkstack(co, 1))
        luaL_error(L, "robloxsocial: not enough memory");
    lua_pushvalue(co, i);
    lua_xmove(co, L, 1);
}

/* Files the task at ti, which joins the task on top (popped): it goes in
 * that one's joiners.  May raise before anything changes. */
static void file_join(lua_State *L, rs_sched *s, int ti, rs_task *task)
{
    int n, target = lua_gettop(L);
    if (lua_getiuservalue(L, target, TV_JOINERS) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, target, TV_JOINERS);
        ((rs_task *)lua_touserdata(L, target))->joined = 1;
    }
    reserve(L, SV_WOKEN, &s->woken, s->woken.n + s->joiners + 1);
    n = (int)lua_rawlen(L, -1);
    lua_pushvalue(L, ti);
    lua_rawseti(L, -2, n + 1);      /* the last thing that may raise */
    lua_pop(L, 1);
    s->joiners++;
    lua_setiuservalue(L, ti, TV_WAITS);
    task->waits_held = 1;
    task->wait = WAIT_JOIN;
}

/* Files the task at ti by what its coroutine yielded (nres values on
 * top of co's stack, taken off at the end).  May raise (memory) before it
 * has filed the task, which then stays a stray with its values in place:
 * filing it again is harmless. */
static void file(lua_State *L, rs_sched *s, int ti, rs_task *task, lua_State *co, int nres)
{
    int base = lua_gettop(co) - nres;
    const void *mark = nres == 2 ? lua_touserdata(co, base + 1) : NULL;
    task->yielded = nres;
    set_stray(s, task, 1);                  /* until it is filed */
    if (mark == &awaits_mark && lua_type(co, base + 2) != LUA_TUSERDATA) {
        task->wait = WAIT_SEND;             /* on its own transfer */
    } else if (mark == &awaits_mark || mark == &transfer_mark || mark == &any_mark) {
        copy_from(L, co, base + 2);
        if (mark == &transfer_mark) {
            lua_pushvalue(L, ti);
            set_waiting(L, -2);
        } else if (mark == &any_mark) {
            lua_Integer i, n = (lua_Integer)lua_rawlen(L, -1);
            for (i = 1; i <= n; i++) {
                lua_rawgeti(L, -1, i);
                lua_pushvalue(L, ti);
                set_waiting(L, -2);
                lua_pop(L, 1);
            }
        }
        if (task->state != TASK_RUNNING)    /* cancelled by a finalizer meanwhile */
            return;
        lua_setiuservalue(L, ti, TV_WAITS);
        task->waits_held = 1;
        task->wait = mark == &awaits_mark ? WAIT_SEND
                   : mark == &transfer_mark ? WAIT_TRANSFER : WAIT_ANY;
    } else if (mark == &sleep_mark) {
        reserve(L, SV_SLEEPERS, &s->sleepers, s->sleepers.n + 1);
        if (task->state != TASK_RUNNING)
            return;
        task->due = lua_tonumber(co, base + 2);
        task->wait = WAIT_SLEEP;
        lua_pushvalue(L, ti);
        if (!put(L, SV_SLEEPERS, &s->sleepers)) {
            lua_settop(co, base);           /* a stray, listed next step */
            return;
        }
    } else if (mark == &join_mark) {
        copy_from(L, co, base + 2);
        file_join(L, s, ti, task);
    } else {                /* a plain yield: the rest of this step is given up */
        reserve(L, SV_READY, &s->ready, s->ready.n + 1);
        if (task->state != TASK_RUNNING)
            return;
        task->wait = WAIT_READY;
        lua_pushvalue(L, ti);
        if (!put(L, SV_READY, &s->ready)) {
            lua_settop(co, base);           /* no slot after all: a stray, resumed next step */
            return;
        }
    }
    if (task->state != TASK_RUNNING)        /* its coroutine went back to the pool */
        return;
    lua_settop(co, base);
    set_stray(s, task, 0);
}

/* Resumes the task at ti, whose coroutine co has nargs values pushed for
 * it (a function and its arguments the first time), and files it by what
 * it did.  May raise (memory) only while filing it. */
static void run_task(lua_State *L, rs_sched *s, int ti, rs_task *task, lua_State *co, int nargs)
{
    int nres = 0, status;
    task->wait = WAIT_NONE;
    task->in_resume = 1;
    s->resuming++;
    status = lua_resume(co, L, nargs, &nres);
    s->resuming--;
    task->in_resume = 0;
    if (status == LUA_YIELD)
        file(L, s, ti, task, co, nres);
    else
        end_task(L, s, ti, task, co, status, nres);
}

/* Resumes the suspended task at ti, with the value at idx (a finished
 * transfer) unless idx is 0.  A coroutine that the program resumed
 * itself meanwhile (it runs still, or it has ended) is left alone: the
 * task becomes a stray, which a later step settles. */
static void resume(lua_State *L, rs_sched *s, int ti, int idx)
{
    rs_task *task = lua_touserdata(L, ti);
    lua_State *co = task->co;   /* anchored by the task's user value */
    if (lua_status(co) != LUA_YIELD) {
        set_stray(s, task, 1);
        return;
    }
    /* A coroutine suspended by a C function has room (LUA_MINSTACK), so
     * this finds it without allocating; were it not so, await would
     * return nothing, which its callers take as "look again". */
    if (idx && lua_checkstack(co, 1)) {
        lua_pushvalue(L, idx);
        lua_xmove(L, co, 1);
    } else
        idx = 0;
    run_task(L, s, ti, task, co, idx ? 1 : 0);
}

/* Whether the task at ti can go on now: it joined a task that has ended. */
static int join_over(lua_State *L, int ti)
{
    int over;
    lua_getiuservalue(L, ti, TV_WAITS);
    over = ((rs_task *)lua_touserdata(L, -1))->state != TASK_RUNNING;
    lua_pop(L, 1);
    return over;
}

/* Settles the stray task at ti: one whose filing failed (memory), whose
 * list had no slot, or whose coroutine the program resumed itself.  May
 * raise (memory) while filing it, leaving it a stray. */
static void settle(lua_State *L, rs_sched *s, int ti, rs_task *task)
{
    lua_State *co = task->co;
    int status = lua_status(co), w = task->wait;
    if (is_active(co))
        return;                             /* the program runs it: later */
    if (status != LUA_YIELD) {              /* it ended, run by the program */
        release_waits(L, ti, task, 1);
        end_task(L, s, ti, task, co, status, status == LUA_OK ? lua_gettop(co) : 0);
    } else if (w == WAIT_NONE) {
        file(L, s, ti, task, co, task->yielded);
    } else if (w == WAIT_READY || (w == WAIT_JOIN && join_over(L, ti))
               || (w == WAIT_SLEEP && task->due <= rs_now())) {
        set_stray(s, task, 0);
        resume(L, s, ti, 0);
    } else if (w == WAIT_SLEEP) {
        reserve(L, SV_SLEEPERS, &s->sleepers, s->sleepers.n + 1);
        set_stray(s, task, 0);
        put_task(L, s, SV_SLEEPERS, &s->sleepers, ti);
    } else {
        set_stray(s, task, 0);              /* filed, and waiting as it should */
    }
}

/* Settles the strays, at most as many as there are when it starts (those
 * that stay strays wait for the next step).  The table of tasks is walked
 * afresh after each one: settling it may run code that spawns tasks. */
static void settle_strays(lua_State *L, rs_sched *s)
{
    int budget = s->strays, top = lua_gettop(L), found = 1;
    while (found && budget-- > 0 && s->strays > 0) {
        found = 0;
        lua_getiuservalue(L, SCHED, SV_TASKS);
        lua_pushnil(L);
        while (lua_next(L, top + 1)) {
            rs_task *task = lua_touserdata(L, -1);
            if (task->stray && !is_active(task->co)) {
                found = 1;
                settle(L, s, lua_gettop(L), task);
                break;
            }
            lua_pop(L, 1);
        }
        lua_settop(L, top);
    }
}

/* core.spawn(fn, ...): runs fn(...) as a task, at once until it first
 * suspends; returns the task.  Everything that may raise comes before
 * the task counts as live. */
static int sched_spawn(lua_State *L)
{
    rs_sched *s = sched_of(L);
    int nargs = lua_gettop(L), ti, pool_room;
    lua_State *co;
    rs_task *task;
    if (lua_type(L, 1) != LUA_TFUNCTION) {
        if (luaL_getmetafield(L, 1, "__call") == LUA_TNIL)
            return luaL_typeerror(L, 1, "function");
        lua_pop(L, 1);
    }
    luaL_checkstack(L, nargs + RS_STEP_STACK, "too many arguments to spawn");
    pool_room = s->pool.n + s->live + 1;
    reserve(L, SV_POOL, &s->pool, pool_room < RS_POOL_MAX ? pool_room : RS_POOL_MAX);
    co = take_thread(L, s);
    if (!lua_checkstack(co, nargs))
        return luaL_error(L, "too many arguments to spawn");
    task = lua_newuserdatauv(L, sizeof *task, TV_COUNT);
    memset(task, 0, sizeof *task);
    task->state = TASK_RUNNING;
    task->wait = WAIT_NONE;
    task->co = co;
    task->sched = s;
    lua_pushvalue(L, TASK_MT);
    lua_setmetatable(L, -2);
    ti = lua_gettop(L);
    lua_pushvalue(L, ti - 1);
    lua_setiuservalue(L, ti, TV_THREAD);
    lua_getiuservalue(L, SCHED, SV_TASKS);
    lua_pushvalue(L, ti - 1);
    lua_pushvalue(L, ti);
    lua_rawset(L, -3);          /* the last thing that may raise */
    lua_pop(L, 1);
    s->live++;
    lua_rotate(L, 1, 2);        /* fn and its arguments to the top */
    ti -= nargs;
    lua_xmove(L, co, nargs);
    run_task(L, s, ti, task, co, nargs - 1);
    lua_settop(L, ti);
    return 1;
}

/* The task whose coroutine L is, whether or not the scheduler runs it:
 * pushes it and returns its index, or returns 0 pushing nothing. */
static int push_task_of(lua_State *L, int tasks)
{
    lua_pushthread(L);
    if (lua_rawget(L, tasks) == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    return lua_gettop(L);
}

int rs_sched_push_current(lua_State *L, int tasks)
{
    int ti;
    if (!lua_isyieldable(L) || !(ti = push_task_of(L, tasks)))
        return 0;
    if (!((rs_task *)lua_touserdata(L, ti))->in_resume) {
        lua_pop(L, 1);          /* the program resumed it: its calls block */
        return 0;
    }
    return ti;
}

/* The same, for the scheduler's own functions. */
static int push_current(lua_State *L)
{
    lua_getiuservalue(L, SCHED, SV_TASKS);
    if (!rs_sched_push_current(L, lua_gettop(L))) {
        lua_pop(L, 1);
        return 0;
    }
    lua_remove(L, -2);
    return lua_gettop(L);
}

/* Pushes the task running now, which a yield of ours is about to
 * suspend; raises when there is none. */
static int push_suspending(lua_State *L, const char *what)
{
    int ti = push_current(L);
    if (!ti)
        luaL_error(L, "robloxsocial: %s outside a task", what);
    return ti;
}

void rs_sched_check_resumed(lua_State *L, int tidx)
{
    rs_task *task = lua_touserdata(L, tidx);
    if (!task->in_resume) {
        /* The error ends the coroutine; the next step ends the task. */
        set_stray(task->sched, task, 1);
        luaL_error(L, "robloxsocial: the program resumed a task's coroutine itself"
                      " (only the scheduler resumes a task; the task fails)");
    }
}

/* Raises when step, run or a wait (what) would re-enter the library
 * while it moves requests: it would resume tasks that are themselves
 * resuming, walk lists that the outer step is walking, or wait for
 * itself. */
static void check_not_moving(lua_State *L, rs_sched *s, const char *what)
{
    if (s->lp->in_hooks > 0)
        luaL_error(L, "robloxsocial: %s called from a hook, while the library is already"
                      " moving requests", what);
    if (s->resuming > 0)
        luaL_error(L, "robloxsocial: %s cannot be called while a task runs;"
                      " inside a task, calls suspend it and task:wait() waits for another task",
                   what);
    if (s->stepping > 0)
        luaL_error(L, "robloxsocial: %s called while the library is already stepping"
                      " (from a __close or a finalizer)", what);
    lua_getiuservalue(L, SCHED, SV_TASKS);
    if (push_task_of(L, lua_gettop(L)))
        luaL_error(L, "robloxsocial: %s called in a task's coroutine that the program"
                      " resumed itself", what);
    lua_pop(L, 1);
}

/* Marks the library as moving requests until the calling C function
 * returns or raises: pushes the scheduler as a to-be-closed value, whose
 * __close undoes it. */
static void enter(lua_State *L, rs_sched *s)
{
    lua_pushvalue(L, SCHED);
    lua_toclose(L, -1);
    s->stepping++;
}

static int sched__close(lua_State *L)
{
    ((rs_sched *)lua_touserdata(L, 1))->stepping--;
    return 0;
}

/* Moves the entries from..*count of the list at li down to start at to,
 * freeing the slots left behind; *count becomes the new length.  The
 * lists are compacted in place, so that a step makes no garbage; nothing
 * here allocates. */
static void close_gap(lua_State *L, int li, int to, int from, int *count)
{
    int i, n = *count;
    for (i = from; i <= n; i++) {
        if (lua_rawgeti(L, li, i) == LUA_TUSERDATA)
            lua_rawseti(L, li, to++);
        else
            lua_pop(L, 1);
    }
    *count = to - 1;
    for (i = to; i <= n; i++) {
        lua_pushboolean(L, 0);
        lua_rawseti(L, li, i);
    }
}

/* The sleepers that are due leave the list and are resumed; returns the
 * seconds until the next one is (HUGE_VAL when none is left).  A task
 * that sleeps again while they are resumed is appended past the end and
 * kept.  Each entry is taken off before its task is resumed, so an error
 * halfway leaves every task listed once. */
static double wake_sleepers(lua_State *L, rs_sched *s)
{
    double now = rs_now(), next = HUGE_VAL;
    int i, n = s->sleepers.n, kept = 0, li;
    lua_getiuservalue(L, SCHED, SV_SLEEPERS);
    li = lua_gettop(L);
    for (i = 1; i <= n; i++) {
        rs_task *task = push_task_at(L, li, i);
        int sleeping = task && task->state == TASK_RUNNING && task->wait == WAIT_SLEEP;
        lua_pushboolean(L, 0);
        lua_rawseti(L, li, i);
        if (sleeping && task->due <= now)
            resume(L, s, lua_gettop(L), 0);         /* may append past n */
        else if (sleeping) {
            if (task->due < next)
                next = task->due;
            lua_pushvalue(L, -1);
            lua_rawseti(L, li, ++kept);
        }
        lua_pop(L, 1);
    }
    for (i = n + 1; i <= s->sleepers.n; i++) {      /* those that slept again */
        rs_task *task = push_task_at(L, li, i);
        if (task && task->due < next)
            next = task->due;
        lua_pop(L, 1);
    }
    close_gap(L, li, kept + 1, n + 1, &s->sleepers.n);
    lua_pop(L, 1);
    return next == HUGE_VAL ? HUGE_VAL : next - now;
}

/* Resumes the tasks on the list in user value uv that still wait there
 * as wait says; those that land on it again meanwhile (a plain yield) are
 * appended past the end and wait for the next call.  Each entry is taken
 * off before its task is resumed. */
static void run_list(lua_State *L, rs_sched *s, int uv, rs_list *l, int wait)
{
    int i, n = l->n, li;
    if (n == 0)
        return;
    lua_getiuservalue(L, SCHED, uv);
    li = lua_gettop(L);
    for (i = 1; i <= n; i++) {
        rs_task *task = push_task_at(L, li, i);
        lua_pushboolean(L, 0);
        lua_rawseti(L, li, i);
        if (task && task->state == TASK_RUNNING && task->wait == wait)
            resume(L, s, lua_gettop(L), 0);
        lua_pop(L, 1);
    }
    close_gap(L, li, 1, n + 1, &l->n);
    lua_pop(L, 1);
}

/* Resumes the tasks whose transfers the loop has finished. */
static void resume_finished(lua_State *L, rs_sched *s)
{
    int top = lua_gettop(L);
    rs_transfer *t;
    while ((t = rs_loop_pop_done(L, s->lp)) != NULL) {
        int ai = lua_gettop(L);
        if (t->awaited) {       /* the anchor is the task, suspended in core.send */
            rs_task *task = lua_touserdata(L, ai);
            if (task->state == TASK_RUNNING && task->wait == WAIT_SEND) {
                clear_waits(L, ai, task);
                resume(L, s, ai, 0);
            }
        } else {                /* a transfer of core.start */
            lua_getiuservalue(L, SCHED, SV_WAITING);
            lua_pushvalue(L, ai);
            if (lua_rawget(L, -2) != LUA_TNIL) {
                int ti = lua_gettop(L);
                rs_task *task = lua_touserdata(L, ti);
                lua_pushvalue(L, ai);
                lua_pushnil(L);
                lua_rawset(L, ti - 1);      /* a cancelled task's entry goes too */
                if (task->state == TASK_RUNNING && task->wait != WAIT_NONE) {
                    release_waits(L, ti, task, 0);
                    resume(L, s, ti, ai);
                }
            }
        }
        lua_settop(L, top);
    }
}

static double opt_seconds(lua_State *L, int idx, const char *name)
{
    lua_Number n;
    if (lua_isnoneornil(L, idx))
        return 0;
    n = lua_tonumber(L, idx);
    if (lua_type(L, idx) != LUA_TNUMBER || n != n)
        luaL_error(L, "bad argument #%d to '%s' (number of seconds expected, got %s)",
                   idx, name, luaL_typename(L, idx));
    return n;
}

/* One step; the caller has entered (see enter).  May raise (memory) with
 * everything consistent: the next step goes on from there. */
static void step(lua_State *L, rs_sched *s, double timeout)
{
    double next_sleeper;
    luaL_checkstack(L, RS_STEP_STACK, NULL);
    if (s->strays)
        settle_strays(L, s);
    next_sleeper = s->sleepers.n ? wake_sleepers(L, s) : HUGE_VAL;
    if (s->ready.n || s->woken.n || s->strays || timeout < 0)
        timeout = 0;
    rs_loop_progress(s->lp, timeout < next_sleeper ? timeout : next_sleeper);
    resume_finished(L, s);
    if (s->sleepers.n)
        (void)wake_sleepers(L, s);
    run_list(L, s, SV_READY, &s->ready, WAIT_READY);
    while (s->woken.n)
        run_list(L, s, SV_WOKEN, &s->woken, WAIT_JOIN);
}

/* core.step([timeout]): moves every transfer, waiting at most timeout
 * seconds for the network, and resumes the tasks that can go on; returns
 * the number of tasks not finished. */
static int sched_step(lua_State *L)
{
    rs_sched *s = sched_of(L);
    double timeout = opt_seconds(L, 1, "step");
    check_not_moving(L, s, "step");
    lua_settop(L, 0);
    enter(L, s);
    step(L, s, timeout);
    lua_pushinteger(L, s->live);
    return 1;
}

/* Whether the list in user value uv holds a task still waiting there as
 * wait says: a cancelled task stays on its list until a step passes. */
static int any_waiting(lua_State *L, int uv, const rs_list *l, int wait)
{
    int i, found = 0;
    lua_getiuservalue(L, SCHED, uv);
    for (i = 1; i <= l->n && !found; i++) {
        rs_task *task = push_task_at(L, -1, i);
        found = task && task->state == TASK_RUNNING && task->wait == wait;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return found;
}

/* Seconds until step has work; HUGE_VAL when nothing is in flight. */
static double next_timeout(rs_sched *s, lua_State *L)
{
    double wait;
    int i;
    if (s->strays || (s->ready.n && any_waiting(L, SV_READY, &s->ready, WAIT_READY))
        || (s->woken.n && any_waiting(L, SV_WOKEN, &s->woken, WAIT_JOIN)))
        return 0;
    wait = rs_loop_next_timeout(s->lp);
    if (s->sleepers.n) {
        double now = rs_now();
        lua_getiuservalue(L, SCHED, SV_SLEEPERS);
        for (i = 1; i <= s->sleepers.n; i++) {
            rs_task *task = push_task_at(L, -1, i);
            if (task && task->state == TASK_RUNNING && task->wait == WAIT_SLEEP) {
                double left = task->due > now ? task->due - now : 0;
                if (left < wait)
                    wait = left;
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    return wait;
}

/* core.next_timeout(): seconds until step has work (0: now), nil when
 * nothing is in flight and no task sleeps. */
static int sched_next_timeout(lua_State *L)
{
    double wait = next_timeout(sched_of(L), L);
    if (wait == HUGE_VAL)
        lua_pushnil(L);
    else
        lua_pushnumber(L, wait);
    return 1;
}

/* Whether a stray task's coroutine is running: then the caller runs in
 * it (a coroutine is running or resuming another only while its resume
 * is on the C stack), and that task cannot end while the caller waits. */
static int any_active_stray(lua_State *L)
{
    int found = 0;
    lua_getiuservalue(L, SCHED, SV_TASKS);
    lua_pushnil(L);
    while (!found && lua_next(L, -2)) {
        rs_task *task = lua_touserdata(L, -1);
        found = task->stray && is_active(task->co);
        lua_pop(L, 1);
    }
    lua_pop(L, found ? 2 : 1);
    return found;
}

/* core.run([timeout]): steps until every task is done (true) or timeout
 * seconds have passed (false). */
static int sched_run(lua_State *L)
{
    rs_sched *s = sched_of(L);
    int bounded = !lua_isnoneornil(L, 1);
    double deadline = rs_now() + opt_seconds(L, 1, "run");
    check_not_moving(L, s, "run");
    lua_settop(L, 0);
    enter(L, s);
    while (s->live > 0) {
        double wait = next_timeout(s, L);
        if (bounded) {
            double left = deadline - rs_now();
            if (left <= 0) {
                lua_pushboolean(L, 0);
                return 1;
            }
            if (left < wait)
                wait = left;
        }
        if (s->strays && any_active_stray(L))
            luaL_error(L, "robloxsocial: run would never end: the program runs a task's"
                          " coroutine itself");
        step(L, s, wait < 1 ? wait : 1);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* core.live(): tasks not finished. */
static int sched_live(lua_State *L)
{
    lua_pushinteger(L, sched_of(L)->live);
    return 1;
}

/* core.current(): the task running now, when its coroutine may yield
 * here; nil in the main program, in a coroutine that is not a task, in a
 * finalizer, in a hook called from C, or in a task's coroutine that the
 * program resumed itself. */
static int sched_current(lua_State *L)
{
    if (!push_current(L))
        lua_pushnil(L);
    return 1;
}

/* Continuation of await and await_any: returns what the task was resumed
 * with (the transfer that is over), above the argument and the task. */
static int await_resumed(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    rs_sched_check_resumed(L, 2);
    return lua_gettop(L) - 2;
}

/* core.await(t): suspends the running task until transfer t of core.start
 * is over (at once if it is); returns t. */
static int sched_await(lua_State *L)
{
    rs_transfer *t = luaL_checkudata(L, 1, RS_TRANSFER_MT);
    lua_settop(L, 1);
    if (rs_loop_is_over(t))
        return 1;
    push_suspending(L, "await");
    lua_pushlightuserdata(L, (void *)&transfer_mark);
    lua_pushvalue(L, 1);
    return lua_yieldk(L, 2, 0, await_resumed);
}

/* core.await_any(list): suspends the running task until one of the
 * transfers in list is over; returns it (nil when one already was). */
static int sched_await_any(lua_State *L)
{
    lua_Integer i, n;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    n = (lua_Integer)lua_rawlen(L, 1);
    for (i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);
        if (rs_loop_is_over(luaL_checkudata(L, -1, RS_TRANSFER_MT)))
            return 0;
        lua_pop(L, 1);
    }
    push_suspending(L, "await_any");
    lua_pushlightuserdata(L, (void *)&any_mark);
    lua_pushvalue(L, 1);
    return lua_yieldk(L, 2, 0, await_resumed);
}

/* core.sleep_until(due): suspends the running task until core.now()
 * reaches due. */
static int sched_sleep_until(lua_State *L)
{
    lua_Number due = luaL_checknumber(L, 1);
    lua_settop(L, 1);
    push_suspending(L, "sleep_until");
    lua_pushlightuserdata(L, (void *)&sleep_mark);
    lua_pushnumber(L, due);
    return lua_yieldk(L, 2, 0, await_resumed);
}

int rs_sched_suspend(lua_State *L, int tidx, lua_KContext ctx, lua_KFunction k)
{
    lua_pushlightuserdata(L, (void *)&awaits_mark);
    if (tidx)
        lua_pushvalue(L, tidx);
    else
        lua_pushboolean(L, 0);
    return lua_yieldk(L, 2, ctx, k);
}

rs_transfer *rs_sched_transfer(lua_State *L, int task)
{
    rs_task *tk = lua_touserdata(L, task);
    if (tk->transfer == NULL) {
        rs_sched *s = tk->sched;
        rs_transfer *t = s->spares ? s->spare[--s->spares] : malloc(sizeof *t);
        if (t == NULL)
            return NULL;
        memset(t, 0, sizeof *t);
        t->state = RS_T_SPENT;
        t->ref = LUA_NOREF;
        tk->transfer = t;
    }
    return tk->transfer;
}

/* ---- the task's methods ---------------------------------------------------- */

/* What wait() gives for a finished task at index 1. */
static int outcome(lua_State *L, rs_task *task)
{
    lua_Integer i, n;
    if (task->state == TASK_CANCELLED) {
        lua_createtable(L, 0, 2);
        lua_pushliteral(L, "cancelled");
        lua_setfield(L, -2, "kind");
        lua_pushliteral(L, "the task was cancelled");
        lua_setfield(L, -2, "message");
        luaL_setmetatable(L, RS_ERROR_MT);
        return lua_error(L);
    }
    lua_getiuservalue(L, 1, TV_THREAD);
    if (task->state == TASK_FAILED)
        return lua_error(L);
    if (lua_isnil(L, -1))
        return 0;
    lua_getfield(L, -1, "n");
    n = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (n >= INT_MAX - 8 || !lua_checkstack(L, (int)n))
        return luaL_error(L, "robloxsocial: the task's %I results do not fit on the stack", n);
    for (i = 1; i <= n; i++)
        lua_rawgeti(L, -1 - (int)(i - 1), i);
    return (int)n;
}

static int task_wait_resumed(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    rs_sched_check_resumed(L, 2);
    return outcome(L, lua_touserdata(L, 1));
}

/* Raises when the task at 1 waits, directly or through others, for the
 * task at me (0: the caller is no task): that wait would never end. */
static void check_no_cycle(lua_State *L, rs_sched *s, int me)
{
    int hops = 0, top = lua_gettop(L);
    if (me && lua_rawequal(L, me, 1))
        luaL_error(L, "robloxsocial: wait would never end: task waits for itself");
    lua_pushvalue(L, 1);
    for (;;) {
        rs_task *t = lua_touserdata(L, -1);
        if (t->state != TASK_RUNNING || t->wait != WAIT_JOIN)
            break;
        if (is_active(t->co))
            break;
        lua_getiuservalue(L, -1, TV_WAITS);
        if ((me && lua_rawequal(L, -1, me)) || ++hops > s->live)
            luaL_error(L, "robloxsocial: wait would never end: tasks wait for each other");
        lua_remove(L, -2);
    }
    lua_settop(L, top);
}

/* The wait of the task at 1 outside a task: steps until it is done. */
static void wait_stepping(lua_State *L, rs_sched *s, rs_task *task)
{
    check_not_moving(L, s, "wait");
    check_no_cycle(L, s, 0);
    lua_settop(L, 1);
    enter(L, s);
    while (task->state == TASK_RUNNING) {
        double wait = next_timeout(s, L);
        if (task->stray && is_active(task->co))
            luaL_error(L, "robloxsocial: wait would never end: the program runs the"
                          " task's coroutine itself");
        step(L, s, wait < 1 ? wait : wait == HUGE_VAL ? 0 : 1);
    }
}

/* task:wait(): the task's results, or its error raised.  Inside another
 * task it suspends that one; elsewhere it steps until the task is done. */
static int task_wait(lua_State *L)
{
    rs_task *task = check_task(L, 1);
    rs_sched *s = sched_of(L);
    lua_settop(L, 1);
    if (task->state == TASK_RUNNING) {
        int me = push_current(L);
        if (me) {
            check_no_cycle(L, s, me);
            lua_pushlightuserdata(L, (void *)&join_mark);
            lua_pushvalue(L, 1);
            return lua_yieldk(L, 2, 0, task_wait_resumed);
        }
        wait_stepping(L, s, task);
        lua_settop(L, 1);       /* closes the scheduler: no longer stepping */
    }
    return outcome(L, task);
}

static int task_done(lua_State *L)
{
    lua_pushboolean(L, check_task(L, 1)->state != TASK_RUNNING);
    return 1;
}

/* task:cancel(): ends the task where it is suspended: a transfer it waits
 * for is abandoned, its to-be-closed variables are closed, and tasks in
 * its wait() raise a "cancelled" error.  Also its __close. */
static int task_cancel(lua_State *L)
{
    rs_task *task = check_task(L, 1);
    rs_sched *s = sched_of(L);
    lua_State *co;
    if (task->state != TASK_RUNNING)
        return 0;
    lua_settop(L, 1);
    co = task->co;
    if (co == L)
        return luaL_error(L, "robloxsocial: a task cannot cancel itself (return from it instead)");
    if (task->in_resume || is_active(co))
        return luaL_error(L, "robloxsocial: cannot cancel a task that is resuming another");
    release_waits(L, 1, task, 1);
    release_own(L, s, task);
    task->state = TASK_CANCELLED;
    s->stepping++;              /* its __close handlers may not step */
    (void)reset_thread(co, L);
    s->stepping--;
    lua_pushnil(L);
    finish(L, s, 1, co);
    return 0;
}

static int task__tostring(lua_State *L)
{
    static const char *const names[] = { "running", "done", "failed", "cancelled" };
    lua_pushfstring(L, "robloxsocial.Task (%s)", names[check_task(L, 1)->state]);
    return 1;
}

/* A task needs no __gc: a live one is anchored until it ends, and the
 * C memory it holds (its own transfer) is let go of when it ends, or by
 * the scheduler's __gc when the state closes first. */
static const luaL_Reg task_methods[] = {
    {"done", task_done},
    {"wait", task_wait},
    {"cancel", task_cancel},
    {NULL, NULL}
};

static const luaL_Reg task_meta[] = {
    {"__tostring", task__tostring},
    {"__close", task_cancel},
    {NULL, NULL}
};

static const luaL_Reg sched_functions[] = {
    {"spawn", sched_spawn},
    {"step", sched_step},
    {"run", sched_run},
    {"next_timeout", sched_next_timeout},
    {"live", sched_live},
    {"current", sched_current},
    {"await", sched_await},
    {"await_any", sched_await_any},
    {"sleep_until", sched_sleep_until},
    {NULL, NULL}
};

/* __gc of the scheduler, when the Lua state closes: the tasks still
 * suspended in a call let go of their own transfers (the clients' own
 * finalizers, which run first, have cancelled them). */
static int sched__gc(lua_State *L)
{
    rs_sched *s = lua_touserdata(L, 1);
    lua_getiuservalue(L, 1, SV_TASKS);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        rs_task *task = luaL_testudata(L, -1, RS_TASK_MT);
        if (task)
            release_own(L, s, task);
        lua_pop(L, 1);
    }
    while (s->spares)
        free(s->spare[--s->spares]);
    return 0;
}

void rs_sched_push_tasks(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &sched_key);
    lua_getiuservalue(L, -1, SV_TASKS);
    lua_remove(L, -2);
}

void rs_sched_open(lua_State *L)
{
    int m = lua_gettop(L), si, mti, i;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &sched_key) == LUA_TNIL) {
        rs_sched *s;
        lua_pop(L, 1);
        s = lua_newuserdatauv(L, sizeof *s, SV_COUNT);
        memset(s, 0, sizeof *s);
        s->lp = rs_loop_get(L);
        /* Made after the loop, so finalized before it as the state closes.
         * Its __close ends a step (see enter). */
        lua_createtable(L, 0, 2);
        lua_pushcfunction(L, sched__gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, sched__close);
        lua_setfield(L, -2, "__close");
        lua_setmetatable(L, -2);
        for (i = 1; i <= SV_COUNT; i++) {
            lua_newtable(L);
            lua_setiuservalue(L, -2, i);
        }
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &sched_key);
    }
    si = m + 1;
    luaL_newmetatable(L, RS_TASK_MT);
    mti = m + 2;
    lua_newtable(L);
    lua_pushvalue(L, si);
    lua_pushvalue(L, mti);
    luaL_setfuncs(L, task_methods, 2);
    lua_setfield(L, mti, "__index");
    lua_pushvalue(L, si);
    lua_pushvalue(L, mti);
    luaL_setfuncs(L, task_meta, 2);
    lua_pushvalue(L, m);
    lua_pushvalue(L, si);
    lua_pushvalue(L, mti);
    luaL_setfuncs(L, sched_functions, 2);
    lua_settop(L, m);
}
