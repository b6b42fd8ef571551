/*
 * sched.h: the scheduler of tasks, one per Lua state, above the loop.
 * A task is a function run on a coroutine; a call inside it suspends it
 * and the scheduler resumes it when the loop has finished its transfer.
 */
#ifndef RS_SCHED_H
#define RS_SCHED_H

#include "loop.h"

#define RS_TASK_MT "robloxsocial.Task"

/* Pushes the scheduler's table of live tasks by coroutine, which
 * client.c keeps as an upvalue to tell a call made inside a task. */
void rs_sched_push_tasks(lua_State *L);

/* The task whose coroutine L is, when a call there may suspend it:
 * pushes it and returns its stack index.  Returns 0, pushing nothing, in
 * the main thread, in a coroutine of the user's own, in a task's
 * coroutine that the program resumed itself, and where L cannot yield (a
 * hook, a finalizer, a metamethod called from C): there a call blocks.
 * tasks is the index of the table of tasks. */
int rs_sched_push_current(lua_State *L, int tasks);

/* The transfer that the task at stack index task keeps for its calls
 * (made on first use; NULL when memory is short): a call inside it uses
 * it when it is spent, and the scheduler lets go of it when the task
 * ends, even in the middle of that call. */
rs_transfer *rs_sched_transfer(lua_State *L, int task);

/* Ends a C function of a call inside a task: suspends the task, which the
 * scheduler resumes (calling k with ctx) once the loop has finished the
 * call's transfer: the userdata at stack index tidx, or (tidx 0) the
 * task's own.  The caller has had the loop anchor the task rather than
 * the transfer. */
int rs_sched_suspend(lua_State *L, int tidx, lua_KContext ctx, lua_KFunction k);

/* Called first by the continuation of a call inside a task (the task at
 * stack index tidx): raises when the program, not the scheduler, resumed
 * the task's coroutine.  The error ends the coroutine, and the next step
 * ends the task, failed with it. */
void rs_sched_check_resumed(lua_State *L, int tidx);

/* Creates the scheduler of this Lua state (once) and adds spawn, step,
 * run, next_timeout, live, current, await, await_any and sleep_until to
 * the module table on top. */
void rs_sched_open(lua_State *L);

#endif
