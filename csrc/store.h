/*
 * store.h: a fleet's shared budget in Redis (README "A fleet").  One
 * connection per client with shared_limits, asynchronous (libhiredis),
 * its descriptor one more of the loop's (rs_poll_watch): nothing here
 * ever blocks.  Each endpoint's budget is kept by one Lua script, loaded
 * once and run by its hash, so processes on many machines agree without
 * a lock held across requests:
 *   take      never more than L requests in any W seconds for each
 *             window given, and none while a 429 keeps the endpoint
 *             closed: a sorted set of shares per key, by the time each
 *             was answered (one in flight: now), trimmed; grants up to
 *             the shares asked for, or says how long to wait;
 *   answered  the share's time becomes its answer's (the latest it can
 *             have been counted, as pacing.c logs it); an answer that
 *             says none remain, where the store counted fewer, closes
 *             the endpoint until its reset;
 *   refused   a 429: the endpoint is closed for everyone until then;
 *   release   shares granted and never used leave the count at once.
 * Times are Redis's own clock (TIME), the same for every machine.
 *
 * When the store cannot be reached, is slow (no answer within the
 * timeout) or answers garbage, the connection is dropped, every take
 * waiting on it is told RS_STORE_DOWN, and the client paces on its own;
 * a new connection is tried in the background a second later, and takes
 * go to the store again once it has answered.  The shares of a take (or
 * a release) whose answer was lost so, which Redis may have granted all
 * the same, are given back then, before any new take (the last 64).  A host given by name is
 * looked up off the loop before each connection (resolve.h).
 */
#ifndef RS_STORE_H
#define RS_STORE_H

#include "pacing.h"
#include "poll.h"

#define RS_STORE_GO 1           /* a share taken: the request may go */
#define RS_STORE_WAIT 0         /* ask again after wait seconds */
#define RS_STORE_DOWN (-1)      /* no answer: pace on your own */

/* The name of a share taken, for answered and refused. */
#define RS_STORE_MEMBER_MAX 40

/* The most shares one take may be granted. */
#define RS_STORE_SHARES_MAX 64

/* Called once per take: verdict, wait (RS_STORE_WAIT), and for GO the
 * shares granted: member.1 to member.<shares>. */
typedef void (*rs_store_fn)(void *arg, int verdict, double wait, const char *member, int shares);

typedef struct rs_store rs_store;

/* Whether url is a Redis URL this understands: "redis://host[:port][/db]"
 * (host a name or an IPv4 address).  Fills host (cap bytes), port, db. */
int rs_store_parse_url(const char *url, char *host, size_t cap, int *port, int *db);

/* A store for url, its descriptor on p, timeout seconds for connecting
 * and for each answer; it connects in the background, and calls
 * changed(arg) (NULL: nothing) when it comes up, goes down, or its first
 * connection fails.  NULL when url is not understood or memory ran out. */
rs_store *rs_store_open(rs_poll *p, const char *url, double timeout,
                        void (*changed)(void *arg), void *arg);

/* Drops the connection (every take waiting is told RS_STORE_DOWN) and
 * frees s, after a last send that does not wait: what is queued, and for
 * each take still out, its shares given back.  NULL is fine. */
void rs_store_close(rs_store *s);

/* Whether the store is connected and has answered: budgets are shared. */
int rs_store_up(const rs_store *s);

/* Whether its first connection is under way (not yet up, nor failed):
 * a fleet's clients wait for it, up to the timeout, rather than all
 * start on their own at once. */
int rs_store_connecting(const rs_store *s);

/* Takes up to want shares of key's budget (as many as every window has
 * room for: one round trip for a line of requests) under the windows
 * w[0..n-1], for requests out at most flight seconds each; fn is called
 * when the store answers (or is given up on).  Returns 0, or -1 at once
 * when the store is not up (nothing will be called). */
int rs_store_take(rs_store *s, const char *key, const rs_window *w, int n, double flight,
                  int want, rs_store_fn fn, void *arg);

/* What an answer said, for rs_store_record. */
typedef struct rs_store_answer {
    int refused;                /* a 429, closing the endpoint for retry_after seconds */
    double retry_after;
    double remaining, reset, limit;     /* its x-ratelimit-* (< 0: not said) */
    const rs_window *window;    /* the bucket's windows, window[0..windows-1] */
    int windows;
} rs_store_answer;

/* The share member of key was answered (a); member NULL: a request that
 * went without a share (a CSRF handshake's second attempt, a probe, one
 * sent while the store was down), counted from now.  None remaining
 * closes the endpoint for reset seconds unless the store's own count in
 * the window of that limit explains it.  Nothing waits for it. */
void rs_store_record(rs_store *s, const char *key, const char *member,
                     const rs_store_answer *a);

/* Gives back the shares member.first to member.last of key, granted by a
 * take and never used (their requests ended before they went): Redis
 * counts them no more, at once, where they would count until their
 * flight ends.  Written with the step's other writes; nothing waits for
 * it (lost with the connection: again once the store is up again).
 * When the store is not up, they are given back once it is up again
 * (the last 64 lost or released meanwhile; older ones time out there). */
void rs_store_release(rs_store *s, const char *key, const char *member, int first, int last);

/* Bytes queued for Redis and not yet written (a record waits for
 * rs_poll_flush_extras), for the specs. */
size_t rs_store_unsent(const rs_store *s);

/* Gives up on what waited past its time and reconnects when due; returns
 * the seconds until it has something to do (HUGE_VAL: nothing). */
double rs_store_tick(rs_store *s, double now);

/* core.fleet_store_test(url, timeout, key, windows, n): n takes driven
 * by the loop, for the specs. */
void rs_store_open_test(lua_State *L);

#endif
