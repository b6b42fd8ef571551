/*
 * pacing_untold.c: the rule of an endpoint that says nothing of its limit
 * (no x-ratelimit-* header, nothing in rate_limits), for pacing.c: at
 * nothing until its first 429, then a fixed window learnt from its
 * 429s' Retry-After (see pacing.h).  Plain C on
 * numbers and the times passed in.
 */
#include <limits.h>
#include <math.h>

#include "pacing_untold.h"

/* How many windows in a row may end in a 429 before the fixed window is
 * given up (the endpoint's limit is of another kind). */
#define FW_STRIKES 4

/* How late the end of a window learnt may be, as a share of the window:
 * a Retry-After is rounded up (to whole seconds of 60 on the live
 * services, to 1/60 of the window in the pacing bench). */
#define FW_TAIL (1.0 / 30)

/* Nothing announced its limit (no x-ratelimit-* yet) nor gave it. */
static int untold(const rs_bucket *b)
{
    return !b->rate.has && b->seeds == 0;
}

/* When request seq went, or -1 when it is no longer remembered. */
static double sent_time(const rs_bucket *b, unsigned long long seq)
{
    if (seq == 0 || seq > b->sent || b->sent - seq >= RS_PACE_RING)
        return -1;
    return b->sent_at[seq % RS_PACE_RING];
}

/* An endpoint that says nothing: every answer of it passed its limiter
 * (an endpoint with headers hears its round trip in pacing.c, from the
 * answers that carry them). */
static void heard_rtt(rs_bucket *b, unsigned long long seq, double now)
{
    if (untold(b))
        rs_bucket_heard_rtt(b, seq, now);
}

/* The fixed window is given up for good: the next 429 teaches a rate
 * (a log: at most L in any W), approached from below. */
static void fw_give_up(rs_bucket *b)
{
    b->fw = 0;
    b->fw_banned = 1;
}

/* A 429 with Retry-After of an endpoint that says nothing: the window
 * that refused it ends then.  A request sent a round trip before that
 * moment (as seen here: the answer's arrival plus Retry-After) reaches
 * the server when it said; of the 429s of one closure, each rounded up,
 * the earliest end is the nearest the truth.  Until then the bucket is
 * closed and its window's successes are counted. */
static void fw_refused(rs_bucket *b, double now, double retry_after, int fresh)
{
    double end = now + retry_after - (b->rtt_min > 0 ? b->rtt_min : 0);
    if (fresh && !b->fw_closing) {
        b->fw_closing = 1;
        b->fw_end = end;
        b->closed_seq = b->sent;
    } else if (!b->fw_closing) {
        return;                 /* sent in a window already left: nothing new */
    } else if (end < b->fw_end) {
        b->fw_end = end;
    }
    b->closed_until = b->fw_end > now ? b->fw_end : 0;
}

/* A window that drew a 429 after some successes: its count ran out.
 * The end a 429 said last and this one are the ends of m windows, m the
 * nearest whole number of the windows learnt between them, unless a
 * window learnt since passed more than this one while no count had yet
 * run out (then the windows learnt from the first, which may have begun
 * before the first request, were too short and split one: m is 1).
 * One window: its count is every success since the last end; more: the
 * successes of the last window. */
static void fw_ran_out(rs_bucket *b, double at)
{
    double span = at - b->fw_sync, m = floor(span / b->fw_seconds + 0.5);
    if (m <= 1 || (!b->fw_exact && b->fw_ok < b->fw_ok_most)) {
        b->fw_limit = b->fw_ok_since;
        b->fw_seconds = span;
    } else {
        b->fw_limit = b->fw_ok;
        b->fw_seconds = span / m;
    }
    b->fw_exact = 1;
}

/* The closure ended: a window opens at fw_end.  The first time, the
 * window learnt is the successes since the first request that succeeded
 * went, in the time from then to fw_end (a count that may have begun
 * before: until a window's count runs out, each window used in full
 * tries 1, 2, 4... more).  After that, a window met before it opened
 * (no success) moves the ends later, spread over the windows since the
 * last end a 429 said, and lets one request ask first. */
static void fw_reopen(rs_bucket *b)
{
    double at = b->fw_end;
    b->fw_closing = 0;
    if (!b->fw) {
        if (b->fw_ok >= 1 && b->fw_open >= 0 && at > b->fw_open) {
            b->fw = 1;
            b->fw_limit = b->fw_ok;
            b->fw_seconds = at - b->fw_open;
            b->fw_raise = 1;
            b->probe = 0;
        }
    } else {
        b->probe = b->fw_ok < 1;
        b->probe_seq = 0;
        if (b->fw_ok >= 1)
            fw_ran_out(b, at);
        else
            b->fw_seconds += (at - b->fw_open) / (b->fw_windows > 0 ? b->fw_windows : 1);
        if (++b->fw_strikes >= FW_STRIKES || b->fw_seconds <= 0 || b->fw_limit < 1)
            fw_give_up(b);
    }
    b->fw_open = b->fw_sync = at;
    b->fw_used = b->fw_tail = b->fw_ok = b->fw_ok_since = b->fw_ok_most = 0;
    b->fw_seq = b->fw_sync_seq = b->sent;
    b->fw_windows = 1;
}

/* Seconds until the fixed window learnt lets one more request go.  A
 * request sent in the last slack of a window counts in the next one
 * too: the window's end as learnt may be late by that much.  A window's
 * start may be early (foretold by the length learnt, or said by a 429
 * and met a round trip early, which a slower way back makes early):
 * RS_PACE_UNTOLD_FLIGHT go until one of them succeeds. */
static double fw_delay(rs_bucket *b, double now)
{
    if (now >= b->fw_open + b->fw_seconds) {    /* a window that drew no 429 */
        double n = floor((now - b->fw_open) / b->fw_seconds);
        if (n < 1)
            n = 1;              /* rounded below its end */
        if (!b->fw_exact && b->fw_used >= floor(b->fw_limit)) {
            b->fw_limit += b->fw_raise;         /* the count may be more: try */
            b->fw_raise *= 2;
        }
        b->fw_open += n * b->fw_seconds;
        b->fw_used = n == 1 ? b->fw_tail : 0;
        if (b->fw_ok > b->fw_ok_most)
            b->fw_ok_most = b->fw_ok;
        b->fw_tail = b->fw_ok = 0;
        b->fw_seq = b->sent;
        b->fw_windows += (int)(n < 1e6 ? n : 1e6);
        if (b->fw_windows > 1000000)
            b->fw_windows = 1000000;            /* a count, not a clock: no overflow */
        b->fw_strikes = 0;
    }
    if (b->probe)
        return b->probe_seq ? RS_PACE_ANSWER : 0;
    if (b->fw_ok == 0 && b->in_flight >= RS_PACE_UNTOLD_FLIGHT)
        return RS_PACE_ANSWER;  /* its start may be early */
    if (b->fw_used < floor(b->fw_limit))
        return 0;
    return b->fw_open + b->fw_seconds - now;
}

/* A success of request seq: one more of its window's count; before the
 * first window is learnt, the earliest that went is taken for its start. */
static void fw_counted(rs_bucket *b, unsigned long long seq)
{
    double at;
    if (!untold(b) || b->fw_banned)
        return;
    if (seq > b->fw_seq)
        b->fw_ok++;
    if (seq > b->fw_sync_seq && b->fw_ok_since < INT_MAX)
        b->fw_ok_since++;
    at = sent_time(b, seq);
    if (!b->fw && !b->fw_closing && at >= 0 && (b->fw_open < 0 || at < b->fw_open))
        b->fw_open = at;
}

void rs_untold_view(const rs_bucket *b, double now, rs_bucket_view *v)
{
    double left = floor(b->fw_limit) - b->fw_used;
    v->known = 1;
    v->limit = floor(b->fw_limit);
    v->remaining = left > 0 ? left : 0;
    v->reset = b->fw_open + b->fw_seconds - now;
    v->window = b->fw_seconds;
    v->windows = 1;
    v->window_list[0].limit = v->limit;
    v->window_list[0].seconds = b->fw_seconds;
}

static void fw_sent(rs_bucket *b, double now)
{
    /* The first request of a window opens it, on a server whose window
     * starts at the first request after the last one ended; one that
     * goes late (the bucket had nothing to send, or the process did not
     * run) moves the window with it.  On a server whose windows are on
     * its clock, the end believed is then later than the true one: safe. */
    if (b->fw_used == 0 && now > b->fw_open)
        b->fw_open = now;
    b->fw_used++;
    if (now >= b->fw_open + b->fw_seconds * (1 - FW_TAIL))
        b->fw_tail++;
}

/* ---- what pacing.c calls ------------------------------------------------ */

int rs_untold_holds(const rs_bucket *b)
{
    return b->fw || b->fw_closing;
}

int rs_untold_delay(rs_bucket *b, double now, double *d)
{
    if (b->fw_closing)
        fw_reopen(b);
    if (!b->fw || !untold(b))
        return 0;
    *d = fw_delay(b, now);
    return 1;
}

void rs_untold_sent(rs_bucket *b, double now)
{
    if (b->fw)
        fw_sent(b, now);
}

void rs_untold_answer(rs_bucket *b, unsigned long long seq, double now, int ok)
{
    if (now >= 0)
        heard_rtt(b, seq, now);
    if (!ok)
        return;
    fw_counted(b, seq);
}

int rs_untold_refused(rs_bucket *b, unsigned long long seq, double now, double retry_after,
                      int fresh)
{
    heard_rtt(b, seq, now);
    if (retry_after >= 0 && untold(b) && !b->fw_banned && !b->has_learnt && !b->learning) {
        fw_refused(b, now, retry_after, fresh);
        return 1;
    }
    if (b->fw && fresh && retry_after < 0)
        fw_give_up(b);          /* its windows end where Retry-After says */
    return 0;
}
