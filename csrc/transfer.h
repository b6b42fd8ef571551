/*
 * transfer.h: one request on its way (a transfer).
 *
 * A transfer owns its URL, body and response buffers and, while it is on
 * the network, one libcurl easy handle borrowed from its session's pool.
 * It knows nothing of the client or the loop: the loop (loop.c) moves it,
 * the client (client.c) creates it.  The libcurl callbacks here only copy
 * bytes into the transfer; Lua values are made by rs_transfer_push_result
 * after libcurl has returned.
 */
#ifndef RS_TRANSFER_H
#define RS_TRANSFER_H

#include "session.h"

/* Bodies past this size are refused rather than buffered without end. */
#define RS_MAX_BODY ((size_t)64 << 20)

/* One exchange, for the on_response hook. */
typedef struct rs_attempt {
    long status;                  /* 0: no answer */
    double seconds, bytes;
    double retry_in;              /* < 0: no further attempt */
    const char *error_kind;       /* NULL on success */
    rs_rate rate;
} rs_attempt;

typedef enum {
    RS_T_QUEUED,      /* waiting for a slot of its session */
    RS_T_RUNNING,     /* on the multi handle */
    RS_T_DELAYED,     /* holding its slot until a retry is due */
    RS_T_FINISHED,    /* result ready */
    RS_T_CANCELLED,   /* abandoned: its result is a "cancelled" error */
    RS_T_SPENT        /* result handed out, buffers freed */
} rs_transfer_state;

/* What one transfer came to, filled when it finishes. */
typedef struct rs_outcome {
    const char *kind;          /* NULL on success */
    const char *message;       /* a static text, or in the transfer's answer */
    long status;
    double retry_after;        /* < 0: not said */
    int sent;                  /* writes: the request may have reached the server */
} rs_outcome;

/* What the headers of the current attempt said, and libcurl's words.  A
 * transfer has one from its first attempt until its result is taken (the
 * session keeps one to reuse), so that a queued transfer, and the
 * userdata the collector counts, stay small. */
typedef struct rs_answer {
    char reason[256];          /* cut to fit */
    char csrf_token[RS_MAX_TOKEN + 2];   /* one more: a longer token is noticed */
    char retry_after[64];
    char rl_limit[128], rl_remaining[32], rl_reset[32];
    char challenge_id[128], challenge_type[64];
    char curl_error[CURL_ERROR_SIZE];
    char message[CURL_ERROR_SIZE + 128];   /* ours, around curl_error */
    rs_rate rate;              /* of the last answer */
} rs_answer;

struct rs_transfer {
    rs_transfer_state state;
    rs_session *session;       /* NULL once detached (client closed) */
    rs_pace_link pace;         /* its endpoint's bucket, its place in that bucket's line */
    rs_transfer *next_member, *prev_member;   /* in session->members */
    rs_transfer *next_done, *prev_done;       /* in the loop's finished list */
    rs_timer timer;            /* a retry, a pace or csrf wait, a deadline in line */
    CURL *easy;                /* while it has a slot */
    rs_headers *headers;       /* the list this attempt sends */
    struct curl_slist *extra;  /* the caller's own header lines, or NULL */
    struct curl_slist *own;    /* headers plus extra, for this attempt */
    int service;               /* index into session->services */
    int on_service;            /* counted on the network (h2.c's per-host counts) */
    const char *method;        /* a static string */
    char *url;                 /* malloc'd, holds no credential */
    char *body;                /* malloc'd request body or NULL */
    size_t body_len;
    int is_get;
    int is_write;              /* may take effect: not retried, has `sent` (a
                                * read sent as POST is no write, but still
                                * carries the csrf token) */
    int to_apis;               /* the apis service: api key and token go */
    int held;                  /* rs_transfer_hold kept its session whole */
    int blocking;              /* a blocking call waits for it: not listed */
    int awaited;               /* its anchor is the task suspended on it */
    lua_Integer group;         /* the call it belongs to (a batch), or 0 */
    rs_transfer *next_net, *prev_net;   /* on the loop's list of those on the multi handle */
    rs_transfer *next_free;    /* on the loop's free list (rs_loop_free_transfer) */
    int ref;                   /* anchor in the loop's table, or LUA_NOREF */
    lua_Integer attempt;       /* retries so far */
    int handshake_done;        /* the csrf handshake was made */
    int token_wait;            /* waits for the csrf probe (a timer), until it goes */
    int prereqs;               /* libcurl started this attempt this often */
    int socket_errno;          /* why this attempt could not open a socket, or 0 */
    int watch_h2;              /* a write over HTTP/2: h2 gathers evidence */
    rs_h2_evidence h2;         /* whether this attempt was processed */
    int unprocessed;           /* resends of writes the server did not process */
    int host;                  /* 1 + its index in session->hosts; 0: not yet known */
    int opener;                /* opening its host's next connection (h2.c) */
    double deadline;           /* the call's end on the rs_now clock, HUGE_VAL for none:
                                * bounds everything, queueing and rate-limit waits too */
    double timeout_end;        /* the end of the request's own timeout: set when it
                                * takes its slot, moved on by the waits it does not
                                * count (pacing, after a 429) */
    /* the answer of the current attempt */
    char *resp;
    size_t resp_len, resp_cap;
    int too_large, out_of_memory;
    rs_answer *a;              /* from the first attempt on (malloc'd) */
    char *challenge_metadata;  /* malloc'd by the header callback */
    char *set_cookie;          /* a .ROBLOSECURITY the answer set (malloc'd) */
    char *new_cookie;          /* one taken up, for on_cookie (malloc'd) */
    rs_attempt *attempts;      /* when its session has RS_HOOK_RESPONSE */
    int attempt_count, attempt_cap;
    rs_outcome outcome;
};

/* Whether no call uses t: spent, its buffers freed.  Every way to
 * RS_T_SPENT frees them (rs_transfer_init's failure, a result taken, a
 * release), so the state alone tells: a task's transfer that is spent
 * is free for its next call. */
static inline int rs_transfer_is_spent(const rs_transfer *t)
{
    return t->state == RS_T_SPENT;
}

/* ---- transfer_io.c: libcurl's callbacks, set on each attempt's handle
 * (userdata: the transfer).  They copy bytes and never touch Lua. */
size_t rs_transfer_on_body(char *data, size_t size, size_t count, void *userdata);
size_t rs_transfer_on_header(char *data, size_t size, size_t count, void *userdata);
int rs_transfer_on_prereq(void *userdata, char *ip, char *local_ip, int port, int local_port);
curl_socket_t rs_transfer_on_open_socket(void *userdata, curlsocktype purpose,
                                         struct curl_sockaddr *addr);

/* Forgets what an earlier answer's status line and headers said. */
void rs_transfer_take_status_line(rs_transfer *t, const char *line, size_t len);

/* A NUL-terminated copy of len bytes at s (malloc'd), or NULL. */
char *rs_copy_bytes(const char *s, size_t len);

/* Metatable of transfer userdata. */
#define RS_TRANSFER_MT "robloxsocial.Transfer"

/* What the loop should do with a transfer whose attempt has ended. */
typedef enum { RS_NEXT_FINISH, RS_NEXT_RESEND, RS_NEXT_DELAY } rs_next;

/* ---- transfers ---- */

/* Prepares t (zeroed by the caller) to send method to service's url with
 * body (copied; NULL for none).  Returns 0 on out-of-memory. */
int rs_transfer_init(rs_transfer *t, rs_session *s, const char *method, const char *service,
                     const char *url, const char *body, size_t body_len);

/* When t's next attempt must be over: the first of its timeout's end
 * and the call's deadline. */
double rs_transfer_end(const rs_transfer *t);

/* Whether t may wait wait seconds from now before its next attempt.  A
 * wait its timeout counts (counted: between attempts after a 5xx or a
 * network failure) must end before the timeout does, and the deadline; one
 * it does not count (pacing, after a 429) only before the deadline, and
 * moves the timeout's end on by its length.  A wait the deadline stops
 * makes the outcome a "timeout" with retry_after; one the timeout stops
 * leaves the outcome as it is. */
int rs_transfer_may_wait(rs_transfer *t, double now, double wait, int counted);

/* Counts t in (on != 0) or out of its host's requests on the network. */
void rs_transfer_count_on_service(rs_transfer *t, int on);

/* Whether t may take a slot now: over HTTP/2, not while its host's
 * connections are full and another request is opening the next (h2.c);
 * it then waits in the session's queue. */
int rs_transfer_may_start(rs_transfer *t);



/* Takes an easy handle and sets up the next attempt, whose libcurl
 * timeout is what is left until rs_transfer_end.  Returns the first libcurl error
 * (CURLE_OPERATION_TIMEDOUT when no time is left), or CURLE_OK. */
CURLcode rs_transfer_begin(rs_transfer *t);

/* Judges the attempt that libcurl ended with rc.  Touches no Lua state. */
rs_next rs_transfer_judge(rs_transfer *t, CURLcode rc);

/* Gives the easy handle back to the session's pool (or frees it). */
void rs_transfer_drop_easy(rs_transfer *t);

/* Ends t as failed with kind and message, e.g. out of memory. */
void rs_transfer_fail(rs_transfer *t, const char *kind, const char *message);

/* Frees the buffers.  Idempotent, never raises. */
void rs_transfer_free_buffers(rs_transfer *t);

/* Keeps t's session whole (its secrets, for the error) until
 * rs_transfer_push_result: the hooks that run before it may close the
 * client. */
void rs_transfer_hold(rs_transfer *t);

/* Lets go of what rs_transfer_hold kept: the session goes if its client
 * closed meanwhile and no other result is being made from it.  The
 * result's making does it, and so does the transfer's way out, for a
 * take that failed before the result was made.  Idempotent. */
void rs_transfer_unhold(rs_transfer *t);

/* Pushes the decoded body (returns 1) or nil and the error (returns 2),
 * and frees the buffers.  May raise a memory error. */
int rs_transfer_push_result(lua_State *L, rs_transfer *t);

#endif
