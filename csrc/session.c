/*
 * session.c: what the transfers of one client share: its header lists
 * (credentials, the csrf token), the secrets to redact, what each service
 * said of its limits and the pacing that follows from it, and a rotated
 * cookie taken up.  Plain C on the session: no Lua, no transfer.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fleet.h"
#include "session.h"

double rs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- secrets and header lists ------------------------------------------ */

/* Overwrites s before its memory goes back to the allocator; the volatile
 * pointer keeps the compiler from dropping the stores. */
static void wipe(char *s)
{
    volatile char *p = s;
    while (p && *p)
        *p++ = 0;
}

void rs_free_secret(char *s)
{
    wipe(s);
    free(s);
}

/* The cookie, the api key and the access token; old cookies go after. */
#define NAMED_SECRETS 3

int rs_session_init_secrets(rs_session *s)
{
    s->secrets = calloc(NAMED_SECRETS + 1, sizeof *s->secrets);
    if (s->secrets == NULL)
        return 0;
    s->secret_count = NAMED_SECRETS;
    s->secret_cap = NAMED_SECRETS + 1;
    return 1;
}

/* Room for one more secret; 0 on out-of-memory, changing nothing. */
static int secrets_room(rs_session *s)
{
    char **grown;
    int cap;
    if (s->secret_count < s->secret_cap)
        return 1;
    cap = s->secret_cap * 2;
    grown = realloc(s->secrets, (size_t)cap * sizeof *grown);
    if (grown == NULL)
        return 0;
    s->secrets = grown;
    s->secret_cap = cap;
    return 1;
}

rs_headers *rs_headers_new(struct curl_slist *list)
{
    rs_headers *h = malloc(sizeof *h);
    if (h == NULL)
        return NULL;
    h->list = list;
    h->refs = 1;
    return h;
}

void rs_headers_unref(rs_headers *h)
{
    struct curl_slist *item;
    if (h == NULL || --h->refs > 0)
        return;
    for (item = h->list; item; item = item->next)
        wipe(item->data);
    curl_slist_free_all(h->list);
    free(h);
}

/* The csrf header is built on the stack: a token is at most RS_MAX_TOKEN
 * bytes, checked when it was taken. */
int rs_list_add(struct curl_slist **list, const char *line)
{
    struct curl_slist *grown = curl_slist_append(*list, line);
    if (grown == NULL)
        return 0;
    *list = grown;
    return 1;
}

int rs_list_add_all(struct curl_slist **list, const struct curl_slist *from)
{
    for (; from; from = from->next)
        if (!rs_list_add(list, from->data))
            return 0;
    return 1;
}

int rs_session_write_headers(rs_session *s)
{
    static const char *const extra[] = {
        "Content-Type: application/json",
        "Expect:",              /* no 100-continue round trip */
        NULL
    };
    struct curl_slist *list = NULL;
    const char *const *x;
    char line[RS_MAX_TOKEN + 32];
    rs_headers *h;
    if (!rs_list_add_all(&list, s->read_headers ? s->read_headers->list : NULL))
        goto fail;
    for (x = extra; *x; x++)
        if (!rs_list_add(&list, *x))
            goto fail;
    if (s->csrf_token) {
        int added;
        snprintf(line, sizeof line, "x-csrf-token: %s", s->csrf_token);
        added = rs_list_add(&list, line);
        wipe(line);
        if (!added)
            goto fail;
    }
    if ((h = rs_headers_new(list)) == NULL)
        goto fail;
    rs_headers_unref(s->write_headers);
    s->write_headers = h;
    return 1;
fail:
    rs_free_list(&list);
    return 0;
}

void rs_session_release(rs_session *s)
{
    int i;
    rs_fleet_leave(s);          /* before the buckets its takes point at */
    if (s->share) {             /* every session has one until released */
        curl_share_cleanup(s->share);
        s->share = NULL;
        if (s->unreleased)
            (*s->unreleased)--;
    }
    rs_headers_unref(s->read_headers);
    rs_headers_unref(s->write_headers);
    s->read_headers = s->write_headers = NULL;
    rs_free_secret(s->csrf_token);
    s->csrf_token = NULL;
    for (i = 0; i < s->secret_count; i++)
        rs_free_secret(s->secrets[i]);
    free(s->secrets);
    s->secrets = NULL;
    s->secret_count = s->secret_cap = 0;
    rs_free_list(&s->apis_lines);
    rs_pace_release(&s->buckets);
    free(s->services);
    s->services = NULL;
    s->service_count = s->service_cap = 0;
    rs_h2_hosts_free(&s->hosts);
    free(s->proxy);
    free(s->cainfo);
    s->proxy = s->cainfo = NULL;
}

void rs_free_list(struct curl_slist **list)
{
    struct curl_slist *item;
    for (item = *list; item; item = item->next)
        wipe(item->data);
    curl_slist_free_all(*list);
    *list = NULL;
}

/* ---- services and their limits ----------------------------------------- */

/* The index of the service called name in s->services, added if new;
 * -1 when memory ran out. */
int rs_session_service_index(rs_session *s, const char *name)
{
    int i;
    for (i = 0; i < s->service_count; i++)
        if (strcmp(s->services[i].name, name) == 0)
            return i;
    if (s->service_count == s->service_cap) {
        int cap = s->service_cap ? s->service_cap * 2 : 8;
        rs_service *grown = realloc(s->services, (size_t)cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        s->services = grown;
        s->service_cap = cap;
    }
    memset(&s->services[i], 0, sizeof s->services[i]);
    snprintf(s->services[i].name, sizeof s->services[i].name, "%s", name);
    s->service_count++;
    return i;
}


/* ---- a rotated cookie --------------------------------------------------- */

/* A cookie value as new() accepts it (RFC 6265 cookie-octets). */
int rs_cookie_is_clean(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v <= 0x20 || (unsigned char)*v >= 0x7f || *v == '"' || *v == ','
            || *v == ';' || *v == '\\')
            return 0;
    return 1;
}

/* The attribute of a Set-Cookie at a ("Name=value", cut at ';'), its
 * name and value without the blanks around them. */
static void split_attribute(char *a, char **name, char **value)
{
    char *eq, *end;
    while (*a == ' ' || *a == '\t')
        a++;
    *name = a;
    eq = strchr(a, '=');
    *value = eq ? eq + 1 : a + strlen(a);
    if (eq)
        *eq = '\0';
    for (end = *name + strlen(*name); end > *name && (end[-1] == ' ' || end[-1] == '\t'); )
        *--end = '\0';
    while (**value == ' ' || **value == '\t')
        (*value)++;
    for (end = *value + strlen(*value); end > *value && (end[-1] == ' ' || end[-1] == '\t'); )
        *--end = '\0';
}

/* Whether a Domain attribute names roblox.com or one of its subdomains
 * (a leading dot is allowed, case does not matter). */
static int is_roblox_domain(const char *d)
{
    size_t len;
    if (*d == '.')
        d++;
    len = strlen(d);
    return strcasecmp(d, "roblox.com") == 0
        || (len > 11 && strcasecmp(d + len - 11, ".roblox.com") == 0);
}

int rs_set_cookie_rotates(char *v)
{
    char *a = strchr(v, ';'), *name, *value, *next, *end;
    int expired = 0, max_age = 1, has_max_age = 0;
    if (a)
        *a++ = '\0';
    if (v[0] == '\0' || strcmp(v, "deleted") == 0)
        return 0;
    for (; a && *a; a = next) {
        if ((next = strchr(a, ';')) != NULL)
            *next++ = '\0';
        split_attribute(a, &name, &value);
        if (strcasecmp(name, "domain") == 0 && *value && !is_roblox_domain(value))
            return 0;
        if (strcasecmp(name, "max-age") == 0) {
            long n = strtol(value, &end, 10);
            if (end != value && *end == '\0') {
                has_max_age = 1;
                max_age = n > 0;
            }
        }
        if (strcasecmp(name, "expires") == 0) {
            time_t at = curl_getdate(value, NULL);
            expired = at != (time_t)-1 && at <= time(NULL);
        }
    }
    /* Max-Age, when there is one, outranks Expires (RFC 6265 5.3). */
    return has_max_age ? max_age : !expired;
}

/* The session's header lists with the Cookie line of value.  Every
 * cookie the client held stays a secret to redact: an old one may still
 * come back in an answer.  The copies are written before anything can
 * fail, so that the failure path wipes only what was written. */
int rs_session_rotate_cookie(rs_session *s, const char *value)
{
    struct curl_slist *list = NULL, *item;
    rs_headers *fresh, *old = s->read_headers;
    size_t len = strlen(value);
    char *copy = malloc(len + 1), *line = malloc(len + 32);
    if (copy)
        memcpy(copy, value, len + 1);
    if (line)
        snprintf(line, len + 32, "Cookie: .ROBLOSECURITY=%s", value);
    if (copy == NULL || line == NULL || !secrets_room(s))
        goto fail;
    for (item = old->list; item; item = item->next)
        if (!rs_list_add(&list, strncmp(item->data, "Cookie: ", 8) == 0 ? line : item->data))
            goto fail;
    if ((fresh = rs_headers_new(list)) == NULL)
        goto fail;
    s->read_headers = fresh;
    if (!rs_session_write_headers(s)) {
        s->read_headers = old;
        list = NULL;
        rs_headers_unref(fresh);
        goto fail;
    }
    rs_headers_unref(old);
    s->secrets[s->secret_count++] = s->secrets[0];     /* the old one stays redacted */
    s->secrets[0] = copy;
    rs_free_secret(line);
    return 1;
fail:
    rs_free_list(&list);
    rs_free_secret(copy);
    rs_free_secret(line);
    return 0;
}

