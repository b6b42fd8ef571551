/*
 * poll.h: how the loop waits for the network, and the one descriptor a
 * host's own event loop watches (README "Inside a host's event loop").
 *
 * Until a host asks for the descriptor the loop is curl_multi_perform and
 * curl_multi_poll, and next_timeout() glances at libcurl's sockets every
 * few milliseconds, as nothing else can see them: a program that only
 * steps or runs pays nothing for the rest.  The first pollfd() moves the
 * loop, on Linux, to libcurl's socket interface (curl_multi_socket_action):
 * libcurl's sockets go into an epoll set, its timer is a due time kept
 * here, a wait is one epoll_wait, and next_timeout() is libcurl's own
 * timeout.  The descriptor is a second epoll set holding that one, an
 * eventfd (a task spawned or made ready) and a timerfd (the library's next
 * timer): readable whenever step has work, so a host that watches only it
 * misses nothing.  Without epoll (the portable fallback) the loop stays as
 * it was, and the descriptor is a pipe readable when a task is made ready.
 * A kqueue backend (the same with a kqueue, a pipe and EVFILT_TIMER) is
 * built only with -DRS_POLL_KQUEUE: see poll.c.
 */
#ifndef RS_POLL_H
#define RS_POLL_H

#include <curl/curl.h>

/* Sockets taken from one epoll_wait; more ready ones come in the next. */
#define RS_POLL_EVENTS 64

/* Descriptors of the loop's own beside libcurl's (a fleet's Redis
 * connection, store.c): watched in the same wait, handled by fn. */
#define RS_POLL_EXTRA 4
#define RS_POLL_IN 1
#define RS_POLL_OUT 2
#define RS_POLL_FLUSH 4         /* to fn, from rs_poll_flush_extras: not readiness */

typedef struct rs_poll_extra {
    int fd;                     /* -1: a free slot */
    int want, got;              /* RS_POLL_IN | RS_POLL_OUT */
    void (*fn)(void *arg, int got);
    void *arg;
} rs_poll_extra;

typedef struct rs_poll {
    CURLM *multi;
    rs_poll_extra extra[RS_POLL_EXTRA];
    int sockets;        /* epoll set of libcurl's sockets; -1: curl_multi_perform */
    int outer;          /* what pollfd() returns; -1 until a host asks for it */
    int wake[2];        /* eventfd (both the same) or pipe: readable when woken */
    int timer;          /* timerfd of the library's next timer; -1 without */
    int woken;          /* wake holds something not yet read */
    double curl_due;    /* libcurl's timer, in rs_now() seconds; HUGE_VAL: none */
    double armed;       /* when the timerfd fires; HUGE_VAL: disarmed */
    int waited;         /* a wait has looked at the sockets since the last act */
    int nready;         /* sockets that wait found ready, for the next act */
    struct { int fd, mask; } ready[RS_POLL_EVENTS];
} rs_poll;

/* Sets p up for the multi handle (NULL: only marks every descriptor as not
 * open).  Never fails. */
void rs_poll_init(rs_poll *p, CURLM *multi);

/* Watches fd for want (RS_POLL_IN | RS_POLL_OUT; 0: no longer) beside
 * libcurl's sockets; rs_poll_act then calls fn(arg, got) when it is
 * ready.  Returns 0, or -1 when every slot is taken. */
int rs_poll_watch(rs_poll *p, int fd, int want, void (*fn)(void *arg, int got), void *arg);

/* Whether an extra descriptor is watched. */
int rs_poll_has_extras(const rs_poll *p);

/* Calls fn(arg, RS_POLL_FLUSH) for every extra descriptor waiting to
 * write: what its owner queued during a step (a fleet's records of the
 * step's answers, its takes) goes out at the step's end, in one write,
 * if the descriptor can take it (a connection still being made cannot:
 * fn tells, since this is not readiness). */
void rs_poll_flush_extras(rs_poll *p);

/* Closes p's descriptors. */
void rs_poll_free(rs_poll *p);

/* Lets libcurl act, without waiting: on every transfer (curl_multi_perform),
 * or on the sockets that are ready and its timer if due.  Touches no Lua
 * state; libcurl calls only C. */
void rs_poll_act(rs_poll *p);

/* Waits at most timeout seconds for libcurl's sockets (or its timer); the
 * next rs_poll_act lets libcurl act on what was found. */
void rs_poll_wait(rs_poll *p, double timeout);

/* Lets libcurl act on its timer if it is due (a transfer just added is due
 * at once), without looking at the sockets.  Only with the socket
 * interface; otherwise it does nothing.  Returns libcurl's count of
 * transfers not completed, or -1 when it did not act. */
int rs_poll_expire(rs_poll *p);

/* Seconds until libcurl wants to be called: its own timeout with the
 * socket interface, else at most a glance (5 ms); HUGE_VAL when it has no
 * timer.  now is rs_now(). */
double rs_poll_curl_wait(const rs_poll *p, double now);

/* The descriptor a host watches (made on first call, which moves the loop
 * to the socket interface); -1 when it cannot be made (errno says why). */
int rs_poll_fd(rs_poll *p);

/* Whether the descriptor shows everything (libcurl's sockets and the
 * library's timers): not in the portable fallback, where a host also
 * wakes after next_timeout(). */
#define rs_poll_complete(p) ((p)->sockets >= 0)

/* Whether a host watches: it has asked for the descriptor. */
#define rs_poll_watched(p) ((p)->outer >= 0)

/* Makes the descriptor readable (a task was spawned or made ready). */
void rs_poll_wake(rs_poll *p);

/* After a step, with wait the seconds until step has work again (HUGE_VAL:
 * none): the descriptor is readable now when wait is 0, else it becomes
 * readable when wait has passed or a socket of libcurl's is ready. */
void rs_poll_settle(rs_poll *p, double wait);

#endif
