/*
 * store.c: a fleet's shared budget in Redis (store.h), on libhiredis's
 * asynchronous interface driven by the loop: hiredis's event hooks
 * (addRead, delRead, addWrite, delWrite, cleanup) set what rs_poll
 * watches on its descriptor, and rs_poll_act hands readiness back.
 *
 * hiredis calls a command's callback with a NULL reply when the
 * connection goes (an error, or our redisAsyncFree), so every take is
 * answered exactly once.  The context is freed only from outside its
 * callbacks: one that finds garbage marks the store broken, and the
 * descriptor's handler drops it after hiredis has returned.  What the
 * store says to Redis, the script and its calls' text, is
 * store_script.c's.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/sds.h>
#include <openssl/evp.h>

#include "resolve.h"
#include "rs.h"
#include "session.h"            /* rs_now */
#include "store.h"
#include "store_script.h"

/* Seconds between a fault and the next try to connect. */
#define RECONNECT_AFTER 1.0

/* While the host's name is looked up for a first connection, how often
 * the requests waiting for it look again. */
#define LOOKUP_GLANCE 0.01

/* The most lost takes remembered (lost_share): beyond them the oldest
 * are forgotten, and their shares time out in Redis as before. */
#define LOST_MAX 64


typedef struct store_op {
    struct store_op *next, *prev;
    rs_store *store;
    rs_store_fn fn;             /* NULL: a record, nothing waits */
    int want;                   /* a take: the most shares it may be granted; a release: its last */
    int first;                  /* a take or a release: its shares are first..want (0: neither) */
    void *arg;
    double deadline;
    char member[RS_STORE_MEMBER_MAX];
    char key[];                 /* a take's or a release's: what is lost is given back (lost_share) */
} store_op;

struct rs_store {
    rs_poll *poll;
    redisAsyncContext *ac;      /* NULL: not connected */
    rs_resolve *lookup;         /* the host's name being looked up, off the loop */
    int fd, want;               /* the descriptor as rs_poll watches it */
    char host[256];
    int port, db;
    double timeout;
    int up;                     /* connected and the script loaded */
    int first;                  /* its first connection under way */
    double first_until;         /* when requests stop waiting for it */
    void (*changed)(void *arg); /* up went on or off, or the first try failed */
    void *changed_arg;
    int broken;                 /* garbage seen: drop the connection */
    double connect_deadline;    /* while connecting */
    double retry_at;            /* when down: the next try to connect */
    char sha[41];               /* the script's SHA-1, for EVALSHA */
    char id[17];                /* this store's name in members */
    unsigned long long takes;
    store_op *head, *tail;      /* waiting for an answer, oldest first */
    struct lost_share *lost, *lost_tail;        /* given back once up again, oldest first */
    int lost_count;
};

/* The shares of a take (or a release) whose answer was lost: the
 * connection went (a fault, a timeout) after it was written.  Redis may
 * have run it all the same (slow, it answers late; a Redis with
 * persistence killed after running it restarts with them), and then the
 * fleet counts those shares for flight + W seconds with no request
 * behind them.  Released once the store is up again: a ZREM of names
 * Redis does not hold is harmless, so it is safe whether it ran or not. */
typedef struct lost_share {
    struct lost_share *next;
    int first, last;
    char member[RS_STORE_MEMBER_MAX];
    char key[];
} lost_share;

/* ---- the URL ---------------------------------------------------------- */

int rs_store_parse_url(const char *url, char *host, size_t cap, int *port, int *db)
{
    const char *h, *e;
    char *end;
    long n;
    if (strncmp(url, "redis://", 8) != 0)
        return 0;
    h = url + 8;
    for (e = h; *e && *e != ':' && *e != '/'; e++)
        continue;
    if (e == h || (size_t)(e - h) >= cap || memchr(h, '@', (size_t)(e - h)))
        return 0;
    memcpy(host, h, (size_t)(e - h));
    host[e - h] = '\0';
    *port = 6379;
    *db = 0;
    if (*e == ':') {
        n = strtol(e + 1, &end, 10);
        if (end == e + 1 || n <= 0 || n > 65535)
            return 0;
        *port = (int)n;
        e = end;
    }
    if (*e == '/' && e[1] != '\0') {
        n = strtol(e + 1, &end, 10);
        if (end == e + 1 || n < 0 || n > 65535 || *end != '\0')
            return 0;
        *db = (int)n;
        e = end;
    } else if (*e == '/')
        e++;
    return *e == '\0';
}

/* ---- the descriptor, as hiredis asks ---------------------------------- */

static void on_ready(void *arg, int got);

static void watch(rs_store *s, int want)
{
    if (s->fd < 0 || want == s->want)
        return;
    s->want = want;
    (void)rs_poll_watch(s->poll, s->fd, want, on_ready, s);
}

static void ev_add_read(void *d)  { rs_store *s = d; watch(s, s->want | RS_POLL_IN); }
static void ev_del_read(void *d)  { rs_store *s = d; watch(s, s->want & ~RS_POLL_IN); }
static void ev_add_write(void *d) { rs_store *s = d; watch(s, s->want | RS_POLL_OUT); }
static void ev_del_write(void *d) { rs_store *s = d; watch(s, s->want & ~RS_POLL_OUT); }

static void ev_cleanup(void *d)
{
    rs_store *s = d;
    watch(s, 0);
    s->fd = -1;
}

/* ---- the waiting ops -------------------------------------------------- */

static store_op *new_op(rs_store *s, rs_store_fn fn, void *arg, const char *key)
{
    size_t len = key ? strlen(key) : 0;
    store_op *op = calloc(1, sizeof *op + len + 1);
    if (op == NULL)
        return NULL;
    op->store = s;
    op->fn = fn;
    op->arg = arg;
    op->deadline = rs_now() + s->timeout;
    if (key)
        memcpy(op->key, key, len + 1);
    op->prev = s->tail;
    if (s->tail)
        s->tail->next = op;
    else
        s->head = op;
    s->tail = op;
    return op;
}

/* Remembers the shares member.first to member.last of key, lost, for
 * give_back_lost; the oldest dropped past LOST_MAX (and all of them when
 * memory runs out: they time out in Redis, as without this). */
static void remember(rs_store *s, const char *key, const char *member, int first, int last)
{
    size_t len = strlen(key);
    lost_share *l = malloc(sizeof *l + len + 1);
    if (l == NULL)
        return;
    l->next = NULL;
    l->first = first;
    l->last = last;
    snprintf(l->member, sizeof l->member, "%s", member);
    memcpy(l->key, key, len + 1);
    if (s->lost_tail)
        s->lost_tail->next = l;
    else
        s->lost = l;
    s->lost_tail = l;
    if (++s->lost_count > LOST_MAX) {
        lost_share *oldest = s->lost;
        s->lost = oldest->next;
        s->lost_count--;
        free(oldest);
    }
}

/* Takes op off its store's list and tells its caller (shares granted:
 * GO's count).  A take or release told DOWN had no answer: what it did
 * in Redis is unknown, its shares are remembered. */
static void end_op(store_op *op, int verdict, double wait, int shares)
{
    rs_store *s = op->store;
    if (verdict == RS_STORE_DOWN && op->first > 0)
        remember(s, op->key, op->member, op->first, op->want);
    if (op->prev)
        op->prev->next = op->next;
    else
        s->head = op->next;
    if (op->next)
        op->next->prev = op->prev;
    else
        s->tail = op->prev;
    if (op->fn)
        op->fn(op->arg, verdict, wait, op->member, shares);
    free(op);
}

/* ---- the connection --------------------------------------------------- */

/* Drops the connection; what waited is told RS_STORE_DOWN (hiredis calls
 * each callback with no reply). */
static void tell(rs_store *s)
{
    if (s->changed)
        s->changed(s->changed_arg);
}

static void fault(rs_store *s)
{
    redisAsyncContext *ac = s->ac;
    int was = s->up || s->first;
    s->ac = NULL;
    s->up = s->broken = s->first = 0;
    s->retry_at = rs_now() + RECONNECT_AFTER;
    if (ac)
        redisAsyncFree(ac);
    while (s->head)             /* sent nowhere (no context): none will answer */
        end_op(s->head, RS_STORE_DOWN, 0, 0);
    if (was)
        tell(s);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    rs_store *s = ac->data;
    if (status != REDIS_OK && s) {
        int was = s->first;
        s->ac = NULL;           /* hiredis frees a context that failed to connect */
        s->up = s->first = 0;
        s->retry_at = rs_now() + RECONNECT_AFTER;
        if (was)
            tell(s);
    }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    rs_store *s = ac->data;
    (void)status;
    if (s && s->ac == ac) {
        int was = s->up || s->first;
        s->ac = NULL;
        s->up = s->first = 0;
        s->retry_at = rs_now() + RECONNECT_AFTER;
        if (was)
            tell(s);
    }
}

/* s's lost shares, oldest first, taken off it: a release that finds the
 * store down again remembers its shares anew, on a list of its own. */
static lost_share *take_lost(rs_store *s)
{
    lost_share *l = s->lost;
    s->lost = s->lost_tail = NULL;
    s->lost_count = 0;
    return l;
}

/* The lost shares, released (queued before any take the store comes up
 * for, and Redis runs a connection's commands in order: that take sees
 * them gone).  A release lost again is remembered again (end_op).  A
 * take still on its way to Redis on a connection dropped mid-network
 * could land after its release: then its shares time out, as before. */
static void give_back_lost(rs_store *s)
{
    lost_share *l = take_lost(s), *next;
    for (; l != NULL; l = next) {
        next = l->next;
        rs_store_release(s, l->key, l->member, l->first, l->last);
        free(l);
    }
}

/* The script loaded (or SELECT answered): the store is up once both are. */
static void on_loaded(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    rs_store *s = ac->data;
    (void)priv;
    if (s == NULL || reply == NULL)
        return;
    if (reply->type == REDIS_REPLY_STRING && reply->len == 40
        && memcmp(reply->str, s->sha, 40) == 0) {
        s->up = 1;
        s->first = 0;
        give_back_lost(s);
        tell(s);
    } else
        s->broken = 1;          /* not our script's hash: not a store to trust */
}

static void on_selected(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    rs_store *s = ac->data;
    (void)priv;
    if (s && reply && reply->type != REDIS_REPLY_STATUS)
        s->broken = 1;
}

/* Connects to addr, an address: hiredis looks nothing up. */
static void connect_to(rs_store *s, const char *addr)
{
    redisAsyncContext *ac = redisAsyncConnect(addr, s->port);
    s->retry_at = rs_now() + RECONNECT_AFTER;
    if (ac == NULL)
        return;
    if (ac->err) {
        redisAsyncFree(ac);
        return;
    }
    s->ac = ac;
    ac->data = s;
    s->fd = ac->c.fd;
    s->want = 0;
    ac->ev.data = s;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    (void)redisAsyncSetConnectCallback(ac, on_connect);
    (void)redisAsyncSetDisconnectCallback(ac, on_disconnect);
    s->connect_deadline = rs_now() + s->timeout;
    /* Sent once connected, in this order, before any take. */
    if (s->db != 0)
        (void)redisAsyncCommand(ac, on_selected, NULL, "SELECT %d", s->db);
    (void)redisAsyncCommand(ac, on_loaded, NULL, "SCRIPT LOAD %s", rs_store_script);
    ev_add_write(s);            /* hiredis 0.14 waits for the connect's write */
}

/* A try to connect: at once to a host given as an address; a name is
 * first looked up off the loop (hiredis would look it up with a blocking
 * getaddrinfo inside this step), and the tick that finds its address
 * connects to it.  One lookup at a time: a slow one is never doubled. */
static void connect_store(rs_store *s)
{
    s->retry_at = rs_now() + RECONNECT_AFTER;
    if (rs_resolve_numeric(s->host))
        connect_to(s, s->host);
    else if (s->lookup == NULL)
        s->lookup = rs_resolve_start(s->host);  /* NULL: tried again at retry_at */
}

/* The lookup, when it has ended: its address is connected to; its
 * failure is a failed connection, tried again a second later. */
static void looked_up(rs_store *s, double now)
{
    char addr[RS_RESOLVE_ADDR_MAX];
    int state;
    if (s->lookup == NULL
        || (state = rs_resolve_result(s->lookup, addr, sizeof addr)) == RS_RESOLVE_PENDING)
        return;
    rs_resolve_drop(s->lookup);
    s->lookup = NULL;
    if (state == RS_RESOLVE_DONE) {
        connect_to(s, addr);
        return;
    }
    s->retry_at = now + RECONNECT_AFTER;
    if (s->first) {
        s->first = 0;
        tell(s);
    }
}

/* hiredis writes with write(): to a Redis that has gone, that raises
 * SIGPIPE, which would end the program.  Blocked meanwhile, and one it
 * raised taken before it is unblocked (libcurl sends with MSG_NOSIGNAL;
 * this is the same for a library that cannot). */
static void write_quietly(redisAsyncContext *ac)
{
    sigset_t pipe_set, old, pending;
    struct timespec zero = {0, 0};
    int was_pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    if (pthread_sigmask(SIG_BLOCK, &pipe_set, &old) != 0) {
        redisAsyncHandleWrite(ac);
        return;
    }
    was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
    redisAsyncHandleWrite(ac);
    if (!was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE))
        (void)sigtimedwait(&pipe_set, NULL, &zero);
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Sends what hiredis holds for the server once connected, with send()
 * and MSG_NOSIGNAL: no SIGPIPE to guard against, one system call where
 * write_quietly makes five (a take, and a step's records, go in a
 * step's path).  hiredis's own write then finds nothing left and does
 * its bookkeeping (stops watching for writing, watches for the answers);
 * a part left over waits for the descriptor, and a failure other than a
 * full socket is hiredis's to see again (write_quietly) and act on. */
static void write_out(rs_store *s)
{
    redisContext *c = &s->ac->c;
    size_t len = c->obuf != NULL ? sdslen(c->obuf) : 0;
    ssize_t n;
    if (!(c->flags & REDIS_CONNECTED) || c->err || len == 0 || len > INT_MAX) {
        write_quietly(s->ac);           /* the connect's end, or hiredis's own case */
        return;
    }
    n = send(c->fd, c->obuf, len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;                         /* still watched for writing: hiredis asked */
    if (n < 0) {
        write_quietly(s->ac);
        return;
    }
    if ((size_t)n < len) {
        sdsrange(c->obuf, (int)n, -1);  /* the rest when the socket has room */
        return;
    }
    sdsclear(c->obuf);
    redisAsyncHandleWrite(s->ac);
}

static void on_ready(void *arg, int got)
{
    rs_store *s = arg;
    if (got == RS_POLL_FLUSH) {         /* the step's records, once connected */
        if (s->ac && (s->ac->c.flags & REDIS_CONNECTED) && !s->broken)
            write_out(s);
        got = 0;                        /* then as after any look */
    }
    if (s->ac && (got & RS_POLL_IN))
        redisAsyncHandleRead(s->ac);
    if (s->ac && (got & RS_POLL_OUT))
        write_out(s);
    if (s->broken)
        fault(s);
    else if (s->ac == NULL)
        while (s->head)
            end_op(s->head, RS_STORE_DOWN, 0, 0);
}

double rs_store_tick(rs_store *s, double now)
{
    double next = HUGE_VAL;
    if (s == NULL)
        return HUGE_VAL;
    if (s->broken || (s->ac && !s->up && now >= s->connect_deadline)
        || (s->head && now >= s->head->deadline))
        fault(s);               /* garbage, or silent past the timeout */
    looked_up(s, now);
    if (s->first && now >= s->first_until) {
        s->first = 0;           /* a lookup or a connection that takes too long: */
        tell(s);                /* it goes on in the background, no one waits */
    }
    if (s->ac == NULL && s->lookup == NULL && now >= s->retry_at)
        connect_store(s);
    if (s->ac && !s->up)
        next = s->connect_deadline - now;
    if (s->head && s->head->deadline - now < next)
        next = s->head->deadline - now;
    if (s->ac == NULL && s->lookup == NULL && s->retry_at - now < next)
        next = s->retry_at - now;
    if (s->lookup && s->first && LOOKUP_GLANCE < next)
        next = LOOKUP_GLANCE;   /* its end is seen by looking */
    return next < 0 ? 0 : next;
}

/* ---- open and close --------------------------------------------------- */

static int sha1_hex(const char *text, char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0, i;
    if (!EVP_Digest(text, strlen(text), d, &n, EVP_sha1(), NULL) || n != 20)
        return 0;
    for (i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[40] = '\0';
    return 1;
}

rs_store *rs_store_open(rs_poll *p, const char *url, double timeout,
                        void (*changed)(void *arg), void *arg)
{
    rs_store *s = calloc(1, sizeof *s);
    unsigned long long seed;
    if (s == NULL)
        return NULL;
    if (!rs_store_parse_url(url, s->host, sizeof s->host, &s->port, &s->db)
        || !sha1_hex(rs_store_script, s->sha)) {
        free(s);
        return NULL;
    }
    s->poll = p;
    s->fd = -1;
    s->first = 1;
    s->changed = changed;
    s->changed_arg = arg;
    s->timeout = timeout > 0 ? timeout : 10;
    s->first_until = rs_now() + s->timeout;
    seed = (unsigned long long)getpid() * 0x9e3779b97f4a7c15ull
         ^ (unsigned long long)(rs_now() * 1e6) ^ (unsigned long long)(size_t)s;
    snprintf(s->id, sizeof s->id, "%016llx", seed);
    connect_store(s);
    return s;
}

/* A closing client's takes still out are answered to no one: each one's
 * shares are given back behind it (Redis runs a connection's commands in
 * order), and what is queued, records too, goes in one send that does
 * not wait; else the fleet would wait for those shares' flights to end. */
static void give_back_takes(rs_store *s)
{
    store_op *op, *last = s->tail;
    if (!rs_store_up(s) || s->broken)
        return;
    for (op = s->head; op != NULL; op = op->next) {
        if (op->fn)                     /* a take (the releases go after the last op) */
            rs_store_release(s, op->key, op->member, 1, op->want);
        if (op == last)
            break;
    }
    write_out(s);
}

void rs_store_close(rs_store *s)
{
    lost_share *l, *next;
    if (s == NULL)
        return;
    s->changed = NULL;
    give_back_takes(s);
    fault(s);
    for (l = take_lost(s); l != NULL; l = next) {  /* its own fault's (released above), or a store down */
        next = l->next;
        free(l);
    }
    rs_resolve_drop(s->lookup); /* a lookup running ends on its own */
    free(s);
}

int rs_store_up(const rs_store *s)
{
    return s != NULL && s->up && s->ac != NULL;
}

size_t rs_store_unsent(const rs_store *s)
{
    return s != NULL && s->ac != NULL && s->ac->c.obuf != NULL ? sdslen(s->ac->c.obuf) : 0;
}

int rs_store_connecting(const rs_store *s)
{
    return s != NULL && s->first && (s->ac != NULL || s->lookup != NULL);
}

/* ---- the operations --------------------------------------------------- */

static void on_reply(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    store_op *op = priv;
    rs_store *s = op->store;
    (void)ac;
    if (reply == NULL) {        /* the connection went */
        end_op(op, RS_STORE_DOWN, 0, 0);
        return;
    }
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
        && reply->element[0]->type == REDIS_REPLY_INTEGER
        && reply->element[1]->type == REDIS_REPLY_STRING) {
        double wait = strtod(reply->element[1]->str, NULL);
        long long granted = reply->element[0]->integer;
        if (granted >= 1 && granted <= (op->fn ? op->want : 1)) {
            end_op(op, RS_STORE_GO, 0, (int)granted);
            return;
        }
        if (granted == 0 && wait > 0 && wait < 86400) {
            end_op(op, RS_STORE_WAIT, wait, 0);
            return;
        }
    }
    s->broken = 1;              /* garbage (a NOSCRIPT too: not our store any more) */
    op->first = 0;              /* answered: not lost (its release would be garbage too) */
    end_op(op, RS_STORE_DOWN, 0, 0);
}

/* ---- the operations' sending ------------------------------------------ */

static int run(rs_store *s, store_op *op, const char *key, int argc, const char **argv)
{
    const char *av[5 + 7 + 2 * RS_RATE_WINDOWS];
    char closed[RS_PACE_KEY_MAX + 200], cmd[RS_STORE_COMMAND_MAX];
    size_t klen = strlen(key), len;
    int i, n = 0;
    if (klen + sizeof ":closed" > sizeof closed)
        return -1;              /* cannot be: a key is shorter */
    memcpy(closed, key, klen);
    memcpy(closed + klen, ":closed", sizeof ":closed");
    av[n++] = "EVALSHA";
    av[n++] = s->sha;
    av[n++] = "2";
    av[n++] = key;
    av[n++] = closed;
    for (i = 0; i < argc; i++)
        av[n++] = argv[i];
    len = rs_store_command(cmd, sizeof cmd, n, av);
    if ((len > 0 ? redisAsyncFormattedCommand(s->ac, on_reply, op, cmd, len)
                 : redisAsyncCommandArgv(s->ac, on_reply, op, n, av, NULL)) != REDIS_OK)
        return -1;
    /* Written with the step's other writes at its end (rs_loop_flush:
     * rs_poll_flush_extras), in one system call and after libcurl's work;
     * a frame host reads the answer at its next step either way.  Outside
     * a step, the loop's next look finds the descriptor writable. */
    return 0;
}

int rs_store_take(rs_store *s, const char *key, const rs_window *w, int n, double flight,
                  int want, rs_store_fn fn, void *arg)
{
    const char *argv[4 + 2 * RS_RATE_WINDOWS];
    char num[2 * RS_RATE_WINDOWS][32], out[32], most[16];
    store_op *op;
    int i, argc = 0;
    if (!rs_store_up(s) || n < 1 || (op = new_op(s, fn, arg, key)) == NULL)
        return -1;
    op->want = want < 1 ? 1 : want > RS_STORE_SHARES_MAX ? RS_STORE_SHARES_MAX : want;
    op->first = 1;
    snprintf(op->member, sizeof op->member, "%s:%llu", s->id, ++s->takes);
    argv[argc++] = "take";
    argv[argc++] = op->member;
    rs_store_number(out, sizeof out, flight > 0 ? flight : 60.0);
    argv[argc++] = out;
    snprintf(most, sizeof most, "%d", op->want);
    argv[argc++] = most;
    for (i = 0; i < n && i < RS_RATE_WINDOWS; i++) {
        rs_store_number(num[2 * i], sizeof num[0], w[i].limit < 1 ? 1 : floor(w[i].limit));
        rs_store_number(num[2 * i + 1], sizeof num[0], w[i].seconds);
        argv[argc++] = num[2 * i];
        argv[argc++] = num[2 * i + 1];
    }
    if (run(s, op, key, argc, argv) != 0) {
        op->fn = NULL;
        op->first = 0;          /* never queued: nothing to give back */
        end_op(op, RS_STORE_DOWN, 0, 0);
        return -1;
    }
    return 0;
}

void rs_store_record(rs_store *s, const char *key, const char *member,
                     const rs_store_answer *a)
{
    const char *argv[7 + 2 * RS_RATE_WINDOWS];
    char secs[32], left[32] = "-1", until[32] = "-1", limit[32] = "-1";
    char num[2 * RS_RATE_WINDOWS][32];
    store_op *op;
    int i, argc = 0;
    if (!rs_store_up(s) || (op = new_op(s, NULL, NULL, NULL)) == NULL)
        return;
    if (member == NULL)         /* went without a share: a new one, counted now */
        snprintf(op->member, sizeof op->member, "%s:%llu", s->id, ++s->takes);
    else {                      /* a share's name, as the take made it: it fits */
        size_t len = strnlen(member, sizeof op->member - 1);
        memcpy(op->member, member, len);
        op->member[len] = '\0';
    }
    rs_store_number(secs, sizeof secs, a->refused && a->retry_after > 0 ? a->retry_after : 1.0);
    argv[argc++] = a->refused ? "refused" : "answered";
    argv[argc++] = op->member;
    argv[argc++] = secs;
    argv[argc++] = member == NULL ? "new" : "old";
    argv[argc++] = left;
    argv[argc++] = until;
    argv[argc++] = limit;
    if (a->remaining >= 0 && floor(a->remaining) == 0) {   /* what only a count of none needs */
        strcpy(left, "0");
        rs_store_number(until, sizeof until, a->reset > 0 ? a->reset : -1.0);
        rs_store_number(limit, sizeof limit, a->limit >= 0 ? a->limit : -1.0);
        for (i = 0; i < a->windows && i < RS_RATE_WINDOWS; i++) {
            rs_store_number(num[2 * i], sizeof num[0], a->window[i].limit);
            rs_store_number(num[2 * i + 1], sizeof num[0], a->window[i].seconds);
            argv[argc++] = num[2 * i];
            argv[argc++] = num[2 * i + 1];
        }
    }
    if (run(s, op, key, argc, argv) != 0)
        end_op(op, RS_STORE_DOWN, 0, 0);
}

void rs_store_release(rs_store *s, const char *key, const char *member, int first, int last)
{
    const char *argv[4];
    char from[32], to[32];
    store_op *op;
    if (first < 1 || last < first || s == NULL)
        return;
    if (!rs_store_up(s)) {      /* given back once it is up again, as a lost take's */
        remember(s, key, member, first, last);
        return;
    }
    if ((op = new_op(s, NULL, NULL, key)) == NULL)
        return;
    snprintf(op->member, sizeof op->member, "%s", member);
    op->first = first;          /* remembered if lost (end_op) */
    op->want = last;
    rs_store_number(from, sizeof from, first);
    rs_store_number(to, sizeof to, last);
    argv[0] = "release";
    argv[1] = op->member;
    argv[2] = from;
    argv[3] = to;
    if (run(s, op, key, 4, argv) != 0) {
        op->first = 0;
        end_op(op, RS_STORE_DOWN, 0, 0);
    }
}
