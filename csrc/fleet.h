/*
 * fleet.h: a client's part in a fleet (README "A fleet"): with
 * shared_limits, each bucket's head asks the store (store.h) for a share
 * of the endpoint's budget before it goes, holding no slot meanwhile,
 * and each attempt's answer is recorded there.  While the store is not
 * up, the buckets pace on their own (buckets.c, pacing.c).
 */
#ifndef RS_FLEET_H
#define RS_FLEET_H

#include "buckets.h"
#include "fleet_key.h"
#include "store.h"

struct rs_loop;
struct rs_session;

typedef struct rs_fleet {
    rs_store *store;
    struct rs_loop *lp;
    struct rs_session *s;
    char prefix[RS_FLEET_PREFIX_LEN + 1];   /* of the credential's hash */
    /* waits for the store itself (its connection, a take's answer), not
     * for the budget: how many, and the longest (client:stats().store) */
    unsigned long store_waits;
    double longest_store_wait;
} rs_fleet;

/* Joins s's buckets to the fleet of url under credential (len bytes),
 * timeout the store's (connect_timeout).  0 when url is not understood,
 * the hash failed or memory ran out. */
int rs_fleet_join(struct rs_session *s, struct rs_loop *lp, const char *url,
                  const char *credential, size_t len, double timeout);

/* Leaves it: a take out is told down, the store is closed.  Idempotent. */
void rs_fleet_leave(struct rs_session *s);

/* Whether s's buckets are shared now (rate_limit().shared). */
int rs_fleet_shared(const struct rs_session *s);

/* Pushes client:stats().store for s: { up, waits, longest_wait }, or
 * nothing (returns 0) without shared_limits.  May raise a memory error. */
int rs_fleet_push_stats(lua_State *L, const struct rs_session *s);

#endif
