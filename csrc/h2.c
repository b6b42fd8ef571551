/*
 * h2.c: evidence that a write sent over HTTP/2 was not processed.
 *
 * HTTP/2 says that a stream reset with REFUSED_STREAM, or numbered above
 * the last stream id of a GOAWAY, was not processed by the server, so
 * that the request may go again.  libcurl 7.88 knows it (nghttp2 closes
 * both kinds with REFUSED_STREAM) and resends such a request by itself,
 * on a fresh connection; but it resends the same way a request whose
 * kept-alive connection died after it went out, which the server may
 * have carried out.  Our CURLOPT_PREREQFUNCTION refuses every such
 * resend of a write (transfer.c); this file tells the two apart, so that
 * an unprocessed write goes again (transfer.c resends it) and is never
 * reported as sent.
 *
 * libcurl 7.88 shows no stream error code.  What it does show, for the
 * handles that are verbose (writes over TLS with http2 on; the debug
 * callback keeps no byte, and looks at CURLINFO_TEXT lines only):
 *   - "Using Stream ID: N": the request went as HTTP/2, on stream N;
 *   - "...GOAWAY, error=E, last_stream=L": a GOAWAY on that connection,
 *     read while this handle drove it.  N > L proves it unprocessed, in
 *     any libcurl: that is what the GOAWAY says.
 * Both count only between libcurl's call of CURLOPT_PREREQFUNCTION and its
 * decision to resend: looking for a connection, a handle may read the
 * frames of another, idle one (its liveness check), GOAWAY included.
 * And, read from libcurl 7.88's sources (lib/http2.c, lib/transfer.c's
 * Curl_retry_request, lib/multi.c, lib/cf-socket.c, lib/vtls/openssl.c):
 * every failure on an HTTP/2 connection that makes it resend a request
 * writes an error text (failf: "Recv failure", "OpenSSL SSL_read",
 * "Failed receiving HTTP2 data", ...) except one: a stream closed with
 * REFUSED_STREAM, which sets its refused_stream flag and returns
 * CURLE_RECV_ERROR with no text.  So, for libcurl 7.88 over OpenSSL only,
 * an HTTP/2 attempt that libcurl resends (or that ends in
 * CURLE_RECV_ERROR) without any error text since before the request went
 * out was refused.  The one other way there, nghttp2 running out of
 * memory while queueing the request, is also a request the server did
 * not see whole.  With another libcurl or TLS library only the GOAWAY
 * evidence counts.
 *
 * Not provable, and so left as sent = true: a refused stream that
 * libcurl reports as CURLE_HTTP2 ("Error in the HTTP2 framing layer",
 * when the GOAWAY left no stream open) unless this handle read the
 * GOAWAY itself.
 */
#include <stdlib.h>
#include <string.h>

#include "h2.h"

/* libcurl 7.88's text when it has resent on a handle five times (in the
 * handle's life, not the request's) and will not again. */
static const char GIVING_UP[] = "Connection died, tried ";

/* Copies the text (not NUL-terminated) into buf, as a C string. */
static const char *as_string(char *buf, size_t cap, const char *text, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    return buf;
}

/* The number after key in s, or -1. */
static long long number_after(const char *s, const char *key)
{
    const char *p = strstr(s, key);
    char *end;
    unsigned long long n;
    if (p == NULL)
        return -1;
    p += strlen(key);
    if (*p < '0' || *p > '9')
        return -1;
    n = strtoull(p, &end, 10);
    return end == p || n > 0x7fffffffULL ? -1 : (long long)n;
}

/* CURLOPT_DEBUGFUNCTION.  Called from libcurl: touches no Lua state,
 * keeps nothing of the headers or bodies it is shown. */
static int on_debug(CURL *e, curl_infotype type, char *data, size_t size, void *userp)
{
    rs_h2_evidence *ev = userp;
    char line[256];
    const char *s;
    long long n;
    (void)e;
    if (type != CURLINFO_TEXT || ev == NULL)
        return 0;
    s = as_string(line, sizeof line, data, size);
    if (ev->frozen)
        return 0;
    if (strncmp(s, "Connection died, retrying", 25) == 0
        || strncmp(s, "Issue another request", 21) == 0) {
        /* libcurl resends: looking for a connection, it may read another
         * (idle) connection's frames with this handle, GOAWAY included */
        ev->frozen = 1;
    } else if (strncmp(s, "Using Stream ID: ", 17) == 0 && (n = number_after(s, "Using Stream ID: ")) >= 0) {
        ev->stream_id = (unsigned long)n;
        ev->has_stream = 1;
    } else if (strstr(s, "GOAWAY") && (n = number_after(s, "last_stream=")) >= 0) {
        /* a later GOAWAY may only lower it */
        if (!ev->has_goaway || (unsigned long)n < ev->goaway_last)
            ev->goaway_last = (unsigned long)n;
        ev->has_goaway = 1;
    }
    return 0;
}

CURLcode rs_h2_watch(CURL *e, rs_h2_evidence *ev, int watch)
{
    CURLcode rc;
    if (watch) {
        memset(ev, 0, sizeof *ev);
        if ((rc = curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug)) != CURLE_OK
            || (rc = curl_easy_setopt(e, CURLOPT_DEBUGDATA, (void *)ev)) != CURLE_OK)
            return rc;
        return curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    }
    if ((rc = curl_easy_setopt(e, CURLOPT_VERBOSE, 0L)) != CURLE_OK)
        return rc;
    return curl_easy_setopt(e, CURLOPT_DEBUGDATA, NULL);
}

/* Whether the libcurl in use is the one whose sources the quiet rule was
 * read from: 7.88, over OpenSSL (another TLS backend has failures of its
 * own, not read). */
static int quiet_rule_holds(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    return v && (v->version_num >> 8) == 0x0758 && v->ssl_version
           && strncmp(v->ssl_version, "OpenSSL/", 8) == 0;
}

static int above_goaway(const rs_h2_evidence *ev)
{
    return ev->has_stream && ev->has_goaway && ev->stream_id > ev->goaway_last;
}

void rs_h2_on_prereq(rs_h2_evidence *ev, int first, const char *errbuf)
{
    int quiet = ev->quiet && errbuf[0] == '\0';
    /* Evidence counts from here: before, while it looked for a connection,
     * the handle may have read another connection's GOAWAY. */
    if (first) {
        ev->quiet = errbuf[0] == '\0';
        ev->has_stream = ev->has_goaway = ev->unprocessed = ev->frozen = 0;
        return;
    }
    /* libcurl resends by itself: judge the round that went before */
    ev->unprocessed = above_goaway(ev) || (ev->has_stream && quiet && quiet_rule_holds());
    ev->quiet = quiet;
    ev->has_stream = ev->has_goaway = ev->frozen = 0;
}

int rs_h2_unprocessed(const rs_h2_evidence *ev, CURLcode rc, const char *errbuf,
                      long status, int aborted_resend)
{
    if (status != 0)
        return 0;               /* an answer came: it was processed */
    if (aborted_resend)
        return ev->unprocessed;
    if (above_goaway(ev))
        return 1;
    if (!ev->has_stream || !ev->quiet || !quiet_rule_holds())
        return 0;
    /* refused while the request was being sent: libcurl 7.88 ends it
     * with CURLE_RECV_ERROR and no text, and does not resend it */
    if (rc == CURLE_RECV_ERROR && errbuf[0] == '\0')
        return 1;
    /* refused, and libcurl would have resent it but for its count of
     * resends, which it keeps for the handle's whole life: its giving up
     * is then the first text of the attempt */
    return (rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR)
           && strncmp(errbuf, GIVING_UP, sizeof GIVING_UP - 1) == 0;
}

/* ---- connections --------------------------------------------------------- */

/* The length of url's origin ("https://host:port").  Runs for every
 * request: a plain scan, cheaper than strstr. */
static size_t origin_length(const char *url)
{
    const char *p = strchr(url, ':');
    p = p && p[1] == '/' && p[2] == '/' ? p + 3 : url;
    while (*p && *p != '/' && *p != '?' && *p != '#')
        p++;
    return (size_t)(p - url);
}

/* The host whose origin url starts with, or -1: a comparison of a few
 * bytes per known host, without scanning the url. */
static int find_host(const rs_h2_hosts *hs, const char *url)
{
    int i;
    for (i = 0; i < hs->count; i++) {
        const rs_h2_host *h = &hs->list[i];
        char next;
        if (strncmp(h->origin, url, h->origin_len) != 0)
            continue;
        next = url[h->origin_len];     /* url is at least that long */
        if (next == '\0' || next == '/' || next == '?' || next == '#')
            return i;
    }
    return -1;
}

int rs_h2_host_index(rs_h2_hosts *hs, const char *url)
{
    int i = find_host(hs, url);
    size_t len;
    rs_h2_host *h;
    if (i >= 0)
        return i;
    len = origin_length(url);
    if (hs->count == hs->cap) {
        int cap = hs->cap ? hs->cap * 2 : 4;
        rs_h2_host *grown = realloc(hs->list, (size_t)cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        hs->list = grown;
        hs->cap = cap;
    }
    h = &hs->list[hs->count];
    memset(h, 0, sizeof *h);
    if ((h->origin = malloc(len + 1)) == NULL)
        return -1;
    memcpy(h->origin, url, len);
    h->origin[len] = '\0';
    h->origin_len = len;
    h->conns = 1;
    return hs->count++;
}

/* A host's requests fill the connections known to it; past them, one
 * request goes and opens the next connection (libcurl does so when the
 * others are full), and the rest wait until it has. */
int rs_h2_may_start(rs_h2_hosts *hs, const char *url, int multiplex)
{
    const rs_h2_host *h;
    int i;
    if (!multiplex || (i = find_host(hs, url)) < 0)
        return 1;
    h = &hs->list[i];
    return h->on_net < RS_H2_STREAMS * h->conns || !h->opening;
}

void rs_h2_on_network(rs_h2_hosts *hs, int host, int on, int multiplex, int *opener)
{
    rs_h2_host *h = &hs->list[host];
    if (on) {
        if (multiplex && h->on_net >= RS_H2_STREAMS * h->conns && !h->opening) {
            h->opening = 1;
            *opener = 1;
        }
        h->on_net++;
        return;
    }
    if (*opener == 1)
        h->opening = 0;         /* it never connected: the next one tries */
    *opener = 0;
    if (--h->on_net <= 0) {     /* idle: start again from one connection */
        h->on_net = 0;
        h->conns = 1;
    }
}

/* A new connection is one more for the host's requests.  One reused
 * had a stream free (one ended meanwhile, or a connection kept from
 * earlier): not counted, as it may well be one of those already counted
 * (counting it would let the next requests past every stream, and
 * libcurl would open a connection for each); the next request past the
 * streams opens again. */
void rs_h2_opener_connected(rs_h2_hosts *hs, int host, int *opener, int new_connection)
{
    if (*opener != 1)
        return;
    *opener = 2;
    hs->list[host].opening = 0;
    if (new_connection)
        hs->list[host].conns++;
}

void rs_h2_count_connects(rs_h2_hosts *hs, int host, long n)
{
    if (n > 0)
        hs->list[host].opened += n;
}

void rs_h2_push_connections(lua_State *L, const rs_h2_hosts *hs)
{
    int i;
    lua_createtable(L, 0, hs->count);
    for (i = 0; i < hs->count; i++) {
        lua_pushinteger(L, hs->list[i].opened);
        lua_setfield(L, -2, hs->list[i].origin);
    }
}

void rs_h2_hosts_free(rs_h2_hosts *hs)
{
    int i;
    for (i = 0; i < hs->count; i++)
        free(hs->list[i].origin);
    free(hs->list);
    hs->list = NULL;
    hs->count = hs->cap = 0;
}
