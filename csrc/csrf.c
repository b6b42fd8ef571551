/*
 * csrf.c: the x-csrf-token handshake of a cookie session.  A write that
 * the session holds no token for is refused with 403 and a token, and
 * goes again with it (the handshake, not a retry).  The first writes of
 * a session, before it holds a token: one goes (the probe) and the
 * others wait for its answer, which hands out the token they all then
 * carry, so that a burst of writes makes one handshake rather than one
 * each.  They keep their slots meanwhile; the wait is a timer of the
 * loop, due when their timeout ends.  Once a write has been answered
 * without the handshake, the service wants no token and writes no
 * longer wait.  Reads sent as POST carry the token as writes do.
 */
#include <stdlib.h>
#include <string.h>

#include "csrf.h"

int rs_csrf_waits(rs_session *s, rs_transfer *t)
{
    if (t->is_get || s->csrf_token || s->csrf_known || s->secrets[0] == NULL)
        return 0;
    if (s->csrf_probe == NULL)
        s->csrf_probe = t;
    return s->csrf_probe != t;
}

/* The writes waiting keep token_wait until they go: a batch that fails
 * meanwhile withdraws them, as they were never sent. */
int rs_csrf_probe_over(rs_session *s, rs_timers *h, const rs_transfer *t, int answered)
{
    rs_transfer *w;
    double now;
    int woken = 0;
    if (s == NULL || s->csrf_probe != t)
        return 0;
    s->csrf_probe = NULL;
    if (answered && s->csrf_token == NULL)
        s->csrf_known = 1;
    now = rs_now();
    for (w = s->queue->members; w; w = w->next_member)
        if (w->token_wait && rs_timers_holds(&w->timer)) {
            w->timer.due = now;       /* their turns among themselves stay */
            rs_timers_update(h, &w->timer);
            woken++;
        }
    return woken;
}

/* A token goes into a header line: printable ASCII without space, and no
 * longer than RS_MAX_TOKEN.  Anything else is not taken. */
int rs_csrf_token_is_clean(const char *token)
{
    size_t n = 0;
    for (; token[n]; n++)
        if ((unsigned char)token[n] <= 0x20 || (unsigned char)token[n] >= 0x7f)
            return 0;
    return n > 0 && n <= RS_MAX_TOKEN;
}

int rs_csrf_keep_token(rs_session *s, const char *fresh)
{
    char *old = s->csrf_token;
    if (!rs_csrf_token_is_clean(fresh) || (old && strcmp(old, fresh) == 0))
        return 1;
    s->csrf_token = malloc(strlen(fresh) + 1);
    if (s->csrf_token == NULL) {
        s->csrf_token = old;
        return 0;
    }
    strcpy(s->csrf_token, fresh);
    if (!rs_session_write_headers(s)) {
        rs_free_secret(s->csrf_token);
        s->csrf_token = old;
        return 0;
    }
    rs_free_secret(old);
    return 1;
}

/* Every POST and DELETE carries the handshake, reads sent as POST too. */
int rs_csrf_is_handshake(rs_transfer *t, const char *token)
{
    if (t->is_get || t->handshake_done || !rs_csrf_token_is_clean(token))
        return 0;
    t->handshake_done = 1;
    return 1;
}
