/*
 * pool.h: what a client's transfers hand on to the next ones, so that a
 * request goes to malloc's slow path and libcurl's setup as seldom as
 * can be: response buffers, answers (rs_answer) and configured easy
 * handles.  Plain C: no Lua, no transfer.
 */
#ifndef RS_POOL_H
#define RS_POOL_H

#include <stddef.h>
#include <curl/curl.h>

/* The largest response buffer kept for the next request; a larger one
 * goes back to the allocator with its answer. */
#define RS_SPARE_MAX ((size_t)64 << 10)

/* How many response buffers and answers are kept, at most: one for each
 * transfer the client's concurrency lets run, up to this.  Both are
 * larger than glibc's per-thread cache takes, so every request would
 * otherwise go to malloc's slow path for them. */
#define RS_SPARES 16

typedef struct rs_pool {
    char *buffer[RS_SPARES];      /* response buffers (<= RS_SPARE_MAX) */
    size_t buffer_cap[RS_SPARES];
    int buffers;
    void *answer[RS_SPARES];      /* rs_answers */
    int answers;
    int keep;                     /* buffers and answers kept: 0 once the client closed */
    CURL **idle;                  /* configured easy handles */
    int idle_count, idle_cap;
} rs_pool;

/* Keeps one buffer and answer for each of concurrency transfers, up to
 * RS_SPARES (0: none, the client closed). */
void rs_pool_keep(rs_pool *p, int concurrency);

/* Takes a response buffer to reuse into *buf and *cap, if p has one. */
void rs_pool_take_buffer(rs_pool *p, char **buf, size_t *cap);

/* Keeps the buffer for the next request, or frees it; *buf becomes NULL. */
void rs_pool_give_buffer(rs_pool *p, char **buf, size_t *cap);

/* An answer of size bytes to reuse, or a new one; NULL when memory ran out. */
void *rs_pool_take_answer(rs_pool *p, size_t size);

/* Keeps the answer for the next transfer, or frees it. */
void rs_pool_give_answer(rs_pool *p, void *answer);

/* An idle easy handle, or NULL. */
CURL *rs_pool_take_easy(rs_pool *p);

/* Keeps e for the next transfer while p keeps anything, or cleans it up. */
void rs_pool_give_easy(rs_pool *p, CURL *e);

/* Frees everything p holds.  Idempotent. */
void rs_pool_release(rs_pool *p);

#endif
