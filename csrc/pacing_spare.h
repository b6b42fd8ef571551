/*
 * pacing_spare.h: how many more requests a bucket lets go now
 * (pacing_spare.c), for the loop's rule of the last free slot.
 */
#ifndef RS_PACING_SPARE_H
#define RS_PACING_SPARE_H

#include "pacing.h"

/* How many requests b lets go now, counting the next one, before its
 * limit holds one back, when its answers proved it a token bucket: its
 * level less what went since it was heard.  INT_MAX otherwise (a window,
 * nothing known, free).  Changes nothing. */
int rs_bucket_spare(const rs_bucket *b, double now);

#endif
