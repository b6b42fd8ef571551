/*
 * client.c: the client userdata: construction from its options (read by
 * options.c), lifetime, and the entry points core.send (a blocking call)
 * and core.start (a transfer for a task) that the Lua layer builds every
 * method on.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "fleet.h"
#include "host.h"
#include "options.h"
#include "sched.h"

/* ---- construction and release ----------------------------------------- */

/* One idempotent release serves close(), __gc and __close.  Transfers in
 * flight are cancelled (a task waiting for one is resumed with a
 * "cancelled" error); the session's memory goes once no result is being
 * made from it (a finalizer may close the client during a decode). */
static void client_release(rs_client *c)
{
    if (rs_client_is_open(c) && c->loop) {
        rs_loop_detach_session(c->loop, &c->session);
        rs_loop_connections(c->loop, -c->queue.concurrency);
    }
    rs_fleet_leave(&c->session);
    c->session.closed = 1;
    rs_pool_release(&c->pool);          /* what a result still being built gives back is freed */
    if (c->session.building == 0)
        rs_session_release(&c->session);
    free(c->origin);
    free(c->domain);
    free(c->url);
    c->origin = c->domain = c->url = NULL;
    c->url_cap = 0;
}

static char *copy_string(lua_State *L, const char *s, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy == NULL)
        luaL_error(L, "robloxsocial: not enough memory");
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

/* Appends "name: value" to the list; raises on out-of-memory (the list
 * belongs to the client, so nothing leaks). */
static void add_header(lua_State *L, struct curl_slist **list, const char *line)
{
    int added = rs_list_add(list, line);
    lua_pop(L, 1);              /* line, pushed by the caller */
    if (!added)
        luaL_error(L, "robloxsocial: not enough memory");
}

/* Keeps a copy of a credential in secret slot i, to be redacted. */
static void keep_secret(lua_State *L, rs_session *s, int i, const char *value)
{
    s->secrets[i] = copy_string(L, value, strlen(value));
}

/* User-Agent is a header line rather than CURLOPT_USERAGENT: libcurl
 * formats the option anew for every request, a list line it only copies.
 * The cookie goes to every service; the api key and the access token
 * only to the apis service (no other accepts them), in lines of their
 * own.  The credentials are also kept apart, to be redacted from errors. */
static void build_read_headers(lua_State *L, rs_client *c, const rs_options *o)
{
    rs_session *s = &c->session;
    s->read_headers = rs_headers_new(NULL);
    if (s->read_headers == NULL || !rs_session_init_secrets(s))
        luaL_error(L, "robloxsocial: not enough memory");
    lua_pushliteral(L, "Accept: application/json");
    add_header(L, &s->read_headers->list, lua_tostring(L, -1));
    lua_pushfstring(L, "User-Agent: %s", o->user_agent ? o->user_agent : "robloxsocial/" RS_VERSION);
    add_header(L, &s->read_headers->list, lua_tostring(L, -1));
    if (o->cookie) {
        keep_secret(L, s, 0, o->cookie);
        lua_pushfstring(L, "Cookie: .ROBLOSECURITY=%s", o->cookie);
        add_header(L, &s->read_headers->list, lua_tostring(L, -1));
    }
    if (o->api_key) {
        keep_secret(L, s, 1, o->api_key);
        lua_pushfstring(L, "x-api-key: %s", o->api_key);
        add_header(L, &s->apis_lines, lua_tostring(L, -1));
    }
    if (o->access_token) {
        keep_secret(L, s, 2, o->access_token);
        lua_pushfstring(L, "Authorization: Bearer %s", o->access_token);
        add_header(L, &s->apis_lines, lua_tostring(L, -1));
    }
}

/* Keeps the checked base_url without a trailing slash. */
static void set_origin(lua_State *L, rs_client *c, const char *base_url)
{
    size_t len = strlen(base_url);
    while (len > 0 && base_url[len - 1] == '/')
        len--;
    c->origin = copy_string(L, base_url, len);
}

static void client_init(lua_State *L, rs_client *c, const rs_options *o)
{
    rs_session *s = &c->session;
    s->share = curl_share_init();
    if (s->share == NULL)
        luaL_error(L, "robloxsocial: libcurl could not create a handle");
    s->unreleased = &c->loop->sessions;     /* counted until rs_session_release */
    (*s->unreleased)++;
    /* The client's own connections: close() frees them, and no other
     * client's kept-alive connection carries its requests. */
    if (curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK
        || curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK
        || curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK)
        luaL_error(L, "robloxsocial: libcurl refused to share its caches");
    if (o->base_url)
        set_origin(L, c, o->base_url);
    else
        c->domain = copy_string(L, o->domain, strlen(o->domain));
    if (o->proxy)
        s->proxy = copy_string(L, o->proxy, strlen(o->proxy));
    if (o->cainfo)
        s->cainfo = copy_string(L, o->cainfo, strlen(o->cainfo));
    s->timeout = o->timeout;
    s->deadline = o->deadline;
    s->connect_timeout = o->connect_timeout;
    s->retry_delay = o->retry_delay;
    s->max_retries = o->max_retries;
    s->http2 = o->http2;
    s->tls = c->origin == NULL || strncmp(c->origin, "https://", 8) == 0;
    s->pace = o->pace;
    s->buckets.retry_delay = o->retry_delay;
    s->buckets.clock = rs_now;
    s->pace_timer.is_pace = 1;
    build_read_headers(L, c, o);
    if (!rs_session_write_headers(s))
        luaL_error(L, "robloxsocial: not enough memory");
}

/* The hooks go into a table, the client's user value (its transfers
 * reach it through the client), and session.hooks says which there are:
 * on_response makes the transfers record their attempts. */
static void keep_hooks(lua_State *L, rs_client *c, int options)
{
    static const char *const names[] = {"on_response", "on_cookie"};
    static const int flags[] = {RS_HOOK_RESPONSE, RS_HOOK_COOKIE};
    int i;
    lua_createtable(L, 0, 2);
    for (i = 0; i < 2; i++) {
        if (lua_getfield(L, options, names[i]) == LUA_TFUNCTION)
            c->session.hooks |= flags[i];
        lua_setfield(L, -2, names[i]);
    }
    lua_setiuservalue(L, -2, 1);
}

/* The rate_limits option (checked: { [bucket key] = { limit, seconds } })
 * seeds the buckets it names. */
static void seed_buckets(lua_State *L, rs_client *c, int options)
{
    int t;
    lua_getfield(L, options, "rate_limits");
    t = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        rs_pace_entry *e = rs_pace_key_entry(&c->session.buckets, lua_tostring(L, -2), 1);
        lua_rawgeti(L, -1, 1);
        lua_rawgeti(L, -2, 2);
        if (e == NULL || !rs_bucket_seed(&e->b, lua_tonumber(L, -2), lua_tonumber(L, -1)))
            luaL_error(L, "robloxsocial: not enough memory");
        lua_pop(L, 3);
    }
    lua_pop(L, 1);
}

/* shared_limits: the buckets ask the fleet's store (fleet.c); its key
 * is the hash of the credential given here. */
static void join_fleet(lua_State *L, rs_client *c, const rs_options *o)
{
    const char *credential = o->cookie ? o->cookie : o->api_key ? o->api_key : o->access_token;
    if (!rs_fleet_join(&c->session, c->loop, o->shared_limits, credential, strlen(credential),
                       o->connect_timeout))
        luaL_error(L, "robloxsocial: not enough memory");
}

/* new(options): validates everything first, then builds the userdata
 * closed-first (zeroed, metatable set) so that a failure halfway leaves an
 * object that __gc can free. */
static int client_new(lua_State *L)
{
    rs_options o;
    rs_client *c;
    rs_options_read(L, 1, &o);
    c = lua_newuserdatauv(L, sizeof *c, 1);
    memset(c, 0, sizeof *c);
    luaL_setmetatable(L, RS_CLIENT_MT);
    c->loop = rs_loop_get(L);
    c->queue.concurrency = (int)o.concurrency;     /* counted out by the release */
    c->session.pool = &c->pool;
    c->session.queue = &c->queue;
    rs_pool_keep(&c->pool, c->queue.concurrency);
    rs_loop_connections(c->loop, c->queue.concurrency);
    client_init(L, c, &o);
    if (o.hooks)
        keep_hooks(L, c, 1);
    if (o.rate_limits)
        seed_buckets(L, c, 1);
    if (o.shared_limits)
        join_fleet(L, c, &o);
    return 1;
}

/* ---- methods ----------------------------------------------------------- */

/* The open client at idx; raises otherwise. */
static rs_client *client_check(lua_State *L, int idx)
{
    rs_client *c = luaL_checkudata(L, idx, RS_CLIENT_MT);
    if (!rs_client_is_open(c))
        luaL_error(L, "robloxsocial: attempt to use a closed client");
    return c;
}

static int client_close(lua_State *L)
{
    client_release(luaL_checkudata(L, 1, RS_CLIENT_MT));
    return 0;
}

static int client__tostring(lua_State *L)
{
    rs_client *c = luaL_checkudata(L, 1, RS_CLIENT_MT);
    if (!rs_client_is_open(c))
        lua_pushliteral(L, "robloxsocial.Client (closed)");
    else
        lua_pushfstring(L, "robloxsocial.Client (%p)", (void *)c);
    return 1;
}

static const char *const http_methods[] = {"GET", "POST", "DELETE", "PATCH", "PUT", NULL};

/* The index of the method at idx in http_methods.  Every call names one,
 * so it is told by its length and first letter before one comparison. */
static int check_method(lua_State *L, int idx)
{
    size_t len;
    const char *m = lua_tolstring(L, idx, &len);
    int i = -1;
    if (m != NULL) {
        switch (len) {
        case 3: i = m[0] == 'G' ? 0 : 4; break;
        case 4: i = 1; break;
        case 5: i = 3; break;
        case 6: i = 2; break;
        default: break;
        }
    }
    if (i >= 0 && memcmp(m, http_methods[i], len) == 0)
        return i;
    /* luaL_checkoption compares C strings: it would take "GET\0x" for GET. */
    if (m != NULL && memchr(m, '\0', len) != NULL)
        return luaL_argerror(L, idx, lua_pushfstring(L, "invalid option '%s' (it has an embedded zero)", m));
    return luaL_checkoption(L, idx, NULL, http_methods);   /* raises the usual error */
}

/* A service name: lower-case letters, digits and '-', as in a host name. */
static const char *check_service(lua_State *L, int idx)
{
    size_t len, i;
    const char *name = luaL_checklstring(L, idx, &len);
    for (i = 0; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')
              || (i > 0 && name[i] == '-')))
            break;
    if (len == 0 || i < len)
        luaL_argerror(L, idx, "a service name of lower-case letters, digits and '-'");
    return name;
}

/* Checks the header lines of the table at idx (client:request's headers,
 * already checked by the Lua layer), before anything is allocated. */
static void check_extra_headers(lua_State *L, int idx)
{
    lua_Integer i, n = luaL_len(L, idx);
    for (i = 1; i <= n; i++) {
        if (lua_rawgeti(L, idx, i) != LUA_TSTRING)
            luaL_argerror(L, idx, "header lines expected");
        lua_pop(L, 1);
    }
}

/* Copies them into t->extra; 0 when memory ran out. */
static int take_extra_headers(lua_State *L, rs_transfer *t, int idx)
{
    lua_Integer i, n = luaL_len(L, idx);
    for (i = 1; i <= n; i++) {
        int added;
        lua_rawgeti(L, idx, i);
        added = rs_list_add(&t->extra, lua_tostring(L, -1));
        lua_pop(L, 1);
        if (!added)
            return 0;
    }
    return 1;
}

/* The client at arg 1, or NULL: its metatable is compared with the
 * upvalue of the entry points (luaL_checkudata would look it up by
 * name). */
static rs_client *client_at_1(lua_State *L)
{
    rs_client *c = lua_touserdata(L, 1);
    int is_client = c != NULL && lua_getmetatable(L, 1);
    if (is_client) {
        is_client = lua_rawequal(L, -1, lua_upvalueindex(1));
        lua_pop(L, 1);
    }
    return is_client ? c : NULL;
}

/* The client at arg 1; raises otherwise. */
static rs_client *entry_client(lua_State *L)
{
    rs_client *c = client_at_1(L);
    if (c == NULL)
        luaL_typeerror(L, 1, RS_CLIENT_MT);
    return c;
}

/* The arguments of a request, checked. */
typedef struct rs_call {
    rs_client *c;
    int m;                      /* index into http_methods */
    int id_form;                /* path is head .. id .. tail */
    const char *service, *body;
    size_t body_len;
    lua_Integer group, id;
    int headers;                /* stack index of extra header lines, or 0 */
    int read;                   /* a read sent as POST: retried as a GET, no `sent` */
    double deadline;            /* on the rs_now clock; HUGE_VAL: none */
} rs_call;

/* The call's deadline, the one place it is computed: the argument at idx
 * (an absolute time on the core.now() clock), or else the client's
 * `deadline` option from now, or none (HUGE_VAL). */
static double call_deadline(lua_State *L, const rs_client *c, int idx)
{
    if (idx && !lua_isnoneornil(L, idx)) {
        lua_Number at = luaL_checknumber(L, idx);
        luaL_argcheck(L, at == at, idx, "a deadline, not NaN");
        return (double)at;
    }
    return c->session.deadline > 0 ? rs_now() + c->session.deadline : HUGE_VAL;
}

/* Checks the arguments (client, method, service, path[, query[, body[,
 * group[, headers[, read[, deadline]]]]]]), or (client, method, service, head, id, tail) in
 * the id form; c is the client at 1 when the caller has checked it, or
 * NULL.  Raises on misuse, before anything is allocated.  group
 * (an integer, 0 for none) ties the transfers of one batch call: after
 * one of them fails, the others still queued are cancelled.  headers is
 * a list of extra "Name: value" lines; read (a boolean) says that a POST
 * is a read (presence and the like), not a write. */
static void check_call(lua_State *L, rs_client *c, int id_form, rs_call *r)
{
    memset(r, 0, sizeof *r);
    r->c = c ? c : entry_client(L);
    r->m = check_method(L, 2);
    r->service = check_service(L, 3);
    r->id_form = id_form;
    if (id_form) {
        r->id = luaL_checkinteger(L, 5);
        luaL_argcheck(L, r->id > 0, 5, "a positive id expected");
        luaL_checkstring(L, 6);
    } else {
        r->body = luaL_optlstring(L, 6, NULL, &r->body_len);
        r->group = luaL_optinteger(L, 7, 0);
        luaL_optstring(L, 5, NULL);
        if (r->m == 0 && r->body != NULL)
            luaL_argerror(L, 6, "a GET request has no body");
        if (!lua_isnoneornil(L, 8)) {
            luaL_checktype(L, 8, LUA_TTABLE);
            check_extra_headers(L, 8);
            r->headers = 8;
        }
        r->read = lua_toboolean(L, 9);
    }
    luaL_checkstring(L, 4);
    r->deadline = call_deadline(L, r->c, id_form ? 0 : 10);
}

/* Makes t (zeroed) the request r describes and hands it to the loop,
 * anchoring the task at stack index task, if any.  On out-of-memory
 * frees what t took and raises; a bad path raises before anything is
 * taken. */
static void submit(lua_State *L, const rs_call *r, rs_transfer *t, int blocking, int task)
{
    rs_client *c = r->c;
    const char *url;
    t->method = http_methods[r->m];
    t->is_write = r->m != 0 && !r->read;
    t->blocking = blocking;
    if (!rs_client_is_open(c)) {
        /* The Lua layer checked that the client was open; it was closed
         * since, by a finalizer: the call is cancelled, as a call in
         * flight is by close(). */
        t->state = RS_T_CANCELLED;
        return;
    }
    /* No Lua allocation between building the URL in the client's scratch
     * buffer and copying it: a finalizer could use the buffer meanwhile. */
    url = r->id_form ? rs_url_build_id(L, c, r->service, 4, r->id, 6)
                     : rs_url_build(L, c, r->service, 4, lua_isnoneornil(L, 5) ? 0 : 5);
    if (!rs_transfer_init(t, &c->session, t->method, r->service, url, r->body, r->body_len)
        || (t->pace.entry = rs_pace_find(&c->session.buckets, t->method, r->service,
                                         lua_tostring(L, 4), r->id_form ? lua_tostring(L, 6) : NULL)) == NULL
        || (r->headers && !take_extra_headers(L, t, r->headers))) {
        rs_transfer_free_buffers(t);
        t->state = RS_T_SPENT;
        luaL_error(L, "robloxsocial: not enough memory");
    }
    t->pace.owner = t;
    t->group = r->group;
    t->deadline = r->deadline;
    t->is_write = r->m != 0 && !r->read;    /* rs_transfer_init took every POST for a write */
    rs_loop_submit(L, c->loop, t, task);
}

/* Pushes a new transfer userdata for the request at the arguments,
 * queued or started. */
static rs_transfer *push_transfer(lua_State *L, rs_client *c, int blocking, int id_form, int task)
{
    rs_call r;
    rs_transfer *t;
    check_call(L, c, id_form, &r);
    t = rs_loop_new_transfer(L, r.c->loop, lua_upvalueindex(2));
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);        /* the client (and its hooks) live as long as it */
    submit(L, &r, t, blocking, task);
    return t;
}

/* Makes t, a transfer that is no userdata, the call at the arguments of
 * the checked client c, and submits it (see submit). */
static void send_no_userdata(lua_State *L, rs_client *c, int id_form, rs_transfer *t,
                             int blocking, int task)
{
    rs_call r;
    check_call(L, c, id_form, &r);
    memset(t, 0, sizeof *t);
    t->ref = LUA_NOREF;
    t->state = RS_T_SPENT;      /* until it is whole */
    submit(L, &r, t, blocking, task);
}

/* A blocking call: its transfer lives on the C stack, so that the most
 * common call makes no userdata for the collector to finalize.  Nothing
 * but libcurl and the loop points at it until rs_loop_take has let go of
 * it, and past submit nothing raises outside a protected call before its
 * buffers are freed (the hooks run protected). */
static int send_on_stack(lua_State *L, rs_client *c, int id_form, int hooks)
{
    rs_transfer t;
    send_no_userdata(L, c, id_form, &t, 1, 0);
    return rs_loop_take(L, c->loop, &t, hooks);
}

/* The loop of the client at 1, which a call has checked. */
static rs_loop *loop_at_1(lua_State *L)
{
    return ((rs_client *)lua_touserdata(L, 1))->loop;
}

/* Where send_call leaves things on the stack: the client's hooks (or
 * nil) right under the task, and a transfer userdata right over it. */
#define HOOKS_UNDER_TASK(task) ((task) - 1)

/* Resumed by the scheduler once the transfer at ctx is over. */
static int send_resumed(lua_State *L, int status, lua_KContext ctx)
{
    int tidx = (int)ctx;
    (void)status;
    rs_sched_check_resumed(L, tidx - 1);
    lua_settop(L, tidx);
    return rs_loop_take(L, loop_at_1(L), rs_loop_unbox(L, tidx),
                        HOOKS_UNDER_TASK(tidx - 1));    /* the task is under tidx */
}

/* The same for a call on the task's own transfer; ctx is the task. */
static int send_own_resumed(lua_State *L, int status, lua_KContext ctx)
{
    int task = (int)ctx;
    (void)status;
    rs_sched_check_resumed(L, task);
    lua_settop(L, task);
    return rs_loop_take(L, loop_at_1(L), rs_sched_transfer(L, task), HOOKS_UNDER_TASK(task));
}

/* A call inside a task: it uses the task's own transfer, which the
 * scheduler frees if the task ends in the call.  The hooks run protected
 * and their error is raised once the transfer is spent, so nothing but a
 * memory error while the result is pushed leaves it in use, and the
 * scheduler then lets go of it. */
static int send_own(lua_State *L, rs_client *c, int id_form, int task, rs_transfer *t)
{
    send_no_userdata(L, c, id_form, t, 0, task);
    if (rs_loop_is_over(t))
        return rs_loop_take(L, c->loop, t, HOOKS_UNDER_TASK(task));
    return rs_sched_suspend(L, 0, task, send_own_resumed);
}

/* A call inside a task whose own transfer is in use (a call before it
 * failed while its result was pushed) or could not be made (memory): a
 * transfer userdata, pushed over the task, which the scheduler resumes
 * it with. */
static int send_transfer(lua_State *L, rs_transfer *t, int task)
{
    int tidx = lua_gettop(L);
    if (rs_loop_is_over(t))
        return rs_loop_take(L, loop_at_1(L), t, HOOKS_UNDER_TASK(task));
    return rs_sched_suspend(L, tidx, tidx, send_resumed);
}

/* core.send and core.send_id: inside a task they suspend it until the
 * answer is in; anywhere else they block, driving the loop (other
 * transfers move meanwhile). */
static int send_call(lua_State *L, rs_client *c, int id_form)
{
    int task, hooks = id_form ? 7 : 11;
    rs_transfer *own;
    lua_settop(L, hooks - 1);
    if (c->session.hooks)
        lua_getiuservalue(L, 1, 1); /* the client's hooks */
    else
        lua_pushnil(L);
    task = rs_sched_push_current(L, lua_upvalueindex(3));   /* the table of tasks */
    if (!task) {
        rs_host_check_strict(L, c->loop, "a call outside a task");
        return send_on_stack(L, c, id_form, hooks);
    }
    own = rs_sched_transfer(L, task);
    if (own && rs_transfer_is_spent(own))
        return send_own(L, c, id_form, task, own);
    return send_transfer(L, push_transfer(L, c, 0, id_form, task), task);
}

/* core.send(client, method, service, path[, query[, body[, nil[,
 * headers[, read[, deadline]]]]]]): query is an encoded query string
 * without '?', body a JSON text, read true for a read sent as POST,
 * deadline an absolute time on the core.now() clock (nil: the client's
 * `deadline` option).  Returns the decoded body, or nil and an error table.  The
 * Lua layer raises on a closed client before it calls this; a client
 * closed since gives a "cancelled" error. */
static int client_send(lua_State *L)
{
    return send_call(L, entry_client(L), 0);
}

/* core.start(client, method, service, path[, query[, body[, group[,
 * headers[, read[, deadline]]]]]]): the same
 * request as a transfer that a task waits for (the scheduler takes it when
 * it is over; core.result gives its answer). */
static int client_start(lua_State *L)
{
    push_transfer(L, NULL, 0, 0, 0);
    return 1;
}

/* core.start_blocking(...): a transfer that a blocking call waits for
 * itself (a batch outside a task): the scheduler never sees it. */
static int client_start_blocking(lua_State *L)
{
    rs_host_check_strict(L, rs_loop_get(L), "a call outside a task");
    push_transfer(L, NULL, 1, 0, 0);
    return 1;
}

/* What core.send_id returns, as core.REFUSED, when its first argument is
 * not an open client or the id not a positive integer: nothing was sent,
 * and the method falls back on its general path, which raises the error
 * the user should see (or takes an id such as 5.0). */
static const char refused_key = 'R';

/* core.send_id(client, method, service, head, id, tail): core.send for
 * a path head .. id .. tail, written into the URL without a Lua string
 * (the id-only methods, the most called, which leave the check of the
 * client and the id to it). */
static int client_send_id(lua_State *L)
{
    rs_client *c = client_at_1(L);
    if (c == NULL || !rs_client_is_open(c) || !lua_isinteger(L, 5) || lua_tointeger(L, 5) <= 0) {
        lua_pushlightuserdata(L, (void *)&refused_key);
        return 1;
    }
    return send_call(L, c, 1);
}

/* core.is_open(client): whether the client can still be used.  The Lua
 * layer raises itself, so that the error points at the user's call. */
static int client_is_open(lua_State *L)
{
    rs_client *c = luaL_checkudata(L, 1, RS_CLIENT_MT);
    lua_pushboolean(L, rs_client_is_open(c));
    return 1;
}

/* core.has_cookie(v): whether v is an open client that holds a cookie
 * (a cookie rotates but never goes, so this holds for the client's
 * life).  Never raises: the cookie-only methods call it in place of
 * their check of the client, and fall back on the path that raises. */
static int client_has_cookie(lua_State *L)
{
    rs_client *c = client_at_1(L);
    lua_pushboolean(L, c != NULL && rs_client_is_open(c) && c->session.secrets[0] != NULL);
    return 1;
}

/* core.deadline_of(client): the seconds of its `deadline` option, or
 * nil; the Lua layer fixes one deadline from it for a whole batch or
 * walk (a single call leaves the core to apply it). */
static int client_deadline_of(lua_State *L)
{
    const rs_client *c = client_check(L, 1);
    if (c->session.deadline > 0)
        lua_pushnumber(L, c->session.deadline);
    else
        lua_pushnil(L);
    return 1;
}

/* core.concurrency(client): its cap on requests in flight. */
static int client_concurrency(lua_State *L)
{
    lua_pushinteger(L, client_check(L, 1)->queue.concurrency);
    return 1;
}

/* client:rate_limit(service[, key]): what the client knows of the bucket
 * of that key (the Lua layer turns a method name into it), or of the
 * service's bucket that must wait longest, or has the fewest requests
 * remaining; nil when none knows a limit. */
static int client_rate_limit(lua_State *L)
{
    rs_client *c = client_check(L, 1);
    const char *service = luaL_checkstring(L, 2), *key = luaL_optstring(L, 3, NULL);
    rs_pace_table *pt = &c->session.buckets;
    rs_pace_entry *e;
    rs_bucket_view v;
    double now = rs_now();
    if (key == NULL)
        e = rs_pace_worst(pt, service, now, &v);
    else if ((e = rs_pace_key_entry(pt, key, 0)) != NULL) {
        rs_bucket_view_at(&e->b, now, &v);
        if (!v.known)
            e = NULL;
    }
    if (e == NULL)
        return 0;
    rs_pace_push_view(L, &v, e->queued, rs_fleet_shared(&c->session));
    return 1;
}

/* client:stats(): { connections = { [origin] = connections opened },
 * store = { up, waits, longest_wait } with shared_limits }. */
static int client_stats(lua_State *L)
{
    rs_client *c = client_check(L, 1);
    lua_createtable(L, 0, 2);
    rs_h2_push_connections(L, &c->session.hosts);
    lua_setfield(L, -2, "connections");
    if (rs_fleet_push_stats(L, &c->session))
        lua_setfield(L, -2, "store");
    return 1;
}

static const luaL_Reg client_methods[] = {
    {"close", client_close},
    {"rate_limit", client_rate_limit},
    {"stats", client_stats},
    {NULL, NULL}
};

static const luaL_Reg client_meta[] = {
    {"__gc", client_close},
    {"__close", client_close},
    {"__tostring", client__tostring},
    {NULL, NULL}
};

static const luaL_Reg client_functions[] = {
    {"new", client_new},
    {"send", client_send},
    {"start", client_start},
    {"start_blocking", client_start_blocking},
    {"send_id", client_send_id},
    {"is_open", client_is_open},
    {"has_cookie", client_has_cookie},
    {"deadline_of", client_deadline_of},
    {"concurrency", client_concurrency},
    {NULL, NULL}
};

void rs_client_open(lua_State *L)
{
    luaL_newmetatable(L, RS_CLIENT_MT);
    luaL_setfuncs(L, client_meta, 0);
    luaL_newlib(L, client_methods);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__index");
    lua_setfield(L, -3, "methods");
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "client_mt");
    /* The two metatables as upvalues: the entry points compare and set
     * them without a registry look-up by name on every call.  Then the
     * scheduler's table of tasks by coroutine, to tell a call made inside
     * a task. */
    luaL_getmetatable(L, RS_TRANSFER_MT);
    rs_sched_push_tasks(L);
    luaL_setfuncs(L, client_functions, 3);
    lua_pushlightuserdata(L, (void *)&refused_key);
    lua_setfield(L, -2, "REFUSED");
}
