/*
 * poll.c: the loop's waits, on curl_multi_perform or on libcurl's socket
 * interface, and the descriptor of a host's event loop (poll.h).
 *
 * Three backends: epoll (Linux), kqueue (opt-in, see below) and the
 * portable fallback (curl_multi_perform and a pipe).
 *
 * Everything here runs with libcurl on the stack or is called by loop.c
 * where no Lua error may be raised: it touches no Lua state.  A failing
 * epoll_ctl, eventfd or timerfd call is not fatal: libcurl's own timeouts
 * still end every transfer, and the host's timeout() still wakes it.
 */
#if defined(RS_POLL_PORTABLE)
#define _POSIX_C_SOURCE 200809L
#elif defined(__linux__) && !defined(RS_POLL_KQUEUE)
#define _GNU_SOURCE
#define RS_POLL_EPOLL 1
#elif defined(RS_POLL_KQUEUE)
/* Opt-in (cc -DRS_POLL_KQUEUE): its socket interface has been run on Linux
 * through libkqueue (the specs pass), but the host's descriptor, a kqueue
 * watching a kqueue, has not: libkqueue's descriptors cannot be polled, and
 * no BSD or macOS was at hand.  Until it has, those systems get the
 * portable fallback, which is slower to wake but tested. */
#define _DEFAULT_SOURCE         /* kqueue, on glibc with libkqueue */
#define _DARWIN_C_SOURCE
#define RS_POLL_KQUEUE 1
#else
#define _POSIX_C_SOURCE 200809L
#endif
#if defined(RS_POLL_EPOLL) || defined(RS_POLL_KQUEUE)
#define RS_POLL_SOCKETS 1       /* libcurl's socket interface */
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <math.h>
#include <stdint.h>
#include <unistd.h>

#ifdef RS_POLL_EPOLL
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#endif
#ifdef RS_POLL_KQUEUE
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#endif

#include "poll.h"
#include "session.h"            /* rs_now */

/* Longest a host is told it may sleep while requests are on the network
 * when it cannot see libcurl's sockets. */
#define RS_SOCKET_GLANCE 0.005

/* Milliseconds for a wait of seconds (rounded up: a wait that ends before
 * the timer is due would only wait again). */
static int wait_ms(double seconds)
{
    if (seconds <= 0)
        return 0;
    return seconds > 86400 ? 86400000 : (int)ceil(seconds * 1000);
}

void rs_poll_init(rs_poll *p, CURLM *multi)
{
    p->multi = multi;
    p->sockets = p->outer = p->timer = -1;
    p->wake[0] = p->wake[1] = -1;
    p->woken = p->waited = p->nready = 0;
    p->curl_due = p->armed = HUGE_VAL;
    for (int i = 0; i < RS_POLL_EXTRA; i++)
        p->extra[i].fd = -1;
}

/* The slot of an extra descriptor, or NULL. */
static rs_poll_extra *extra_of(rs_poll *p, int fd)
{
    for (int i = 0; i < RS_POLL_EXTRA; i++)
        if (p->extra[i].fd == fd)
            return &p->extra[i];
    return NULL;
}

/* libcurl's timer as curl_multi_timeout says it. */
static void read_curl_timer(rs_poll *p)
{
    long ms = -1;
    if (curl_multi_timeout(p->multi, &ms) == CURLM_OK)
        p->curl_due = ms < 0 ? HUGE_VAL : rs_now() + (double)ms / 1000;
}

int rs_poll_expire(rs_poll *p)
{
    int running = -1;
    if (p->sockets < 0 || p->curl_due > rs_now())
        return -1;
    if (curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running) != CURLM_OK)
        running = -1;
    /* libcurl announces a timer only when it changes: had it not seen this
     * one as due yet (its clock is its own), it would not say it again. */
    if (p->curl_due <= rs_now())
        read_curl_timer(p);
    return running;
}

double rs_poll_curl_wait(const rs_poll *p, double now)
{
    long ms = -1;
    if (p->sockets >= 0)
        return p->curl_due == HUGE_VAL ? HUGE_VAL : p->curl_due - now;
    if (curl_multi_timeout(p->multi, &ms) != CURLM_OK || ms < 0 || ms > 5)
        return RS_SOCKET_GLANCE;
    return (double)ms / 1000;
}

#ifdef RS_POLL_SOCKETS

/* libcurl's timer callback: when it next wants to be called. */
static int on_timer(CURLM *multi, long ms, void *userp)
{
    rs_poll *p = userp;
    (void)multi;
    p->curl_due = ms < 0 ? HUGE_VAL : rs_now() + (double)ms / 1000;
    return 0;
}

#ifdef RS_POLL_EPOLL

/* libcurl's socket callback: s is to be watched for what.  socketp is set
 * (curl_multi_assign) once s is in the set. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    rs_poll *p = userp;
    struct epoll_event ev;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (socketp)            /* libcurl forgets socketp itself */
            (void)epoll_ctl(p->sockets, EPOLL_CTL_DEL, s, NULL);
        return 0;
    }
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    ev.data.fd = s;
    if (epoll_ctl(p->sockets, socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) != 0) {
        /* A socket closed and its number reused, unseen: the other way. */
        if (epoll_ctl(p->sockets, socketp ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s, &ev) != 0)
            return 0;   /* -1 would end the whole multi handle; the timeout ends this one */
    }
    if (!socketp)
        (void)curl_multi_assign(p->multi, s, p);
    return 0;
}

static int new_set(void)
{
    return epoll_create1(EPOLL_CLOEXEC);
}

/* Puts an extra descriptor in the socket set as it wants (0: out). */
static void set_extra(rs_poll *p, const rs_poll_extra *x, int was)
{
    struct epoll_event ev;
    if (p->sockets < 0)
        return;
    if (x->want == 0) {
        if (was)
            (void)epoll_ctl(p->sockets, EPOLL_CTL_DEL, x->fd, NULL);
        return;
    }
    ev.events = (x->want & RS_POLL_IN ? EPOLLIN : 0u) | (x->want & RS_POLL_OUT ? EPOLLOUT : 0u);
    ev.data.fd = x->fd;
    if (epoll_ctl(p->sockets, was ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, x->fd, &ev) != 0)
        (void)epoll_ctl(p->sockets, was ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, x->fd, &ev);
}

/* Looks at the sockets for at most ms milliseconds; keeps what is ready. */
static int look(rs_poll *p, int ms)
{
    struct epoll_event ev[RS_POLL_EVENTS];
    int n = epoll_wait(p->sockets, ev, RS_POLL_EVENTS, ms), i;
    for (i = 0; i < n; i++) {
        p->ready[i].fd = ev[i].data.fd;
        p->ready[i].mask = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0)
                         | (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0)
                         | (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
    }
    p->nready = n > 0 ? n : 0;
    return n;
}

#else

static void set_extra(rs_poll *p, const rs_poll_extra *x, int was)
{
    (void)p;            /* kqueue: extras are looked at with poll() in act */
    (void)x;
    (void)was;
}

/* libcurl's socket callback: s is to be watched for what.  socketp
 * (curl_multi_assign) holds 4 | the filters s has in the set. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    rs_poll *p = userp;
    struct kevent ch;
    int was = (int)(intptr_t)socketp & 3, now = what == CURL_POLL_REMOVE ? 0 : what & 3;
    (void)easy;
    /* One change a call: a failing one (a socket closed meanwhile) would
     * stop those after it. */
    if ((now ^ was) & CURL_POLL_IN) {
        EV_SET(&ch, s, EVFILT_READ, now & CURL_POLL_IN ? EV_ADD : EV_DELETE, 0, 0, NULL);
        (void)kevent(p->sockets, &ch, 1, NULL, 0, NULL);
    }
    if ((now ^ was) & CURL_POLL_OUT) {
        EV_SET(&ch, s, EVFILT_WRITE, now & CURL_POLL_OUT ? EV_ADD : EV_DELETE, 0, 0, NULL);
        (void)kevent(p->sockets, &ch, 1, NULL, 0, NULL);
    }
    if (what != CURL_POLL_REMOVE)
        (void)curl_multi_assign(p->multi, s, (void *)(intptr_t)(4 | now));
    return 0;
}

static int new_set(void)
{
    int kq = kqueue();
    if (kq >= 0)
        (void)fcntl(kq, F_SETFD, FD_CLOEXEC);
    return kq;
}

/* Looks at the sockets for at most ms milliseconds; keeps what is ready. */
static int look(rs_poll *p, int ms)
{
    struct kevent ev[RS_POLL_EVENTS];
    struct timespec ts;
    int n, i;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    n = kevent(p->sockets, NULL, 0, ev, RS_POLL_EVENTS, &ts);
    for (i = 0; i < n; i++) {
        p->ready[i].fd = (int)ev[i].ident;
        p->ready[i].mask = (ev[i].filter == EVFILT_READ ? CURL_CSELECT_IN : 0)
                         | (ev[i].filter == EVFILT_WRITE ? CURL_CSELECT_OUT : 0)
                         | (ev[i].flags & EV_ERROR ? CURL_CSELECT_ERR : 0);
    }
    p->nready = n > 0 ? n : 0;
    return n;
}

#endif

/* Moves the loop to the socket interface.  The transfers already on the
 * multi handle have their sockets announced by curl_multi_socket_all,
 * which runs each of them once and then tells its sockets (the one call
 * that does; libcurl 8 calls it deprecated, not removed). */
static int use_sockets(rs_poll *p)
{
    int running;
    CURLMcode rc = CURLM_OK;
    p->sockets = new_set();
    if (p->sockets < 0)
        return -1;
    if (curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK
        || curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p) != CURLM_OK
        || curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, on_timer) != CURLM_OK
        || curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p) != CURLM_OK)
        rc = CURLM_UNKNOWN_OPTION;
    else {
#ifdef CURL_IGNORE_DEPRECATION
        CURL_IGNORE_DEPRECATION(rc = curl_multi_socket_all(p->multi, &running);)
#else
        rc = curl_multi_socket_all(p->multi, &running);
#endif
    }
    if (rc != CURLM_OK) {
        (void)curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, NULL);
        (void)curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, NULL);
        close(p->sockets);
        p->sockets = -1;
        return -1;
    }
    read_curl_timer(p);
    for (int i = 0; i < RS_POLL_EXTRA; i++)
        if (p->extra[i].fd >= 0)
            set_extra(p, &p->extra[i], 0);
    return 0;
}

/* Tells libcurl which sockets are ready: those a wait found, or those
 * ready now; past a full batch, a few more rounds. */
static void act_on_sockets(rs_poll *p)
{
    int n = p->waited ? p->nready : look(p, 0), i, running, rounds = 0;
    for (;;) {
        for (i = 0; i < p->nready; i++) {
            rs_poll_extra *x = extra_of(p, p->ready[i].fd);
            if (x)              /* ours, not libcurl's: rs_poll_act handles it */
                x->got |= (p->ready[i].mask & CURL_CSELECT_IN ? RS_POLL_IN : 0)
                        | (p->ready[i].mask & CURL_CSELECT_OUT ? RS_POLL_OUT : 0)
                        | (p->ready[i].mask & CURL_CSELECT_ERR ? RS_POLL_IN : 0);
            else
                (void)curl_multi_socket_action(p->multi, p->ready[i].fd, p->ready[i].mask, &running);
        }
        p->nready = 0;
        if (n < RS_POLL_EVENTS || ++rounds == 4)
            break;
        n = look(p, 0);
    }
    p->waited = 0;
}

#else /* the portable fallback: no socket interface */

static void set_extra(rs_poll *p, const rs_poll_extra *x, int was)
{
    (void)p;
    (void)x;
    (void)was;
}

static int use_sockets(rs_poll *p)
{
    (void)p;
    return -1;
}

static void act_on_sockets(rs_poll *p)
{
    (void)p;
}

static int look(rs_poll *p, int ms)
{
    (void)p;
    (void)ms;
    return 0;
}

#endif

int rs_poll_watch(rs_poll *p, int fd, int want, void (*fn)(void *arg, int got), void *arg)
{
    rs_poll_extra *x = extra_of(p, fd);
    int was = x != NULL && x->want != 0;
    if (x == NULL && want == 0)
        return 0;
    if (x == NULL && (x = extra_of(p, -1)) == NULL)
        return -1;
    x->fd = fd;
    x->want = want;
    x->fn = fn;
    x->arg = arg;
    if (want == 0)
        x->got = 0;
    set_extra(p, x, was);
    if (want == 0)
        x->fd = -1;
    return 0;
}

int rs_poll_has_extras(const rs_poll *p)
{
    for (int i = 0; i < RS_POLL_EXTRA; i++)
        if (p->extra[i].fd >= 0 && p->extra[i].want != 0)
            return 1;
    return 0;
}

void rs_poll_flush_extras(rs_poll *p)
{
    for (int i = 0; i < RS_POLL_EXTRA; i++) {
        rs_poll_extra *x = &p->extra[i];
        if (x->fd >= 0 && (x->want & RS_POLL_OUT) && x->fn)
            x->fn(x->arg, RS_POLL_FLUSH);
    }
}

/* Looks at the extra descriptors without waiting, where no wait of the
 * socket set did (curl_multi_perform, kqueue). */
static void glance_extras(rs_poll *p)
{
    for (int i = 0; i < RS_POLL_EXTRA; i++) {
        rs_poll_extra *x = &p->extra[i];
        struct pollfd pf;
        if (x->fd < 0 || x->want == 0)
            continue;
        pf.fd = x->fd;
        pf.events = (short)((x->want & RS_POLL_IN ? POLLIN : 0) | (x->want & RS_POLL_OUT ? POLLOUT : 0));
        pf.revents = 0;
        if (poll(&pf, 1, 0) > 0)
            x->got |= (pf.revents & (POLLIN | POLLERR | POLLHUP) ? RS_POLL_IN : 0)
                    | (pf.revents & POLLOUT ? RS_POLL_OUT : 0);
    }
}

/* Hands what the extra descriptors are ready for to their handlers (a
 * handler may watch or unwatch any of them). */
static void act_on_extras(rs_poll *p)
{
    for (int i = 0; i < RS_POLL_EXTRA; i++) {
        rs_poll_extra *x = &p->extra[i];
        int got = x->got & x->want;
        x->got = 0;
        if (x->fd >= 0 && got)
            x->fn(x->arg, got);
    }
}

void rs_poll_act(rs_poll *p)
{
    int running;
#ifdef RS_POLL_EPOLL
    int epoll = p->sockets >= 0;
#else
    int epoll = 0;
#endif
    if (p->sockets < 0)
        (void)curl_multi_perform(p->multi, &running);
    else {
        (void)rs_poll_expire(p);
        act_on_sockets(p);
        (void)rs_poll_expire(p);
    }
    if (!epoll)
        glance_extras(p);
    act_on_extras(p);
}

void rs_poll_wait(rs_poll *p, double timeout)
{
    if (p->sockets < 0) {
        struct curl_waitfd w[RS_POLL_EXTRA];
        unsigned n = 0;
        for (int i = 0; i < RS_POLL_EXTRA; i++) {
            rs_poll_extra *x = &p->extra[i];
            if (x->fd < 0 || x->want == 0)
                continue;
            w[n].fd = x->fd;
            w[n].events = (short)((x->want & RS_POLL_IN ? CURL_WAIT_POLLIN : 0)
                                  | (x->want & RS_POLL_OUT ? CURL_WAIT_POLLOUT : 0));
            w[n++].revents = 0;
        }
        (void)curl_multi_poll(p->multi, n ? w : NULL, n, wait_ms(timeout), NULL);
        return;         /* rs_poll_act glances at the extras: poll() reports them again */
    }
    if (p->curl_due - rs_now() < timeout)
        timeout = p->curl_due - rs_now();
    (void)look(p, wait_ms(timeout));
    p->waited = 1;
}

#ifdef RS_POLL_EPOLL

/* The host's set: libcurl's sockets (the set of them), the wake and the
 * timer, each readable when step has work. */
static int make_outer(rs_poll *p)
{
    struct epoll_event ev;
    int fds[3], i;
    p->outer = epoll_create1(EPOLL_CLOEXEC);
    p->wake[0] = p->wake[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    p->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    fds[0] = p->sockets;
    fds[1] = p->wake[0];
    fds[2] = p->timer;
    for (i = 0; i < 3; i++) {
        ev.events = EPOLLIN;
        ev.data.fd = fds[i];
        if (i == 0 && fds[i] < 0)
            continue;           /* no socket interface: next_timeout glances */
        if (p->outer < 0 || fds[i] < 0 || epoll_ctl(p->outer, EPOLL_CTL_ADD, fds[i], &ev) != 0)
            return -1;
    }
    return 0;
}

/* The timerfd fires at due (rs_now() seconds; HUGE_VAL disarms it).
 * Setting it again also makes it unreadable until then. */
static void arm(rs_poll *p, double due)
{
    struct itimerspec its = { { 0, 0 }, { 0, 0 } };
    if (p->timer < 0)
        return;
    if (due != HUGE_VAL) {
        its.it_value.tv_sec = (time_t)due;
        its.it_value.tv_nsec = (long)((due - (double)its.it_value.tv_sec) * 1e9);
        if (its.it_value.tv_nsec >= 1000000000L)
            its.it_value.tv_nsec = 999999999L;
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
            its.it_value.tv_nsec = 1;           /* zero would disarm it */
    }
    if (timerfd_settime(p->timer, TFD_TIMER_ABSTIME, &its, NULL) == 0)
        p->armed = due;
}

#elif defined(RS_POLL_KQUEUE)

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0
        || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ? -1 : 0;
}

/* The host's set: libcurl's sockets (the set of them), a pipe that wakes
 * write to, and a one-shot timer (ident 1), each readable when step has
 * work.  A timer that fired stays pending in the set until settle takes
 * it. */
static int make_outer(rs_poll *p)
{
    struct kevent ch;
    p->outer = new_set();
    if (p->outer < 0)
        return -1;
    if (pipe(p->wake) != 0) {
        p->wake[0] = p->wake[1] = -1;
        return -1;
    }
    if (set_nonblocking(p->wake[0]) != 0 || set_nonblocking(p->wake[1]) != 0)
        return -1;
    EV_SET(&ch, p->wake[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
    if (kevent(p->outer, &ch, 1, NULL, 0, NULL) != 0)
        return -1;
    if (p->sockets >= 0) {
        EV_SET(&ch, p->sockets, EVFILT_READ, EV_ADD, 0, 0, NULL);
        if (kevent(p->outer, &ch, 1, NULL, 0, NULL) != 0)
            return -1;
    }
    return 0;
}

/* Takes the events pending in the host's set: a fired timer leaves it so
 * (the others are level-triggered and come back while ready). */
static void take_pending(rs_poll *p)
{
    struct kevent ev[4];
    struct timespec zero = { 0, 0 };
    int n, i;
    while ((n = kevent(p->outer, NULL, 0, ev, 4, &zero)) > 0) {
        for (i = 0; i < n; i++)
            if (ev[i].filter == EVFILT_TIMER)
                p->armed = HUGE_VAL;
        if (n < 4)
            break;
    }
}

static void arm(rs_poll *p, double due)
{
    struct kevent ch;
    if (due == HUGE_VAL) {
        EV_SET(&ch, 1, EVFILT_TIMER, EV_DELETE, 0, 0, NULL);
        (void)kevent(p->outer, &ch, 1, NULL, 0, NULL);  /* none set: ENOENT */
        p->armed = HUGE_VAL;
        return;
    }
    EV_SET(&ch, 1, EVFILT_TIMER, EV_ADD | EV_ONESHOT, 0, wait_ms(due - rs_now()), NULL);
    if (kevent(p->outer, &ch, 1, NULL, 0, NULL) == 0)
        p->armed = due;
}

#else

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0
        || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ? -1 : 0;
}

/* The host's descriptor is the read end of a pipe that wakes write to. */
static int make_outer(rs_poll *p)
{
    if (pipe(p->wake) != 0) {
        p->wake[0] = p->wake[1] = -1;
        return -1;
    }
    p->outer = p->wake[0];
    return set_nonblocking(p->wake[0]) == 0 && set_nonblocking(p->wake[1]) == 0 ? 0 : -1;
}

static void arm(rs_poll *p, double due)
{
    p->armed = due;             /* no timer: the host's timeout() wakes it */
}

#endif

#ifndef RS_POLL_KQUEUE
static void take_pending(rs_poll *p)
{
    (void)p;            /* an epoll set or a pipe holds nothing to take */
}
#endif

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Closes the host's descriptors (not the socket set). */
static void close_outer(rs_poll *p)
{
    if (p->wake[1] != p->wake[0])
        close_fd(&p->wake[1]);
    if (p->outer == p->wake[0])
        p->outer = -1;
    close_fd(&p->wake[0]);
    p->wake[1] = -1;
    close_fd(&p->outer);
    close_fd(&p->timer);
}

void rs_poll_free(rs_poll *p)
{
    close_outer(p);
    close_fd(&p->sockets);
}

int rs_poll_fd(rs_poll *p)
{
    if (p->outer >= 0)
        return p->outer;
    if (p->sockets < 0 && p->multi != NULL)
        (void)use_sockets(p);   /* else the loop stays as it was, and glances */
    if (make_outer(p) != 0) {
        int saved = errno;
        close_outer(p);
        errno = saved;
        return -1;
    }
    p->armed = HUGE_VAL;
    return p->outer;
}

void rs_poll_wake(rs_poll *p)
{
    static const uint64_t one = 1;
    if (p->outer < 0 || p->woken)
        return;
    /* eventfd takes 8 bytes; a pipe takes them too (and a kqueue's pipe) */
    if (write(p->wake[1], &one, sizeof one) == (ssize_t)sizeof one || errno == EAGAIN)
        p->woken = 1;
}

/* Empties the wake: nothing is left to do now. */
static void drain(rs_poll *p)
{
    uint64_t buf[8];
    while (read(p->wake[0], buf, sizeof buf) > 0)
        continue;
    p->woken = 0;
}

void rs_poll_settle(rs_poll *p, double wait)
{
    double now, due;
    if (p->outer < 0)
        return;
    take_pending(p);
    if (wait <= 0) {
        rs_poll_wake(p);
        return;
    }
    if (p->woken)
        drain(p);
    now = rs_now();
    due = wait == HUGE_VAL ? HUGE_VAL : now + wait;
    /* Unchanged and still ahead: a timerfd set again costs a system call.
     * One that has fired is set again, which makes it unreadable. */
    if (p->armed > now && (due == p->armed || fabs(due - p->armed) < 0.0005))
        return;
    arm(p, due);
}
