/*
 * queue.h: one client's slots and its line for them, which the loop
 * (loop.c) keeps: the client owns it, its session points at it.
 */
#ifndef RS_QUEUE_H
#define RS_QUEUE_H

typedef struct rs_transfer rs_transfer;

typedef struct rs_queue {
    int concurrency;              /* most transfers holding a slot at once */
    int active;                   /* transfers holding a slot */
    /* the line for them: one per endpoint, in its session's buckets */
    rs_transfer *members;         /* every live transfer of the client */
} rs_queue;

#endif
