/*
 * task.c: one task's life (filed where it waits, resumed, ended), its
 * methods (wait, done, cancel) and the yields that suspend it (core.send's
 * through rs_sched_suspend, await, await_any, sleep_until, a join).  Every
 * yield of ours has a continuation that checks that the scheduler is the
 * one resuming it.  See sched.c for the lists and the steps.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sched_int.h"

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

void rs_task_clear_waits(lua_State *L, int ti, rs_task *task)
{
    if (task->waits_held) {
        lua_pushnil(L);
        lua_setiuservalue(L, ti, TV_WAITS);
        task->waits_held = 0;
    }
}

/* Lets go of the transfers that the task at ti waits for: drops them from
 * the waiting table, and when abandon is set cancels them as well. */
void rs_task_release_waits(lua_State *L, int ti, rs_task *task, int abandon)
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
        rs_task_clear_waits(L, ti, task);
    }
    task->wait = WAIT_NONE;
}

/* Lets go of the task's own transfer, if a call left it in use: the task
 * was cancelled in that call, or the call raised after taking it. */
void rs_task_release_own(lua_State *L, rs_sched *s, rs_task *task)
{
    rs_transfer *t = task->transfer;
    if (t == NULL)
        return;
    task->transfer = NULL;
    if (!rs_transfer_is_spent(t))
        rs_loop_release(L, s->lp, t);
    if (s->spares < RS_SPARE_TRANSFERS)
        s->spare[s->spares++] = t;
    else
        free(t);
}

/* Ends the task at ti, whose outcome (nil, its results table or its
 * error) is on top (popped): it leaves the table of tasks, its coroutine
 * co, emptied, goes back to the pool, and the tasks in its wait() wake.
 * Never allocates, never raises. */
static void finish(lua_State *L, rs_sched *s, int ti, lua_State *co)
{
    rs_task *task = lua_touserdata(L, ti);
    rs_task_release_own(L, s, task);
    rs_loop_unsleep(s->lp, &task->timer);
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
        (void)rs_list_put(L, SV_POOL, &s->pool);
    else
        lua_pop(L, 1);
    lua_pop(L, 1);
    lua_setiuservalue(L, ti, TV_THREAD);
    rs_task_clear_waits(L, ti, task);
    if (task->joined) {
        lua_Integer i, n;
        lua_getiuservalue(L, ti, TV_JOINERS);
        n = (lua_Integer)lua_rawlen(L, -1);
        for (i = 1; i <= n; i++) {
            lua_rawgeti(L, -1, i);
            s->joiners--;
            rs_list_put_task(L, s, SV_WOKEN, &s->woken, lua_gettop(L));
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
 * it fail with a memory error.  Never raises.  While it ends, finalizers
 * and __close handlers may run: the task counts as being resumed (cancel
 * and wait keep off it) and as running until it has ended. */
void rs_task_end(lua_State *L, rs_sched *s, int ti, rs_task *task, lua_State *co,
                 int status, int nres)
{
    int state = TASK_DONE;
    task->in_resume = 1;
    if (status == LUA_OK && nres == 0) {
        lua_pushnil(L);             /* most tasks return nothing: no table */
    } else if (status == LUA_OK) {
        lua_pushcfunction(L, build_results);
        lua_pushlightuserdata(L, co);
        lua_pushinteger(L, nres);
        if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
            state = TASK_FAILED;    /* the memory error is on top */
            (void)reset_thread(co, L);
        }
    } else {
        state = TASK_FAILED;
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
    task->in_resume = 0;
    task->state = (unsigned char)state;
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
    rs_list_reserve(L, SV_WOKEN, &s->woken, s->woken.n + s->joiners + 1);
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
        task->wait = WAIT_SLEEP;
        if (!rs_loop_sleep(s->lp, &task->timer, lua_tonumber(co, base + 2))) {
            lua_settop(co, base);           /* a stray, timed next step */
            return;
        }
    } else if (mark == &join_mark) {
        copy_from(L, co, base + 2);
        file_join(L, s, ti, task);
    } else {                /* a plain yield: the rest of this step is given up */
        rs_list_reserve(L, SV_READY, &s->ready, s->ready.n + 1);
        if (task->state != TASK_RUNNING)
            return;
        task->wait = WAIT_READY;
        lua_pushvalue(L, ti);
        if (!rs_list_put(L, SV_READY, &s->ready)) {
            lua_settop(co, base);           /* no slot after all: a stray, resumed next step */
            return;
        }
    }
    if (task->state != TASK_RUNNING)        /* its coroutine went back to the pool */
        return;
    lua_settop(co, base);
    set_stray(s, task, 0);
}

void rs_task_file(lua_State *L, rs_sched *s, int ti, rs_task *task, lua_State *co, int nres)
{
    int top = lua_gettop(L);
    file(L, s, ti, task, co, nres);
    lua_settop(L, top);     /* a task cancelled meanwhile may leave a value */
}

/* Resumes the task at ti, whose coroutine co has nargs values pushed for
 * it (a function and its arguments the first time), and files it by what
 * it did.  May raise (memory) only while filing it. */
void rs_task_run(lua_State *L, rs_sched *s, int ti, rs_task *task, lua_State *co, int nargs)
{
    int nres = 0, status;
    task->wait = WAIT_NONE;
    task->in_resume = 1;
    s->resuming++;
    status = lua_resume(co, L, nargs, &nres);
    s->resuming--;
    task->in_resume = 0;
    if (status == LUA_YIELD)
        rs_task_file(L, s, ti, task, co, nres);
    else
        rs_task_end(L, s, ti, task, co, status, nres);
}

/* Resumes the suspended task at ti, with the value at idx (a finished
 * transfer) unless idx is 0.  A coroutine that the program resumed
 * itself meanwhile (it runs still, or it has ended) is left alone: the
 * task becomes a stray, which a later step settles. */
void rs_task_resume(lua_State *L, rs_sched *s, int ti, int idx)
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
    rs_task_run(L, s, ti, task, co, idx ? 1 : 0);
}

/* The task whose coroutine L is, whether or not the scheduler runs it:
 * pushes it and returns its index, or returns 0 pushing nothing. */
int rs_task_push_of(lua_State *L, int tasks)
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
    if (!lua_isyieldable(L) || !(ti = rs_task_push_of(L, tasks)))
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

int rs_task_wait_body(lua_State *L)
{
    rs_sched *s = sched_of(L);
    rs_task *task = lua_touserdata(L, 1);
    while (task->state == TASK_RUNNING) {
        double wait = rs_sched_next_timeout(s, L);
        if (task->stray && is_active(task->co))
            luaL_error(L, "robloxsocial: wait would never end: the program runs the"
                          " task's coroutine itself");
        rs_sched_step_once(L, s, wait < 1 ? wait : wait == HUGE_VAL ? 0 : 1);
    }
    return 0;
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
        rs_sched_check_not_moving(L, s, "wait");
        if (task->in_resume)    /* a finalizer or a hook that runs in its resumption */
            luaL_error(L, "robloxsocial: wait would never end: task waits for itself");
        check_no_cycle(L, s, 0);
        lua_settop(L, 1);
        lua_pushvalue(L, 1);
        rs_sched_guarded(L, s, SV_WAIT_BODY, 1, 0);
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
        return luaL_error(L, "robloxsocial: cannot cancel a task that is running"
                             " (being resumed or ended, or resuming another)");
    rs_task_release_waits(L, 1, task, 1);
    rs_task_release_own(L, s, task);
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
const luaL_Reg rs_task_methods[] = {
    {"done", task_done},
    {"wait", task_wait},
    {"cancel", task_cancel},
    {NULL, NULL}
};

const luaL_Reg rs_task_meta[] = {
    {"__tostring", task__tostring},
    {"__close", task_cancel},
    {NULL, NULL}
};

const luaL_Reg rs_task_functions[] = {
    {"current", sched_current},
    {"await", sched_await},
    {"await_any", sched_await_any},
    {"sleep_until", sched_sleep_until},
    {NULL, NULL}
};
