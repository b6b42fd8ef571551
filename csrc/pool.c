/*
 * pool.c: buffers, answers and easy handles handed on from a client's
 * transfers to the next ones (see pool.h).
 */
#include <stdlib.h>

#include "pool.h"

void rs_pool_keep(rs_pool *p, int concurrency)
{
    p->keep = concurrency < 0 ? 0 : concurrency < RS_SPARES ? concurrency : RS_SPARES;
}

void rs_pool_take_buffer(rs_pool *p, char **buf, size_t *cap)
{
    if (p->buffers > 0) {
        p->buffers--;
        *buf = p->buffer[p->buffers];
        *cap = p->buffer_cap[p->buffers];
    }
}

void rs_pool_give_buffer(rs_pool *p, char **buf, size_t *cap)
{
    if (*buf && *cap <= RS_SPARE_MAX && p->buffers < p->keep) {
        p->buffer[p->buffers] = *buf;
        p->buffer_cap[p->buffers] = *cap;
        p->buffers++;
    } else
        free(*buf);
    *buf = NULL;
    *cap = 0;
}

void *rs_pool_take_answer(rs_pool *p, size_t size)
{
    return p->answers > 0 ? p->answer[--p->answers] : malloc(size);
}

void rs_pool_give_answer(rs_pool *p, void *answer)
{
    if (answer && p->answers < p->keep)
        p->answer[p->answers++] = answer;
    else
        free(answer);
}

CURL *rs_pool_take_easy(rs_pool *p)
{
    return p->idle_count > 0 ? p->idle[--p->idle_count] : NULL;
}

void rs_pool_give_easy(rs_pool *p, CURL *e)
{
    if (p->keep > 0 && p->idle_count == p->idle_cap) {
        int cap = p->idle_cap ? p->idle_cap * 2 : 4;
        CURL **grown = realloc(p->idle, (size_t)cap * sizeof *grown);
        if (grown) {
            p->idle = grown;
            p->idle_cap = cap;
        }
    }
    if (p->keep > 0 && p->idle_count < p->idle_cap)
        p->idle[p->idle_count++] = e;
    else
        curl_easy_cleanup(e);
}

void rs_pool_release(rs_pool *p)
{
    int i;
    p->keep = 0;
    for (i = 0; i < p->idle_count; i++)
        curl_easy_cleanup(p->idle[i]);
    free(p->idle);
    p->idle = NULL;
    p->idle_count = p->idle_cap = 0;
    while (p->buffers > 0)
        free(p->buffer[--p->buffers]);
    while (p->answers > 0)
        free(p->answer[--p->answers]);
}
