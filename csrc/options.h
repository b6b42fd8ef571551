/*
 * options.h: the options of robloxsocial.new, as options.c reads them.
 */
#ifndef RS_OPTIONS_H
#define RS_OPTIONS_H

#include "rs.h"

typedef struct rs_options {
    const char *cookie, *api_key, *access_token;
    const char *domain, *base_url, *user_agent, *proxy, *cainfo;
    const char *shared_limits;  /* a Redis URL, or NULL */
    double timeout, connect_timeout, retry_delay;
    double deadline;    /* 0: none */
    lua_Integer max_retries, concurrency;
    int http2, pace, trust_domain;
    int hooks;          /* on_response or on_cookie given */
    int rate_limits;    /* rate_limits given: the table's field holds them */
} rs_options;

/* Reads the options table at idx (nil: the defaults) into o and checks
 * it: types, ranges, header values, base_url or domain, and that
 * credentials go only where trust_domain allows.  Strings stay owned by
 * Lua and live as long as the table is on the stack.  Raises on any
 * misuse, never showing a credential. */
void rs_options_read(lua_State *L, int idx, rs_options *o);

#endif
