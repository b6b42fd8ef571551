/*
 * transport.c: one request on the client's reused libcurl handle, with the
 * retries and the x-csrf-token handshake of the contract.
 *
 * The libcurl callbacks only copy bytes into the client's rs_response; the
 * Lua values (decoded body, error table) are made after curl returns, so no
 * Lua error can unwind through libcurl's frames.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client.h"

#define TRY(call) do { CURLcode rc_ = (call); if (rc_ != CURLE_OK) return rc_; } while (0)

/* ---- libcurl callbacks: must not raise, must not touch Lua ------------- */

static size_t on_body(char *data, size_t size, size_t count, void *userdata)
{
    rs_response *r = userdata;
    size_t len = size * count;
    if (len > RS_MAX_BODY - r->len) {
        r->body_too_large = 1;
        return 0;            /* a short count makes libcurl stop */
    }
    if (r->len + len > r->cap) {
        size_t cap = r->cap ? r->cap : 16384;
        char *grown;
        while (cap < r->len + len)
            cap *= 2;
        grown = realloc(r->body, cap);
        if (grown == NULL) {
            r->out_of_memory = 1;
            return 0;
        }
        r->body = grown;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, len);
    r->len += len;
    return len;
}

/* Copies the value of a "Name: value\r\n" line into out when the name
 * matches (case-insensitively).  A value too long for out is dropped. */
static void take_header(const char *line, size_t len, const char *name,
                        char *out, size_t outsize)
{
    size_t n = strlen(name);
    const char *v, *end = line + len;
    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return;
    for (v = line + n + 1; v < end && (*v == ' ' || *v == '\t'); v++)
        ;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    if ((size_t)(end - v) < outsize) {
        memcpy(out, v, (size_t)(end - v));
        out[end - v] = '\0';
    }
}

/* A status line starts a new response (there may be several, e.g. after
 * "100 Continue"): forget what the previous one said. */
static void take_status_line(rs_response *r, const char *line, size_t len)
{
    const char *p = memchr(line, ' ', len), *end = line + len;
    r->len = 0;
    r->csrf_token[0] = r->retry_after[0] = r->reason[0] = '\0';
    if (p == NULL || (p = memchr(p + 1, ' ', (size_t)(end - p - 1))) == NULL)
        return;
    p++;
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    if ((size_t)(end - p) < sizeof r->reason) {
        memcpy(r->reason, p, (size_t)(end - p));
        r->reason[end - p] = '\0';
    }
}

static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
    rs_response *r = userdata;
    size_t len = size * count;
    if (len > 5 && memcmp(data, "HTTP/", 5) == 0)
        take_status_line(r, data, len);
    else if (len > 0 && (data[0] == 'x' || data[0] == 'X'))
        take_header(data, len, "x-csrf-token", r->csrf_token, sizeof r->csrf_token);
    else if (len > 0 && (data[0] == 'r' || data[0] == 'R'))
        take_header(data, len, "retry-after", r->retry_after, sizeof r->retry_after);
    return len;
}

/* ---- setup -------------------------------------------------------------- */

CURLcode rs_transport_setup(rs_client *c, double connect_timeout,
                            const char *proxy, const char *cainfo)
{
    CURL *e = c->easy;
    TRY(curl_easy_setopt(e, CURLOPT_SHARE, c->share));
    TRY(curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L));
    TRY(curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https"));
    TRY(curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(c->timeout * 1000)));
    TRY(curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect_timeout * 1000)));
    TRY(curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body));
    TRY(curl_easy_setopt(e, CURLOPT_WRITEDATA, &c->response));
    TRY(curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header));
    TRY(curl_easy_setopt(e, CURLOPT_HEADERDATA, &c->response));
    TRY(curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->response.curl_error));
    if (proxy)
        TRY(curl_easy_setopt(e, CURLOPT_PROXY, proxy));
    if (cainfo)
        TRY(curl_easy_setopt(e, CURLOPT_CAINFO, cainfo));
    return CURLE_OK;
}

int rs_transport_write_headers(rs_client *c)
{
    static const char *const extra[] = {
        "Content-Type: application/json",
        "Expect:",              /* no 100-continue round trip */
        NULL
    };
    struct curl_slist *list = NULL, *item, *grown;
    const char *const *x;
    char line[300];
    for (item = c->read_headers; item; item = item->next)
        if ((grown = curl_slist_append(list, item->data)) == NULL)
            goto fail;
        else
            list = grown;
    for (x = extra; *x; x++)
        if ((grown = curl_slist_append(list, *x)) == NULL)
            goto fail;
        else
            list = grown;
    if (c->csrf_token) {
        strcpy(line, "x-csrf-token: ");
        strcat(line, c->csrf_token);    /* a token is < 256 bytes */
        if ((grown = curl_slist_append(list, line)) == NULL)
            goto fail;
        list = grown;
    }
    rs_free_headers(&c->write_headers);
    c->write_headers = list;
    return 1;
fail:
    rs_free_headers(&list);
    return 0;
}

/* ---- one exchange ------------------------------------------------------- */

static CURLcode perform(rs_client *c, const char *method, const char *url,
                        const char *body, size_t body_len)
{
    CURL *e = c->easy;
    int is_get = strcmp(method, "GET") == 0;
    c->response.len = 0;
    c->response.body_too_large = c->response.out_of_memory = 0;
    c->response.curl_error[0] = '\0';
    take_status_line(&c->response, "", 0);
    if (body == NULL && !is_get && strcmp(method, "DELETE") != 0)
        body = "";              /* a POST without a body is still a POST */
    TRY(curl_easy_setopt(e, CURLOPT_URL, url));
    if (body == NULL) {
        TRY(curl_easy_setopt(e, CURLOPT_HTTPGET, 1L));
    } else {
        TRY(curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len));
        TRY(curl_easy_setopt(e, CURLOPT_POSTFIELDS, body));
    }
    TRY(curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
                         is_get || strcmp(method, "POST") == 0 ? NULL : method));
    TRY(curl_easy_setopt(e, CURLOPT_HTTPHEADER,
                         is_get ? c->read_headers : c->write_headers));
    return curl_easy_perform(e);
}

/* Seconds the server asked us to wait (Retry-After in seconds or as an
 * HTTP date), or -1 when it did not say. */
static double retry_after_seconds(const char *value)
{
    char *end;
    double s;
    time_t at;
    if (value[0] == '\0')
        return -1;
    s = strtod(value, &end);
    if (end != value && *end == '\0')
        return s < 0 ? 0 : s;
    at = curl_getdate(value, NULL);
    if (at == (time_t)-1)
        return -1;
    s = difftime(at, time(NULL));
    return s < 0 ? 0 : s;
}

static void sleep_seconds(double s)
{
    struct timespec left;
    left.tv_sec = (time_t)s;
    left.tv_nsec = (long)((s - (double)left.tv_sec) * 1e9);
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

/* Keeps the token of a response that carries one; later writes send it.
 * Returns 0 on out-of-memory, keeping the old token. */
static int keep_csrf_token(rs_client *c)
{
    const char *fresh = c->response.csrf_token;
    char *old = c->csrf_token;
    if (fresh[0] == '\0' || (old && strcmp(old, fresh) == 0))
        return 1;
    c->csrf_token = malloc(strlen(fresh) + 1);
    if (c->csrf_token == NULL) {
        c->csrf_token = old;
        return 0;
    }
    strcpy(c->csrf_token, fresh);
    if (!rs_transport_write_headers(c)) {
        rs_free_secret(c->csrf_token);
        c->csrf_token = old;
        return 0;
    }
    rs_free_secret(old);
    return 1;
}

/* What one attempt came to. */
typedef enum { DONE, RETRY, FAILED } outcome;

/* Decides after a transfer: success, a retry after *delay seconds, or a
 * failure described in f.  A wait longer than the client's timeout is not
 * slept: the failure (with retry_after) goes back to the caller. */
static outcome judge(rs_client *c, CURLcode rc, int is_get, lua_Integer attempt,
                     double *delay, rs_failure *f)
{
    long status = 0;
    int retryable;
    *delay = c->retry_delay * (double)((lua_Integer)1 << (attempt < 30 ? attempt : 30));
    if (rc != CURLE_OK) {
        f->kind = rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "network";
        f->reason = c->response.body_too_large ? "the response body is larger than 64 MiB"
                    : c->response.curl_error[0] ? c->response.curl_error
                    : curl_easy_strerror(rc);
        retryable = is_get;
    } else {
        if (curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
            status = 0;
        f->status = status;
        f->reason = c->response.reason;
        f->retry_after = retry_after_seconds(c->response.retry_after);
        if (status >= 200 && status < 300)
            return DONE;
        f->kind = "http";
        f->body = c->response.body;
        f->body_len = c->response.len;
        if (f->retry_after >= 0)
            *delay = f->retry_after;
        retryable = status == 429 || (is_get && status >= 500);
    }
    return retryable && attempt < c->max_retries && *delay <= c->timeout ? RETRY : FAILED;
}

/* Sends the request until it succeeds, fails for good or runs out of
 * retries; f->kind stays NULL on success.  Touches no Lua state.  Returns
 * NULL, or a message when memory ran out. */
static const char *exchange(rs_client *c, const char *method, const char *url,
                            const char *body, size_t body_len, rs_failure *f)
{
    int is_get = strcmp(method, "GET") == 0, handshake_done = 0;
    lua_Integer attempt = 0;
    for (;;) {
        rs_failure fresh = {NULL, 0, NULL, NULL, 0, -1, method, url};
        double delay;
        CURLcode rc = perform(c, method, url, body, body_len);
        outcome o;
        *f = fresh;
        o = judge(c, rc, is_get, attempt, &delay, f);
        if (c->response.out_of_memory)
            return "robloxsocial: not enough memory for the response";
        if (rc == CURLE_OK && !keep_csrf_token(c))
            return "robloxsocial: not enough memory";
        if (f->status == 403 && !is_get && !handshake_done && c->response.csrf_token[0]) {
            handshake_done = 1;     /* the handshake is not a retry */
            continue;
        }
        if (o != RETRY)
            return NULL;
        sleep_seconds(delay);
        attempt++;
    }
}

/* Makes the outcome into Lua values: the decoded body, or nil and an
 * error.  Run under lua_pcall: its allocations may run finalizers, and a
 * memory error must not leave the client marked busy. */
static int finish(lua_State *L)
{
    rs_client *c = lua_touserdata(L, 1);
    rs_failure *f = lua_touserdata(L, 2);
    char err[160];
    if (f->kind == NULL) {
        if (rs_json_decode(L, c->response.body, c->response.len, err, sizeof err))
            return 1;
        f->kind = "decode";
        f->reason = lua_pushfstring(L, "the response is not valid JSON: %s", err);
    }
    lua_pushnil(L);
    rs_error_push(L, f);
    return 2;
}

int rs_transport_call(lua_State *L, rs_client *c, const char *method,
                      const char *url, const char *body, size_t body_len)
{
    rs_failure f;
    const char *no_memory;
    int top, status;
    c->busy = 1;
    no_memory = exchange(c, method, url, body, body_len, &f);
    top = lua_gettop(L);
    status = LUA_OK;
    if (no_memory == NULL) {
        lua_pushcfunction(L, finish);
        lua_pushlightuserdata(L, c);
        lua_pushlightuserdata(L, &f);
        status = lua_pcall(L, 2, LUA_MULTRET, 0);
    }
    c->busy = 0;
    if (c->close_pending)           /* close() was called meanwhile */
        rs_client_release(c);
    if (no_memory)
        return luaL_error(L, "%s", no_memory);
    if (status != LUA_OK)
        return lua_error(L);
    return lua_gettop(L) - top;
}
