/*
 * resolve.c: a host name resolved off the loop (resolve.h).
 *
 * One detached thread per lookup.  Its job is shared by the thread and
 * the caller and counted: whoever lets go last frees it, so a client
 * closed (or collected) while the lookup runs leaves the thread nothing
 * freed to write to.  The thread touches its job and nothing else: no
 * Lua state, no store, no loop; it raises nothing.  It takes no signal
 * of the program's (all are blocked in it), and the module stays loaded
 * while it may run (robloxsocial.c pins it).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "resolve.h"

struct rs_resolve {
    atomic_int refs;            /* the caller's and the thread's */
    atomic_int state;           /* RS_RESOLVE_*: set once, by the thread */
    char name[256];
    char addr[RS_RESOLVE_ADDR_MAX];     /* written before state says DONE */
};

int rs_resolve_numeric(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static void release(rs_resolve *r)
{
    if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
        free(r);
}

/* The first IPv4 address of name, else its first IPv6 one, as text. */
static int look_up(const char *name, char *out, size_t cap)
{
    struct addrinfo hints, *res = NULL, *ai, *pick = NULL;
    int ok;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(name, NULL, &hints, &res) != 0 || res == NULL)
        return 0;
    for (ai = res; ai != NULL; ai = ai->ai_next)
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        } else if (ai->ai_family == AF_INET6 && pick == NULL)
            pick = ai;
    ok = pick != NULL && getnameinfo(pick->ai_addr, pick->ai_addrlen, out, (socklen_t)cap,
                                     NULL, 0, NI_NUMERICHOST) == 0;
    freeaddrinfo(res);
    return ok;
}

static void *run(void *arg)
{
    rs_resolve *r = arg;
    int ok = look_up(r->name, r->addr, sizeof r->addr);
    atomic_store_explicit(&r->state, ok ? RS_RESOLVE_DONE : RS_RESOLVE_FAILED,
                          memory_order_release);
    release(r);
    return NULL;
}

/* Starts run(r) detached, with every signal blocked in it (it inherits
 * this thread's mask, restored at once).  0 when it runs. */
static int start_thread(rs_resolve *r)
{
    pthread_attr_t attr;
    pthread_t thread;
    sigset_t all, old;
    int rc;
    if (pthread_attr_init(&attr) != 0)
        return -1;
    rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (rc == 0 && sigfillset(&all) != 0)
        rc = -1;
    if (rc == 0 && (rc = pthread_sigmask(SIG_SETMASK, &all, &old)) == 0) {
        rc = pthread_create(&thread, &attr, run, r);
        (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    (void)pthread_attr_destroy(&attr);
    return rc == 0 ? 0 : -1;
}

rs_resolve *rs_resolve_start(const char *name)
{
    rs_resolve *r;
    size_t len = strlen(name);
    if (len == 0 || len >= sizeof r->name || (r = calloc(1, sizeof *r)) == NULL)
        return NULL;
    memcpy(r->name, name, len + 1);
    atomic_init(&r->refs, 2);
    atomic_init(&r->state, RS_RESOLVE_PENDING);
    if (start_thread(r) != 0) {
        free(r);                /* no thread holds it */
        return NULL;
    }
    return r;
}

int rs_resolve_result(rs_resolve *r, char *addr, size_t cap)
{
    int state = atomic_load_explicit(&r->state, memory_order_acquire);
    if (state == RS_RESOLVE_DONE && (size_t)snprintf(addr, cap, "%s", r->addr) >= cap)
        return RS_RESOLVE_FAILED;
    return state;
}

void rs_resolve_drop(rs_resolve *r)
{
    if (r != NULL)
        release(r);
}
