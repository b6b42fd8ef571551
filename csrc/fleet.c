/*
 * fleet.c: a bucket's head asks the fleet's store before it goes
 * (fleet.h).  The gate runs after the bucket's own rule let the head go.
 * While the store is up, the store applies the windows and the ceiling
 * for the whole fleet, on everyone's answers (a bucket's log holds only
 * its own requests, and an answer's remaining count is the fleet's,
 * told against this client's request numbers): the bucket's own rule
 * then holds a head back only for a closure, a probe or a token
 * bucket's level (rs_bucket_delay_shared), and never a share the store
 * granted.  A client alone with a store is paced by the same windows.
 *
 * One take per bucket at a time, for as many shares as the line has
 * requests, up to the client's concurrency (one round trip for a line:
 * a frame host, which reads the store's answer at its next step, would
 * otherwise send one request a frame): its answer either grants shares,
 * which the next heads to go use (each one's name kept on its link, for
 * the answer's record), or says how long to wait (the session's pace
 * timer comes back then), or says the store is down (the bucket paces
 * on its own until the store is up again).  A bucket that knows no
 * window yet (its first request, a probe) goes on its own.
 *
 * Who holds a share: the bucket, from the take's answer until a head
 * goes on it (e->granted, the heads using them in turn); then the
 * request's link (l->share) until its answer is recorded.  A share
 * whose request ends before it went (cancelled, a deadline, a closing
 * client, a batch that withdrew it, a launch that failed) would stay
 * counted in the store until its flight ends, and the fleet wait for
 * it: it goes on at once to a request waiting on the same bucket that
 * none covers (no round trip), else back to the store (a release,
 * written with the step's other writes); the bucket's own shares that
 * outnumber the requests waiting go back too.  A share is held by one
 * bucket or one link at a time, so no two requests go on one.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "loop.h"
#include "queue.h"
#include "rs.h"
#include "session.h"

/* src into out (cap bytes) from at, cut to fit; the new end.  Copied,
 * not printf'd: names and keys are made in a step's path. */
static size_t put(char *out, size_t cap, size_t at, const char *src)
{
    size_t len = strlen(src);
    if (at >= cap)
        return at;
    if (len > cap - 1 - at)
        len = cap - 1 - at;
    memcpy(out + at, src, len);
    out[at + len] = '\0';
    return at + len;
}

/* The name of the n-th share of the take named member: member.n. */
static void share_name(char *out, size_t cap, const char *member, int n)
{
    char digits[22];
    digits[0] = '.';
    digits[1 + rs_put_decimal(digits + 1, (unsigned long long)(n > 0 ? n : 0))] = '\0';
    out[0] = '\0';
    (void)put(out, cap, put(out, cap, 0, member), digits);
}

/* e's head waits for the store (waiting), or no longer: a wait that
 * ended is counted, and the longest kept. */
static void store_wait(rs_fleet *f, rs_pace_entry *e, double now, int waiting)
{
    if (waiting) {
        if (e->store_since <= 0)
            e->store_since = now;
        return;
    }
    if (e->store_since > 0) {
        if (now - e->store_since > f->longest_store_wait)
            f->longest_store_wait = now - e->store_since;
        f->store_waits++;
        e->store_since = 0;
    }
}

static void trim_pool(rs_fleet *f, rs_pace_entry *e);

static void on_share(void *arg, int verdict, double wait, const char *member, int shares)
{
    rs_pace_entry *e = arg;
    rs_fleet *f = e->fleet;
    e->asking = 0;
    store_wait(f, e, rs_now(), 0);      /* answered, or given up on */
    if (verdict == RS_STORE_GO) {
        e->granted = shares;
        e->share_next = 0;
        e->member[0] = '\0';
        (void)put(e->member, sizeof e->member, 0, member);
        trim_pool(f, e);        /* the line may have shrunk while it asked */
    } else if (verdict == RS_STORE_WAIT)
        e->ask_after = rs_now() + wait;
    if (f->lp)                          /* not leaving: its line may go now, or wait its time */
        rs_loop_pump_soon(f->lp, f->s);
}

/* The store came up or went down: the lines are looked at again. */
static void on_changed(void *arg)
{
    rs_fleet *f = arg;
    if (f->lp)
        rs_loop_pump_soon(f->lp, f->s);
}

/* The store's key of e: the credential's hash and the bucket's key. */
static void key_of(const rs_fleet *f, const rs_pace_entry *e, char *out, size_t cap)
{
    out[0] = '\0';
    (void)put(out, cap, put(out, cap, 0, f->prefix), e->key);
}

/* How many requests waiting on e hold no share given on to them,
 * counted up to most: the walk stops there. */
static int unshared(const rs_pace_entry *e, int most)
{
    const rs_pace_link *l;
    int n = 0;
    for (l = e->head; l != NULL && n < most; l = l->next)
        n += l->share[0] == '\0';
    return n;
}

/* How many shares to ask for: e's line, up to the client's concurrency,
 * less the requests holding a share given on to them (pass_on).
 * Not only its free slots: a host that steps once a frame reads the
 * store's answer a frame later, and a share asked for one slot at a time
 * as answers free them costs a frame each.  A share waiting for a slot
 * counts in the store as one in flight (as now): never more than the
 * windows allow, at worst a share of a window spent late. */
static int wanted(const rs_fleet *f, const rs_pace_entry *e)
{
    int n = unshared(e, f->s->queue->concurrency);
    return n < 1 ? 1 : n;
}

/* Gives back to the store the shares first to last of e's take member. */
static void give_back(rs_fleet *f, rs_pace_entry *e, const char *member, int first, int last)
{
    char key[RS_FLEET_PREFIX_LEN + RS_PACE_KEY_MAX + 2];
    key_of(f, e, key, sizeof key);
    rs_store_release(f->store, key, member, first, last);
}

/* The first request waiting on e that no share covers: past those
 * holding one given on to them and the first e->granted of the others
 * (the bucket's, which the heads use in turn); NULL when none.  It walks
 * the shares held, never a whole long line. */
static rs_pace_link *uncovered(const rs_pace_entry *e)
{
    rs_pace_link *l;
    int left = e->granted;
    for (l = e->head; l != NULL; l = l->next)
        if (l->share[0] == '\0' && left-- == 0)
            return l;
    return NULL;
}

/* The bucket's shares that outnumber the requests waiting without one
 * (requests left the line, or all of it while the take was out) go back
 * to the store: the last of them, the heads using the first. */
static void trim_pool(rs_fleet *f, rs_pace_entry *e)
{
    int waiting = unshared(e, e->granted);
    if (waiting >= e->granted)
        return;
    give_back(f, e, e->member, e->share_next + waiting + 1, e->share_next + e->granted);
    e->granted = waiting;
}

/* l's share, which its request will not use (it ended before it went):
 * to the first request waiting on e that no share covers, which goes on
 * it without a round trip, else back to the store.  A name that is not
 * member.n cannot be: it stays to time out in the store. */
static void pass_on(rs_fleet *f, rs_pace_entry *e, rs_pace_link *l)
{
    rs_pace_link *to = uncovered(e);
    char *dot = strrchr(l->share, '.');
    if (to != NULL)
        memcpy(to->share, l->share, sizeof to->share);
    else if (dot != NULL && dot[1] >= '1' && dot[1] <= '9') {
        int n = atoi(dot + 1);
        *dot = '\0';
        give_back(f, e, l->share, n, n);
    }
    l->share[0] = '\0';
}

/* gate's decision; *store set when the head waits for the store itself. */
static int decide(rs_fleet *f, rs_pace_entry *e, rs_pace_link *l, double now, double *wait,
                  int *store)
{
    double tick = rs_store_tick(f->store, now);
    rs_bucket_view v;
    char key[RS_FLEET_PREFIX_LEN + RS_PACE_KEY_MAX + 2];
    if (l->share[0] != '\0')
        return 1;               /* a share given on to it while it waited (pass_on) */
    if (e->granted > 0) {
        e->granted--;
        share_name(l->share, sizeof l->share, e->member, ++e->share_next);
        return 1;
    }
    if (rs_store_connecting(f->store)) {
        *wait = tick;           /* its first connection: up to the timeout */
        return !(*store = 1);
    }
    if (!rs_store_up(f->store))
        return 1;               /* on its own until the store is back */
    if (e->asking) {
        *wait = tick;           /* the store's timeout: then it is down */
        return !(*store = 1);
    }
    if (now < e->ask_after) {
        *wait = e->ask_after - now;
        return 0;
    }
    rs_bucket_view_at(&e->b, now, &v);
    if (v.windows == 0)
        return 1;               /* nothing known to share: its probe goes */
    key_of(f, e, key, sizeof key);
    e->fleet = f;
    if (rs_store_take(f->store, key, v.window_list, v.windows, f->s->timeout, wanted(f, e),
                      on_share, e) != 0)
        return 1;
    e->asking = 1;
    *wait = rs_store_tick(f->store, now);
    return !(*store = 1);
}

static int gate(void *arg, rs_pace_entry *e, rs_pace_link *l, double now, double *wait)
{
    rs_fleet *f = arg;
    int store = 0, go = decide(f, e, l, now, wait, &store);
    store_wait(f, e, now, store);
    return go;
}

static int shared(void *arg)
{
    const rs_fleet *f = arg;
    return rs_store_up(f->store);
}

/* What an answer said, for the store: r's count, reset and limit when
 * it said them (a limit of 0 leaves none; a reset past a day is not
 * believed), and for a count of none e's windows, which may explain it. */
static void answer_of(rs_pace_entry *e, const rs_rate *r, rs_bucket_view *v, rs_store_answer *a)
{
    a->remaining = a->reset = a->limit = -1;
    a->window = NULL;
    a->windows = 0;
    if (r == NULL || !r->has || r->reset <= 0 || r->reset > 86400)
        return;
    a->remaining = r->limit < 1 ? 0 : r->remaining;
    a->reset = r->reset;
    a->limit = r->limit;
    if (floor(a->remaining) != 0)
        return;
    rs_bucket_view_at(&e->b, rs_now(), v);
    a->window = v->window_list;
    a->windows = v->windows;
}

static void settle(void *arg, rs_pace_entry *e, rs_pace_link *l, long status, const rs_rate *r,
                   double retry_after)
{
    rs_fleet *f = arg;
    const char *member = l->share[0] ? l->share : NULL;
    char key[RS_FLEET_PREFIX_LEN + RS_PACE_KEY_MAX + 2];
    rs_bucket_view v;
    rs_store_answer a;
    if (member == NULL && (e->b.free || !rs_store_up(f->store)))
        return;                 /* nothing to share, or no one to tell */
    key_of(f, e, key, sizeof key);
    /* answered, or lost (it may have been counted); one that went without
     * a share (a CSRF handshake's resend, a probe, one sent while the
     * store was down) is counted from its answer, as pacing.c counts */
    answer_of(e, status > 0 ? r : NULL, &v, &a);
    a.refused = status == 429;
    a.retry_after = retry_after > 0 ? retry_after : 1;
    rs_store_record(f->store, key, member, &a);
    l->share[0] = '\0';
}

/* l's transfer ended, out of its line: a share it took and never sent
 * on goes on (pass_on), and the bucket keeps no more shares than the
 * requests still waiting need.  Settled attempts hold none (settle). */
static void ended(void *arg, rs_pace_entry *e, rs_pace_link *l)
{
    rs_fleet *f = arg;
    if (l->share[0] != '\0')
        pass_on(f, e, l);
    if (e->granted > 0)
        trim_pool(f, e);
}

int rs_fleet_join(rs_session *s, rs_loop *lp, const char *url,
                  const char *credential, size_t len, double timeout)
{
    rs_fleet *f = calloc(1, sizeof *f);
    if (f == NULL)
        return 0;
    if (!rs_fleet_prefix(credential, len, f->prefix)
        || (f->store = rs_store_open(&lp->poll, url, timeout, on_changed, f)) == NULL) {
        free(f);
        return 0;
    }
    f->lp = lp;
    f->s = s;
    s->buckets.fleet = f;
    s->buckets.gate = gate;
    s->buckets.shared = shared;
    s->buckets.settle = settle;
    s->buckets.ended = ended;
    return 1;
}

void rs_fleet_leave(rs_session *s)
{
    rs_fleet *f = s->buckets.fleet;
    if (f == NULL)
        return;
    s->buckets.gate = NULL;     /* the store's last answers repump nothing */
    s->buckets.shared = NULL;
    s->buckets.settle = NULL;
    s->buckets.ended = NULL;
    f->lp = NULL;
    rs_store_close(f->store);
    s->buckets.fleet = NULL;
    free(f);
}

int rs_fleet_shared(const rs_session *s)
{
    const rs_fleet *f = s->buckets.fleet;
    return f != NULL && rs_store_up(f->store);
}

int rs_fleet_push_stats(lua_State *L, const rs_session *s)
{
    const rs_fleet *f = s->buckets.fleet;
    if (f == NULL)
        return 0;
    lua_createtable(L, 0, 3);
    lua_pushboolean(L, rs_store_up(f->store));
    lua_setfield(L, -2, "up");
    lua_pushinteger(L, (lua_Integer)f->store_waits);
    lua_setfield(L, -2, "waits");
    lua_pushnumber(L, f->longest_store_wait);
    lua_setfield(L, -2, "longest_wait");
    return 1;
}
