/*
 * loop.h: the loop that moves every transfer of a Lua state: the curl
 * multi handle, the timers (delayed retries, waits, sleeping tasks),
 * each client's queue of transfers waiting for a slot, and the list of
 * finished transfers that tasks wait for.  One per Lua state, shared by all its clients.
 */
#ifndef RS_LOOP_H
#define RS_LOOP_H

#include "poll.h"
#include "timers.h"

typedef struct rs_loop {
    CURLM *multi;               /* NULL once released */
    rs_timers timers;           /* delayed transfers, due first on top */
    rs_transfer *done_head, *done_tail;   /* finished, not yet taken by the scheduler */
    int live;                   /* transfers queued, running or delayed: counted in
                                   by rs_loop_submit, out by the end of each */
    rs_transfer *net_head;      /* the transfers on the multi handle */
    int on_network;             /* their number, kept by that list's add and remove */
    int transfers;              /* transfer userdata not yet collected: counted in by
                                   rs_loop_new_transfer, out by their __gc */
    rs_transfer *free_head;     /* spent transfers kept for the next ones */
    int free_count;             /* their number, kept by its take and give */
    int sessions;               /* clients' sessions not yet released (core.stats) */
    long connections;           /* the open clients' concurrency, summed */
    int taking;                 /* rs_loop_take under way: its hooks, and the finalizers
                                   that run while it builds the result, may not step */
    int anchors;                /* registry index of the anchor table: an
                                   array slot is found faster than a key */
    int strict;                 /* robloxsocial.strict(true): a call that would block raises */
    int unread;                 /* rs_loop_flush saw a transfer complete: collect has work */
    rs_poll poll;               /* libcurl's sockets and timer; the host's descriptor */
    int poll_due;               /* the act set a timer due now (rs_loop_pump_soon) */
} rs_loop;

/* The loop of this Lua state (created by rs_loop_open). */
rs_loop *rs_loop_get(lua_State *L);

/* The transfers come from the loop, which keeps those let go of for the
 * next ones (a free list): a transfer zeroed, spent until it is made
 * whole, anchored nowhere; NULL when memory ran out.  One given back is
 * spent and on nothing of the loop's (rs_loop_release first). */
rs_transfer *rs_loop_take_transfer(rs_loop *lp);
void rs_loop_give_transfer(rs_loop *lp, rs_transfer *t);

/* Pushes a new transfer userdata of the metatable at stack index mt: a
 * box holding a transfer of rs_loop_take_transfer, which its __gc
 * releases and gives back.  Raises a memory error. */
rs_transfer *rs_loop_new_transfer(lua_State *L, rs_loop *lp, int mt);

/* The transfer that the transfer userdata at idx holds. */
static inline rs_transfer *rs_loop_unbox(lua_State *L, int idx)
{
    return *(rs_transfer **)lua_touserdata(L, idx);
}

/* The same, raising an argument error when idx holds no transfer. */
rs_transfer *rs_loop_check_transfer(lua_State *L, int idx);

/* Frees the transfers kept for the next ones (the loop is released). */
void rs_loop_free_kept(rs_loop *lp);

/* Takes the transfer userdata on top of the stack (left there): anchors
 * it (or, when task is a stack index, the task suspended on it, which
 * rs_loop_pop_done then pushes in its place), then queues it on its session or
 * starts it at once. */
void rs_loop_submit(lua_State *L, rs_loop *lp, rs_transfer *t, int task);

/* Whether t is over: finished, cancelled or spent. */
int rs_loop_is_over(const rs_transfer *t);

/* Moves every transfer: starts due retries, lets libcurl work, judges the
 * attempts that ended, and waits at most timeout seconds for the network
 * when nothing ended.  Touches no Lua state, never raises. */
void rs_loop_progress(rs_loop *lp, double timeout);

/* Drives the loop until t is finished or cancelled. */
void rs_loop_wait(rs_loop *lp, rs_transfer *t);

/* Abandons t wherever it is; its result becomes a "cancelled" error. */
void rs_loop_cancel(rs_loop *lp, rs_transfer *t);

/* Cancels and detaches every transfer of s (the client is closing). */
void rs_loop_detach_session(rs_loop *lp, rs_session *s);

/* A client of that concurrency opens (delta > 0) or closes (< 0): the
 * cache of kept-alive connections holds what all of them may use.  Left
 * to itself libcurl 7.88 sizes it by the handles on the multi, so it
 * closes idle connections between two batches and the next batch
 * reconnects (a TCP and a TLS handshake each). */
void rs_loop_connections(rs_loop *lp, long delta);

/* Abandons t wherever it is and lets go of it: it leaves the list of
 * finished transfers and loses its anchor (core.cancel, task:cancel). */
void rs_loop_abandon(lua_State *L, rs_loop *lp, rs_transfer *t);

/* Abandons t and frees its buffers: t is spent, and its memory may go
 * (a transfer that is no userdata, at the end of its task). */
void rs_loop_release(lua_State *L, rs_loop *lp, rs_transfer *t);

/* Takes the next finished transfer that something waits for off the list
 * and pushes what its anchor holds (the task suspended on it inside
 * core.send, or the transfer itself); returns NULL, pushing nothing, when
 * the list is empty.  The anchor stays until the result is taken. */
rs_transfer *rs_loop_pop_done(lua_State *L, rs_loop *lp);

/* Seconds until the loop has work: 0 when a finished transfer is listed,
 * HUGE_VAL when nothing is in flight; while transfers are on the network,
 * libcurl's own timeout once a host watches the descriptor (poll.c), else
 * at most a glance (5 ms: nothing else sees libcurl's sockets). */
double rs_loop_next_timeout(rs_loop *lp);

/* The end of a step: transfers that tasks have just made go out now
 * rather than at the next step (libcurl's timer for them is due).  What
 * completes meanwhile waits for the next step, which first resumes its
 * tasks (a batch whose hook raises withdraws the rest before any goes). */
void rs_loop_flush(rs_loop *lp);

/* Waits for t, then lets go of it, calls its client's hooks (the table
 * at stack index hooks; 0 or nil for none) and pushes its result: the
 * decoded body (returns 1) or nil and the error (returns 2).  Raises a
 * hook's error, or a memory error; t is spent either way. */
int rs_loop_take(lua_State *L, rs_loop *lp, rs_transfer *t, int hooks);

/* s's lines are looked at again at the loop's next turn (a fleet's store
 * answered a take, fleet.c). */
void rs_loop_pump_soon(rs_loop *lp, rs_session *s);

/* Takes tm off the timers or the rung list, wherever it is. */
static inline void rs_loop_unsleep(rs_loop *lp, rs_timer *tm)
{
    rs_timers_remove(&lp->timers, tm);
    rs_timers_unring(&lp->timers, tm);
}

/* A sleeping task's timer tm (zeroed once, before its first use) goes on
 * the loop's timers, due at due; when it comes due the loop puts it on
 * its rung list (rs_loop_pop_rung).  Returns 0 when memory ran out. */
static inline int rs_loop_sleep(rs_loop *lp, rs_timer *tm, double due)
{
    rs_loop_unsleep(lp, tm);
    tm->is_task = 1;
    tm->due = due;
    return rs_timers_add(&lp->timers, tm);
}

/* Takes the first timer off the rung list, or returns NULL. */
static inline rs_timer *rs_loop_pop_rung(rs_loop *lp)
{
    rs_timer *tm = lp->timers.rung_head;
    if (tm)
        rs_timers_unring(&lp->timers, tm);
    return tm;
}

/* Adds progress, stats, now and the transfer functions
 * to the module table on top. */
void rs_loop_open(lua_State *L);

#endif
