/*
 * csrf.h: the x-csrf-token policy of a cookie session, in one place:
 * which write waits for the first token (one probe goes, the others wait
 * for its answer), what a probe's end wakes, which token is kept, and
 * when a 403 is the handshake rather than a refusal.  The loop calls it;
 * it calls down to the session (the token's header line) and the timers.
 */
#ifndef RS_CSRF_H
#define RS_CSRF_H

#include "timers.h"

/* Whether write t of s must wait for the csrf probe's answer before it
 * goes (t may become the probe, which does not wait). */
int rs_csrf_waits(rs_session *s, rs_transfer *t);

/* Whether t is s's probe (inline: every transfer's end asks). */
static inline int rs_csrf_is_probe(const rs_session *s, const rs_transfer *t)
{
    return s != NULL && s->csrf_probe == t;
}

/* t's attempt is over: if t is s's probe (answered: an answer came
 * back), the writes waiting for it become due now in h.  Returns how
 * many were woken (0 when t is not the probe). */
int rs_csrf_probe_over(rs_session *s, rs_timers *h, const rs_transfer *t, int answered);

/* Keeps the token of an answer that carries a clean one; later writes
 * send it.  Returns 0 on out-of-memory, keeping the old token. */
int rs_csrf_keep_token(rs_session *s, const char *fresh);

/* Whether a token can go into a header line: printable ASCII without
 * space, at most RS_MAX_TOKEN bytes. */
int rs_csrf_token_is_clean(const char *token);

/* Whether t's 403 answer, which handed out token, is the handshake: the
 * first such answer of a write (a read sent as POST too), which goes
 * again at once and is not a retry. */
int rs_csrf_is_handshake(rs_transfer *t, const char *token);

#endif
