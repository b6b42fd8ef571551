/*
 * h2.h: what HTTP/2 needs beyond what libcurl does by itself.
 *
 * Connections.  libcurl 7.88 puts at most RS_H2_STREAMS streams on one
 * connection, and past them opens a connection per request until a new
 * one is known to multiplex.  The hosts table keeps, per host, the
 * requests on the network and the connections they may use, so that
 * requests past the streams of those wait in the session's queue while
 * one request opens the next connection.  It also counts the connections
 * each host was opened (client:stats()).
 *
 * Unprocessed writes.  A write on a stream that the server refused
 * (RST_STREAM REFUSED_STREAM) or above a GOAWAY's last stream id was
 * provably not processed and may go again.  libcurl 7.88 does not say
 * which streams those were; the evidence is gathered here from what it
 * does say (see h2.c), for writes only, and judged once the attempt ends.
 */
#ifndef RS_H2_H
#define RS_H2_H

#include <curl/curl.h>

#include "rs.h"

/* Streams libcurl 7.88 puts on one connection (its default
 * CURLMOPT_MAX_CONCURRENT_STREAMS), when the server allows as many. */
#define RS_H2_STREAMS 100

/* One host (scheme, name and port) of a session. */
typedef struct rs_h2_host {
    char *origin;                 /* "https://host:port", malloc'd */
    size_t origin_len;
    long opened;                  /* connections libcurl opened to it */
    int on_net;                   /* requests on the network */
    int conns;                    /* connections they may use, at least 1 */
    int opening;                  /* a request is opening one more */
} rs_h2_host;

typedef struct rs_h2_hosts {
    rs_h2_host *list;
    int count, cap;
} rs_h2_hosts;

/* The index of url's host in hs, added if new; -1 when memory ran out. */
int rs_h2_host_index(rs_h2_hosts *hs, const char *url);

/* Whether a request to url may go on the network now: always, unless
 * multiplex (HTTP/2 over TLS) and its host's connections are full while
 * another request is opening the next. */
int rs_h2_may_start(rs_h2_hosts *hs, const char *url, int multiplex);

/* A request to host goes on (on != 0) or off the network.  *opener is
 * the request's own state: set to 1 when it is the one opening the next
 * connection, back to 0 when it leaves. */
void rs_h2_on_network(rs_h2_hosts *hs, int host, int on, int multiplex, int *opener);

/* The opener is about to send its request on a connection, new or
 * reused (from libcurl's CURLOPT_PREREQFUNCTION; touches no Lua state). */
void rs_h2_opener_connected(rs_h2_hosts *hs, int host, int *opener, int new_connection);

/* libcurl opened n connections to host for one attempt. */
void rs_h2_count_connects(rs_h2_hosts *hs, int host, long n);

/* Pushes { [origin] = connections opened, ... }.  May raise a memory error. */
void rs_h2_push_connections(lua_State *L, const rs_h2_hosts *hs);

/* Frees the table. */
void rs_h2_hosts_free(rs_h2_hosts *hs);

/* What one attempt of a write showed of its HTTP/2 stream. */
typedef struct rs_h2_evidence {
    unsigned long stream_id;      /* its stream, once libcurl opened one */
    unsigned long goaway_last;    /* a GOAWAY's last stream id, seen on its connection */
    unsigned char has_stream, has_goaway;
    unsigned char frozen;         /* libcurl is about to resend: ignore what follows */
    unsigned char quiet;          /* no libcurl error text since before the request went */
    unsigned char unprocessed;    /* libcurl's own resend was of an unprocessed request */
} rs_h2_evidence;

/* Sets up (watch != 0) or turns off the gathering on an easy handle
 * whose next attempt writes into ev (cleared). */
CURLcode rs_h2_watch(CURL *e, rs_h2_evidence *ev, int watch);

/* libcurl is about to send the request (CURLOPT_PREREQFUNCTION); errbuf
 * is the handle's error buffer.  On its second call in one attempt (a
 * resend by libcurl itself), judges whether what went before was
 * unprocessed.  Called from libcurl: touches no Lua state. */
void rs_h2_on_prereq(rs_h2_evidence *ev, int first, const char *errbuf);

/* Whether the attempt that libcurl ended with rc was provably not
 * processed by the server (errbuf: its error text; status: the HTTP
 * status received, 0 for none; aborted_resend: it ended because a resend
 * by libcurl was refused). */
int rs_h2_unprocessed(const rs_h2_evidence *ev, CURLcode rc, const char *errbuf,
                      long status, int aborted_resend);

#endif
