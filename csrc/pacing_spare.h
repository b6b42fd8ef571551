/*
 * pacing_spare.h: how many more requests a bucket lets go now
 * (pacing_spare.c), and the loop's rule of the last free slot.
 */
#ifndef RS_PACING_SPARE_H
#define RS_PACING_SPARE_H

#include "pacing.h"

/* How many requests b lets go now, counting the next one, before its
 * limit holds one back, when its answers proved it a token bucket: its
 * level less what went since it was heard.  INT_MAX otherwise (a window,
 * nothing known, free).  Changes nothing. */
int rs_bucket_spare(const rs_bucket *b, double now);

/* Whether a request of b, with active of concurrency slots taken, must
 * leave the last free slot to other endpoints: b is a token bucket that
 * lets fewer requests go now than the client has slots, so its own limit
 * holds its requests back within a round anyway, and a call on another
 * endpoint made meanwhile would wait up to a whole round trip for a slot
 * (a batch sent in rounds holds every slot at once).  The request waits
 * for the next answer (one of b is out), at most a round trip, losing
 * none of b's budget: a token bucket below full refills meanwhile (a
 * window would not: see rs_bucket_spare).  A bucket paced at its rate
 * has a few out and never reaches the last slot; one whose level lets a
 * whole round go (a burst) takes every slot. */
int rs_bucket_keeps_last_slot(const rs_bucket *b, int active, int concurrency, double now);

#endif
