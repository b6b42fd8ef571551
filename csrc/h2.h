/*
 * h2.h: what HTTP/2 needs beyond what libcurl does by itself.
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

/* What one attempt of a write showed of its HTTP/2 stream. */
typedef struct rs_h2_evidence {
    unsigned long stream_id;      /* its stream, once libcurl opened one */
    unsigned long goaway_last;    /* a GOAWAY's last stream id, seen on its connection */
    unsigned char has_stream, has_goaway;
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
