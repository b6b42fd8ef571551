/*
 * timers.h: the loop's timers, a binary min-heap of transfers keyed by
 * due time.  Each transfer in it stores its place (timer_slot), so that
 * removing one is O(log n) wherever it is; transfers due at the same time
 * come out in the order they went in (timer_seq), so that waiting calls
 * are served first come, first served.  Touches no Lua state.
 */
#ifndef RS_TIMERS_H
#define RS_TIMERS_H

#include "transfer.h"

typedef struct rs_timers {
    rs_transfer **heap;         /* heap[0] is due first */
    size_t count, cap;
    unsigned long long seq;     /* insertions so far: the tie-breaker */
} rs_timers;

/* Adds t, due at t->due.  Returns 0 when memory ran out (t is not in). */
int rs_timers_add(rs_timers *h, rs_transfer *t);

/* Takes t out; nothing happens when it is not in. */
void rs_timers_remove(rs_timers *h, rs_transfer *t);

/* t->due changed: moves t to its place, keeping its turn among equals. */
void rs_timers_update(rs_timers *h, rs_transfer *t);

/* The transfer due first, or NULL. */
rs_transfer *rs_timers_peek(const rs_timers *h);

/* Takes out and returns the transfer due first if it is due by now, or
 * returns NULL. */
rs_transfer *rs_timers_pop_due(rs_timers *h, double now);

/* Whether t is in a heap. */
int rs_timers_holds(const rs_transfer *t);

/* Frees the array (the transfers are not the heap's). */
void rs_timers_free(rs_timers *h);

#endif
