/*
 * timers.h: the loop's timers, a binary min-heap of rs_timer nodes keyed
 * by due time: a transfer's (a retry, a pace or csrf wait, a deadline in
 * line) or a sleeping task's.  Each node stores its place (slot), so that
 * removing one is O(log n) wherever it is; nodes due at the same time
 * come out in the order they went in (seq), so that waiting calls are
 * served first come, first served.  Touches no Lua state.
 */
#ifndef RS_TIMERS_H
#define RS_TIMERS_H

#include "transfer.h"

typedef struct rs_timers {
    rs_timer **heap;            /* heap[0] is due first */
    size_t count, cap;
    unsigned long long seq;     /* insertions so far: the tie-breaker */
    rs_timer *rung_head, *rung_tail;   /* sleeping tasks' timers come due, in order */
} rs_timers;

/* The rung list: a sleeping task's timer, taken out when due, waits
 * there for the scheduler (sched.c), which resumes its task. */
void rs_timers_ring(rs_timers *h, rs_timer *t);

/* Takes t off the rung list; nothing happens when it is not on it. */
void rs_timers_unring(rs_timers *h, rs_timer *t);

/* Adds t, due at t->due.  Returns 0 when memory ran out (t is not in). */
int rs_timers_add(rs_timers *h, rs_timer *t);

/* Takes t out; nothing happens when it is not in. */
void rs_timers_remove(rs_timers *h, rs_timer *t);

/* t->due changed: moves t to its place, keeping its turn among equals. */
void rs_timers_update(rs_timers *h, rs_timer *t);

/* The timer due first, or NULL. */
rs_timer *rs_timers_peek(const rs_timers *h);

/* Takes out and returns the timer due first if it is due by now, or
 * returns NULL. */
rs_timer *rs_timers_pop_due(rs_timers *h, double now);

/* Whether t is in a heap. */
int rs_timers_holds(const rs_timer *t);

/* Frees the array (the nodes are not the heap's). */
void rs_timers_free(rs_timers *h);

#endif
