/*
 * buckets.h: a client's buckets, one per endpoint (pacing.h has the rule
 * of one), found by key, each with the line of transfers waiting for it,
 * and the choice of which line's head goes next: the buckets take turns,
 * within one the transfers go in the order made.  No Lua, no libcurl.
 */
#ifndef RS_BUCKETS_H
#define RS_BUCKETS_H

#include "pacing.h"

struct rs_transfer;

/* The longest bucket key kept ("METHOD service /path"); a longer path is
 * cut, and shares the bucket of the paths it starts. */
#define RS_PACE_KEY_MAX 200

typedef struct rs_pace_entry {
    char *key;                  /* "GET friends /v1/users/{id}/friends/count" */
    size_t len;
    unsigned hash;
    rs_bucket b;
    struct rs_transfer *head, *tail;   /* waiting, in the order made */
    int queued;                 /* how many */
} rs_pace_entry;

typedef struct rs_pace_table {
    rs_pace_entry **entry;      /* an entry never moves: transfers point at it */
    int count, cap;
    int turn;                   /* the entry whose line goes next, in turn */
    int queued;                 /* transfers waiting in all the lines */
    double retry_delay;
} rs_pace_table;

/* The entry of method, service and path (numbers taken out; for the id
 * form, head + "{id}" + tail with tail NULL otherwise), added if new;
 * NULL when memory ran out. */
rs_pace_entry *rs_pace_find(rs_pace_table *pt, const char *method, const char *service,
                            const char *path, const char *tail);

/* The entry of an exact key, added if new (add != 0), or NULL. */
rs_pace_entry *rs_pace_key_entry(rs_pace_table *pt, const char *key, int add);

/* The next entry whose head may go now (pace off: any with a line), in
 * turn after the last one chosen; NULL when none may, with *soonest the
 * seconds until one may (RS_PACE_ANSWER: when an answer comes). */
rs_pace_entry *rs_pace_next(rs_pace_table *pt, double now, int pace, double *soonest);

/* The entry of service whose next request must wait longest, or when
 * none must wait, the one with the fewest requests remaining; NULL when
 * no bucket of service knows a limit.  Fills *v. */
rs_pace_entry *rs_pace_worst(rs_pace_table *pt, const char *service, double now, rs_bucket_view *v);

/* Frees every entry (their lines must be empty or detached). */
void rs_pace_release(rs_pace_table *pt);

#endif
