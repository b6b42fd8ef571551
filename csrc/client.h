/*
 * client.h: the client userdata, shared by client.c (options, lifetime),
 * url.c (where a request goes) and transport.c (sending it).
 */
#ifndef RS_CLIENT_H
#define RS_CLIENT_H

#include <curl/curl.h>

#include "rs.h"

/* What the libcurl callbacks collect about one response.  The callbacks
 * only copy bytes into it: they never touch the Lua state. */
typedef struct rs_response {
    char *body;               /* malloc'd, kept between requests */
    size_t len, cap;
    int body_too_large;       /* the body passed RS_MAX_BODY */
    int out_of_memory;        /* a callback could not grow the body */
    char reason[64];          /* reason phrase of the last status line */
    char csrf_token[256];     /* x-csrf-token of this response, or "" */
    char retry_after[64];     /* Retry-After of this response, or "" */
    char curl_error[CURL_ERROR_SIZE];
} rs_response;

/* Bodies past this size are refused rather than buffered without end. */
#define RS_MAX_BODY ((size_t)64 << 20)

typedef struct rs_client {
    CURL *easy;                    /* NULL once closed */
    CURLSH *share;
    struct curl_slist *read_headers;   /* GET: accept and credentials */
    struct curl_slist *write_headers;  /* writes: also content type, csrf */
    char *origin;                  /* base_url without a trailing '/', or NULL */
    char *domain;                  /* used when origin is NULL */
    char *csrf_token;              /* the token the server handed out, or NULL */
    double timeout;                /* seconds */
    double retry_delay;            /* seconds before the first retry */
    char *url;                     /* the URL being sent, reused (malloc'd) */
    size_t url_cap;
    int busy;                      /* inside rs_transport_call */
    int close_pending;             /* close() was called while busy */
    lua_Integer max_retries;
    rs_response response;
} rs_client;

/* ---- client.c ---- */
void rs_client_release(rs_client *c);               /* idempotent, never raises */

/* Free a secret-bearing string or header list after overwriting it, so
 * credentials do not linger in freed memory.  NULL is fine. */
void rs_free_secret(char *s);
void rs_free_headers(struct curl_slist **list);

/* ---- url.c ----
 * Builds the URL of a request into c->url and returns it: the service's
 * origin, the path at arg_path and the already encoded query string at
 * arg_query (0: none).  The path must start with '/' and, like the query,
 * hold only printable ASCII without space or '#'; the path holds no '?'
 * either.  Raises an argument error otherwise, before anything is sent,
 * and a memory error if the buffer cannot grow. */
const char *rs_url_build(lua_State *L, rs_client *c, const char *service,
                         int arg_path, int arg_query);

/* ---- transport.c ---- */

/* Sets the options that stay the same for every request.  Returns the
 * first libcurl error, or CURLE_OK. */
CURLcode rs_transport_setup(rs_client *c, double connect_timeout,
                            const char *proxy, const char *cainfo);

/* Rebuilds write_headers from read_headers and the current csrf token.
 * Returns 0 on out-of-memory, leaving the old list in place. */
int rs_transport_write_headers(rs_client *c);

/* Sends the request with retries and the csrf handshake and pushes the
 * decoded body (returns 1) or nil and an error table (returns 2).  body is
 * NULL for a request without one.  Raises only on out-of-memory.  The
 * client is marked busy meanwhile: finalizers run by the decoding may not
 * use it, and a close() they make waits for the end of the call. */
int rs_transport_call(lua_State *L, rs_client *c, const char *method,
                      const char *url, const char *body, size_t body_len);

#endif
