/*
 * transfer_io.c: what libcurl hands a transfer while an attempt runs: the
 * body, each header line (the ones the client reads are kept in the
 * transfer's answer), the start of the attempt and the socket it opens.
 *
 * These run with libcurl on the stack: they only copy bytes into the
 * transfer, never make a Lua value and never raise.  transfer.c judges
 * what they kept once libcurl has returned.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "transfer.h"

char *rs_copy_bytes(const char *s, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    return copy;
}

/* ---- libcurl callbacks: must not raise, must not touch Lua ------------ */

size_t rs_transfer_on_body(char *data, size_t size, size_t count, void *userdata)
{
    rs_transfer *t = userdata;
    size_t len = size * count;
    if (len > RS_MAX_BODY - t->resp_len) {
        t->too_large = 1;
        return 0;            /* a short count makes libcurl stop */
    }
    if (t->resp_len + len > t->resp_cap) {
        size_t cap = t->resp_cap ? t->resp_cap : 4096;
        char *grown;
        while (cap < t->resp_len + len)
            cap *= 2;
        grown = realloc(t->resp, cap);
        if (grown == NULL) {
            t->out_of_memory = 1;
            return 0;
        }
        t->resp = grown;
        t->resp_cap = cap;
    }
    memcpy(t->resp + t->resp_len, data, len);
    t->resp_len += len;
    return len;
}

/* The value of a "Name: value\r\n" line, without the blanks around it,
 * when the name matches (case-insensitively); NULL otherwise. */
static const char *header_value(const char *line, size_t len, const char *name, size_t *vlen)
{
    size_t n = strlen(name);
    const char *v, *end = line + len;
    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return NULL;
    for (v = line + n + 1; v < end && (*v == ' ' || *v == '\t'); v++)
        ;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *vlen = (size_t)(end - v);
    return v;
}

/* Copies the value into out when the name matches.  A value too long for
 * out is cut to outsize - 1 bytes, which the readers of out take as too
 * long. */
static void take_header(const char *line, size_t len, const char *name,
                        char *out, size_t outsize)
{
    size_t vlen;
    const char *v = header_value(line, len, name, &vlen);
    if (v == NULL)
        return;
    if (vlen >= outsize)
        vlen = outsize - 1;
    memcpy(out, v, vlen);
    out[vlen] = '\0';
}

/* The value as a malloc'd string when the name matches; NULL otherwise,
 * or when memory ran out (then it is as if the header had not come). */
static char *copy_header(const char *line, size_t len, const char *name)
{
    size_t vlen;
    const char *v = header_value(line, len, name, &vlen);
    return v ? rs_copy_bytes(v, vlen) : NULL;
}

/* Set-Cookie: .ROBLOSECURITY=<value>; ... keeps the value (another
 * cookie, one that deletes it or one for another domain is not a
 * rotation). */
static void take_set_cookie(rs_transfer *t, const char *line, size_t len)
{
    static const char name[] = ".ROBLOSECURITY=";
    char *value = copy_header(line, len, "set-cookie");
    if (value == NULL)
        return;
    if (strncmp(value, name, sizeof name - 1) == 0) {
        memmove(value, value + sizeof name - 1, strlen(value + sizeof name - 1) + 1);
        if (rs_set_cookie_rotates(value)) {
            rs_free_secret(t->set_cookie);
            t->set_cookie = value;
            return;
        }
    }
    rs_free_secret(value);
}

/* x-ratelimit-limit, -remaining or -reset: the prefix is compared once,
 * then one letter tells which (this runs for every answer). */
static void take_rate_header(rs_transfer *t, const char *line, size_t len)
{
#ifdef RS_BENCH_IGNORE_RATE     /* bench/limits: the same core without this work */
    len = 0;
#endif
    if (len < 16 || strncasecmp(line, "x-ratelimit-", 12) != 0)
        return;
    switch (line[12] | 0x20) {
    case 'l':
        take_header(line, len, "x-ratelimit-limit", t->a->rl_limit, sizeof t->a->rl_limit);
        break;
    case 'r':
        if ((line[14] | 0x20) == 'm')
            take_header(line, len, "x-ratelimit-remaining", t->a->rl_remaining, sizeof t->a->rl_remaining);
        else
            take_header(line, len, "x-ratelimit-reset", t->a->rl_reset, sizeof t->a->rl_reset);
        break;
    }
}

/* A status line starts a new response (there may be several, e.g. after
 * "100 Continue"): forget what the previous one said.  Called with "" when
 * an attempt begins. */
void rs_transfer_take_status_line(rs_transfer *t, const char *line, size_t len)
{
    const char *p = memchr(line, ' ', len), *end = line + len;
    t->resp_len = 0;
    t->a->csrf_token[0] = t->a->retry_after[0] = t->a->reason[0] = '\0';
    t->a->rl_limit[0] = t->a->rl_remaining[0] = t->a->rl_reset[0] = '\0';
    t->a->challenge_id[0] = t->a->challenge_type[0] = '\0';
    free(t->challenge_metadata);
    t->challenge_metadata = NULL;
    rs_free_secret(t->set_cookie);
    t->set_cookie = NULL;
    if (p == NULL || (p = memchr(p + 1, ' ', (size_t)(end - p - 1))) == NULL)
        return;
    p++;
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    if ((size_t)(end - p) >= sizeof t->a->reason)
        end = p + sizeof t->a->reason - 1;
    memcpy(t->a->reason, p, (size_t)(end - p));
    t->a->reason[end - p] = '\0';
}

size_t rs_transfer_on_header(char *data, size_t size, size_t count, void *userdata)
{
    rs_transfer *t = userdata;
    size_t len = size * count;
    if (len < 4)
        return len;
    switch (data[0]) {
    case 'H':
        if (len > 5 && memcmp(data, "HTTP/", 5) == 0)
            rs_transfer_take_status_line(t, data, len);
        break;
    case 'x': case 'X':
        if (len > 12 && (data[2] == 'r' || data[2] == 'R'))
            take_rate_header(t, data, len);
        else
            take_header(data, len, "x-csrf-token", t->a->csrf_token, sizeof t->a->csrf_token);
        break;
    case 'r': case 'R':
        if (data[1] == 'b' || data[1] == 'B') {
            take_header(data, len, "rblx-challenge-id", t->a->challenge_id, sizeof t->a->challenge_id);
            take_header(data, len, "rblx-challenge-type", t->a->challenge_type, sizeof t->a->challenge_type);
            if (t->challenge_metadata == NULL)
                t->challenge_metadata = copy_header(data, len, "rblx-challenge-metadata");
        } else
            take_header(data, len, "retry-after", t->a->retry_after, sizeof t->a->retry_after);
        break;
    case 's': case 'S':
        take_set_cookie(t, data, len);
        break;
    }
    return len;
}

/* libcurl calls this each time it is about to send the request, on a new
 * connection or a reused one.  A second call in one attempt is libcurl
 * sending it again by itself (a kept-alive connection died after the
 * request went out, or an HTTP/2 stream was refused): for a write that
 * is refused, because the server may have carried out the first; h2.c
 * notes whether it provably did not, and decide() then sends it again. */
int rs_transfer_on_prereq(void *userdata, char *ip, char *local_ip, int port, int local_port)
{
    rs_transfer *t = userdata;
    (void)ip; (void)local_ip; (void)port; (void)local_port;
    if (t->watch_h2)
        rs_h2_on_prereq(&t->h2, t->prereqs == 0, t->a->curl_error);
    if (t->opener == 1 && t->host > 0 && t->session) {
        long n = 0;
        if (curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &n) != CURLE_OK)
            n = 0;
        rs_h2_opener_connected(&t->session->hosts, t->host - 1, &t->opener, n > 0);
    }
    if (t->prereqs++ > 0 && t->is_write)
        return CURL_PREREQFUNC_ABORT;
    return CURL_PREREQFUNC_OK;
}

/* Opens a socket as libcurl would, keeping why it could not (libcurl
 * 7.88 does not record it). */
curl_socket_t rs_transfer_on_open_socket(void *userdata, curlsocktype purpose,
                                         struct curl_sockaddr *addr)
{
    rs_transfer *t = userdata;
    curl_socket_t fd = socket(addr->family, addr->socktype, addr->protocol);
    (void)purpose;
    if (fd == CURL_SOCKET_BAD)
        t->socket_errno = errno;
    return fd;
}

