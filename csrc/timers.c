/*
 * timers.c: a binary min-heap of timers by (due, seq).  A timer's slot is
 * its index in the heap plus one, 0 when it is in none (timers start
 * zeroed).
 */
#include <stdlib.h>

#include "timers.h"

/* Whether a is due before b; at the same time, the one added first. */
static int earlier(const rs_timer *a, const rs_timer *b)
{
    if (a->due != b->due)
        return a->due < b->due;
    return a->seq < b->seq;
}

static void place(rs_timers *h, size_t i, rs_timer *t)
{
    h->heap[i] = t;
    t->slot = i + 1;
}

/* Moves the transfer at i towards the root while it is due earlier than
 * its parent. */
static void sift_up(rs_timers *h, size_t i)
{
    rs_timer *t = h->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(t, h->heap[parent]))
            break;
        place(h, i, h->heap[parent]);
        i = parent;
    }
    place(h, i, t);
}

/* Moves the transfer at i towards the leaves while a child is due
 * earlier. */
static void sift_down(rs_timers *h, size_t i)
{
    rs_timer *t = h->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->count)
            break;
        if (child + 1 < h->count && earlier(h->heap[child + 1], h->heap[child]))
            child++;
        if (!earlier(h->heap[child], t))
            break;
        place(h, i, h->heap[child]);
        i = child;
    }
    place(h, i, t);
}

int rs_timers_add(rs_timers *h, rs_timer *t)
{
    if (t->slot)
        rs_timers_remove(h, t);
    if (h->count == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        rs_timer **heap;
        if (cap > (size_t)-1 / sizeof *heap)
            return 0;
        heap = realloc(h->heap, cap * sizeof *heap);
        if (heap == NULL)
            return 0;
        h->heap = heap;
        h->cap = cap;
    }
    t->seq = h->seq++;
    h->heap[h->count] = t;
    sift_up(h, h->count++);
    return 1;
}

void rs_timers_remove(rs_timers *h, rs_timer *t)
{
    size_t i;
    rs_timer *last;
    if (t->slot == 0)
        return;
    i = t->slot - 1;
    if (i >= h->count || h->heap[i] != t) {     /* the heap was freed (the state closes) */
        t->slot = 0;
        return;
    }
    t->slot = 0;
    last = h->heap[--h->count];
    if (last == t)
        return;
    place(h, i, last);      /* the last one fills the hole, then finds its place */
    rs_timers_update(h, last);
}

void rs_timers_update(rs_timers *h, rs_timer *t)
{
    size_t i = t->slot - 1;
    if (t->slot == 0)
        return;
    if (i > 0 && earlier(t, h->heap[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

rs_timer *rs_timers_peek(const rs_timers *h)
{
    return h->count ? h->heap[0] : NULL;
}

rs_timer *rs_timers_pop_due(rs_timers *h, double now)
{
    rs_timer *t = rs_timers_peek(h);
    if (t == NULL || t->due > now)
        return NULL;
    rs_timers_remove(h, t);
    return t;
}

int rs_timers_holds(const rs_timer *t)
{
    return t->slot != 0;
}

static int is_rung(const rs_timers *h, const rs_timer *t)
{
    return t->prev_rung != NULL || h->rung_head == t;
}

void rs_timers_ring(rs_timers *h, rs_timer *t)
{
    t->next_rung = NULL;
    t->prev_rung = h->rung_tail;
    if (h->rung_tail)
        h->rung_tail->next_rung = t;
    else
        h->rung_head = t;
    h->rung_tail = t;
}

void rs_timers_unring(rs_timers *h, rs_timer *t)
{
    if (!is_rung(h, t))
        return;
    if (t->prev_rung)
        t->prev_rung->next_rung = t->next_rung;
    else
        h->rung_head = t->next_rung;
    if (t->next_rung)
        t->next_rung->prev_rung = t->prev_rung;
    else
        h->rung_tail = t->prev_rung;
    t->next_rung = t->prev_rung = NULL;
}

void rs_timers_free(rs_timers *h)
{
    free(h->heap);
    h->heap = NULL;
    h->count = h->cap = 0;
    h->rung_head = h->rung_tail = NULL;
}
