/*
 * sched_int.h: the insides of the scheduler, shared by sched.c (the
 * lists and the steps) and task.c (one task's life, its methods and its
 * yields).  Not part of the core's interface: see sched.h.
 */
#ifndef RS_SCHED_INT_H
#define RS_SCHED_INT_H

#include "sched.h"

#if LUA_VERSION_RELEASE_NUM >= 50406
#define reset_thread(co, from) lua_closethread(co, from)
#else
#define reset_thread(co, from) ((void)(from), lua_resetthread(co))
#endif

/* Transfers of finished tasks kept for the next ones (320 bytes each). */
#define RS_SPARE_TRANSFERS 256

/* The first of the two values of each yield of ours; the second is what
 * the task waits for.  No Lua code can make these light userdata, so a
 * plain coroutine.yield() inside a task is never taken for one. */
enum {
    MARK_AWAITS,    /* core.send: its transfer, which anchors the task */
    MARK_TRANSFER,  /* core.await: a transfer of core.start */
    MARK_ANY,       /* core.await_any: a list of them */
    MARK_SLEEP,     /* core.sleep_until: a time of core.now */
    MARK_JOIN,      /* task:wait: another task */
    MARK_COUNT
};
extern const char rs_sched_marks[MARK_COUNT];
#define awaits_mark rs_sched_marks[MARK_AWAITS]
#define transfer_mark rs_sched_marks[MARK_TRANSFER]
#define any_mark rs_sched_marks[MARK_ANY]
#define sleep_mark rs_sched_marks[MARK_SLEEP]
#define join_mark rs_sched_marks[MARK_JOIN]

/* User values of the scheduler. */
enum {
    SV_TASKS = 1,   /* coroutine -> task, while the task lives (it anchors it) */
    SV_POOL,        /* idle coroutines, 1..pool.n */
    SV_WAITING,     /* transfer of core.start -> the task that waits for it */
    SV_READY,       /* tasks that yielded plainly: resumed at the next step */
    SV_WOKEN,       /* tasks whose awaited task ended: resumed in this step */
    SV_STEP_BODY,   /* the bodies of step, run and a wait, which run protected */
    SV_RUN_BODY,
    SV_WAIT_BODY,
    SV_COUNT = SV_WAIT_BODY
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
    rs_list pool, ready, woken;
    int spares;
    rs_transfer *spare[RS_SPARE_TRANSFERS];
} rs_sched;

typedef enum { TASK_RUNNING, TASK_DONE, TASK_FAILED, TASK_CANCELLED } task_state_kind;

typedef enum {
    WAIT_NONE,      /* running, being resumed, or not filed yet */
    WAIT_SEND,      /* the transfer of core.send: TV_WAITS, or the task's own */
    WAIT_TRANSFER,  /* TV_WAITS: a transfer of core.start */
    WAIT_ANY,       /* TV_WAITS: a list of them */
    WAIT_SLEEP,     /* its timer, on the loop's timers (rs_loop_sleep) */
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
    rs_timer timer;             /* sleep_until's, on the loop's timers */
    /* The transfer of the task's calls to clients: one call at a
     * time, so one transfer serves them all.  It is C memory (NULL until
     * the first call), so the collector neither finalizes nor counts it:
     * the task lets go of it when it ends.  Spent when no call uses it. */
    rs_transfer *transfer;
} rs_task;

/* The functions' upvalues: the scheduler, then the task metatable. */
#define SCHED lua_upvalueindex(1)
#define TASK_MT lua_upvalueindex(2)

static inline rs_sched *sched_of(lua_State *L)
{
    return lua_touserdata(L, SCHED);
}

static inline rs_task *check_task(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, RS_TASK_MT);
}

/* Pushes item i of the list of tasks at idx and returns it (NULL for a
 * free slot). */
static inline rs_task *push_task_at(lua_State *L, int idx, int i)
{
    lua_rawgeti(L, idx, i);
    return lua_touserdata(L, -1);
}

static inline void set_stray(rs_sched *s, rs_task *task, int on)
{
    if (task->stray != on) {
        task->stray = (unsigned char)on;
        s->strays += on ? 1 : -1;
    }
}

/* Whether co is running now or resuming another: the program resumed it
 * itself, behind the scheduler's back. */
static inline int is_active(lua_State *co)
{
    lua_Debug ar;
    return lua_status(co) == LUA_OK && lua_getstack(co, 0, &ar);
}

/* ---- sched.c: the lists, the steps ---------------------------------------- */

/* Makes the slots 1..need of the list in user value uv exist, so that
 * filling them allocates nothing.  May raise (memory): call it before
 * changing anything, and allocate nothing after it until the list is
 * filled. */
void rs_list_reserve(lua_State *L, int uv, rs_list *l, int need);

/* Appends the value on top (popped) to the list in user value uv when a
 * slot is free, and returns 1; otherwise drops it and returns 0.  Never
 * allocates, never raises. */
int rs_list_put(lua_State *L, int uv, rs_list *l);

/* Files the task at ti on the list in user value uv, or, when no slot is
 * free, makes it a stray that the next step resumes. */
void rs_list_put_task(lua_State *L, rs_sched *s, int uv, rs_list *l, int ti);

/* Raises when step, run or a wait (what) would re-enter the library
 * while it moves requests. */
void rs_sched_check_not_moving(lua_State *L, rs_sched *s, const char *what);

/* Calls the body in user value body (SV_*_BODY) with the nargs values on
 * top, protected, while the library counts as stepping; re-raises its
 * error once it no longer does.  Returns nres, its results being on top. */
int rs_sched_guarded(lua_State *L, rs_sched *s, int body, int nargs, int nres);

/* One step, inside a guarded body.  May raise (memory) with everything
 * consistent. */
void rs_sched_step_once(lua_State *L, rs_sched *s, double timeout);

/* Seconds until a step has work; HUGE_VAL when nothing is in flight. */
double rs_sched_next_timeout(rs_sched *s, lua_State *L);

/* ---- task.c: one task's life, its methods, its yields ---------------------- */

/* Drops what the task's TV_WAITS holds. */
void rs_task_clear_waits(lua_State *L, int ti, rs_task *task);

/* Lets go of the transfers the task at ti waits for; abandon cancels them. */
void rs_task_release_waits(lua_State *L, int ti, rs_task *task, int abandon);

/* Lets go of the task's own transfer, if a call left it in use. */
void rs_task_release_own(lua_State *L, rs_sched *s, rs_task *task);

/* Ends the task at ti: it returned (LUA_OK, nres values on co) or raised
 * (its error on co).  Never raises. */
void rs_task_end(lua_State *L, rs_sched *s, int ti, rs_task *task, lua_State *co,
                 int status, int nres);

/* Files the task at ti by what its coroutine yielded (nres values).  May
 * raise (memory) before it has, leaving it a stray. */
void rs_task_file(lua_State *L, rs_sched *s, int ti, rs_task *task, lua_State *co, int nres);

/* Resumes the task at ti (the first time, co holds the function and its
 * nargs arguments), then files or ends it. */
void rs_task_run(lua_State *L, rs_sched *s, int ti, rs_task *task, lua_State *co, int nargs);

/* Resumes the suspended task at ti, with the value at idx unless idx is
 * 0; a coroutine that the program runs itself makes it a stray. */
void rs_task_resume(lua_State *L, rs_sched *s, int ti, int idx);

/* Pushes the task whose coroutine L is, whether or not the scheduler runs
 * it, and returns its index; 0, pushing nothing, when L is no task's. */
int rs_task_push_of(lua_State *L, int tasks);

/* The body of a wait outside a task (see rs_sched_guarded): steps until
 * the task at 1 is done. */
int rs_task_wait_body(lua_State *L);

/* The task's methods and metamethods, and the module functions of a
 * task's yields (current, await, await_any, sleep_until); all with the
 * scheduler and the task metatable as upvalues. */
extern const luaL_Reg rs_task_methods[], rs_task_meta[], rs_task_functions[];

#endif
