/*
 * client.h: the client userdata, shared by client.c (options, lifetime,
 * the entry points) and url.c (where a request goes).  A client keeps its
 * options and its session; the loop (loop.h) moves its transfers.
 */
#ifndef RS_CLIENT_H
#define RS_CLIENT_H

#include "loop.h"

typedef struct rs_client {
    rs_session session;            /* what its transfers share */
    rs_pool pool;                  /* what they hand on to the next ones (session.pool) */
    rs_queue queue;                /* its slots and line, kept by the loop (session.queue) */
    rs_loop *loop;                 /* the loop of its Lua state */
    char *origin;                  /* base_url without a trailing '/', or NULL */
    char *domain;                  /* used when origin is NULL */
    char *url;                     /* scratch for building a URL (malloc'd) */
    size_t url_cap;
    int hooks;                     /* on_response or on_cookie given */
} rs_client;

/* Whether c is open: its session's closed flag is the one place this is
 * kept (a client is open from its creation, zeroed, until close). */
static inline int rs_client_is_open(const rs_client *c)
{
    return !c->session.closed;
}

/* ---- url.c ----
 * Builds the URL of a request into c->url and returns it: the service's
 * origin, the path at arg_path and the already encoded query string at
 * arg_query (0: none).  The path must start with '/' and, like the query,
 * hold only printable ASCII without space or '#'; the path holds no '?'
 * either.  Raises an argument error otherwise, before anything is sent,
 * and a memory error if the buffer cannot grow. */
const char *rs_url_build(lua_State *L, rs_client *c, const char *service,
                         int arg_path, int arg_query);

/* The same for a path made of the string at arg_head, the decimal id (a
 * positive integer) and the string at arg_tail, so that the most called
 * methods make no Lua string of their path. */
const char *rs_url_build_id(lua_State *L, rs_client *c, const char *service,
                            int arg_head, lua_Integer id, int arg_tail);

#endif
