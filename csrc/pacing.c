/*
 * pacing.c: the rule of one endpoint's bucket (see pacing.h).  Plain C on
 * numbers and the times passed in: no clock, no libcurl, no Lua.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pacing.h"
#include "pacing_untold.h"

/* A reset above this is not believed (seconds: a day). */
#define RESET_BELIEVED 86400.0

/* How far an announced reset may fall short of the true one (rounded
 * down), as a share of its window: the live services say whole seconds
 * of 60. */
#define RESET_SLACK (1.0 / 30)

/* How much of the fastest round trip the way back of any answer is taken
 * to be (pacing.h): half, less a tenth of it for the spread of the ways. */
#define WAY_BACK 0.45

/* The smallest limit paced as a token bucket: the level keeps one token
 * spare and must leave room for one more. */
#define TOKEN_LIMIT_MIN 4

void rs_bucket_init(rs_bucket *b, double retry_delay)
{
    b->probe = 1;
    b->retry_delay = retry_delay > 0 ? retry_delay : 1.0;
    b->step = 1.0 / 16;
    b->fw_open = -1;            /* no success yet */
}

void rs_bucket_free(rs_bucket *b)
{
    free(b->log);
    b->log = NULL;
    b->log_cap = b->log_len = b->log_head = 0;
}

/* ---- the log of answered requests ------------------------------------- */

/* Makes the log hold at least limit entries (up to RS_PACE_LOG_MAX),
 * keeping its order.  0 when memory ran out (the old log stays). */
static int log_room(rs_bucket *b, double limit)
{
    int want = limit > RS_PACE_LOG_MAX ? RS_PACE_LOG_MAX : (int)limit, i;
    double *grown;
    if (want <= b->log_cap)
        return 1;
    grown = malloc((size_t)want * sizeof *grown);
    if (grown == NULL)
        return 0;
    for (i = 0; i < b->log_len; i++)
        grown[i] = b->log[(b->log_head + i) % b->log_cap];
    free(b->log);
    b->log = grown;
    b->log_cap = want;
    b->log_head = 0;
    return 1;
}

static void log_push(rs_bucket *b, double at)
{
    if (b->log_cap == 0)
        return;
    if (b->log_len > 0) {       /* answers are logged in order of time */
        double last = b->log[(b->log_head + b->log_len - 1) % b->log_cap];
        if (at < last)
            at = last;
    }
    if (b->log_len < b->log_cap)
        b->log[(b->log_head + b->log_len++) % b->log_cap] = at;
    else {
        b->log[b->log_head] = at;
        b->log_head = (b->log_head + 1) % b->log_cap;
    }
}

/* The m-th most recent entry (1: the last). */
static double log_recent(const rs_bucket *b, int m)
{
    return b->log[(b->log_head + b->log_len - m) % b->log_cap];
}

/* How long before its answer a request was counted at the latest: the
 * shortest way back (0: no round trip heard yet).  Taken at the time of
 * asking, so that a faster round trip heard later moves every answer. */
static double way_back(const rs_bucket *b)
{
    return b->rtt_min * WAY_BACK;
}

static int in_ring(const rs_bucket *b, unsigned long long seq)
{
    return seq != 0 && seq <= b->sent && b->sent - seq < RS_PACE_RING;
}

static void took_rtt(rs_bucket *b, double rtt)
{
    if (rtt > 0 && (b->rtt_min <= 0 || rtt < b->rtt_min))
        b->rtt_min = rtt;
}

void rs_bucket_round_trip(rs_bucket *b, unsigned long long seq, double rtt)
{
    if (!in_ring(b, seq))
        return;
    b->sent_at[seq % RS_PACE_RING] = -1;        /* told: its answer's time says nothing more */
    took_rtt(b, rtt);
}

/* Request seq, answered at now by the limiter (an answer with headers,
 * or any answer of an endpoint that says nothing): its round trip, from
 * its send, unless rs_bucket_round_trip told it. */
void rs_bucket_heard_rtt(rs_bucket *b, unsigned long long seq, double now)
{
    if (in_ring(b, seq) && b->sent_at[seq % RS_PACE_RING] >= 0)
        took_rtt(b, now - b->sent_at[seq % RS_PACE_RING]);
}

/* ---- the windows ------------------------------------------------------ */

/* The windows that pace b: those announced, else those given, else the
 * one learnt.  Sets *n. */
static const rs_window *windows_of(const rs_bucket *b, int *n)
{
    if (b->heards > 0)
        return *n = b->heards, b->heard;
    if (b->seeds > 0)
        return *n = b->seeds, b->seed;
    *n = b->has_learnt;
    return &b->learnt;
}

/* Seconds until one more request fits window w, or RS_PACE_ANSWER.  A
 * window larger than the log is paced as log_cap requests in the same
 * share of its seconds: never more in the whole window. */
static double window_delay(const rs_bucket *b, rs_window w, double now)
{
    double limit = floor(w.limit), seconds = w.seconds, at;
    int m;
    if (limit < 1 || seconds <= 0 || b->log_cap == 0)
        return 0;               /* 0 is a closure; no log: no memory for one */
    if (limit > b->log_cap) {
        seconds /= floor(limit / b->log_cap);
        limit = b->log_cap;
    }
    m = (int)limit - b->in_flight;
    if (m <= 0)
        return RS_PACE_ANSWER;
    if (b->log_len < m)
        return 0;
    at = log_recent(b, m) - way_back(b) + seconds;
    return at > now ? at - now : 0;
}

static double windows_delay(const rs_bucket *b, double now)
{
    int i, n;
    const rs_window *w = windows_of(b, &n);
    double most = 0;
    for (i = 0; i < n; i++) {
        double d = window_delay(b, w[i], now);
        if (d > most)
            most = d;
    }
    return most;
}

/* ---- the state as a whole ---------------------------------------------- */

/* Whether nothing limits b now: then rs_bucket_delay answers at once. */
static void settle(rs_bucket *b)
{
    int n;
    (void)windows_of(b, &n);
    b->free = !b->probe && !b->has_cap && b->closed_until == 0 && n == 0 && !b->learning
              && !rs_untold_holds(b);
}

/* Takes what a reset past its own window can mean: one above a day is
 * believed up to the longest window announced, or 60 seconds. */
static double believed_reset(const rs_rate *r)
{
    double longest = 0;
    int i;
    if (r->reset <= RESET_BELIEVED)
        return r->reset > 0 ? r->reset : 0;
    for (i = 0; i < r->windows; i++)
        if (r->window[i].seconds > longest)
            longest = r->window[i].seconds;
    return longest > 0 ? longest : 60;
}

static double backoff(const rs_bucket *b, double jitter)
{
    double d = b->retry_delay * ldexp(1.0, b->backoffs < 30 ? b->backoffs : 30);
    d *= 1 + jitter / 4;
    return d < RS_PACE_BACKOFF_MAX ? d : RS_PACE_BACKOFF_MAX;
}

/* Closes b until at; the first request after it is a probe. */
static void close_until(rs_bucket *b, double at)
{
    if (at > b->closed_until)
        b->closed_until = at;
    b->closed_seq = b->sent;
    b->probe = 1;
    b->probe_seq = 0;
}

/* ---- a token bucket ----------------------------------------------------- */

/* The level heard is the answer's remaining count; every request out
 * then or sent since is taken from it (one counted already is taken
 * twice: the safe side), one token stays spare, and it grows at L/W up
 * to L.  The answer's time stands for its decision's: later, so less
 * refill than there was. */
static double token_delay(const rs_bucket *b, double now)
{
    double limit = floor(b->heard[0].limit), rate = limit / b->heard[0].seconds, at;
    double need = 2.0 + b->tk_flight + (double)(b->sent - b->tk_sent);
    if (need > limit) {
        if (b->in_flight > 0)
            return RS_PACE_ANSWER;
        need = limit;           /* all answered: once full, one may go */
    }
    at = b->tk_at + (need - b->tk_level) / rate;
    return at > now ? at - now : 0;
}

static void token_heard(rs_bucket *b, unsigned long long seq, double now, double remaining)
{
    b->tk_level = remaining;
    b->tk_at = now;
    b->tk_seq = seq;
    b->tk_sent = b->sent;
    b->tk_flight = b->in_flight;
}

/* Whether the answer to request seq proves b a token bucket: its window
 * (fixed, or sliding: at most L in any W) began before b's first request,
 * so every request answered before seq went was counted in it with seq;
 * yet remaining says more may follow than L leaves.  Needs one window
 * announced and seq's count of requests out still in the ring. */
static int proves_token(const rs_bucket *b, unsigned long long seq, double now,
                        double remaining, double reset)
{
    double limit = floor(b->heard[0].limit), seconds = b->heard[0].seconds, before;
    if (b->heards != 1 || limit < TOKEN_LIMIT_MIN || b->first_sent <= 0 || seq == 0
        || b->sent - seq >= RS_PACE_RING)
        return 0;
    if (now + reset + seconds * RESET_SLACK - seconds >= b->first_sent)
        return 0;               /* the window may have opened after b's first request */
    before = (double)(seq - 1) - (b->flight_at[seq % RS_PACE_RING] - 1) - (double)b->uncounted;
    return remaining + before + 1 > limit;
}

/* A token bucket no longer: back to the windows' rule, for good (the
 * answers of its first window could prove it again). */
static void token_end(rs_bucket *b)
{
    b->token = 0;
    b->token_banned = 1;
}

/* The count is spent where the windows would let a request go: how
 * long until its reset.  A wait past the reset's rounding shows others
 * drawing on the budget (another client of the same account): then a
 * reset is followed by a probe, as where no window is announced. */
static double cap_delay(rs_bucket *b, double now)
{
    double d = b->cap_until - way_back(b) - now;
    if (b->heards > 0 && d > b->heard[0].seconds * RESET_SLACK)
        b->crowded = 1;
    return d;
}

double rs_bucket_delay(rs_bucket *b, double now)
{
    double d;
    if (b->free)
        return 0;
    if (b->closed_until > now)
        return b->closed_until - now;
    b->closed_until = 0;
    if (rs_untold_delay(b, now, &d))
        return d;
    if (b->token)
        return token_delay(b, now);
    if (b->has_cap && now >= b->cap_until - way_back(b)) {
        b->has_cap = 0;         /* past its reset: spent, one request asks again */
        if (b->sent >= b->cap && (b->heards == 0 || b->crowded))
            b->probe = 1;       /* (unless the windows announced pace it alone) */
    }
    if ((b->crowded || b->sent >= b->sure) && (d = windows_delay(b, now)) > 0)
        return d;
    if (b->probe)
        return b->probe_seq ? RS_PACE_ANSWER : 0;
    if (b->has_cap && b->sent >= b->cap)
        return cap_delay(b, now);
    settle(b);
    return 0;
}

unsigned long long rs_bucket_send(rs_bucket *b, double now)
{
    b->in_flight++;
    b->sent++;
    b->flight_at[b->sent % RS_PACE_RING] = b->in_flight;
    b->sent_at[b->sent % RS_PACE_RING] = now;
    rs_untold_sent(b, now);
    if (b->first_sent <= 0)
        b->first_sent = now;
    if (b->probe && b->probe_seq == 0)
        b->probe_seq = b->sent;
    if (b->episode_start == 0)
        b->episode_start = now;
    return b->sent;
}

/* ---- answers ------------------------------------------------------------ */

static void took_windows(rs_bucket *b, const rs_rate *r)
{
    int i, n = 0;
    for (i = 0; i < r->windows; i++)
        if (r->window[i].seconds > 0) {
            b->heard[n].limit = r->window[i].limit;
            b->heard[n].seconds = r->window[i].seconds;
            (void)log_room(b, r->window[i].limit);
            n++;
        }
    if (n > 0)
        b->heards = n;
}

/* The ceiling of request seq's answer, less every request out when seq
 * went (counted after it, they may take from its remaining count): a
 * bound that holds whatever the window's kind, since a count only comes
 * back after its reset (fixed), as requests leave it (sliding) or as
 * tokens refill (a bucket).  Requests up to the highest such bound go
 * without the windows' rule; only with one window announced, which the
 * remaining count is of. */
static void heard_sure(rs_bucket *b, unsigned long long seq, unsigned long long ceiling)
{
    unsigned long long out;
    if (b->heards != 1 || !in_ring(b, seq))
        return;
    out = (unsigned long long)b->flight_at[seq % RS_PACE_RING] - 1;
    if (ceiling > out && ceiling - out > b->sure)
        b->sure = ceiling - out;
}

/* A 429 or a limit of 0: the bucket's budget is not what its answers said, or not its
 * own.  The remaining counts bound nothing more, and the windows pace
 * every request, with a probe after each spent count's reset. */
static void distrust(rs_bucket *b)
{
    b->sure = 0;
    if (b->heards > 0)
        b->crowded = 1;
}

/* What an answer's x-ratelimit-* said, for request seq: its windows, and
 * the ceiling its remaining count sets until its reset. */
static void took_rate(rs_bucket *b, unsigned long long seq, double now, const rs_rate *r)
{
    double reset = believed_reset(r), remaining = floor(r->remaining);
    unsigned long long ceiling;
    took_windows(b, r);
    b->rate = *r;
    b->rate.reset = reset;
    b->rate_at = now;
    if (r->limit < 1) {         /* believed until its reset, then asked again */
        distrust(b);
        if (b->token)
            token_end(b);
        close_until(b, now + (reset > 0 ? reset : backoff(b, 0)));
        if (reset <= 0)
            b->backoffs++;
        return;
    }
    if (remaining > 1e15)
        remaining = 1e15;
    if (!b->token && !b->token_banned && b->heards > 0
        && proves_token(b, seq, now, remaining, reset))
        b->token = 1, b->tk_seq = 0;
    if (b->token && seq > b->tk_seq)
        token_heard(b, seq, now, remaining);
    ceiling = seq + (unsigned long long)remaining;
    heard_sure(b, seq, ceiling);
    if (!b->has_cap || now >= b->cap_until) {
        b->has_cap = 1;
        b->cap = ceiling;
        b->cap_until = now + reset;
    } else if (ceiling <= b->cap) {     /* only lower: an older answer may come last */
        b->cap = ceiling;
        if (now + reset > b->cap_until)
            b->cap_until = now + reset;
    }
}

/* A success ends an episode of 429s without headers.  The rate learnt
 * is what passed from the episode's first request to this success, waits
 * included (so from below), and never faster than one learnt before; a
 * 429 met while a shortened rate was in force brings back the last one
 * that drew none, for good. */
static void learnt_from(rs_bucket *b, double now)
{
    rs_window w;
    w.limit = b->learn_ok > 0 ? b->learn_ok : 1;
    w.seconds = now - b->learn_start;
    if (w.seconds <= 0)
        w.seconds = b->retry_delay;
    if (b->has_learnt && b->clean_seconds > 0) {
        b->learnt.seconds = (b->clean_seconds > b->learnt.seconds
                             ? b->clean_seconds : b->learnt.seconds) * 1.25;
        b->clean_seconds = 0;
        b->step /= 2;
    } else if (!b->has_learnt || w.limit / w.seconds < b->learnt.limit / b->learnt.seconds) {
        if (log_room(b, w.limit) || b->log_cap > 0) {
            b->learnt = w;
            b->has_learnt = 1;
        }
    }
    b->learning = 0;
    b->since_adjust = 0;
    b->episode_start = now;
    b->episode_ok = 0;
}

/* A success under the rate learnt: after a whole window of them, the
 * next window is a step shorter. */
static void approach(rs_bucket *b)
{
    if (!b->has_learnt || b->step < 1.0 / 256 || b->heards > 0 || b->seeds > 0)
        return;
    if (++b->since_adjust < b->learnt.limit)
        return;
    b->since_adjust = 0;
    b->clean_seconds = b->learnt.seconds;
    b->learnt.seconds -= b->learnt.seconds * b->step;
}

static void settled_request(rs_bucket *b, unsigned long long seq)
{
    if (b->in_flight > 0)
        b->in_flight--;
    if (seq == b->probe_seq)
        b->probe_seq = 0;
}

/* The rate an answer said, as the rule reads it: a remaining count said
 * before counting (pacing.h) is taken one lower, into *own.  Any answer
 * but a 429 is of a request counted, as the proof of a token bucket
 * takes it (a failure too: the limiter let it through). */
static const rs_rate *counted_rate(rs_bucket *b, const rs_rate *r, rs_rate *own)
{
    if (r->limit >= 1 && r->remaining >= r->limit)
        b->counts_after = 1;
    if (!b->counts_after)
        return r;
    *own = *r;
    own->remaining = r->remaining >= 1 ? r->remaining - 1 : 0;
    return own;
}

void rs_bucket_answer(rs_bucket *b, unsigned long long seq, double now, const rs_rate *r, int ok)
{
    rs_rate own;
    int was_probe;
    if (b->free && !(r && r->has)) {    /* nothing to learn: the fast path (now unused) */
        if (b->in_flight > 0)
            b->in_flight--;
        b->episode_ok += ok;
        rs_untold_answer(b, seq, -1, ok);
        return;
    }
    was_probe = seq != 0 && seq == b->probe_seq;
    settled_request(b, seq);
    rs_untold_answer(b, seq, now, ok);
    if (r && r->has) {
        rs_bucket_heard_rtt(b, seq, now);
        took_rate(b, seq, now, counted_rate(b, r, &own));   /* first: it may make the log */
    }
    log_push(b, now);
    if (was_probe && !(r && r->has && r->limit < 1))
        b->probe = 0;           /* the probe's answer has spoken */
    if (ok && seq > b->closed_seq) {
        b->backoffs = 0;
        if (b->learning)
            learnt_from(b, now);
        else
            approach(b);
        b->episode_ok++;
    }
    settle(b);
}

void rs_bucket_refused(rs_bucket *b, unsigned long long seq, double now, const rs_rate *r,
                       double retry_after, double jitter)
{
    int fresh = seq > b->closed_seq;
    double reset = r && r->has ? believed_reset(r) : 0, wait;
    settled_request(b, seq);
    b->uncounted++;
    distrust(b);
    if (b->token)
        token_end(b);           /* its level was wrong: the windows pace it */
    if (r && r->has) {
        took_windows(b, r);
        b->rate = *r;
        b->rate.reset = reset;
        b->rate_at = now;
    }
    if (rs_untold_refused(b, seq, now, retry_after, fresh)) {
        settle(b);
        return;
    }
    wait = retry_after >= 0 ? retry_after : reset > 0 ? reset : -1;
    if (!fresh) {               /* sent before the bucket closed: it says no more */
        if (wait > 0 && now + wait > b->closed_until)
            b->closed_until = now + wait;
        settle(b);
        return;
    }
    if (wait < 0)
        wait = backoff(b, jitter), b->backoffs++;
    if (b->heards == 0 && b->seeds == 0 && !b->learning) {
        b->learning = 1;        /* what passed since the last reopening */
        b->learn_start = b->episode_start > 0 ? b->episode_start : now;
        b->learn_ok = b->episode_ok;
    }
    close_until(b, now + wait);
    settle(b);
}

void rs_bucket_lost(rs_bucket *b, unsigned long long seq, double now)
{
    settled_request(b, seq);
    b->uncounted++;
    log_push(b, now);
    settle(b);
}

int rs_bucket_seed(rs_bucket *b, double limit, double seconds)
{
    if (b->seeds >= RS_RATE_WINDOWS || limit < 1 || seconds <= 0)
        return 1;
    b->seed[b->seeds].limit = limit;
    b->seed[b->seeds].seconds = seconds;
    b->seeds++;
    settle(b);
    return log_room(b, limit);
}

/* ---- in a fleet ---------------------------------------------------------- */

/* The windows and the ceiling are the fleet's store's to apply (fleet.c):
 * the answers' remaining counts are the fleet's, told against this
 * client's request numbers, and its own log holds only its own requests.
 * What stays the bucket's: a closure, a probe, a token bucket's level. */
double rs_bucket_delay_shared(rs_bucket *b, double now)
{
    if (b->free)
        return 0;
    if (b->closed_until > now)
        return b->closed_until - now;
    if (b->token)
        return token_delay(b, now);
    if (b->probe)
        return b->probe_seq ? RS_PACE_ANSWER : 0;
    return 0;
}

/* ---- what rate_limit() shows ------------------------------------------- */

/* What window w leaves by the client's own count (no header said
 * otherwise): its limit less the requests out and those answered in its
 * last seconds (the log's rule, as window_delay reads it), and when the
 * oldest of those leaves it (0: none counted; W: only requests out, which
 * count as now).  A window larger than the log counts what the log holds. */
static void window_left(const rs_bucket *b, rs_window w, double now, double *left, double *reset)
{
    double limit = floor(w.limit), counted = b->in_flight, leaves;
    int m;
    *reset = b->in_flight > 0 ? w.seconds : 0;
    for (m = 1; m <= b->log_len; m++) {
        leaves = log_recent(b, m) - way_back(b) + w.seconds;
        if (leaves <= now)
            break;              /* the log is in order of time: none older counts */
        counted++;
        *reset = leaves - now;
    }
    *left = counted < limit ? limit - counted : 0;
}

/* Without a header heard, the known windows by the client's own count:
 * the one that leaves the fewest requests (on a tie, the first) gives
 * the limit, remaining count, reset and window shown. */
static void view_counted(const rs_bucket *b, const rs_window *w, int n, double now,
                         rs_bucket_view *v)
{
    int i;
    for (i = 0; i < n; i++) {
        double left, reset;
        window_left(b, w[i], now, &left, &reset);
        if (i == 0 || left < v->remaining) {
            v->limit = w[i].limit;
            v->window = w[i].seconds;
            v->remaining = left;
            v->reset = reset;
        }
    }
}

void rs_bucket_view_at(rs_bucket *b, double now, rs_bucket_view *v)
{
    int i, n;
    const rs_window *w;
    memset(v, 0, sizeof *v);
    v->wait = rs_bucket_delay(b, now);
    w = windows_of(b, &n);
    for (i = 0; i < n; i++)
        v->window_list[i] = w[i];
    v->windows = n;
    if (n > 0)
        v->window = w[0].seconds;
    if (b->rate.has) {
        v->known = 1;
        v->limit = b->rate.limit;
        v->remaining = b->rate.remaining;
        v->reset = b->rate_at + b->rate.reset - now;
    } else if (n > 0) {
        v->known = 1;
        view_counted(b, w, n, now, v);
    }
    if (b->fw && n == 0)
        rs_untold_view(b, now, v);
    if (b->has_cap) {           /* what the client still lets go */
        double left = b->cap > b->sent ? (double)(b->cap - b->sent) : 0;
        if (!b->rate.has || left < v->remaining)
            v->remaining = left;
    }
    if (b->closed_until > now) {
        v->remaining = 0;
        if (b->closed_until - now > v->reset)
            v->reset = b->closed_until - now;
    }
    if (v->reset < 0)
        v->reset = 0;
}
