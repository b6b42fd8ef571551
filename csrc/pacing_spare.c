/*
 * pacing_spare.c: how many more requests a bucket lets go now, and
 * whether one of its requests must leave a client's last free slot to
 * other endpoints (loop.c asks).  Plain C on numbers and the time passed
 * in.
 */
#include <limits.h>
#include <math.h>

#include "pacing_spare.h"

/* n, floored, as an int of at least 0. */
static int count_of(double n)
{
    if (!(n > 0))
        return 0;
    return n >= INT_MAX ? INT_MAX : (int)floor(n);
}

int rs_bucket_spare(const rs_bucket *b, double now)
{
    double limit, level;
    /* Only a token bucket: a window (fixed or sliding) counts a request
     * when it goes, so one held back gives its place in the window back
     * that much later, and the batch loses it (the pacing bench, sliding
     * windows, both jobs at 8: 10.37 s, 10.63-11.47 s with windows too). */
    if (b->free || !b->token || b->heards == 0 || b->heard[0].seconds <= 0)
        return INT_MAX;
    /* as token_delay (pacing.c): the k-th request more needs a level of
     * 1 + k + what was out or went since the level was heard */
    limit = floor(b->heard[0].limit);
    level = b->tk_level + (now - b->tk_at) * limit / b->heard[0].seconds;
    if (level > limit)
        level = limit;
    return count_of(level - 1.0 - b->tk_flight - (double)(b->sent - b->tk_sent));
}

int rs_bucket_keeps_last_slot(const rs_bucket *b, int active, int concurrency, double now)
{
    if (b->free || b->in_flight == 0 || active + 1 != concurrency)
        return 0;
    return rs_bucket_spare(b, now) < concurrency;
}
