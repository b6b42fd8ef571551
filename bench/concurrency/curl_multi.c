/*
 * curl_multi.c: the C reference for the concurrency bench (issue 9).  A
 * plain libcurl multi loop that keeps INFLIGHT transfers going on a pool
 * of reused easy handles, each set up the way robloxsocial sets up its
 * own (the options of configure_easy and rs_transfer_begin in
 * csrc/transfer.c, the headers of build_read_headers in csrc/client.c and
 * rs_session_write_headers, for an api_key client), so that the requests
 * on the wire are the same and the difference is the library's cost.
 *
 *   curl_multi presence BASE_URL ROUNDS INFLIGHT [REQUESTS]
 *       ROUNDS rounds of REQUESTS (100) POSTs to /v1/presence/users, each
 *       with its own 50 ids (the ids robloxsocial's side sends: 4294967297
 *       + 0..REQUESTS*50-1) as {"userIds":[...]}
 *   curl_multi count BASE_URL ROUNDS INFLIGHT REQUESTS
 *       ROUNDS rounds of REQUESTS GETs of /v1/users/ID/friends/count
 *   curl_multi easy BASE_URL N
 *       N sequential GETs of friends/count on one easy handle with
 *       curl_easy_perform, the same options (for callgrind)
 *
 * One untimed round first opens the connections (BENCH_WARMUP=0: none).
 * Prints "ms M1 M2 ..." (wall time of each timed round); exits 1 on any
 * failed transfer or a status other than 200.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#define IDS_PER_REQUEST 50
#define FIRST_ID 4294967297LL
#define USER_AGENT "User-Agent: robloxsocial/0.1.0"

typedef struct slot {
    CURL *easy;
    char *resp;
    size_t len, cap;
    int request;                    /* which request it carries */
    char error[CURL_ERROR_SIZE];
} slot;

typedef struct bench {
    CURLM *multi;
    CURLSH *share;
    struct curl_slist *read_headers, *write_headers;
    const char *base;
    int is_post;
    char **urls, **bodies;          /* per request */
    size_t *body_lens;
    int requests;
} bench;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Called from libcurl: appends the bytes, as robloxsocial's on_body. */
static size_t on_body(char *data, size_t size, size_t count, void *userdata)
{
    slot *s = userdata;
    size_t len = size * count;
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        char *grown;
        while (cap < s->len + len)
            cap *= 2;
        if ((grown = realloc(s->resp, cap)) == NULL)
            return 0;
        s->resp = grown;
        s->cap = cap;
    }
    memcpy(s->resp + s->len, data, len);
    s->len += len;
    return len;
}

/* Called from libcurl: robloxsocial looks at the first byte of each line
 * (x-csrf-token, retry-after); this only sees them pass. */
static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
    (void)data;
    (void)userdata;
    return size * count;
}

static int on_prereq(void *userdata, char *ip, char *local_ip, int port, int local_port)
{
    (void)userdata; (void)ip; (void)local_ip; (void)port; (void)local_port;
    return CURL_PREREQFUNC_OK;
}

/* fmt with a string and (if it has a %lld) an integer. */
static char *format(const char *fmt, const char *a, long long b)
{
    size_t n = (size_t)snprintf(NULL, 0, fmt, a, b) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, fmt, a, b);
    return s;
}

/* The options robloxsocial's configure_easy sets once per handle. */
static int configure(bench *b, CURL *e, slot *s)
{
    return curl_easy_setopt(e, CURLOPT_SHARE, b->share) == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L) == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L) == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq) == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_PROXY, "") == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS) == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_PIPEWAIT, 0L) == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)s) == CURLE_OK;
}

/* The options robloxsocial's rs_transfer_begin sets for every attempt. */
static int prepare(bench *b, slot *s, int request)
{
    CURL *e = s->easy;
    int ok;
    s->len = 0;
    s->request = request;
    s->error[0] = '\0';
    ok = curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)s) == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)s) == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)s) == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_PREREQDATA, (void *)s) == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->error) == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L) == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_URL, b->urls[request]) == CURLE_OK;
    if (!ok)
        return 0;
    if (b->is_post)
        ok = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->body_lens[request]) == CURLE_OK
            && curl_easy_setopt(e, CURLOPT_POSTFIELDS, b->bodies[request]) == CURLE_OK;
    else
        ok = curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) == CURLE_OK;
    return ok
        && curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL) == CURLE_OK
        && curl_easy_setopt(e, CURLOPT_HTTPHEADER,
                            b->is_post ? b->write_headers : b->read_headers) == CURLE_OK;
}

static int check(slot *s, CURLcode rc)
{
    long status = 0;
    if (rc != CURLE_OK) {
        fprintf(stderr, "curl_multi: request %d: %s\n", s->request,
                s->error[0] ? s->error : curl_easy_strerror(rc));
        return 0;
    }
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200 || s->len == 0) {
        fprintf(stderr, "curl_multi: request %d: status %ld, %zu bytes\n", s->request, status, s->len);
        return 0;
    }
    return 1;
}

/* One round: every request, at most inflight at once.  Returns 0 on a
 * failure (printed). */
static int round_(bench *b, slot *slots, int inflight)
{
    int next = 0, active = 0, i, failed = 0;
    for (i = 0; i < inflight && next < b->requests; i++, next++, active++)
        if (!prepare(b, &slots[i], next) || curl_multi_add_handle(b->multi, slots[i].easy) != CURLM_OK)
            return 0;
    while (active > 0) {
        int running, left;
        CURLMsg *msg;
        curl_multi_perform(b->multi, &running);
        while ((msg = curl_multi_info_read(b->multi, &left)) != NULL) {
            slot *s;
            CURL *e = msg->easy_handle;
            CURLcode rc = msg->data.result;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s);
            curl_multi_remove_handle(b->multi, e);
            active--;
            if (!check(s, rc))
                failed = 1;
            else if (next < b->requests) {
                if (!prepare(b, s, next++) || curl_multi_add_handle(b->multi, e) != CURLM_OK)
                    return 0;
                active++;
            }
        }
        if (active > 0)
            curl_multi_poll(b->multi, NULL, 0, 1000, NULL);
    }
    return !failed;
}

static int add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *grown = curl_slist_append(*list, line);
    if (grown == NULL)
        return 0;
    *list = grown;
    return 1;
}

/* The headers of an api_key client: reads, and writes (which add
 * Content-Type and an empty Expect, in robloxsocial's order). */
static int headers(bench *b, const char *key_line)
{
    return add_header(&b->read_headers, "Accept: application/json")
        && add_header(&b->read_headers, USER_AGENT)
        && add_header(&b->read_headers, key_line)
        && add_header(&b->write_headers, "Accept: application/json")
        && add_header(&b->write_headers, USER_AGENT)
        && add_header(&b->write_headers, key_line)
        && add_header(&b->write_headers, "Content-Type: application/json")
        && add_header(&b->write_headers, "Expect:");
}

/* The URLs and bodies of every request, built before any timing. */
static int requests(bench *b)
{
    int r;
    b->urls = calloc((size_t)b->requests, sizeof *b->urls);
    b->bodies = calloc((size_t)b->requests, sizeof *b->bodies);
    b->body_lens = calloc((size_t)b->requests, sizeof *b->body_lens);
    if (!b->urls || !b->bodies || !b->body_lens)
        return 0;
    for (r = 0; r < b->requests; r++) {
        if (b->is_post) {
            char *body = malloc(32 + IDS_PER_REQUEST * 21);
            size_t n = 0;
            int i;
            if (body == NULL)
                return 0;
            n += (size_t)sprintf(body + n, "{\"userIds\":[");
            for (i = 0; i < IDS_PER_REQUEST; i++)
                n += (size_t)sprintf(body + n, "%s%lld", i ? "," : "",
                                     FIRST_ID + (long long)r * IDS_PER_REQUEST + i);
            n += (size_t)sprintf(body + n, "]}");
            b->bodies[r] = body;
            b->body_lens[r] = n;
            b->urls[r] = format("%s/v1/presence/users", b->base, 0);
        } else
            b->urls[r] = format("%s/v1/users/%lld/friends/count", b->base, FIRST_ID + r);
        if (b->urls[r] == NULL)
            return 0;
    }
    return 1;
}

static int easy_loop(bench *b, long n)
{
    slot s;
    long i;
    memset(&s, 0, sizeof s);
    if ((s.easy = curl_easy_init()) == NULL || !configure(b, s.easy, &s))
        return 0;
    for (i = 0; i < n; i++) {
        if (!prepare(b, &s, (int)(i % b->requests)) || !check(&s, curl_easy_perform(s.easy)))
            return 0;
    }
    curl_easy_cleanup(s.easy);
    free(s.resp);
    return 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: curl_multi presence|count BASE_URL ROUNDS INFLIGHT [REQUESTS]\n"
                    "       curl_multi easy BASE_URL N\n");
    return 2;
}

int main(int argc, char **argv)
{
    bench b;
    slot *slots;
    int rounds, inflight, r, i, warmup;
    const char *key = getenv("BENCH_API_KEY");
    char key_line[512];
    memset(&b, 0, sizeof b);
    if (argc < 4)
        return usage();
    b.base = argv[2];
    snprintf(key_line, sizeof key_line, "x-api-key: %s", key ? key : "bench");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (b.share = curl_share_init()) == NULL
        || curl_share_setopt(b.share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK
        || curl_share_setopt(b.share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK
        || curl_share_setopt(b.share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK
        || !headers(&b, key_line)) {
        fprintf(stderr, "curl_multi: libcurl refused to start\n");
        return 1;
    }
    if (strcmp(argv[1], "easy") == 0) {
        long n = atol(argv[3]);
        b.requests = 1000;          /* distinct ids, cycled */
        if (argc != 4 || n <= 0)
            return usage();
        if (!requests(&b) || !easy_loop(&b, n))
            return 1;
        printf("requests %ld\n", n);
        return 0;
    }
    if (argc < 5 || argc > 6)
        return usage();
    b.is_post = strcmp(argv[1], "presence") == 0;
    if (!b.is_post && strcmp(argv[1], "count") != 0)
        return usage();
    rounds = atoi(argv[3]);
    inflight = atoi(argv[4]);
    b.requests = argc == 6 ? atoi(argv[5]) : 100;
    warmup = getenv("BENCH_WARMUP") ? atoi(getenv("BENCH_WARMUP")) : 1;
    if (rounds <= 0 || inflight <= 0 || b.requests <= 0)
        return usage();
    if ((b.multi = curl_multi_init()) == NULL
        || curl_multi_setopt(b.multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX) != CURLM_OK
        || !requests(&b) || (slots = calloc((size_t)inflight, sizeof *slots)) == NULL)
        return 1;
    for (i = 0; i < inflight; i++)
        if ((slots[i].easy = curl_easy_init()) == NULL || !configure(&b, slots[i].easy, &slots[i]))
            return 1;
    for (r = 0; r < warmup; r++)
        if (!round_(&b, slots, inflight))
            return 1;
    printf("ms");
    for (r = 0; r < rounds; r++) {
        double t0 = now();
        if (!round_(&b, slots, inflight))
            return 1;
        printf(" %.3f", (now() - t0) * 1000);
    }
    printf("\n");
    for (i = 0; i < inflight; i++) {
        curl_easy_cleanup(slots[i].easy);
        free(slots[i].resp);
    }
    curl_multi_cleanup(b.multi);
    curl_share_cleanup(b.share);
    return 0;
}
