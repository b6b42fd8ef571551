/*
 * pacing_spare.h: how many more requests a bucket lets go now
 * (pacing_spare.c), for the loop's rule of the last free slot.
 */
#ifndef RS_PACING_SPARE_H
#define RS_PACING_SPARE_H

#include "pacing.h"

/* How many requests b lets go now, counting the next one, before its
 * limit holds one back: a token bucket's level less what went since it
 * was heard, else the ceiling x-ratelimit-remaining set; INT_MAX when
 * neither is known (nothing says the limit is near).  Changes nothing. */
int rs_bucket_spare(const rs_bucket *b, double now);

#endif
