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

/* Whether path (up to '?' or its end), numbers taken out, is at k in a
 * key; returns where it ends in k, or NULL. */
static const char *same_path(const char *k, const char *path)
{
    int at_start = k[-1] == '/';
    for (; *path && *path != '?'; at_start = *path++ == '/') {
        if (at_start && *path >= '0' && *path <= '9') {
            const char *e = path;
            while (*e >= '0' && *e <= '9')
                e++;
            if (*e == '/' || *e == '?' || *e == '\0') {
                if (strncmp(k, "{id}", 4) != 0)
                    return NULL;
                k += 4;
                path = e - 1;
                continue;
            }
        }
        if (*k++ != *path)
            return NULL;
    }
    return k;
}

/* Whether e is the bucket of method, service, path and tail, compared
 * in place: the key is not written, nor hashed.  (A key cut at
 * RS_PACE_KEY_MAX is not found this way: lookup finds it.) */
static int is_entry_of(const rs_pace_entry *e, const char *method, const char *service,
                       const char *path, const char *tail)
{
    size_t m = strlen(method), s = strlen(service);
    const char *k = e->key;
    if (e->len < m + s + 3 || memcmp(k, method, m) != 0 || k[m] != ' '
        || memcmp(k + m + 1, service, s) != 0 || k[m + 1 + s] != ' ')
        return 0;
    k += m + s + 2;
    if ((k = same_path(k, path)) == NULL)
        return 0;
    if (tail) {
        if (strncmp(k, "{id}", 4) != 0 || (k = same_path(k + 4, tail)) == NULL)
            return 0;
    }
    return *k == '\0';
}

/* Keeps service, path and tail as given, for the next lookup: the calls
 * of one endpoint method send the same path pieces each time (an id
 * between them), which strcmp compares faster than any walk. */
static void keep_raw(rs_pace_table *pt, const char *method, const char *service,
                     const char *path, const char *tail)
{
    size_t a = strlen(service) + 1, b = strlen(path) + 1, c = tail ? strlen(tail) + 1 : 0;
    pt->last_len = 0;
    if (a + b + c + 1 > sizeof pt->last_raw)
        return;
    memcpy(pt->last_raw, service, a);
    memcpy(pt->last_raw + a, path, b);
    pt->last_raw[a + b] = tail ? 't' : 'p';   /* a tail, or none */
    if (tail)
        memcpy(pt->last_raw + a + b + 1, tail, c);
    pt->last_method = method;
    pt->last_len = a + b + c + 1;
}

static int is_raw(const rs_pace_table *pt, const char *method, const char *service,
                  const char *path, const char *tail)
{
    const char *r = pt->last_raw;
    if (pt->last_len == 0 || method != pt->last_method || strcmp(r, service) != 0)
        return 0;
    r += strlen(r) + 1;
    if (strcmp(r, path) != 0)
        return 0;
    r += strlen(r) + 1;
    return tail ? *r == 't' && strcmp(r + 1, tail) == 0 : *r == 'p';
}

rs_pace_entry *rs_pace_find(rs_pace_table *pt, const char *method, const char *service,
                            const char *path, const char *tail)
{
    char key[RS_PACE_KEY_MAX + 1];
    size_t len = 0;
    if (pt->last && is_raw(pt, method, service, path, tail))
        return pt->last;
    if (pt->last && is_entry_of(pt->last, method, service, path, tail)) {
        keep_raw(pt, method, service, path, tail);
        return pt->last;
    }
    put_word(key, &len, sizeof key, method);
    put_word(key, &len, sizeof key, service);
    put_path(key, &len, sizeof key, path);
    if (tail != NULL && len + 4 < sizeof key) {
        memcpy(key + len, "{id}", 4);
        len += 4;
        put_path(key, &len, sizeof key, tail);
    }
    if ((pt->last = lookup(pt, key, len, 1)) != NULL)
        keep_raw(pt, method, service, path, tail);
    return pt->last;
}

rs_pace_entry *rs_pace_key_entry(rs_pace_table *pt, const char *key, int add)
{
    size_t len = strlen(key);
    return lookup(pt, key, len > RS_PACE_KEY_MAX ? RS_PACE_KEY_MAX : len, add);
}

void rs_pace_line_add(rs_pace_table *pt, rs_pace_link *l, int front)
{
    rs_pace_entry *e = l->entry;
    if (l->lined || e == NULL)
        return;
    if (front) {
        l->prev = NULL;
        l->next = e->head;
        if (e->head)
            e->head->prev = l;
        else
            e->tail = l;
        e->head = l;
    } else {
        l->next = NULL;
        l->prev = e->tail;
        if (e->tail)
            e->tail->next = l;
        else
            e->head = l;
        e->tail = l;
    }
    l->lined = 1;
    e->queued++;
    pt->queued++;
}

void rs_pace_line_remove(rs_pace_table *pt, rs_pace_link *l)
{
    rs_pace_entry *e = l->entry;
    if (!l->lined)
        return;
    if (l->prev)
        l->prev->next = l->next;
    else
        e->head = l->next;
    if (l->next)
        l->next->prev = l->prev;
    else
        e->tail = l->prev;
    l->next = l->prev = NULL;
    l->lined = 0;
    e->queued--;
    pt->queued--;
}

/* now, read from the clock if it was not yet. */
static double now_of(const rs_pace_table *pt, double now)
{
    return now >= 0 || pt->clock == NULL ? now : pt->clock();
}

rs_pace_link *rs_pace_take(rs_pace_table *pt, double now, int pace,
                           int (*may_start)(void *owner), double *soonest)
{
    int i;
    *soonest = RS_PACE_ANSWER;
    for (i = 0; i < pt->count && pt->queued > 0; i++) {
        int k = (pt->turn + i) % pt->count;
        rs_pace_entry *e = pt->entry[k];
        rs_pace_link *l = e->head;
        double d;
        if (l == NULL)
            continue;
        d = 0;
        if (pace && !e->b.free) {
            now = now_of(pt, now);
            d = pt->shared && pt->shared(pt->fleet) ? rs_bucket_delay_shared(&e->b, now)
                                                    : rs_bucket_delay(&e->b, now);
        }
        if (d > 0) {
            if (d < *soonest)
                *soonest = d;
            continue;
        }
        if (may_start && !may_start(l->owner))
            continue;
        if (pace && pt->gate && !e->b.free
            && !pt->gate(pt->fleet, e, l, now = now_of(pt, now), &d)) {
            if (d < *soonest)
                *soonest = d;
            continue;
        }
        pt->turn = (k + 1) % pt->count;
        rs_pace_line_remove(pt, l);
        return l;
    }
    return NULL;
}

void rs_pace_sent(rs_pace_link *l, double now)
{
    if (l->entry)
        l->seq = rs_bucket_send(&l->entry->b, now);
}

void rs_pace_round_trip(rs_pace_link *l, double rtt)
{
    if (l->entry && l->seq)
        rs_bucket_round_trip(&l->entry->b, l->seq, rtt);
}

/* A number in [0, 1) for a backoff's jitter (xorshift64: no libc state). */
static double jitter(rs_pace_table *pt)
{
    unsigned long long x = pt->jitter;
    if (x == 0)                 /* seeded from the table's address: clients differ */
        x = 0x9e3779b97f4a7c15ull ^ (unsigned long long)(size_t)pt;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    pt->jitter = x;
    return (double)(x >> 11) / 9007199254740992.0;
}

void rs_pace_settled(rs_pace_table *pt, rs_pace_link *l, double now, long status,
                     const rs_rate *r, double retry_after)
{
    rs_bucket *b;
    if (l->entry == NULL || l->seq == 0)
        return;
    b = &l->entry->b;
    if (pt->settle)
        pt->settle(pt->fleet, l->entry, l, status, r, retry_after);
    if (!(b->free && status > 0 && status != 429 && !(r && r->has)))
        now = now_of(pt, now);      /* a free bucket told nothing new needs no time */
    if (status == 429)
        rs_bucket_refused(b, l->seq, now, r, retry_after, jitter(pt));
    else if (status > 0)
        rs_bucket_answer(b, l->seq, now, r, status < 400);
    else
        rs_bucket_lost(b, l->seq, now);
    l->seq = 0;
}

void rs_pace_ended(rs_pace_table *pt, rs_pace_link *l)
{
    rs_pace_line_remove(pt, l);
    if (pt->ended && l->entry)
        pt->ended(pt->fleet, l->entry, l);
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
    pt->last = NULL;
    pt->last_len = 0;
    pt->count = pt->cap = pt->turn = pt->queued = 0;
}
