/*
 * resolve.h: a host name resolved off the loop, for a fleet's Redis
 * connection (store.c).  hiredis resolves a name with a blocking
 * getaddrinfo inside redisAsyncConnect: a slow or absent DNS would stall
 * the loop's step for seconds.  Here a detached thread runs the lookup
 * and leaves the address found; the loop looks at it when it next
 * ticks, and connects hiredis to the address (which it parses without
 * any lookup).
 */
#ifndef RS_RESOLVE_H
#define RS_RESOLVE_H

#include <stddef.h>

/* What rs_resolve_result says. */
#define RS_RESOLVE_PENDING 0
#define RS_RESOLVE_DONE 1
#define RS_RESOLVE_FAILED (-1)

/* Room for an address as text (an IPv6 one with its scope). */
#define RS_RESOLVE_ADDR_MAX 64

typedef struct rs_resolve rs_resolve;

/* Whether host is a numeric IPv4 or IPv6 address: nothing to resolve. */
int rs_resolve_numeric(const char *host);

/* Starts resolving name in a thread of its own.  NULL when name is too
 * long, memory ran out or no thread could be started (the caller tries
 * again later, as after a failed lookup). */
rs_resolve *rs_resolve_start(const char *name);

/* RS_RESOLVE_PENDING, RS_RESOLVE_FAILED, or RS_RESOLVE_DONE with the
 * address in addr (cap bytes): the first IPv4 address found, else the
 * first IPv6 one, the order hiredis itself tries them in.  Never waits. */
int rs_resolve_result(rs_resolve *r, char *addr, size_t cap);

/* The caller lets go of r: freed now, or by its thread when the lookup
 * ends (the thread never touches anything else).  NULL is fine. */
void rs_resolve_drop(rs_resolve *r);

#endif
