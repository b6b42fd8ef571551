/*
 * session.h: what the transfers of one client share (a session): header
 * lists, secrets, the csrf token, each service's limits, a rotated
 * cookie.  The client owns it; its transfers read it and tell it what
 * the answers said.
 */
#ifndef RS_SESSION_H
#define RS_SESSION_H

#include <curl/curl.h>

#include "h2.h"
#include "pool.h"
#include "queue.h"
#include "buckets.h"
#include "rs.h"

/* The hooks a client may have (rs_session.hooks). */
#define RS_HOOK_RESPONSE 1
#define RS_HOOK_COOKIE 2

/* The longest x-csrf-token kept; a longer one is not a token. */
#define RS_MAX_TOKEN 255


/* A header list that transfers in flight may still be reading: replaced
 * lists live until the last transfer using them lets go. */
typedef struct rs_headers {
    struct curl_slist *list;
    int refs;                     /* the session's own reference counts too */
} rs_headers;

/* A node of the loop's timers (timers.h): a transfer's, a sleeping
 * task's (sched.c), which the loop moves to its rung list when due, or a
 * session's, when one of its buckets opens (is_pace). */
typedef struct rs_timer {
    double due;                /* on the rs_now clock */
    size_t slot;               /* its place in the heap plus one, or 0 */
    unsigned long long seq;    /* when it joined: first come, first served */
    struct rs_timer *prev_rung, *next_rung;   /* on the rung list */
    int is_task, is_pace;
} rs_timer;

/* A service the session's transfers go to (the hooks name it). */
typedef struct rs_service {
    char name[64];
} rs_service;

/* What the transfers of one client share.  Owned by the client. */
typedef struct rs_session {
    rs_headers *read_headers;     /* GET: accept, user agent, credentials */
    rs_headers *write_headers;    /* writes: also content type, csrf token */
    char *csrf_token;             /* the token the server handed out, or NULL */
    rs_transfer *csrf_probe;      /* the write that asks for the first one */
    int csrf_known;               /* a write was answered without a token */
    /* Every credential the client has held, redacted from its errors:
     * [0] the cookie sent now, [1] the api key, [2] the access token
     * (each or NULL), then every cookie a rotation replaced. */
    char **secrets;
    int secret_count, secret_cap;
    struct curl_slist *apis_lines;   /* x-api-key, Authorization: the apis service only */
    rs_service *services;         /* by name, as transfers name them */
    int service_count, service_cap;
    int pace;                     /* keep each endpoint's bucket (pacing.h) */
    rs_pace_table buckets;        /* one per endpoint, with the line waiting for it */
    rs_timer pace_timer;          /* the loop's, when a line waits for a time */
    int hooks;                    /* the RS_HOOK_* its client was given (the client's
                                     user value holds them); on_response wants the attempts */
    double timeout, connect_timeout, retry_delay;   /* seconds */
    double deadline;              /* seconds a call may take from when it is made; 0: none */
    lua_Integer max_retries;
    int http2;                    /* negotiate HTTP/2 over TLS */
    int tls;                      /* its origins are https */
    char *proxy, *cainfo;         /* NULL: none given */
    CURLSH *share;                /* DNS, TLS sessions and connections */
    rs_h2_hosts hosts;            /* requests and connections per host (h2.c) */
    rs_pool *pool;                /* the client's buffers and handles to reuse */
    rs_queue *queue;              /* the client's slots and line, which the loop keeps */
    int building;                 /* results being made: do not free secrets */
    int closed;
    int *unreleased;              /* the loop's count of sessions not yet released */
} rs_session;

/* Monotonic seconds. */
double rs_now(void);

/* ---- sessions ---- */

/* Releases everything a session holds but its transfers (the caller
 * detaches those first).  Idempotent, never raises. */
void rs_session_release(rs_session *s);

/* Rebuilds write_headers from read_headers and the csrf token.  Returns
 * 0 on out-of-memory, leaving the old list in place. */
int rs_session_write_headers(rs_session *s);

/* Creates an rs_headers holding list (taken over), or NULL. */
rs_headers *rs_headers_new(struct curl_slist *list);
void rs_headers_unref(rs_headers *h);

/* Overwrites a secret before freeing it.  NULL is fine. */
void rs_free_secret(char *s);

/* Makes room for the three named secrets (all NULL).  Returns 0 on
 * out-of-memory. */
int rs_session_init_secrets(rs_session *s);

/* Appends a copy of line, or of every line of from; 0 when memory ran
 * out (what was appended stays in *list, for the caller to free). */
int rs_list_add(struct curl_slist **list, const char *line);
int rs_list_add_all(struct curl_slist **list, const struct curl_slist *from);

/* Frees a header list after overwriting its lines.  NULL is fine. */
void rs_free_list(struct curl_slist **list);

/* The index of the service called name, added if new; -1 on out-of-memory. */
int rs_session_service_index(rs_session *s, const char *name);

/* Whether v is a cookie value (RFC 6265 cookie-octets). */
int rs_cookie_is_clean(const char *v);

/* Whether a Set-Cookie's .ROBLOSECURITY value v, with the attributes
 * after it, gives the client a new cookie: not a deletion (no value,
 * "deleted", an Expires past, a Max-Age of 0 or less) and not for a
 * domain other than roblox.com (no Domain: the answering host).  Cuts v
 * at its first ';', leaving the value. */
int rs_set_cookie_rotates(char *v);

/* Sends value as .ROBLOSECURITY from now on; the old one stays a secret
 * to redact.  Returns 0 on out-of-memory, changing nothing. */
int rs_session_rotate_cookie(rs_session *s, const char *value);

#endif
