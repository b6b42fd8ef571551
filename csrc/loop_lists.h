/*
 * loop_lists.h: the loop's own lists of transfers (loop.c and loop_lua.c
 * only): those on the multi handle, and those finished that the
 * scheduler has not taken.  Each list says whether a transfer is on it (its links, or its
 * head), with no flag beside it; the length of the first, which the
 * loop's stats report, is kept by its add and remove alone.
 */
#ifndef RS_LOOP_LISTS_H
#define RS_LOOP_LISTS_H

#include "loop.h"

/* Whether t is on the multi handle: the loop's list of those says. */
static inline int on_network(const rs_loop *lp, const rs_transfer *t)
{
    return t->prev_net != NULL || lp->net_head == t;
}

/* The list of transfers on the multi handle, and its length: only these
 * two add and remove (put_on_multi, off_multi). */
static inline void list_on_network(rs_loop *lp, rs_transfer *t)
{
    t->prev_net = NULL;
    t->next_net = lp->net_head;
    if (lp->net_head)
        lp->net_head->prev_net = t;
    lp->net_head = t;
    lp->on_network++;
}

static inline void unlist_on_network(rs_loop *lp, rs_transfer *t)
{
    if (t->prev_net)
        t->prev_net->next_net = t->next_net;
    else
        lp->net_head = t->next_net;
    if (t->next_net)
        t->next_net->prev_net = t->prev_net;
    t->next_net = t->prev_net = NULL;
    lp->on_network--;
}

/* Whether t is on the done list: the list says, no flag beside it. */
static inline int on_done_list(const rs_loop *lp, const rs_transfer *t)
{
    return t->prev_done != NULL || lp->done_head == t;
}

/* Finished transfers that a task waits for go on the done list, which
 * the scheduler takes; a blocking call checks its own. */
static inline void list_done(rs_loop *lp, rs_transfer *t)
{
    if (t->blocking || on_done_list(lp, t))
        return;
    t->next_done = NULL;
    t->prev_done = lp->done_tail;
    if (lp->done_tail)
        lp->done_tail->next_done = t;
    else
        lp->done_head = t;
    lp->done_tail = t;
}

/* Takes t off the finished list (doubly linked: abandoning many
 * finished calls stays linear). */
static inline void unlist(rs_loop *lp, rs_transfer *t)
{
    if (!on_done_list(lp, t))
        return;
    if (t->prev_done)
        t->prev_done->next_done = t->next_done;
    else
        lp->done_head = t->next_done;
    if (t->next_done)
        t->next_done->prev_done = t->prev_done;
    else
        lp->done_tail = t->prev_done;
    t->next_done = t->prev_done = NULL;
}

#endif
