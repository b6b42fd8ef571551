/*
 * pacing.h: the rate limit of one endpoint, as a client sees it (a
 * bucket).  Plain C on numbers: every time is passed in (monotonic
 * seconds), so the rule can be driven on a virtual clock by the specs
 * (core.pacing_bucket) as well as by the loop.
 *
 * The rule, in the order a bucket applies it:
 *   - a 429, or an announced limit of 0, closes the bucket until
 *     Retry-After, else the announced reset, else a backoff doubling from
 *     retry_delay up to 60 s (with jitter); every request of it waits;
 *   - never more than L requests in any W seconds, for every window known
 *     (announced by x-ratelimit-limit "L;w=W", else given by rate_limits,
 *     else learnt from the 429s, then approached from below): a log of
 *     when each request was counted at the latest (below), requests in
 *     flight counting as now.  Safe for fixed windows, sliding ones and
 *     token buckets whatever their reset means;
 *   - where nothing is known (no answer yet, a reopened bucket, a spent
 *     count past its reset) one request goes and the rest wait for its
 *     answer (a probe); an endpoint whose answers say nothing of its
 *     limit is then free until its first 429 (a cap on what is out
 *     before it would slow every endpoint without a limit for as long);
 *   - such an endpoint's 429 with Retry-After ends a window there: the
 *     next opens a round trip before that (sent then, a request arrives
 *     when the server said), with the successes of the one that ended as
 *     its count, and as long as from the first success to then; each
 *     window after it takes that count from its start (a fixed window),
 *     RS_PACE_UNTOLD_FLIGHT at a time until one succeeds where no 429
 *     said the start.  Until a window's count runs out, each window used
 *     in full tries 1, 2, 4... more.  A window that draws a 429 again
 *     corrects the count and the length; FW_STRIKES windows in a row
 *     that draw one give it up, for the rate learnt below;
 *   - x-ratelimit-remaining R in the answer to the q-th request allows
 *     requests up to number R + q until its reset: an answer only lowers
 *     that ceiling (an older, higher count never reopens a closed gate);
 *     past the reset, one request asks again, unless windows are
 *     announced and nothing showed others drawing on the budget (a 429,
 *     or a ceiling that held a request the windows let go for longer
 *     than a reset's rounding): then the windows pace it alone.  With one
 *     window announced, R + q less the requests out when q went is a bound
 *     whatever the window's kind: requests up to the highest such bound go
 *     whatever the windows say (until a 429, a limit of 0, or others shown);
 *   - a bucket whose answers prove it is neither a fixed nor a sliding
 *     window (more requests let through since its window could have
 *     opened than L) is a token bucket refilled L per W: the windows'
 *     rule and the ceiling give way to a level of tokens, taken from each
 *     answer's remaining count (less every request out, less one spare)
 *     and grown at L/W until full.  A 429 ends that for good.
 *
 * Some servers say remaining before counting the request it answers (the
 * first answer of a window of 10 says 10).  No other kind says as many
 * as the limit for a request it let through (any answer but a 429), so
 * one answer that does marks the bucket's server as such, for good:
 * every remaining count of it is then read one lower (else the ceiling
 * would let one request too many go, and the proof above would take a
 * fixed window for a bucket).
 *
 * When a request was counted.  A server counts a request between its send
 * and its answer.  The log keeps each answer's time, and a remaining
 * count's end is its answer's time plus its reset; both are read earlier
 * by the shortest way back from a count to an answer, taken as half the
 * fastest round trip heard of an answer with headers (one the limiter
 * saw; from when the request was on the network, after any connection
 * was made), less a tenth of that for the spread of the ways.  That holds
 * wherever the count is made no later than about half way through the
 * server's part of a round trip, as a limiter in front of the work does,
 * whatever the network does later: a faster round trip heard shortens
 * the way back taken, for every answer at once.  A request sent at a time
 * is counted then or later.  So a window costs half a round trip more
 * than W, where the answer's time would cost a whole one.
 */
#ifndef RS_PACING_H
#define RS_PACING_H

#include <math.h>

#include "rs.h"

/* What rs_bucket_delay returns when a request must wait for an answer
 * of a request in flight (no timer: the answer wakes it). */
#define RS_PACE_ANSWER HUGE_VAL

/* The longest log of answered requests a bucket keeps; a window of a
 * larger limit is paced as RS_PACE_LOG_MAX requests in a proportionally
 * shorter window (never more in the whole one). */
#define RS_PACE_LOG_MAX 1024

/* The longest backoff after a 429 that said nothing, in seconds. */
#define RS_PACE_BACKOFF_MAX 60.0

/* How many requests back a bucket remembers how many were out when each
 * went (for the proof of a token bucket). */
#define RS_PACE_RING 128

/* An endpoint that has said nothing of its limit, paced by a window
 * learnt from its 429s: how many of its requests may be out at a window's
 * start until one of them succeeds (the start may be early, and every
 * request out then draws a 429). */
#define RS_PACE_UNTOLD_FLIGHT 8

/* The state of one endpoint's limit.  Zeroed, then rs_bucket_init. */
typedef struct rs_bucket {
    int free;                   /* nothing limits it: the fast path */
    int in_flight;              /* requests sent and not yet answered */
    unsigned long long sent;    /* requests sent; the last one's number */
    /* what is known of its windows: announced, given, learnt */
    rs_window heard[RS_RATE_WINDOWS], seed[RS_RATE_WINDOWS], learnt;
    int heards, seeds, has_learnt;
    rs_rate rate;               /* the last x-ratelimit-* heard */
    double rate_at;             /* when */
    /* the ceiling from x-ratelimit-remaining */
    int has_cap;
    unsigned long long cap;     /* requests up to this number may go */
    double cap_until;
    int crowded;                /* others draw on it too (see cap_delay) */
    unsigned long long sure;    /* requests up to this number go whatever the windows say */
    /* when each of the last requests was answered (a ring, oldest first) */
    double *log;
    int log_cap, log_len, log_head;
    /* one request at a time until an answer says more */
    int probe;                  /* a probe is due */
    unsigned long long probe_seq;   /* the probe in flight, or 0 */
    /* closed by a 429 or a limit of 0 */
    double closed_until;        /* 0: open */
    unsigned long long closed_seq;  /* requests up to this were out when it closed */
    int backoffs;               /* closures without a success between */
    double retry_delay;
    /* learning a rate that no header announces */
    double episode_start;       /* the first request since the last reopening */
    int episode_ok;             /* successes since then */
    int learning;               /* closed by a 429: the next success ends the episode */
    double learn_start;
    int learn_ok;
    /* approaching it from below: each clean window of the rate learnt
     * shortens its seconds by a step (a sixteenth at first); a 429 then
     * brings back a quarter more than the last clean seconds and halves
     * the step, until it is too small to take */
    int since_adjust;           /* successes since the last shortening */
    double clean_seconds;       /* the last seconds that drew no 429, or 0 */
    double step;
    /* an endpoint that says nothing (no x-ratelimit-*, no rate_limits):
     * after its first 429, paced as a fixed window learnt from its 429s (fw_*) */
    int fw, fw_banned, fw_closing;
    double fw_limit, fw_seconds;    /* requests per window */
    double fw_open;             /* when (sent) the current window opened */
    double fw_end;              /* while closing: when (sent) the next one opens */
    unsigned long long fw_seq;  /* the last request sent before fw_open */
    int fw_used, fw_tail;       /* sent since fw_open; of them, in its last slack */
    int fw_ok;                  /* successes of requests sent since fw_open */
    double fw_sync;             /* the last end a 429 said (sent), where a window opened */
    unsigned long long fw_sync_seq; /* the last request sent before it */
    int fw_ok_since;            /* successes of requests sent since it */
    int fw_ok_most;             /* the most successes of a window since it */
    int fw_windows, fw_strikes; /* windows since a 429 said an end; 429s in a row */
    int fw_exact;               /* a window's count ran out: its successes are the limit */
    double fw_raise;            /* until then, what a window used in full adds to the next */
    /* a token bucket, once the answers prove it (see the top) */
    double first_sent;          /* when its first request went, or 0 */
    unsigned long long uncounted;   /* requests refused or lost, all time */
    int flight_at[RS_PACE_RING];    /* in_flight when request seq went, by seq */
    double sent_at[RS_PACE_RING];   /* when request seq went, by seq; -1: round trip told */
    double rtt_min;             /* the fastest round trip of an answer its limiter saw (with
                                 * headers, or any of an endpoint that says nothing), or 0 */
    int token, token_banned;
    int counts_after;           /* its remaining counts are said before the request is counted */
    double tk_level, tk_at;     /* remaining heard at tk_at */
    unsigned long long tk_seq, tk_sent;     /* of that answer; sent then */
    int tk_flight;              /* out then */
} rs_bucket;

/* Prepares b (zeroed by the caller): nothing is known, its first request
 * will be a probe. */
void rs_bucket_init(rs_bucket *b, double retry_delay);

/* Frees the log.  Idempotent, never raises. */
void rs_bucket_free(rs_bucket *b);

/* A window given in advance (rate_limits): limit requests per seconds.
 * Returns 0 when memory ran out (the bucket is then paced more coarsely). */
int rs_bucket_seed(rs_bucket *b, double limit, double seconds);

/* Seconds until b's next request may go (0: now), or RS_PACE_ANSWER:
 * when an answer of a request in flight arrives.  May change b (a reset
 * that passed). */
double rs_bucket_delay(rs_bucket *b, double now);

/* As rs_bucket_delay, for a bucket whose windows and ceiling a fleet's
 * store applies (shared_limits, the store up): only a closure, a probe
 * and a token bucket's level hold it back. */
double rs_bucket_delay_shared(rs_bucket *b, double now);

/* A request of b goes now; returns its number, for the calls below. */
unsigned long long rs_bucket_send(rs_bucket *b, double now);

/* Request seq's answer, with headers, came rtt seconds after the request
 * was on the network (the loop knows it better than from the send: a
 * connection may have been made first; 0: not known, none is taken).
 * Before rs_bucket_answer, which otherwise takes its time less the send's. */
void rs_bucket_round_trip(rs_bucket *b, unsigned long long seq, double rtt);

/* Request seq was answered (not 429) at now; r is what its headers said
 * (r->has 0: nothing); ok: the status was a success.  A free bucket told
 * nothing new does not read now. */
void rs_bucket_answer(rs_bucket *b, unsigned long long seq, double now, const rs_rate *r, int ok);

/* Request seq was answered 429 at now: retry_after in seconds (< 0: not
 * said), r its headers, jitter a number in [0, 1). */
void rs_bucket_refused(rs_bucket *b, unsigned long long seq, double now, const rs_rate *r,
                       double retry_after, double jitter);

/* Request seq got no answer (a network failure, a timeout, cancelled on
 * the network): it may have been counted. */
void rs_bucket_lost(rs_bucket *b, unsigned long long seq, double now);

/* What rate_limit() shows of a bucket. */
typedef struct rs_bucket_view {
    int known;                  /* some limit is known */
    double limit, remaining, reset, window;   /* reset: seconds from now */
    int windows;
    rs_window window_list[RS_RATE_WINDOWS];
    double wait;                /* seconds its next request waits (HUGE_VAL: an answer) */
} rs_bucket_view;

/* Fills v with what b knows at now.  May change b as rs_bucket_delay. */
void rs_bucket_view_at(rs_bucket *b, double now, rs_bucket_view *v);

/* Pushes client:rate_limit's table for v, with queued requests waiting
 * (ratelimit.c).  May raise a memory error. */
void rs_pace_push_view(lua_State *L, const rs_bucket_view *v, int queued, int shared);

#endif
