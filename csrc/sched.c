/*
 * sched.c: tasks, the scheduler of a Lua state: its lists and its steps
 * (one task's life, its methods and its yields are in task.c).  A task
 * runs a function on a coroutine; a call inside it suspends it (core.send
 * yields, the loop anchors the task) and step() resumes it once the loop
 * has finished its transfer.  Tasks also wait for transfers of batches and iterators
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
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sched_int.h"

/* Idle coroutines kept for later tasks.  Each holds about a kilobyte; a
 * program that runs more tasks at once than this makes the rest anew. */
#define RS_POOL_MAX 1024

/* Stack slots that a step needs for itself (checked before it starts). */
#define RS_STEP_STACK 24

/* Registry key of the scheduler userdata. */
static const char sched_key = 'S';

const char rs_sched_marks[MARK_COUNT] = { 'A', 'T', 'Y', 'Z', 'J' };

/* Makes the slots 1..need of the list in user value uv exist, so that
 * filling them allocates nothing.  May raise (memory): call it before
 * changing anything, and allocate nothing after it until the list is
 * filled. */
void rs_list_reserve(lua_State *L, int uv, rs_list *l, int need)
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
int rs_list_put(lua_State *L, int uv, rs_list *l)
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
void rs_list_put_task(lua_State *L, rs_sched *s, int uv, rs_list *l, int ti)
{
    lua_pushvalue(L, ti);
    if (!rs_list_put(L, uv, l))
        set_stray(s, lua_touserdata(L, ti), 1);
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
        rs_task_release_waits(L, ti, task, 1);
        rs_task_end(L, s, ti, task, co, status, status == LUA_OK ? lua_gettop(co) : 0);
    } else if (w == WAIT_NONE) {
        rs_task_file(L, s, ti, task, co, task->yielded);
    } else if (w == WAIT_READY || (w == WAIT_JOIN && join_over(L, ti))
               || (w == WAIT_SLEEP && task->timer.due <= rs_now())) {
        rs_loop_unsleep(s->lp, &task->timer);
        set_stray(s, task, 0);
        rs_task_resume(L, s, ti, 0);
    } else if (w == WAIT_SLEEP) {
        if (rs_loop_sleep(s->lp, &task->timer, task->timer.due))
            set_stray(s, task, 0);          /* else the next step tries again */
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
    rs_list_reserve(L, SV_POOL, &s->pool, pool_room < RS_POOL_MAX ? pool_room : RS_POOL_MAX);
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
    rs_task_run(L, s, ti, task, co, nargs - 1);
    lua_settop(L, ti);
    return 1;
}

/* Raises when step, run or a wait (what) would re-enter the library
 * while it moves requests: it would resume tasks that are themselves
 * resuming, walk lists that the outer step is walking, or wait for
 * itself. */
void rs_sched_check_not_moving(lua_State *L, rs_sched *s, const char *what)
{
    if (s->lp->taking > 0)
        luaL_error(L, "robloxsocial: %s called while the library is already moving requests"
                      " (from a hook or a finalizer)", what);
    if (s->resuming > 0)
        luaL_error(L, "robloxsocial: %s cannot be called while a task runs;"
                      " inside a task, calls suspend it and task:wait() waits for another task",
                   what);
    if (s->stepping > 0)
        luaL_error(L, "robloxsocial: %s called while the library is already stepping"
                      " (from a __close or a finalizer)", what);
    lua_getiuservalue(L, SCHED, SV_TASKS);
    if (rs_task_push_of(L, lua_gettop(L)))
        luaL_error(L, "robloxsocial: %s called in a task's coroutine that the program"
                      " resumed itself", what);
    lua_pop(L, 1);
}

int rs_sched_guarded(lua_State *L, rs_sched *s, int body, int nargs, int nres)
{
    int status;
    lua_getiuservalue(L, SCHED, body);
    lua_insert(L, -1 - nargs);
    s->stepping++;
    status = lua_pcall(L, nargs, nres, 0);
    s->stepping--;
    if (status != LUA_OK)
        lua_error(L);
    return nres;
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

/* The sleeping tasks whose timers came due (the loop's rung list) are
 * resumed in the order they came due.  A task is pushed before its timer
 * leaves the list (a memory error leaves it there for the next step), and
 * its timer leaves before it is resumed.  A task that sleeps again goes
 * back on the loop's timers, not on this list: this ends. */
static void wake_sleepers(lua_State *L, rs_sched *s)
{
    rs_timer *tm;
    while ((tm = s->lp->timers.rung_head) != NULL) {
        rs_task *task = (rs_task *)(void *)((char *)tm - offsetof(rs_task, timer));
        if (task->state != TASK_RUNNING || task->wait != WAIT_SLEEP || task->co == NULL) {
            (void)rs_loop_pop_rung(s->lp);
            continue;
        }
        if (!lua_checkstack(task->co, 1))
            luaL_error(L, "robloxsocial: not enough memory");
        lua_getiuservalue(L, SCHED, SV_TASKS);
        lua_pushthread(task->co);
        lua_xmove(task->co, L, 1);
        lua_rawget(L, -2);
        lua_remove(L, -2);
        (void)rs_loop_pop_rung(s->lp);
        if (lua_touserdata(L, -1) == task)
            rs_task_resume(L, s, lua_gettop(L), 0);
        lua_pop(L, 1);
    }
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
            rs_task_resume(L, s, lua_gettop(L), 0);
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
                rs_task_clear_waits(L, ai, task);
                rs_task_resume(L, s, ai, 0);
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
                    rs_task_release_waits(L, ti, task, 0);
                    rs_task_resume(L, s, ti, ai);
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
void rs_sched_step_once(lua_State *L, rs_sched *s, double timeout)
{
    luaL_checkstack(L, RS_STEP_STACK, NULL);
    if (s->strays)
        settle_strays(L, s);
    wake_sleepers(L, s);
    if (s->ready.n || s->woken.n || s->strays || timeout < 0)
        timeout = 0;
    rs_loop_progress(s->lp, timeout);   /* which waits no longer than its next timer */
    resume_finished(L, s);
    wake_sleepers(L, s);
    run_list(L, s, SV_READY, &s->ready, WAIT_READY);
    while (s->woken.n)
        run_list(L, s, SV_WOKEN, &s->woken, WAIT_JOIN);
}

static int step_body(lua_State *L)
{
    rs_sched *s = sched_of(L);
    rs_sched_step_once(L, s, lua_tonumber(L, 1));
    lua_pushinteger(L, s->live);
    return 1;
}

/* core.step([timeout]): moves every transfer, waiting at most timeout
 * seconds for the network, and resumes the tasks that can go on; returns
 * the number of tasks not finished. */
static int sched_step(lua_State *L)
{
    rs_sched *s = sched_of(L);
    double timeout = opt_seconds(L, 1, "step");
    rs_sched_check_not_moving(L, s, "step");
    lua_settop(L, 0);
    lua_pushnumber(L, timeout);
    return rs_sched_guarded(L, s, SV_STEP_BODY, 1, 1);
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
double rs_sched_next_timeout(rs_sched *s, lua_State *L)
{
    if (s->strays || (s->ready.n && any_waiting(L, SV_READY, &s->ready, WAIT_READY))
        || (s->woken.n && any_waiting(L, SV_WOKEN, &s->woken, WAIT_JOIN)))
        return 0;
    return rs_loop_next_timeout(s->lp);     /* sleeping tasks' timers included */
}

/* core.next_timeout(): seconds until step has work (0: now), nil when
 * nothing is in flight and no task sleeps. */
static int sched_next_timeout(lua_State *L)
{
    double wait = rs_sched_next_timeout(sched_of(L), L);
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

/* The body of run: its arguments say whether it is bounded, and when. */
static int run_body(lua_State *L)
{
    rs_sched *s = sched_of(L);
    int bounded = lua_toboolean(L, 1);
    double deadline = lua_tonumber(L, 2);
    while (s->live > 0) {
        double wait = rs_sched_next_timeout(s, L);
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
        rs_sched_step_once(L, s, wait < 1 ? wait : 1);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* core.run([timeout]): steps until every task is done (true) or timeout
 * seconds have passed (false). */
static int sched_run(lua_State *L)
{
    rs_sched *s = sched_of(L);
    int bounded = !lua_isnoneornil(L, 1);
    double deadline = rs_now() + opt_seconds(L, 1, "run");
    rs_sched_check_not_moving(L, s, "run");
    lua_settop(L, 0);
    lua_pushboolean(L, bounded);
    lua_pushnumber(L, deadline);
    return rs_sched_guarded(L, s, SV_RUN_BODY, 2, 1);
}

/* core.live(): tasks not finished. */
static int sched_live(lua_State *L)
{
    lua_pushinteger(L, sched_of(L)->live);
    return 1;
}

static const luaL_Reg sched_functions[] = {
    {"spawn", sched_spawn},
    {"step", sched_step},
    {"run", sched_run},
    {"next_timeout", sched_next_timeout},
    {"live", sched_live},
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
        if (task) {
            rs_task_release_own(L, s, task);
            rs_loop_unsleep(s->lp, &task->timer);
        }
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

/* Makes f, with the scheduler at si and the task metatable at mti as
 * upvalues, the body in user value body: made once, so that a step makes
 * no garbage. */
static void set_body(lua_State *L, int si, int mti, int body, lua_CFunction f)
{
    lua_pushvalue(L, si);
    lua_pushvalue(L, mti);
    lua_pushcclosure(L, f, 2);
    lua_setiuservalue(L, si, body);
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
        /* Made after the loop, so finalized before it as the state closes. */
        lua_createtable(L, 0, 1);
        lua_pushcfunction(L, sched__gc);
        lua_setfield(L, -2, "__gc");
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
    luaL_setfuncs(L, rs_task_methods, 2);
    lua_setfield(L, mti, "__index");
    lua_pushvalue(L, si);
    lua_pushvalue(L, mti);
    luaL_setfuncs(L, rs_task_meta, 2);
    lua_pushvalue(L, m);
    lua_pushvalue(L, si);
    lua_pushvalue(L, mti);
    luaL_setfuncs(L, sched_functions, 2);
    lua_pushvalue(L, si);
    lua_pushvalue(L, mti);
    luaL_setfuncs(L, rs_task_functions, 2);
    set_body(L, si, mti, SV_STEP_BODY, step_body);
    set_body(L, si, mti, SV_RUN_BODY, run_body);
    set_body(L, si, mti, SV_WAIT_BODY, rs_task_wait_body);
    lua_settop(L, m);
}
