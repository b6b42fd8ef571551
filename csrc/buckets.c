/*
 * buckets.c: a client's buckets by key, and which line goes next (see
 * buckets.h).  A request looks its bucket up once, when it is made: the
 * key is written on the stack and compared with each entry's (a client
 * has a few dozen endpoints at most), its hash first.
 */
#include <stdlib.h>
#include <string.h>

#include "buckets.h"

/* Appends s (up to '?' or the end) to out at *len, every segment that is
 * a number written "{id}"; stops short of max. */
static void put_path(char *out, size_t *len, size_t max, const char *s)
{
    int at_start = *len > 0 && out[*len - 1] == '/';
    for (; *s && *s != '?' && *len + 4 < max; at_start = *s++ == '/') {
        if (at_start && *s >= '0' && *s <= '9') {
            const char *e = s;
            while (*e >= '0' && *e <= '9')
                e++;
            if (*e == '/' || *e == '?' || *e == '\0') {
                memcpy(out + *len, "{id}", 4);
                *len += 4;
                s = e - 1;      /* the loop steps over the last digit */
                continue;
            }
        }
        out[(*len)++] = *s;
    }
}

static void put_word(char *out, size_t *len, size_t max, const char *s)
{
    for (; *s && *len + 1 < max; s++)
        out[(*len)++] = *s;
    if (*len + 1 < max)
        out[(*len)++] = ' ';
}

/* FNV-1a. */
static unsigned hash_of(const char *s, size_t len)
{
    unsigned h = 2166136261u;
    size_t i;
    for (i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static rs_pace_entry *add_entry(rs_pace_table *pt, const char *key, size_t len, unsigned hash)
{
    rs_pace_entry *e;
    if (pt->count == pt->cap) {
        int cap = pt->cap ? pt->cap * 2 : 8;
        rs_pace_entry **grown = realloc(pt->entry, (size_t)cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        pt->entry = grown;
        pt->cap = cap;
    }
    if ((e = calloc(1, sizeof *e)) == NULL)
        return NULL;
    if ((e->key = malloc(len + 1)) == NULL) {
        free(e);
        return NULL;
    }
    memcpy(e->key, key, len);
    e->key[len] = '\0';
    e->len = len;
    e->hash = hash;
    rs_bucket_init(&e->b, pt->retry_delay);
    pt->entry[pt->count++] = e;
    return e;
}

static rs_pace_entry *lookup(rs_pace_table *pt, const char *key, size_t len, int add)
{
    unsigned hash = hash_of(key, len);
    int i;
    for (i = 0; i < pt->count; i++) {
        rs_pace_entry *e = pt->entry[i];
        if (e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0)
            return e;
    }
    return add ? add_entry(pt, key, len, hash) : NULL;
}

rs_pace_entry *rs_pace_find(rs_pace_table *pt, const char *method, const char *service,
                            const char *path, const char *tail)
{
    char key[RS_PACE_KEY_MAX + 1];
    size_t len = 0;
    put_word(key, &len, sizeof key, method);
    put_word(key, &len, sizeof key, service);
    put_path(key, &len, sizeof key, path);
    if (tail != NULL && len + 4 < sizeof key) {
        memcpy(key + len, "{id}", 4);
        len += 4;
        put_path(key, &len, sizeof key, tail);
    }
    return lookup(pt, key, len, 1);
}

rs_pace_entry *rs_pace_key_entry(rs_pace_table *pt, const char *key, int add)
{
    size_t len = strlen(key);
    return lookup(pt, key, len > RS_PACE_KEY_MAX ? RS_PACE_KEY_MAX : len, add);
}

rs_pace_entry *rs_pace_next(rs_pace_table *pt, double now, int pace, double *soonest)
{
    int i;
    *soonest = RS_PACE_ANSWER;
    for (i = 0; i < pt->count; i++) {
        int k = (pt->turn + i) % pt->count;
        rs_pace_entry *e = pt->entry[k];
        double d;
        if (e->head == NULL)
            continue;
        d = pace ? rs_bucket_delay(&e->b, now) : 0;
        if (d <= 0) {
            pt->turn = (k + 1) % pt->count;
            return e;
        }
        if (d < *soonest)
            *soonest = d;
    }
    return NULL;
}

/* Whether service is the second word of key. */
static int of_service(const rs_pace_entry *e, const char *service)
{
    const char *s = strchr(e->key, ' ');
    size_t n = strlen(service);
    return s && strncmp(s + 1, service, n) == 0 && s[1 + n] == ' ';
}

rs_pace_entry *rs_pace_worst(rs_pace_table *pt, const char *service, double now, rs_bucket_view *v)
{
    rs_pace_entry *worst = NULL;
    rs_bucket_view best, cur;
    int i;
    for (i = 0; i < pt->count; i++) {
        rs_pace_entry *e = pt->entry[i];
        if (!of_service(e, service))
            continue;
        rs_bucket_view_at(&e->b, now, &cur);
        if (!cur.known)
            continue;
        if (worst == NULL || cur.wait > best.wait
            || (cur.wait == best.wait && cur.remaining < best.remaining)) {
            worst = e;
            best = cur;
        }
    }
    if (worst)
        *v = best;
    return worst;
}

void rs_pace_release(rs_pace_table *pt)
{
    int i;
    for (i = 0; i < pt->count; i++) {
        rs_bucket_free(&pt->entry[i]->b);
        free(pt->entry[i]->key);
        free(pt->entry[i]);
    }
    free(pt->entry);
    pt->entry = NULL;
    pt->count = pt->cap = pt->turn = pt->queued = 0;
}
