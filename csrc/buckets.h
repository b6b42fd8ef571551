/*
 * buckets.h: a client's buckets, one per endpoint (pacing.h has the rule
 * of one), found by key, each with the line of transfers waiting for it,
 * and the choice of which line's head goes next: the buckets take turns,
 * within one the transfers go in the order made.  No Lua, no libcurl.
 */
#ifndef RS_BUCKETS_H
#define RS_BUCKETS_H

#include "pacing.h"

/* A transfer's place in its bucket: the bucket, its line, the number
 * of its attempt on the network (embedded in the transfer, owner). */
typedef struct rs_pace_link {
    struct rs_pace_link *next, *prev;   /* in the line, while it waits */
    struct rs_pace_entry *entry;        /* its bucket, or NULL */
    unsigned long long seq;             /* its attempt's number, 0: none out */
    char share[40];                     /* the fleet's share it went on (fleet.c), or "" */
    int lined;                          /* in the line */
    void *owner;                        /* the transfer */
} rs_pace_link;

/* The longest bucket key kept ("METHOD service /path"); a longer path is
 * cut, and shares the bucket of the paths it starts. */
#define RS_PACE_KEY_MAX 200

typedef struct rs_pace_entry {
    char *key;                  /* "GET friends /v1/users/{id}/friends/count" */
    size_t len;
    unsigned hash;
    rs_bucket b;
    rs_pace_link *head, *tail;  /* waiting, in the order made */
    int queued;                 /* how many */
    /* a fleet's share of it (fleet.c), with shared_limits */
    int asking, granted;        /* a take out; shares taken, not yet used */
    int share_next;             /* the number of the last of them used */
    double ask_after;           /* the store said wait until then */
    double store_since;         /* its head waits for the store since then, or 0 */
    char member[40];            /* the shares granted: member.1, member.2... */
    void *fleet;
} rs_pace_entry;

typedef struct rs_pace_table {
    rs_pace_entry **entry;      /* an entry never moves: transfers point at it */
    int count, cap;
    int turn;                   /* the entry whose line goes next, in turn */
    rs_pace_entry *last;        /* the one found last: a batch asks for it again */
    const char *last_method;    /* what it was found for, as given (a static string) */
    char last_raw[RS_PACE_KEY_MAX + 2];  /* service, path and tail, each ending in '\0' */
    size_t last_len;            /* 0: nothing kept */
    int queued;                 /* transfers waiting in all the lines */
    double retry_delay;
    double (*clock)(void);      /* monotonic seconds, read only when a bucket needs them */
    unsigned long long jitter;  /* xorshift state for the backoffs' jitter */
    /* With shared_limits (fleet.c): asked after a head's own bucket and
     * may_start let it go; 0 and *wait (seconds, or RS_PACE_ANSWER) when
     * it must wait for the fleet's budget.  While shared() says so, the
     * own bucket holds a head back only for what the store does not
     * apply (rs_bucket_delay_shared).  settle hears each attempt, r what
     * its headers said (or NULL); ended, each transfer's end (a share
     * that went unused goes where it is useful). */
    int (*gate)(void *fleet, rs_pace_entry *e, rs_pace_link *l, double now, double *wait);
    int (*shared)(void *fleet);
    void (*settle)(void *fleet, rs_pace_entry *e, rs_pace_link *l, long status,
                   const rs_rate *r, double retry_after);
    void (*ended)(void *fleet, rs_pace_entry *e, rs_pace_link *l);
    void *fleet;
} rs_pace_table;

/* The entry of method, service and path (numbers taken out; for the id
 * form, head + "{id}" + tail with tail NULL otherwise), added if new;
 * NULL when memory ran out. */
rs_pace_entry *rs_pace_find(rs_pace_table *pt, const char *method, const char *service,
                            const char *path, const char *tail);

/* The entry of an exact key, added if new (add != 0), or NULL. */
rs_pace_entry *rs_pace_key_entry(rs_pace_table *pt, const char *key, int add);

/* Puts l at the end of its bucket's line, or at its head (front: a
 * request sent again after a 429 was made before those waiting). */
void rs_pace_line_add(rs_pace_table *pt, rs_pace_link *l, int front);

/* Takes l out of its line; nothing happens when it is in none. */
void rs_pace_line_remove(rs_pace_table *pt, rs_pace_link *l);

/* Takes out and returns the next waiting link that may go (now < 0: not
 * read yet, pt->clock reads it if a bucket needs it): the head
 * of a line whose bucket allows a request (pace off: any line) and that
 * may_start(owner) lets start (NULL: all may), the lines in turn after
 * the last one chosen.  NULL when none may, with *soonest the seconds
 * until a bucket opens (RS_PACE_ANSWER: only an answer, or a slot, can
 * change it). */
rs_pace_link *rs_pace_take(rs_pace_table *pt, double now, int pace,
                           int (*may_start)(void *owner), double *soonest);

/* The entry of service whose next request must wait longest, or when
 * none must wait, the one with the fewest requests remaining; NULL when
 * no bucket of service knows a limit.  Fills *v. */
rs_pace_entry *rs_pace_worst(rs_pace_table *pt, const char *service, double now, rs_bucket_view *v);

/* l's attempt goes out now. */
void rs_pace_sent(rs_pace_link *l, double now);

/* l's attempt was answered, with rate-limit headers, rtt seconds after
 * it was on the network (before rs_pace_settled). */
void rs_pace_round_trip(rs_pace_link *l, double rtt);

/* l's attempt is over at now (< 0: not read yet, as above): status 0 for
 * no answer (it may have been counted), 429 refused, anything else
 * answered; r what the headers said (or NULL), retry_after the 429's
 * Retry-After (< 0: none).  Nothing happens when l has no attempt out. */
void rs_pace_settled(rs_pace_table *pt, rs_pace_link *l, double now, long status,
                     const rs_rate *r, double retry_after);

/* l's transfer ended (answered, failed, cancelled; its attempt settled
 * first): out of its line if it waited, and the fleet told (ended). */
void rs_pace_ended(rs_pace_table *pt, rs_pace_link *l);

/* Frees every entry (their lines must be empty or detached). */
void rs_pace_release(rs_pace_table *pt);

#endif
