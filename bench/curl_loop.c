/*
 * curl_loop.c: the floor for one request's cost.  N sequential GETs of one
 * URL on a single reused libcurl easy handle (keep-alive), each body
 * appended to a buffer by a write callback, as any libcurl client must.
 *
 *   curl_loop [--like-robloxsocial | --options=NAME,...] [--post=FILE]
 *             [--decode] URL N [WARMUP]
 *
 * Prints "requests N seconds S rps R" on stdout, timing only the N
 * requests after WARMUP untimed ones (default 100: they open the
 * connection and fill the caches).  Exits 1 on any failure.
 *
 * --like-robloxsocial asks libcurl for everything robloxsocial asks it
 * (the options of rs_transport_setup and perform in csrc/transport.c, the
 * headers of build_read_headers in csrc/client.c), so that the request on
 * the wire is the same and the difference to robloxsocial is the cost of
 * the library alone.  Keep the options table below in step with those
 * functions.  --options= picks entries of the table by name (accept,
 * cookie, useragent, encoding, share, headerfn, timeouts, protocols,
 * errorbuffer, perrequest, uaheader), to price each one alone.
 *
 * --post=FILE sends POSTs with FILE's bytes as the body (and the
 * Content-Type and empty Expect lines robloxsocial adds to a write), as
 * client:presence(ids) does.  --decode decodes every answer with
 * robloxsocial's own decoder (csrc/json_decode.c, into a Lua state whose
 * collector runs as in any program): the floor for a request whose
 * answer is used.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "lauxlib.h"
#include "lualib.h"
#include "rs.h"

typedef struct buffer {
    char *data;
    size_t len, cap;
} buffer;

typedef struct loop {
    CURL *easy;
    CURLSH *share;
    struct curl_slist *headers;
    int per_request;                /* set the request options each time */
    const char *url;
    buffer post;                    /* --post: the request body */
    lua_State *L;                   /* --decode: where answers are decoded */
    buffer body;
    char error[CURL_ERROR_SIZE];
} loop;

/* Called from libcurl: appends the bytes; a short count on out-of-memory
 * makes the transfer fail. */
static size_t on_body(char *data, size_t size, size_t count, void *userdata)
{
    buffer *b = userdata;
    size_t len = size * count;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        char *grown;
        while (cap < b->len + len)
            cap *= 2;
        if ((grown = realloc(b->data, cap)) == NULL)
            return 0;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return len;
}

/* Called from libcurl: robloxsocial reads a few headers; this only sees
 * them pass, which is the part libcurl pays for. */
static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
    (void)data;
    (void)userdata;
    return size * count;
}

/* ---- the options robloxsocial sets; each returns 0 on failure ---------- */

/* Adds a custom header line; robloxsocial keeps its lines in one list. */
static int add_header(loop *l, const char *line)
{
    struct curl_slist *grown = curl_slist_append(l->headers, line);
    if (grown == NULL)
        return 0;
    l->headers = grown;
    return curl_easy_setopt(l->easy, CURLOPT_HTTPHEADER, l->headers) == CURLE_OK;
}

static int opt_accept(loop *l)
{
    return add_header(l, "Accept: application/json");
}

static int opt_cookie(loop *l)
{
    return add_header(l, "Cookie: .ROBLOSECURITY=bench");
}

/* The User-Agent as a header line, as robloxsocial sends it; libcurl
 * formats CURLOPT_USERAGENT anew for every request. */
static int opt_uaheader(loop *l)
{
    return add_header(l, "User-Agent: robloxsocial/0.1.0");
}

/* Not what robloxsocial does, to price the other way of sending it. */
static int opt_useragent(loop *l)
{
    return curl_easy_setopt(l->easy, CURLOPT_USERAGENT, "robloxsocial/0.1.0") == CURLE_OK;
}

static int opt_encoding(loop *l)
{
    return curl_easy_setopt(l->easy, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK;
}

static int opt_share(loop *l)
{
    if ((l->share = curl_share_init()) == NULL
        || curl_share_setopt(l->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK
        || curl_share_setopt(l->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK
        || curl_share_setopt(l->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK)
        return 0;
    return curl_easy_setopt(l->easy, CURLOPT_SHARE, l->share) == CURLE_OK;
}

static int opt_headerfn(loop *l)
{
    return curl_easy_setopt(l->easy, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
}

static int opt_timeouts(loop *l)
{
    return curl_easy_setopt(l->easy, CURLOPT_TIMEOUT_MS, 30000L) == CURLE_OK
        && curl_easy_setopt(l->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L) == CURLE_OK;
}

static int opt_protocols(loop *l)
{
    return curl_easy_setopt(l->easy, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
}

static int opt_errorbuffer(loop *l)
{
    return curl_easy_setopt(l->easy, CURLOPT_ERRORBUFFER, l->error) == CURLE_OK;
}

static int opt_perrequest(loop *l)
{
    l->per_request = 1;
    return 1;
}

static const struct option {
    const char *name;
    int (*set)(loop *l);
    int robloxsocial;                   /* part of --like-robloxsocial */
} options[] = {
    {"accept", opt_accept, 1},          /* Accept: application/json */
    {"cookie", opt_cookie, 1},          /* Cookie: .ROBLOSECURITY=... */
    {"uaheader", opt_uaheader, 1},      /* User-Agent: robloxsocial/... */
    {"useragent", opt_useragent, 0},
    {"encoding", opt_encoding, 0},      /* Accept-Encoding: all libcurl has */
    {"share", opt_share, 1},            /* DNS, TLS session, connection cache */
    {"headerfn", opt_headerfn, 1},
    {"timeouts", opt_timeouts, 1},
    {"protocols", opt_protocols, 1},
    {"errorbuffer", opt_errorbuffer, 1},
    {"perrequest", opt_perrequest, 1},  /* URL, method, headers set each time */
    {NULL, NULL, 0}
};

/* Applies the comma-separated names in list ("all": robloxsocial's).
 * Returns 0 when an option fails or a name is not in the table. */
static int apply(loop *l, const char *list)
{
    const struct option *o;
    int all = strcmp(list, "all") == 0, found = 0, names = 1;
    const char *c;
    for (c = list; *c; c++)
        names += *c == ',';
    for (o = options; o->name; o++) {
        const char *p = strstr(list, o->name);
        size_t n = strlen(o->name);
        int named = p && (p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0');
        found += named;
        if (((all && o->robloxsocial) || named) && !o->set(l))
            return 0;
    }
    return all || found == names;
}

/* ---- the loop ------------------------------------------------------------ */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* What robloxsocial sets again before every request. */
static void set_request(loop *l)
{
    curl_easy_setopt(l->easy, CURLOPT_URL, l->url);
    if (l->post.data) {
        curl_easy_setopt(l->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)l->post.len);
        curl_easy_setopt(l->easy, CURLOPT_POSTFIELDS, l->post.data);
    } else {
        curl_easy_setopt(l->easy, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(l->easy, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(l->easy, CURLOPT_HTTPHEADER, l->headers);
}

/* Runs n requests; returns 0 or prints why it failed and returns 1. */
static int run(loop *l, long n)
{
    long i, status;
    for (i = 0; i < n; i++) {
        CURLcode rc;
        l->body.len = 0;
        if (l->per_request)
            set_request(l);
        if ((rc = curl_easy_perform(l->easy)) != CURLE_OK) {
            fprintf(stderr, "curl_loop: request %ld: %s\n", i, curl_easy_strerror(rc));
            return 1;
        }
        curl_easy_getinfo(l->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200 || l->body.len == 0) {
            fprintf(stderr, "curl_loop: request %ld: status %ld, %zu bytes\n",
                    i, status, l->body.len);
            return 1;
        }
        if (l->L) {
            char err[128];
            if (!rs_json_decode(l->L, l->body.data, l->body.len, err, sizeof err)) {
                fprintf(stderr, "curl_loop: request %ld: %s\n", i, err);
                return 1;
            }
            lua_settop(l->L, 0);
        }
    }
    return 0;
}

static int setup(loop *l, const char *list)
{
    if ((l->easy = curl_easy_init()) == NULL)
        return 0;
    if (curl_easy_setopt(l->easy, CURLOPT_URL, l->url) != CURLE_OK
        || curl_easy_setopt(l->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK
        || curl_easy_setopt(l->easy, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK
        || curl_easy_setopt(l->easy, CURLOPT_WRITEDATA, &l->body) != CURLE_OK)
        return 0;
    if (l->post.data) {
        if (!add_header(l, "Content-Type: application/json") || !add_header(l, "Expect:")
            || curl_easy_setopt(l->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)l->post.len) != CURLE_OK
            || curl_easy_setopt(l->easy, CURLOPT_POSTFIELDS, l->post.data) != CURLE_OK)
            return 0;
    }
    return list == NULL || apply(l, list);
}

/* Reads the file at path into b; 0 on failure. */
static int read_file(const char *path, buffer *b)
{
    FILE *f = fopen(path, "rb");
    char chunk[4096];
    size_t n;
    if (f == NULL)
        return 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (on_body(chunk, 1, n, b) != n)
            break;
    n = !ferror(f) && b->len > 0;
    fclose(f);
    return (int)n;
}

int main(int argc, char **argv)
{
    loop l;
    long n, warmup;
    double t0, t1;
    const char *list = NULL, *post = NULL;
    int failed = 1, decode = 0;
    memset(&l, 0, sizeof l);
    for (; argc > 1 && strncmp(argv[1], "--", 2) == 0; argv++, argc--) {
        if (strcmp(argv[1], "--like-robloxsocial") == 0)
            list = "all";
        else if (strncmp(argv[1], "--options=", 10) == 0)
            list = argv[1] + 10;
        else if (strncmp(argv[1], "--post=", 7) == 0)
            post = argv[1] + 7;
        else if (strcmp(argv[1], "--decode") == 0)
            decode = 1;
        else
            break;
    }
    if (argc < 3 || argc > 4 || (n = atol(argv[2])) <= 0) {
        fprintf(stderr, "usage: curl_loop [--like-robloxsocial | --options=NAME,...] [--post=FILE] [--decode] URL N [WARMUP]\n");
        return 2;
    }
    warmup = argc == 4 ? atol(argv[3]) : 100;
    if (post && !read_file(post, &l.post)) {
        fprintf(stderr, "curl_loop: cannot read %s\n", post);
        return 2;
    }
    if (decode && (l.L = luaL_newstate()) == NULL)
        return 2;
    l.url = argv[1];
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !setup(&l, list)) {
        fprintf(stderr, "curl_loop: libcurl refused an option, or --options named an unknown one\n");
    } else if (!(failed = run(&l, warmup))) {
        t0 = now();
        failed = run(&l, n);
        t1 = now();
        if (!failed)
            printf("requests %ld seconds %.6f rps %.1f\n", n, t1 - t0, (double)n / (t1 - t0));
    }
    curl_easy_cleanup(l.easy);
    curl_share_cleanup(l.share);
    curl_slist_free_all(l.headers);
    free(l.body.data);
    free(l.post.data);
    if (l.L)
        lua_close(l.L);
    curl_global_cleanup();
    return failed;
}
