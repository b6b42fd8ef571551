/*
 * delay_server.c: a stand-in for presence.roblox.com that is never the
 * bottleneck.  One thread, epoll, HTTP/1.1 keep-alive on 127.0.0.1; every
 * answer is sent DELAY_MS after its request arrived, and the requests of
 * all connections wait at the same time (a FIFO of due answers: with one
 * delay for all, arrival order is due order).
 *
 *   delay_server PORT DELAY_MS        (PORT 0: the kernel picks one)
 *
 * Prints "port P" on stdout once it listens, then serves until killed.
 *
 *   POST /v1/presence/users {"userIds":[...]}   the presence of those ids,
 *        in the shape the service sends (UserPresence, as the sandbox
 *        writes it): one in four offline, online, in game (with place,
 *        root place, game and universe), in studio, by position
 *   GET  /v1/users/N/friends/count              {"count":130}
 *   GET  /_connections                          {"accepted":N}, the connections
 *        accepted so far, at once (for counting reconnections)
 *   anything else                               404 with the error envelope
 *
 * It reads the ids out of the body, so an answer carries the ids asked
 * for; more than 50 ids is the service's 400 (code 2).
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_IDS 50
#define IN_CAP 65536

typedef struct conn {
    int fd;
    unsigned gen;                   /* bumped when the fd is closed */
    char in[IN_CAP];
    size_t in_len;
    char *out;                      /* bytes not yet written */
    size_t out_len, out_off, out_cap;
} conn;

typedef struct pending {
    double due;
    int fd;
    unsigned gen;
    char *resp;
    size_t len;
    struct pending *next;
} pending;

static conn **conns;
static int conns_cap;
static pending *queue_head, *queue_tail;
static double delay;
static int ep;
static long accepted;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL) {
        fprintf(stderr, "delay_server: out of memory\n");
        exit(1);
    }
    return p;
}

static conn *conn_of(int fd)
{
    if (fd >= conns_cap) {
        int cap = conns_cap ? conns_cap : 256, i;
        while (cap <= fd)
            cap *= 2;
        conns = realloc(conns, (size_t)cap * sizeof *conns);
        if (conns == NULL)
            exit(1);
        for (i = conns_cap; i < cap; i++)
            conns[i] = NULL;
        conns_cap = cap;
    }
    if (conns[fd] == NULL) {
        conns[fd] = xmalloc(sizeof **conns);
        memset(conns[fd], 0, sizeof **conns);
    }
    return conns[fd];
}

static void close_conn(conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->gen++;
    c->in_len = c->out_len = c->out_off = 0;
}

/* ---- answers ---------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16384;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (b->p == NULL)
            exit(1);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void puts_(sbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* One UserPresence, as the sandbox writes it (models.user_presence). */
static void put_presence(sbuf *b, long long id, int i)
{
    char tmp[512];
    int n;
    switch (i % 4) {
    case 0:
        n = snprintf(tmp, sizeof tmp, "{\"userPresenceType\":0,\"lastLocation\":\"\",\"placeId\":null,"
                     "\"rootPlaceId\":null,\"gameId\":null,\"universeId\":null,\"userId\":%lld}", id);
        break;
    case 1:
        n = snprintf(tmp, sizeof tmp, "{\"userPresenceType\":1,\"lastLocation\":\"Website\",\"placeId\":null,"
                     "\"rootPlaceId\":null,\"gameId\":null,\"universeId\":null,\"userId\":%lld}", id);
        break;
    case 2:
        n = snprintf(tmp, sizeof tmp, "{\"userPresenceType\":2,\"lastLocation\":\"Natural Disaster Survival\","
                     "\"placeId\":189707,\"rootPlaceId\":189707,"
                     "\"gameId\":\"6a1f3c2e-8d4b-4f7a-9e21-%012lld\",\"universeId\":65241,\"userId\":%lld}",
                     id % 1000000000000LL, id);
        break;
    default:
        n = snprintf(tmp, sizeof tmp, "{\"userPresenceType\":3,\"lastLocation\":\"Studio\",\"placeId\":null,"
                     "\"rootPlaceId\":null,\"gameId\":null,\"universeId\":null,\"userId\":%lld}", id);
        break;
    }
    put(b, tmp, (size_t)n);
}

static char *respond(int status, const char *body, size_t body_len, size_t *len)
{
    sbuf b = {0};
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nCache-Control: no-cache\r\n\r\n",
                     status, status == 200 ? "OK" : status == 400 ? "Bad Request" : "Not Found",
                     body_len);
    put(&b, head, (size_t)n);
    put(&b, body, body_len);
    *len = b.len;
    return b.p;
}

static char *presence(const char *body, size_t body_len, size_t *len)
{
    static const char too_many[] =
        "{\"errors\":[{\"code\":2,\"message\":\"Too many ids.\",\"userFacingMessage\":\"Something went wrong\"}]}";
    sbuf b = {0};
    const char *p = memmem(body, body_len, "\"userIds\"", 9), *end = body + body_len;
    char *r;
    int count = 0;
    puts_(&b, "{\"userPresences\":[");
    if (p && (p = memchr(p, '[', (size_t)(end - p))) != NULL) {
        for (p++; p < end && *p != ']';) {
            char *stop;
            long long id = strtoll(p, &stop, 10);
            if (stop == p) {
                p++;
                continue;
            }
            if (++count > MAX_IDS) {
                free(b.p);
                return respond(400, too_many, sizeof too_many - 1, len);
            }
            if (count > 1)
                puts_(&b, ",");
            put_presence(&b, id, count - 1);
            p = stop;
        }
    }
    puts_(&b, "]}");
    r = respond(200, b.p, b.len, len);
    free(b.p);
    return r;
}

/* The answer to one request, or NULL when the request is incomplete;
 * *used is how many bytes of in it took; *at_once says that it is sent
 * without the delay. */
static char *answer(conn *c, size_t *used, size_t *len, int *at_once)
{
    static const char count[] = "{\"count\":130}";
    static const char missing[] = "{\"errors\":[{\"code\":0,\"message\":\"NotFound\"}]}";
    char *eoh = memmem(c->in, c->in_len, "\r\n\r\n", 4), *cl;
    size_t head_len, body_len = 0;
    if (eoh == NULL)
        return NULL;
    head_len = (size_t)(eoh - c->in) + 4;
    *eoh = '\0';
    cl = strcasestr(c->in, "\r\nContent-Length:");
    if (cl)
        body_len = (size_t)strtoul(cl + 17, NULL, 10);
    *eoh = '\r';
    if (c->in_len < head_len + body_len)
        return NULL;
    *used = head_len + body_len;
    *at_once = 0;
    if (strncmp(c->in, "POST /v1/presence/users ", 24) == 0)
        return presence(c->in + head_len, body_len, len);
    if (strncmp(c->in, "GET /v1/users/", 14) == 0 && memmem(c->in, head_len, "/friends/count ", 15))
        return respond(200, count, sizeof count - 1, len);
    if (strncmp(c->in, "GET /_connections ", 18) == 0) {
        char body[64];
        int n = snprintf(body, sizeof body, "{\"accepted\":%ld}", accepted);
        *at_once = 1;
        return respond(200, body, (size_t)n, len);
    }
    return respond(404, missing, sizeof missing - 1, len);
}

/* ---- sending ------------------------------------------------------------ */

static void flush_conn(conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0 && errno == EAGAIN) {
            struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.fd = c->fd };
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            return;
        }
        if (n <= 0) {
            close_conn(c);
            return;
        }
        c->out_off += (size_t)n;
    }
    c->out_len = c->out_off = 0;
}

/* Appends resp to c's output and writes what the socket takes. */
static void deliver(conn *c, const char *resp, size_t len)
{
    int idle = c->out_len == 0;
    if (c->out_len + len > c->out_cap) {
        c->out_cap = (c->out_len + len) * 2;
        c->out = realloc(c->out, c->out_cap);
        if (c->out == NULL)
            exit(1);
    }
    memcpy(c->out + c->out_len, resp, len);
    c->out_len += len;
    if (idle)
        flush_conn(c);
}

static void send_due(double t)
{
    while (queue_head && queue_head->due <= t) {
        pending *p = queue_head;
        conn *c = conns[p->fd];
        queue_head = p->next;
        if (queue_head == NULL)
            queue_tail = NULL;
        if (c && c->gen == p->gen)
            deliver(c, p->resp, p->len);
        free(p->resp);
        free(p);
    }
}

static void enqueue(conn *c, char *resp, size_t len)
{
    pending *p = xmalloc(sizeof *p);
    p->due = now() + delay;
    p->fd = c->fd;
    p->gen = c->gen;
    p->resp = resp;
    p->len = len;
    p->next = NULL;
    if (queue_tail)
        queue_tail->next = p;
    else
        queue_head = p;
    queue_tail = p;
}

static void read_conn(conn *c)
{
    unsigned gen = c->gen;
    for (;;) {
        size_t used, len;
        int at_once;
        char *resp;
        ssize_t n = read(c->fd, c->in + c->in_len, IN_CAP - c->in_len);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            close_conn(c);
            return;
        }
        c->in_len += (size_t)n;
        while ((resp = answer(c, &used, &len, &at_once)) != NULL) {
            memmove(c->in, c->in + used, c->in_len - used);
            c->in_len -= used;
            if (delay > 0 && !at_once)
                enqueue(c, resp, len);
            else {
                deliver(c, resp, len);
                free(resp);
            }
            if (c->gen != gen)
                return;         /* closed while writing */
        }
        if (c->in_len == IN_CAP) {
            close_conn(c);
            return;
        }
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int lfd, one = 1;
    struct epoll_event ev;
    if (argc != 3) {
        fprintf(stderr, "usage: delay_server PORT DELAY_MS\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    delay = atof(argv[2]) / 1000.0;
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 1024) != 0) {
        perror("delay_server: bind/listen");
        return 1;
    }
    getsockname(lfd, (struct sockaddr *)&a, &alen);
    printf("port %d\n", ntohs(a.sin_port));
    fflush(stdout);
    ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
        struct epoll_event evs[256];
        int timeout = -1, n, i;
        if (queue_head) {
            double left = queue_head->due - now();
            timeout = left <= 0 ? 0 : (int)(left * 1000) + 1;
        }
        n = epoll_wait(ep, evs, 256, timeout);
        for (i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                int cfd;
                while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    conn *c = conn_of(cfd);
                    accepted++;
                    c->fd = cfd;
                    c->in_len = c->out_len = c->out_off = 0;
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    ev.events = EPOLLIN;
                    ev.data.fd = cfd;
                    epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
                }
                continue;
            }
            if (evs[i].events & EPOLLOUT) {
                flush_conn(conns[fd]);
                if (conns[fd]->out_len == 0) {
                    ev.events = EPOLLIN;
                    ev.data.fd = fd;
                    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
                }
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                read_conn(conns[fd]);
        }
        send_due(now());
    }
}
