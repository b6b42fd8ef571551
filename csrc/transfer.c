/*
 * transfer.c: one request on its way: its buffers, its attempts, and the
 * judgement of each attempt (retries, the request's timeout and the
 * call's deadline, what the answer's headers say; the csrf handshake is
 * csrf.c's, challenges challenge.c's, libcurl's callbacks transfer_io.c's).
 * The loop (loop.c) moves transfers; this file only prepares an easy
 * handle for an attempt and judges what came back, once libcurl has
 * returned.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>

#include "csrf.h"
#include "fleet.h"

#define TRY(call) do { CURLcode rc_ = (call); if (rc_ != CURLE_OK) return rc_; } while (0)

/* Longest wait that a Retry-After may ask for, in seconds; anything
 * larger (1e400, inf) is clamped to it before any conversion. */
#define RS_MAX_WAIT 1e9

/* Most resends of one write that the server did not process (libcurl's
 * own limit for its resends is 5 too). */
#define RS_MAX_UNPROCESSED 5

/* ---- transfers -------------------------------------------------------- */

int rs_transfer_init(rs_transfer *t, rs_session *s, const char *method, const char *service,
                     const char *url, const char *body, size_t body_len)
{
    t->state = RS_T_QUEUED;
    t->session = s;
    t->ref = LUA_NOREF;
    t->method = method;
    t->is_get = strcmp(method, "GET") == 0;
    t->is_write = !t->is_get;   /* the caller may make a POST a read */
    t->to_apis = strcmp(service, "apis") == 0;
    t->outcome.retry_after = -1;
    if ((t->service = rs_session_service_index(s, service)) < 0)
        return 0;
    if (body == NULL && strcmp(method, "POST") == 0) {
        body = "";              /* a POST without a body is still a POST */
        body_len = 0;
    }
    t->url = rs_copy_bytes(url, strlen(url));
    if (t->url == NULL)
        return 0;
    if (body != NULL) {
        t->body = rs_copy_bytes(body, body_len);
        if (t->body == NULL)
            return 0;
        t->body_len = body_len;
    }
    return 1;
}

void rs_transfer_free_buffers(rs_transfer *t)
{
    free(t->url);
    free(t->body);
    free(t->resp);
    free(t->challenge_metadata);
    free(t->attempts);
    rs_free_secret(t->set_cookie);
    rs_free_secret(t->new_cookie);
    t->url = t->body = t->resp = t->challenge_metadata = t->set_cookie = t->new_cookie = NULL;
    t->attempts = NULL;
    t->attempt_count = t->attempt_cap = 0;
    t->resp_len = t->resp_cap = 0;
    rs_free_list(&t->extra);
    rs_free_list(&t->own);
    rs_headers_unref(t->headers);
    t->headers = NULL;
    if (t->a) {
        if (t->session)
            rs_pool_give_answer(t->session->pool, t->a);   /* for the next transfer */
        else
            free(t->a);
        t->a = NULL;
    }
}

double rs_transfer_end(const rs_transfer *t)
{
    return t->timeout_end < t->deadline ? t->timeout_end : t->deadline;
}

int rs_transfer_may_wait(rs_transfer *t, double now, double wait, int counted)
{
    if (counted && now + wait >= t->timeout_end)
        return 0;
    if (now + wait >= t->deadline) {
        t->outcome.kind = "timeout";
        t->outcome.message = "the next attempt would go after the call's deadline";
        t->outcome.retry_after = wait;
        return 0;
    }
    if (!counted)
        t->timeout_end += wait;
    return 1;
}

void rs_transfer_count_on_service(rs_transfer *t, int on)
{
    rs_session *s = t->session;
    if (s == NULL || t->on_service == on)
        return;
    t->on_service = on;
    if (on && t->host == 0)
        t->host = rs_h2_host_index(&s->hosts, t->url) + 1;   /* 0 again when out of memory */
    if (t->host > 0)
        rs_h2_on_network(&s->hosts, t->host - 1, on, s->http2 && s->tls, &t->opener);
}

int rs_transfer_may_start(rs_transfer *t)
{
    rs_session *s = t->session;
    return s == NULL || rs_h2_may_start(&s->hosts, t->url, s->http2 && s->tls);
}

/* Whether t sends more than the session's lines: the api key and the
 * token (the apis service only), or the caller's own lines. */
static int has_own_headers(const rs_transfer *t)
{
    return t->extra || (t->to_apis && t->session->apis_lines);
}

/* The session's lines, the apis service's credentials, then the caller's
 * own (client:request's headers). */
static int build_own_headers(rs_transfer *t)
{
    rs_free_list(&t->own);
    return rs_list_add_all(&t->own, t->headers->list)
        && (!t->to_apis || rs_list_add_all(&t->own, t->session->apis_lines))
        && rs_list_add_all(&t->own, t->extra);
}

/* The options that stay the same for every request of a session. */
static CURLcode configure_easy(CURL *e, const rs_session *s)
{
    long ms = (long)ceil(s->connect_timeout * 1000);
    TRY(curl_easy_setopt(e, CURLOPT_SHARE, s->share));
    TRY(curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L));
    TRY(curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https"));
    TRY(curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms < 1 ? 1L : ms));
    TRY(curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L));
    TRY(curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, rs_transfer_on_body));
    TRY(curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, rs_transfer_on_header));
    TRY(curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, rs_transfer_on_prereq));
    TRY(curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, rs_transfer_on_open_socket));
    /* Only a proxy the caller named: "" makes libcurl ignore http_proxy
     * and friends, which would otherwise see the credentials. */
    TRY(curl_easy_setopt(e, CURLOPT_PROXY, s->proxy ? s->proxy : ""));
    if (s->cainfo)
        TRY(curl_easy_setopt(e, CURLOPT_CAINFO, s->cainfo));
    if (s->http2) {
        /* Over TLS a transfer waits for a connection that may multiplex
         * rather than opening one more; plain http is HTTP/1.1 anyway. */
        TRY(curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS));
        TRY(curl_easy_setopt(e, CURLOPT_PIPEWAIT, s->tls ? 1L : 0L));
    } else
        TRY(curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1));
    return CURLE_OK;
}

static CURLcode take_easy(rs_transfer *t)
{
    rs_session *s = t->session;
    CURLcode rc;
    if (t->easy)
        return CURLE_OK;
    if ((t->easy = rs_pool_take_easy(s->pool)) != NULL)
        return CURLE_OK;
    if ((t->easy = curl_easy_init()) == NULL)
        return CURLE_OUT_OF_MEMORY;
    if ((rc = configure_easy(t->easy, s)) != CURLE_OK) {
        curl_easy_cleanup(t->easy);
        t->easy = NULL;
    }
    return rc;
}

void rs_transfer_drop_easy(rs_transfer *t)
{
    rs_session *s = t->session;
    CURL *e = t->easy;
    if (e == NULL)
        return;
    t->easy = NULL;
    if (t->watch_h2) {          /* its debug data points into t */
        (void)rs_h2_watch(e, NULL, 0);
        t->watch_h2 = 0;
    }
    if (s)
        rs_pool_give_easy(s->pool, e);      /* which cleans it up once the client closed */
    else
        curl_easy_cleanup(e);
}

void rs_transfer_fail(rs_transfer *t, const char *kind, const char *message)
{
    t->outcome.kind = kind;
    t->outcome.message = message;
}

/* Per-attempt options: everything that differs between requests is set
 * every time, because the handle may have served another request. */
CURLcode rs_transfer_begin(rs_transfer *t)
{
    rs_session *s = t->session;
    double left = rs_transfer_end(t) - rs_now();
    long ms = (long)ceil(left * 1000);
    CURL *e;
    if (left <= 0)
        return CURLE_OPERATION_TIMEDOUT;
    if (t->a == NULL) {                     /* the pool's, or a new one */
        t->a = rs_pool_take_answer(s->pool, sizeof *t->a);
        if (t->a == NULL)
            return CURLE_OUT_OF_MEMORY;
    }
    TRY(take_easy(t));
    e = t->easy;
    if (t->resp == NULL)                    /* an earlier answer's buffer */
        rs_pool_take_buffer(s->pool, &t->resp, &t->resp_cap);
    t->resp_len = 0;
    t->too_large = t->out_of_memory = t->prereqs = t->socket_errno = 0;
    t->a->curl_error[0] = '\0';
    t->a->rate.has = 0;         /* the answer may come from the pool, or malloc */
    rs_transfer_take_status_line(t, "", 0);   /* nothing of an earlier answer */
    rs_headers_unref(t->headers);
    t->headers = t->is_get ? s->read_headers : s->write_headers;
    t->headers->refs++;
    TRY(curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)t));
    TRY(curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)t));
    TRY(curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)t));
    TRY(curl_easy_setopt(e, CURLOPT_PREREQDATA, (void *)t));
    TRY(curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, (void *)t));
    TRY(curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->a->curl_error));
    TRY(curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms < 1 ? 1L : ms));
    TRY(curl_easy_setopt(e, CURLOPT_URL, t->url));
    if (t->body == NULL) {
        TRY(curl_easy_setopt(e, CURLOPT_HTTPGET, 1L));
    } else {
        TRY(curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->body_len));
        TRY(curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body));
    }
    TRY(curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
                         t->is_get || strcmp(t->method, "POST") == 0 ? NULL : t->method));
    if (has_own_headers(t) && !build_own_headers(t))
        return CURLE_OUT_OF_MEMORY;
    TRY(curl_easy_setopt(e, CURLOPT_HTTPHEADER, has_own_headers(t) ? t->own : t->headers->list));
    /* a handle comes back to the pool unwatched (rs_transfer_drop_easy) */
    t->watch_h2 = t->is_write && s->http2 && s->tls;
    if (t->watch_h2)
        TRY(rs_h2_watch(e, &t->h2, 1));
    return CURLE_OK;
}

/* ---- judging an attempt ------------------------------------------------ */

/* Seconds the server asked us to wait (Retry-After in seconds or as an
 * HTTP date), clamped to [0, RS_MAX_WAIT], or -1 when it did not say. */
static double retry_after_seconds(const char *value)
{
    char *end;
    double s;
    time_t at;
    if (value[0] == '\0')
        return -1;
    s = strtod(value, &end);
    if (end != value && *end == '\0') {
        if (s != s)
            return -1;
        return s < 0 ? 0 : s > RS_MAX_WAIT ? RS_MAX_WAIT : s;
    }
    at = curl_getdate(value, NULL);
    if (at == (time_t)-1)
        return -1;
    s = difftime(at, time(NULL));
    return s < 0 ? 0 : s > RS_MAX_WAIT ? RS_MAX_WAIT : s;
}

/* text lives as long as the transfer's answer, or is static. */
static void set_message(rs_transfer *t, const char *text)
{
    t->outcome.message = text;
}

/* Whether the attempt failed for want of a file descriptor (the process's
 * or the system's limit of open files): libcurl says only that it could
 * not connect. */
static int out_of_descriptors(rs_transfer *t)
{
    long err = 0;
    if (t->easy == NULL || curl_easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &err) != CURLE_OK)
        err = 0;
    if (t->socket_errno == EMFILE || t->socket_errno == ENFILE)
        return 1;
    return err == EMFILE || err == ENFILE;
}

/* The message of a write that failed after it went out: ours, with
 * libcurl's words as the detail unless they speak of tries (libcurl's
 * "Connection died, tried 5 times before giving up"): the write went out
 * once and is not sent again. */
static void sent_write_message(rs_transfer *t)
{
    const char *detail = t->a->curl_error;
    if (detail[0] == '\0' || strstr(detail, "tried") || strstr(detail, "retr")) {
        set_message(t, "the connection failed after the request was sent; "
                    "a write is not sent again, it may have taken effect");
        return;
    }
    snprintf(t->a->message, sizeof t->a->message, "the connection failed after the request "
             "was sent (%s); a write is not sent again, it may have taken effect", detail);
    set_message(t, t->a->message);
}

/* A failure without an HTTP answer.  A write counts as sent once libcurl
 * was about to send it on some connection; then libcurl's own words
 * ("Connection died, tried 5 times before giving up") would mislead, for
 * the write went out once and is not sent again. */
static void judge_transport(rs_transfer *t, CURLcode rc)
{
    rs_outcome *o = &t->outcome;
    o->kind = rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "network";
    o->sent = t->prereqs > 0;
    if (t->too_large)
        set_message(t, "the response body is larger than 64 MiB");
    else if (t->out_of_memory)
        set_message(t, "not enough memory for the response");
    else if (rc == CURLE_ABORTED_BY_CALLBACK && t->prereqs > 1)
        set_message(t, "the connection closed after the request was sent; "
                    "a write is not sent again, it may have taken effect");
    else if (rc == CURLE_OPERATION_TIMEDOUT)
        set_message(t, "the call took longer than its timeout");
    else if (out_of_descriptors(t))
        set_message(t, "out of file descriptors: too many files are open "
                    "(the process's or the system's limit)");
    else if (t->is_write && t->prereqs > 0)
        sent_write_message(t);
    else
        set_message(t, t->a->curl_error[0] ? t->a->curl_error : curl_easy_strerror(rc));
}

/* A write that the server provably did not process (an HTTP/2 stream
 * refused, or above a GOAWAY's last stream id: h2.c) was not sent: it
 * goes again at once, on another connection (libcurl closes that one),
 * up to RS_MAX_UNPROCESSED times and within the call's timeout.  Returns
 * whether it was such a write; *next is then what follows. */
static int judge_unprocessed(rs_transfer *t, CURLcode rc, rs_next *next)
{
    long status = 0;
    if (!t->is_write || !t->watch_h2)
        return 0;
    if (curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        status = 0;
    if (!rs_h2_unprocessed(&t->h2, rc, t->a->curl_error, status,
                           rc == CURLE_ABORTED_BY_CALLBACK && t->prereqs > 1))
        return 0;
    t->outcome.sent = 0;
    set_message(t, "the server did not process the request (HTTP/2 REFUSED_STREAM or GOAWAY)");
    *next = RS_NEXT_FINISH;
    if (t->unprocessed < RS_MAX_UNPROCESSED && rs_transfer_end(t) > rs_now()) {
        t->unprocessed++;
        t->timer.due = rs_now();
        *next = RS_NEXT_RESEND;
    }
    return 1;
}

/* What an answer says beyond its status: the service's limits, and a new
 * cookie (taken up only by a client that sends one).  Returns 0 when
 * memory ran out. */
static int take_answer_headers(rs_transfer *t)
{
    rs_session *s = t->session;
    (void)rs_rate_parse(&t->a->rate, t->a->rl_limit, t->a->rl_remaining, t->a->rl_reset);
    if (t->set_cookie && s->secrets[0] && rs_cookie_is_clean(t->set_cookie)
        && strcmp(t->set_cookie, s->secrets[0]) != 0) {
        if (!rs_session_rotate_cookie(s, t->set_cookie))
            return 0;
        rs_free_secret(t->new_cookie);
        t->new_cookie = t->set_cookie;      /* for on_cookie */
        t->set_cookie = NULL;
    }
    return 1;
}

/* Keeps what the on_response hook will be told of this attempt. */
static void record_attempt(rs_transfer *t, double retry_in)
{
    rs_attempt *a;
    double seconds = 0;
    curl_off_t bytes = 0;
    if (t->attempt_count == t->attempt_cap) {
        int cap = t->attempt_cap ? t->attempt_cap * 2 : 4;
        rs_attempt *grown = realloc(t->attempts, (size_t)cap * sizeof *grown);
        if (grown == NULL)
            return;             /* the hook misses this one, nothing else */
        t->attempts = grown;
        t->attempt_cap = cap;
    }
    a = &t->attempts[t->attempt_count++];
    if (curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME, &seconds) != CURLE_OK)
        seconds = 0;
    if (curl_easy_getinfo(t->easy, CURLINFO_SIZE_DOWNLOAD_T, &bytes) != CURLE_OK)
        bytes = 0;
    a->status = t->outcome.status;
    a->seconds = seconds;
    a->bytes = (double)bytes;
    a->retry_in = retry_in;
    a->error_kind = t->outcome.kind;
    a->rate = t->a->rate;
}

/* Decides what follows the attempt; the retry delay goes to t->timer.due. */
static rs_next decide(rs_transfer *t, CURLcode rc)
{
    rs_session *s = t->session;
    rs_outcome *o = &t->outcome;
    long status = 0;
    int retryable;
    double delay;
    delay = s->retry_delay * (double)((lua_Integer)1 << (t->attempt < 30 ? t->attempt : 30));
    if (rc != CURLE_OK) {
        rs_next next;
        judge_transport(t, rc);
        if (judge_unprocessed(t, rc, &next))
            return next;
        retryable = !t->is_write && !t->too_large && !t->out_of_memory;
    } else {
        if (curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
            status = 0;
        o->status = status;
        o->sent = status != 429;        /* a 429 was not carried out */
        o->retry_after = retry_after_seconds(t->a->retry_after);
        if (!take_answer_headers(t) || !rs_csrf_keep_token(s, t->a->csrf_token)) {
            rs_transfer_fail(t, "network", "not enough memory");
            return RS_NEXT_FINISH;
        }
        if (status >= 200 && status < 300)
            return RS_NEXT_FINISH;
        o->kind = "http";
        set_message(t, t->a->reason);
        if (rs_challenge_is(status, t->a->challenge_id, t->a->challenge_type))
            return RS_NEXT_FINISH;      /* never retried, not the handshake */
        if (status == 403 && rs_csrf_is_handshake(t, t->a->csrf_token)) {
            t->timer.due = rs_now();
            return RS_NEXT_RESEND;
        }
        if (o->retry_after >= 0)
            delay = o->retry_after;
        retryable = status == 429 || (!t->is_write && status >= 500);
    }
    if (!retryable || t->attempt >= s->max_retries)
        return RS_NEXT_FINISH;
    /* After a 429 the request was not carried out: its timeout does not
     * count the wait, only the call's deadline bounds it. */
    if (!rs_transfer_may_wait(t, rs_now(), delay, status != 429))
        return RS_NEXT_FINISH;  /* not waited: the error says retry_after */
    t->attempt++;
    t->timer.due = rs_now() + delay;
    return delay > 0 ? RS_NEXT_DELAY : RS_NEXT_RESEND;
}

/* The connections libcurl opened for the attempt, for client:stats(). */
static void rs_transfer_count_connects(rs_transfer *t)
{
    long n = 0;
    if (t->host > 0 && curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &n) == CURLE_OK)
        rs_h2_count_connects(&t->session->hosts, t->host - 1, n);
}

/* An answer with rate-limit headers: its bucket hears the round trip
 * from the request on the network to the answer's first byte, without
 * the connection made before it nor the loop's turns (pacing.h); or 0
 * when libcurl cannot say, and then it takes none (not the longer one
 * from the send to now, which would move the counts too early). */
static void tell_round_trip(rs_transfer *t)
{
    curl_off_t pre = 0, first = 0;
    double rtt = 0;
    if (t->pace.seq == 0 || !t->a->rate.has || t->outcome.status == 429)
        return;
    if (curl_easy_getinfo(t->easy, CURLINFO_PRETRANSFER_TIME_T, &pre) == CURLE_OK
        && curl_easy_getinfo(t->easy, CURLINFO_STARTTRANSFER_TIME_T, &first) == CURLE_OK
        && first > pre)
        rtt = (double)(first - pre) / 1e6;
    rs_pace_round_trip(&t->pace, rtt);
}

rs_next rs_transfer_judge(rs_transfer *t, CURLcode rc)
{
    rs_outcome *o = &t->outcome;
    rs_next next;
    o->kind = NULL;
    o->status = 0;
    o->retry_after = -1;
    o->sent = 0;
    t->a->rate.has = 0;
    rs_transfer_count_connects(t);
    rs_transfer_count_on_service(t, 0);
    rs_headers_unref(t->headers);
    t->headers = NULL;
    next = decide(t, rc);
    /* its bucket hears how the attempt went (a free one reads no clock) */
    tell_round_trip(t);
    rs_pace_settled(&t->session->buckets, &t->pace, -1, o->status,
                    t->a->rate.has ? &t->a->rate : NULL, o->retry_after);
    if (t->session->hooks & RS_HOOK_RESPONSE)
        record_attempt(t, next == RS_NEXT_FINISH ? -1 : t->timer.due - rs_now() > 0 ? t->timer.due - rs_now() : 0);
    /* A write goes again only after an attempt that was not carried out
     * (a 429, the csrf handshake, an unprocessed stream): cancelled before
     * the next one starts, it was not sent. */
    if (next != RS_NEXT_FINISH)
        t->prereqs = 0;
    return next;
}

/* ---- results ------------------------------------------------------------ */

typedef struct result_args {
    rs_transfer *t;
    int pushed;
} result_args;

/* A header value that take_header kept whole, or NULL: a value cut to
 * fit is not the server's, and a credential cut short in it could not be
 * redacted. */
static const char *whole_header(const char *value, size_t size)
{
    return strlen(value) < size - 1 ? value : NULL;
}

/* Under lua_pcall: the decoder's allocations may run finalizers, and a
 * memory error must not leave the session marked as building. */
static int push_result(lua_State *L)
{
    result_args *a = lua_touserdata(L, 1);
    rs_transfer *t = a->t;
    rs_session *s = t->session;
    rs_outcome *o = &t->outcome;
    rs_failure f;
    rs_bucket_view view;
    char err[160];
    if (t->state == RS_T_CANCELLED) {  /* nothing of an earlier attempt's answer */
        o->kind = "cancelled";
        o->status = 0;
        o->retry_after = -1;
        if (t->a)
            t->a->rate.has = 0;
        set_message(t, "the call was abandoned: its task was cancelled or its client closed");
    }
    if (o->kind == NULL) {
        if (rs_json_decode(L, t->resp, t->resp_len, err, sizeof err)) {
            a->pushed = 1;
            return 1;
        }
        o->kind = "decode";
        /* left on the stack, below the results, while the error is made */
        set_message(t, lua_pushfstring(L, "the response is not valid JSON: %s", err));
    }
    memset(&f, 0, sizeof f);
    f.kind = o->kind;
    f.status = o->status;
    f.reason = o->message;
    f.retry_after = o->retry_after;
    f.method = t->method;
    f.url = t->url;
    f.sent = t->is_write ? (strcmp(o->kind, "cancelled") == 0 ? t->prereqs > 0 : o->sent) : -1;
    if (strcmp(o->kind, "http") == 0) {
        f.body = t->resp;
        f.body_len = t->resp_len;
    }
    f.secrets = s ? s->secrets : NULL;
    f.secret_count = s ? s->secret_count : 0;
    f.rate = t->a ? &t->a->rate : NULL;
    if (f.rate && f.rate->has && t->pace.entry) {
        rs_bucket_view_at(&t->pace.entry->b, rs_now(), &view);
        if (view.known) {
            f.view = &view;
            f.queued = t->pace.entry->queued;
            f.shared = rs_fleet_shared(s);
        }
    }
    if (t->a && rs_challenge_is(o->status, t->a->challenge_id, t->a->challenge_type)) {
        f.challenge_id = whole_header(t->a->challenge_id, sizeof t->a->challenge_id);
        f.challenge_type = whole_header(t->a->challenge_type, sizeof t->a->challenge_type);
        f.challenge_metadata = t->challenge_metadata;
    }
    lua_pushnil(L);
    rs_error_push(L, &f);
    a->pushed = 2;
    return 2;
}

void rs_transfer_hold(rs_transfer *t)
{
    if (t->session && !t->held) {
        t->session->building++;
        t->held = 1;
    }
}

void rs_transfer_unhold(rs_transfer *t)
{
    rs_session *s = t->session;
    if (!t->held)
        return;
    t->held = 0;
    if (--s->building == 0 && s->closed)
        rs_session_release(s);
}

int rs_transfer_push_result(lua_State *L, rs_transfer *t)
{
    rs_session *s = t->session;
    result_args a;
    int status;
    a.t = t;
    a.pushed = 0;
    rs_transfer_hold(t);                /* if the caller did not */
    lua_pushcfunction(L, push_result);
    lua_pushlightuserdata(L, &a);
    status = lua_pcall(L, 1, 2, 0);
    if (s)
        rs_pool_give_buffer(s->pool, &t->resp, &t->resp_cap);   /* for the next request */
    rs_transfer_unhold(t);
    t->state = RS_T_SPENT;
    rs_transfer_free_buffers(t);
    if (status != LUA_OK)
        return lua_error(L);
    if (a.pushed == 1)
        lua_pop(L, 1);          /* pcall asked for two results */
    return a.pushed;
}
