/*
 * loop.c: the loop of a Lua state.  It owns the curl multi handle, the
 * timers of delayed retries and the list of finished transfers, and hands
 * each session's slots to its transfers in the order they were made.
 *
 * Everything that libcurl calls, and everything that runs while a libcurl
 * call may be on the stack, is C that touches no Lua state.  Lua sees the
 * loop through core.progress and the transfer functions (loop_lua.c);
 * the scheduler (sched.c) moves it and takes the finished transfers that
 * tasks wait for (rs_loop_pop_done).
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "csrf.h"
#include "hooks.h"
#include "loop.h"
#include "loop_int.h"
#include "loop_lists.h"
#include "pacing_spare.h"

/* Longest a host loop is told it may sleep while transfers are live but
 * none is on the network and no timer is set (it should not happen). */
#define RS_GLANCE 0.005

/* ---- lists ------------------------------------------------------------- */

void rs_loop_unlink_member(rs_transfer *t)
{
    rs_session *s = t->session;
    if (t->prev_member)
        t->prev_member->next_member = t->next_member;
    else if (s && s->queue->members == t)
        s->queue->members = t->next_member;
    if (t->next_member)
        t->next_member->prev_member = t->prev_member;
    t->next_member = t->prev_member = NULL;
}

/* ---- moving transfers ---------------------------------------------------- */

static void start(rs_loop *lp, rs_transfer *t);

/* A paced bucket's request may not take the client's last free slot
 * (pacing_spare.h: rs_bucket_keeps_last_slot). */
static int leaves_last_slot(const rs_transfer *t)
{
    const rs_session *s = t->session;
    return s->pace && t->pace.entry && s->queue->active + 1 == s->queue->concurrency
           && rs_bucket_keeps_last_slot(&t->pace.entry->b, s->queue->active,
                                        s->queue->concurrency, rs_now());
}

static int may_start(void *t)
{
    return rs_transfer_may_start(t) && !leaves_last_slot(t);
}

/* Gives s's free slots to the heads of its lines whose buckets let a
 * request go, the lines in turn; when the next bucket to open waits for
 * a time (not for an answer or a slot), s's timer comes back then. */
static void pump(rs_loop *lp, rs_session *s)
{
    rs_queue *q = s->queue;
    double soonest = RS_PACE_ANSWER;
    rs_pace_link *l;
    while (s->buckets.queued > 0 && q->active < q->concurrency
           && (l = rs_pace_take(&s->buckets, -1, s->pace, may_start, &soonest)) != NULL)
        start(lp, l->owner);
    if (s->buckets.queued > 0 && q->active < q->concurrency && soonest < RS_PACE_ANSWER) {
        s->pace_timer.due = rs_now() + soonest;
        if (s->pace_timer.slot)
            rs_timers_update(&lp->timers, &s->pace_timer);
        else
            (void)rs_timers_add(&lp->timers, &s->pace_timer);   /* else the next answer pumps */
    } else if (s->pace_timer.slot)
        rs_timers_remove(&lp->timers, &s->pace_timer);
}

void rs_loop_pump_soon(rs_loop *lp, rs_session *s)
{
    if (s->closed || s->buckets.queued == 0)
        return;
    lp->poll_due = 1;
    s->pace_timer.due = rs_now();
    if (s->pace_timer.slot)
        rs_timers_update(&lp->timers, &s->pace_timer);
    else
        (void)rs_timers_add(&lp->timers, &s->pace_timer);
}

/* Takes t off the multi handle, if it is on it. */
static void off_multi(rs_loop *lp, rs_transfer *t)
{
    rs_transfer_count_on_service(t, 0);
    if (on_network(lp, t)) {
        curl_multi_remove_handle(lp->multi, t->easy);
        unlist_on_network(lp, t);
    }
}

/* t's easy handle went on the multi handle. */
static void put_on_multi(rs_loop *lp, rs_transfer *t)
{
    list_on_network(lp, t);
    rs_transfer_count_on_service(t, 1);
}

/* t ended (finished or cancelled): its slot goes to the next in line. */
static void end_transfer(rs_loop *lp, rs_transfer *t, rs_transfer_state state)
{
    rs_session *s = t->session;
    int had_slot = t->state == RS_T_RUNNING || t->state == RS_T_DELAYED;
    off_multi(lp, t);
    if (t->timer.slot)                  /* delayed, or queued with a deadline */
        rs_timers_remove(&lp->timers, &t->timer);
    if (s && t->pace.seq)       /* abandoned on the network: it may have been counted */
        rs_pace_settled(&s->buckets, &t->pace, -1, 0, NULL, -1);
    /* A transfer waits for a slot and for its endpoint's bucket in that
     * bucket's line (buckets.c), doubly linked: a call cancelled anywhere
     * in a long line leaves it at once (close() cancels every one); a
     * fleet's share it took and did not send on goes on. */
    if (s)
        rs_pace_ended(&s->buckets, &t->pace);
    if (rs_csrf_is_probe(s, t))
        (void)rs_csrf_probe_over(s, &lp->timers, t, 0);   /* they go at the loop's next turn */
    if (t->easy)
        curl_easy_setopt(t->easy, CURLOPT_PRIVATE, NULL);
    rs_transfer_drop_easy(t);
    if (t->state == RS_T_QUEUED || had_slot)
        lp->live--;
    t->state = state;
    if (had_slot && s) {
        s->queue->active--;
        pump(lp, s);
    }
}

/* After a failure no further request of the same call starts: its
 * transfers still waiting for a slot are cancelled. */
static void withdraw_group(rs_loop *lp, rs_session *s, lua_Integer group)
{
    rs_transfer *t;
    rs_pace_link *l, *next;
    int i;
    for (i = 0; i < s->buckets.count; i++)
        for (l = s->buckets.entry[i]->head; l; l = next) {
            next = l->next;             /* ending a queued one starts none */
            t = l->owner;
            if (t->group == group) {
                end_transfer(lp, t, RS_T_CANCELLED);
                list_done(lp, t);
            }
        }
    /* and those holding a slot until the csrf probe is answered: their
     * slots go to other calls (none of this one is queued now).  Ending
     * a transfer leaves it a member, so the walk stays valid. */
    for (t = s->queue->members; t; t = t->next_member)
        if (t->group == group && t->state == RS_T_DELAYED && t->token_wait) {
            end_transfer(lp, t, RS_T_CANCELLED);
            list_done(lp, t);
        }
}

/* t has its outcome: a task waiting for it finds it on the done list. */
static void finish(rs_loop *lp, rs_transfer *t)
{
    if (t->group && t->outcome.kind && t->session)
        withdraw_group(lp, t->session, t->group);
    end_transfer(lp, t, RS_T_FINISHED);
    list_done(lp, t);
}

/* t, about to be launched, fails before it reaches the network (kind
 * NULL: its outcome says why). */
static void fail_launch(rs_loop *lp, rs_transfer *t, const char *kind, const char *message)
{
    t->state = RS_T_RUNNING;    /* it held a slot: finish gives it back */
    if (kind)
        rs_transfer_fail(t, kind, message);
    finish(lp, t);
}

/* t's deadline came, or will before its turn (retry_after seconds from
 * now: its bucket opens after it), while it waited in line. */
static void expire(rs_loop *lp, rs_transfer *t, double retry_after)
{
    rs_transfer_fail(t, "timeout", "the call's deadline came before its turn (a slot, its rate limit)");
    t->outcome.retry_after = retry_after;
    end_transfer(lp, t, RS_T_FINISHED);
    if (t->group && t->session)
        withdraw_group(lp, t->session, t->group);
    list_done(lp, t);
}

/* t holds its slot until due; with no memory for the timer it fails. */
static void delay(rs_loop *lp, rs_transfer *t, double due)
{
    t->state = RS_T_DELAYED;
    t->timer.due = due;
    if (!rs_timers_add(&lp->timers, &t->timer))
        fail_launch(lp, t, "network", "not enough memory");
}

/* Sends the next attempt of t (its bucket let it go: pump); a failure to
 * even start ends it.  A write that waits for the session's csrf token
 * (csrf.c) waits as a timer, within its timeout. */
static void launch(rs_loop *lp, rs_transfer *t)
{
    static const char too_long[] = "the call took longer than its timeout";
    double now = rs_now(), end;
    CURLcode rc;
    CURLMcode mrc;
    end = rs_transfer_end(t);
    t->token_wait = rs_csrf_waits(t->session, t);
    if (t->token_wait) {
        if (now < end)
            delay(lp, t, end);
        else
            fail_launch(lp, t, "timeout", too_long);
        return;
    }
    rc = rs_transfer_begin(t);
    if (rc != CURLE_OK) {
        fail_launch(lp, t, rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "network",
                    rc == CURLE_OPERATION_TIMEDOUT ? too_long : curl_easy_strerror(rc));
        return;
    }
    t->state = RS_T_RUNNING;
    mrc = curl_multi_add_handle(lp->multi, t->easy);
    if (mrc != CURLM_OK) {
        fail_launch(lp, t, "network", curl_multi_strerror(mrc));
        return;
    }
    put_on_multi(lp, t);
    rs_pace_sent(&t->pace, now);
}

/* t takes a slot of its session: its timeout starts now, not while it
 * waited in line (its deadline, a timer meanwhile, counts that too). */
static void start(rs_loop *lp, rs_transfer *t)
{
    t->session->queue->active++;
    if (t->timer.slot)                  /* its deadline, while it was queued */
        rs_timers_remove(&lp->timers, &t->timer);
    t->timeout_end = rs_now() + t->session->timeout;
    launch(lp, t);
}

/* t (holding no slot) waits in its bucket's line, at its end (after a 429,
 * its head), its deadline a timer; a wait past that is not waited. */
static void wait_in_line(rs_loop *lp, rs_transfer *t, int front)
{
    rs_session *s = t->session;
    double now, wait;
    t->state = RS_T_QUEUED;
    if (s->pace && t->deadline < HUGE_VAL && !t->pace.entry->b.free
        && (wait = rs_bucket_delay(&t->pace.entry->b, now = rs_now())) < RS_PACE_ANSWER
        && now + wait >= t->deadline) {
        expire(lp, t, wait);
        return;
    }
    rs_pace_line_add(&s->buckets, &t->pace, front);
    if (t->deadline < HUGE_VAL) {
        t->timer.due = t->deadline;
        (void)rs_timers_add(&lp->timers, &t->timer);
    }
    pump(lp, s);
}

/* A transfer that a task waits for is anchored: its task may hold it
 * only in the scheduler's tables, and rs_loop_pop_done pushes it by its
 * anchor.
 * A transfer that a task is suspended on inside core.send (awaited)
 * anchors the task instead, which holds the transfer on its coroutine's
 * stack; rs_loop_pop_done then pushes the task itself, so the scheduler resumes
 * it without looking it up.  One that a blocking call waits for is held
 * by that call (on the C stack, or in the Lua locals of a batch or an
 * iterator); if those let go of it, __gc cancels it. */
void rs_loop_submit(lua_State *L, rs_loop *lp, rs_transfer *t, int task)
{
    rs_session *s = t->session;
    if (!t->blocking) {
        int top = lua_gettop(L);
        lua_rawgeti(L, LUA_REGISTRYINDEX, lp->anchors);
        lua_pushvalue(L, task ? task : top);
        t->ref = luaL_ref(L, -2);
        t->awaited = task != 0;
        lua_settop(L, top);
    }
    if (s->closed) {            /* by a finalizer that luaL_ref ran */
        t->session = NULL;
        t->state = RS_T_CANCELLED;
        list_done(lp, t);
        return;
    }
    t->next_member = s->queue->members;
    if (s->queue->members)
        s->queue->members->prev_member = t;
    s->queue->members = t;
    lp->live++;
    /* Nothing waits, a slot is free, its bucket lets any request go: at once. */
    if (s->queue->active < s->queue->concurrency && s->buckets.queued == 0
        && (!s->pace || t->pace.entry->b.free) && rs_transfer_may_start(t)) {
        start(lp, t);
        return;
    }
    wait_in_line(lp, t, 0);
}

void rs_loop_connections(rs_loop *lp, long delta)
{
    lp->connections += delta;
    if (lp->multi)
        (void)curl_multi_setopt(lp->multi, CURLMOPT_MAXCONNECTS,
                                lp->connections > 8 ? lp->connections : 8L);
}

/* Lets go of t's anchor. */
void rs_loop_unanchor(lua_State *L, rs_loop *lp, rs_transfer *t)
{
    if (t->ref == LUA_NOREF)
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, lp->anchors);
    luaL_unref(L, -1, t->ref);
    lua_pop(L, 1);
    t->ref = LUA_NOREF;
}

static double fire_timers(rs_loop *lp);

/* After a 429, t gives its slot back; its bucket reopens for it first. */
static void requeue(rs_loop *lp, rs_transfer *t)
{
    if (t->easy)
        curl_easy_setopt(t->easy, CURLOPT_PRIVATE, NULL);
    rs_transfer_drop_easy(t);
    t->session->queue->active--;
    wait_in_line(lp, t, 1);
}

/* Whether t's bucket is shared with a fleet (shared_limits, fleet.c):
 * each of its attempts takes a share first, in its bucket's line. */
static int in_fleet(const rs_transfer *t)
{
    const rs_session *s = t->session;
    return s && s->pace && s->buckets.gate && t->pace.entry && !t->pace.entry->b.free;
}

/* Judges every attempt that libcurl has ended. */
static int collect(rs_loop *lp)
{
    CURLMsg *msg;
    int left, ended = 0;
    lp->unread = 0;
    while ((msg = curl_multi_info_read(lp->multi, &left)) != NULL) {
        rs_transfer *t = NULL;
        rs_next next;
        int woken;
        CURL *e = msg->easy_handle;
        CURLcode rc = msg->data.result;
        if (msg->msg != CURLMSG_DONE)
            continue;
        if (curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&t) != CURLE_OK || t == NULL) {
            curl_multi_remove_handle(lp->multi, e);
            continue;
        }
        off_multi(lp, t);       /* msg is gone after this */
        next = rs_transfer_judge(t, rc);    /* keeps a token handed out */
        woken = rs_csrf_is_probe(t->session, t)
                && rs_csrf_probe_over(t->session, &lp->timers, t, rc == CURLE_OK) > 0;
        switch (next) {
        case RS_NEXT_RESEND:
            if (in_fleet(t))
                requeue(lp, t);         /* a resend takes a share of the fleet's budget too */
            else
                launch(lp, t);
            break;
        case RS_NEXT_DELAY:
            if (t->outcome.status == 429 && t->session->pace)
                requeue(lp, t);         /* after its bucket reopens, holding no slot */
            else
                delay(lp, t, t->timer.due);
            break;
        case RS_NEXT_FINISH:
            finish(lp, t);      /* a failed batch withdraws its waiting writes */
            ended++;
            break;
        }
        if (next != RS_NEXT_FINISH && t->session)
            pump(lp, t->session);       /* the answer may have opened its bucket (finish pumps) */
        if (woken)
            (void)fire_timers(lp);          /* now, not after the next wait */
    }
    return ended;
}

static rs_transfer *transfer_of(rs_timer *tm)
{
    return (rs_transfer *)(void *)((char *)tm - offsetof(rs_transfer, timer));
}

static rs_session *session_of(rs_timer *tm)
{
    return (rs_session *)(void *)((char *)tm - offsetof(rs_session, pace_timer));
}

/* Starts the retries that are due, and rings the sleeping tasks' timers
 * that are; returns seconds until the next one, or HUGE_VAL. */
static double fire_timers(rs_loop *lp)
{
    double now = rs_now();
    rs_timer *tm;
    lp->poll_due = 0;
    /* a transfer launch delays again is due after now: this ends */
    while ((tm = rs_timers_pop_due(&lp->timers, now)) != NULL) {
        rs_transfer *t;
        if (tm->is_task) {
            rs_timers_ring(&lp->timers, tm);    /* the scheduler resumes its task */
            continue;
        }
        if (tm->is_pace) {
            pump(lp, session_of(tm));           /* a bucket of it opens */
            continue;
        }
        t = transfer_of(tm);
        if (t->state == RS_T_QUEUED)
            expire(lp, t, -1);
        else
            launch(lp, t);
    }
    tm = rs_timers_peek(&lp->timers);
    return tm ? tm->due - now : HUGE_VAL;
}

/* Waits are poll.c's: libcurl's socket interface once a host watches. */
void rs_loop_progress(rs_loop *lp, double timeout)
{
    double next;
    if (lp->multi == NULL)
        return;
    next = fire_timers(lp);
    rs_poll_act(&lp->poll);
    if (lp->poll_due)           /* the act set a timer due now (a fleet's answer) */
        next = fire_timers(lp);
    if (collect(lp) || lp->timers.rung_head || timeout <= 0)
        return;
    if (rs_timers_peek(&lp->timers))    /* the act may have set one (a fleet's answer) */
        next = rs_timers_peek(&lp->timers)->due - rs_now();
    rs_poll_wait(&lp->poll, next < timeout ? next : timeout);
    fire_timers(lp);
    rs_poll_act(&lp->poll);
    collect(lp);
}

void rs_loop_flush(rs_loop *lp)
{
    int running;
    if (lp->multi == NULL)
        return;
    if (lp->poll.sockets >= 0 && lp->poll.curl_due <= rs_now()) {
        /* Not collected here: a transfer's end would start the next in
         * line, which the next step would send before resuming the task
         * that may withdraw it.  Every transfer on the multi handle was
         * running (collect takes the others off), so fewer running means
         * one has completed. */
        running = rs_poll_expire(&lp->poll);
        if (running >= 0 && running < lp->on_network)
            lp->unread = 1;
    }
    /* Then a fleet's writes of the step, its records and takes, in one
     * system call, after libcurl's work and the tasks': Redis, woken by
     * them, may take the processor from this one without holding up the
     * step. */
    rs_poll_flush_extras(&lp->poll);
}

int rs_loop_is_over(const rs_transfer *t)
{
    return t->state == RS_T_FINISHED || t->state == RS_T_CANCELLED || t->state == RS_T_SPENT;
}

void rs_loop_wait(rs_loop *lp, rs_transfer *t)
{
    if (rs_loop_is_over(t))
        return;
    while (!rs_loop_is_over(t))
        rs_loop_progress(lp, 1.0);
    /* A fleet's writes of the answers judged (a program may not step
     * again for a while); a wait's next turn writes them otherwise. */
    rs_poll_flush_extras(&lp->poll);
    /* It moved other transfers too: a host's next step settles them. */
    rs_poll_wake(&lp->poll);
}

void rs_loop_cancel(rs_loop *lp, rs_transfer *t)
{
    if (!rs_loop_is_over(t)) {
        end_transfer(lp, t, RS_T_CANCELLED);
        rs_poll_wake(&lp->poll);    /* a task may wait for it, a slot freed up */
    }
}

void rs_loop_detach_session(rs_loop *lp, rs_session *s)
{
    /* The queue first, from its head: no slot that frees below goes to a
     * call of a closing client. */
    int i;
    for (i = 0; i < s->buckets.count; i++)
        while (s->buckets.entry[i]->head) {
            rs_transfer *t = s->buckets.entry[i]->head->owner;
            end_transfer(lp, t, RS_T_CANCELLED);
            list_done(lp, t);
        }
    rs_timers_remove(&lp->timers, &s->pace_timer);
    while (s->queue->members) {
        rs_transfer *t = s->queue->members;
        if (t->state != RS_T_SPENT) {
            /* A task waiting for it is resumed with a "cancelled" error. */
            rs_loop_cancel(lp, t);
            t->state = RS_T_CANCELLED;
            list_done(lp, t);
        }
        rs_loop_unlink_member(t);
        t->session = NULL;
    }
}

double rs_loop_next_timeout(rs_loop *lp)
{
    double next = HUGE_VAL, now;
    rs_timer *first = rs_timers_peek(&lp->timers);
    if (lp->done_head || lp->timers.rung_head || lp->unread)
        return 0;
    now = rs_now();
    if (first)
        next = first->due - now;
    if (lp->live == 0)      /* a sleeping task's timer, or nothing */
        return next < 0 ? 0 : next;
    if (lp->on_network > 0) {
        double curl = rs_poll_curl_wait(&lp->poll, now);
        if (curl < next)
            next = curl;
    }
    /* a fleet's store (store.c) that only a glance sees: its answer lets
     * a line go (with the host's descriptor, its epoll set shows it) */
    if (!rs_poll_complete(&lp->poll) && rs_poll_has_extras(&lp->poll) && RS_GLANCE < next)
        next = RS_GLANCE;
    return next < 0 ? 0 : next == HUGE_VAL ? RS_GLANCE : next;
}
