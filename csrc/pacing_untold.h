/*
 * pacing_untold.h: the rule of an endpoint that says nothing of its limit
 * (pacing_untold.c), as pacing.c applies it to a bucket.
 */
#ifndef RS_PACING_UNTOLD_H
#define RS_PACING_UNTOLD_H

#include "pacing.h"

/* Whether b is held to this rule now (then it is not free). */
int rs_untold_holds(const rs_bucket *b);

/* Once b is open: opens the window a closure of this rule waited for,
 * and returns 1 with *d (rs_bucket_delay's answer) when a fixed window
 * learnt paces b; 0 when the other rules do. */
int rs_untold_delay(rs_bucket *b, double now, double *d);

/* Request number b->sent went now. */
void rs_untold_sent(rs_bucket *b, double now);

/* Request seq was answered at now (< 0: not read), a success or not. */
void rs_untold_answer(rs_bucket *b, unsigned long long seq, double now, int ok);

/* Request seq was answered 429 at now (retry_after < 0: not said; fresh:
 * sent since the bucket last closed).  1 when this rule took it (b is
 * closed as it said); 0 when the other rules must. */
int rs_untold_refused(rs_bucket *b, unsigned long long seq, double now, double retry_after,
                      int fresh);

/* From pacing.c: request seq was answered at now by the limiter; b takes
 * its round trip from its send, unless the loop told it. */
void rs_bucket_heard_rtt(rs_bucket *b, unsigned long long seq, double now);

/* Fills v with the fixed window learnt, when one paces b. */
void rs_untold_view(const rs_bucket *b, double now, rs_bucket_view *v);

#endif
