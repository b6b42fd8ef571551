/*
 * poll.h: how the loop waits for the network, and the one descriptor a
 * host's own event loop watches (README "Inside a host's event loop").
 *
 * On Linux the loop drives libcurl through its socket interface
 * (curl_multi_socket_action): libcurl's sockets are in an epoll set, its
 * timer is a due time kept here, and a wait is one epoll_wait.  A host
 * that asks for pollfd() gets a second epoll set holding that one, an
 * eventfd (a task made ready, a spawn) and a timerfd (the library's next
 * timer): readable whenever step has work, so a host that watches only
 * it misses nothing.  Elsewhere (the portable fallback) the loop is
 * curl_multi_perform and curl_multi_poll as before, pollfd() is a pipe
 * readable when a task is made ready, and next_timeout() glances at the
 * sockets every few milliseconds, as libcurl's sockets are not seen.
 */
#ifndef RS_POLL_H
#define RS_POLL_H

#include <curl/curl.h>

typedef struct rs_poll {
    CURLM *multi;
    int sockets;        /* epoll set of libcurl's sockets; -1: the portable fallback */
    int outer;          /* what pollfd() returns; -1 until a host asks for it */
    int wake[2];        /* eventfd (both the same) or pipe: readable when woken */
    int timer;          /* timerfd of the library's next timer; -1 without */
    int woken;          /* wake holds something not yet read */
    double curl_due;    /* libcurl's timer, in rs_now() seconds; HUGE_VAL: none */
    double armed;       /* when the timerfd fires; HUGE_VAL: disarmed */
} rs_poll;

/* Sets p up for the multi handle: its callbacks, the epoll set.  Without
 * epoll it falls back on libcurl's own waits.  Never fails.  With multi
 * NULL it only marks every descriptor as not open. */
void rs_poll_init(rs_poll *p, CURLM *multi);

/* Closes p's descriptors. */
void rs_poll_free(rs_poll *p);

/* Lets libcurl act on its sockets that are ready and on its timer when it
 * is due, waiting at most timeout seconds (0: not at all) for one of them.
 * Touches no Lua state; libcurl calls only C. */
void rs_poll_act(rs_poll *p, double timeout);

/* Lets libcurl act on its timer if it is due (a transfer just added is
 * due at once), without looking at the sockets. */
void rs_poll_expire(rs_poll *p);

/* Seconds until libcurl wants to be called (at most a glance in the
 * fallback); HUGE_VAL when it has no timer.  now is rs_now(). */
double rs_poll_curl_wait(const rs_poll *p, double now);

/* The descriptor a host watches (made on first call); -1 when it cannot be
 * made (errno says why). */
int rs_poll_fd(rs_poll *p);

/* Whether a host watches: it has asked for the descriptor. */
#define rs_poll_watched(p) ((p)->outer >= 0)

/* Makes the descriptor readable (a task was spawned or made ready). */
void rs_poll_wake(rs_poll *p);

/* After a step, with wait the seconds until step has work again (HUGE_VAL:
 * none): the descriptor is readable now when wait is 0, else it becomes
 * readable when wait has passed or a socket of libcurl's is ready. */
void rs_poll_settle(rs_poll *p, double wait);

#endif
