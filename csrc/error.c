/*
 * error.c: the error object of the contract, a table with the fields kind,
 * status, code, message, errors, retry_after, sent, method and url, and a
 * metatable whose __tostring gives a one-line summary.
 *
 * Whatever came from the server (the reason phrase, the body's messages)
 * is scrubbed of the client's credentials: a server that echoes a cookie
 * back must not put it into a log line.
 */
#include <string.h>

#include "pacing.h"
#include "rs.h"

static void set_string(lua_State *L, const char *field, const char *value)
{
    if (value != NULL) {
        lua_pushstring(L, value);
        lua_setfield(L, -2, field);
    }
}

/* Copies src[field] into dst[field] (absolute indices) when its type is
 * one of those wanted, a bitmask of 1 << LUA_T*. */
static void copy_field(lua_State *L, int dst, int src, const char *field, int types)
{
    int t = lua_getfield(L, src, field);
    if (types & (1 << t))
        lua_setfield(L, dst, field);
    else
        lua_pop(L, 1);
}

/* Takes code, message and errors from the decoded error body at src: the
 * Roblox envelope {"errors":[{code,message,...}]} or the flat
 * {"code":..,"message":..} shape.  Anything else leaves them unset. */
static void copy_roblox_error(lua_State *L, int dst, int src)
{
    const int wanted = (1 << LUA_TNUMBER) | (1 << LUA_TSTRING);
    if (lua_getfield(L, src, "errors") == LUA_TTABLE) {
        if (lua_rawgeti(L, -1, 1) == LUA_TTABLE) {
            int first = lua_gettop(L);
            copy_field(L, dst, first, "code", wanted);
            copy_field(L, dst, first, "message", wanted);
        }
        lua_pop(L, 1);
        lua_setfield(L, dst, "errors");
        return;
    }
    lua_pop(L, 1);
    copy_field(L, dst, src, "code", wanted);
    copy_field(L, dst, src, "message", wanted);
}

/* For an http failure: decodes the body when it is JSON and falls back to
 * the status line, so an HTML error page still reads well. */
static void set_http_details(lua_State *L, int dst, const rs_failure *f)
{
    char err[128];
    if (f->body_len > 0 && rs_json_decode(L, f->body, f->body_len, err, sizeof err)) {
        if (lua_istable(L, -1))
            copy_roblox_error(L, dst, lua_gettop(L));
        lua_pop(L, 1);
    }
    if (lua_getfield(L, dst, "message") == LUA_TNIL) {
        lua_pushfstring(L, "HTTP %d%s%s", (int)f->status,
                        f->reason && *f->reason ? " " : "",
                        f->reason ? f->reason : "");
        lua_setfield(L, dst, "message");
    }
    lua_pop(L, 1);
}

/* The secrets to redact: every credential the client has held. */
typedef struct secret_list {
    char *const *v;
    int n;
} secret_list;

static int holds_secret(lua_State *L, int idx, const secret_list *secrets)
{
    int i;
    for (i = 0; i < secrets->n; i++)
        if (secrets->v[i] && secrets->v[i][0] && strstr(lua_tostring(L, idx), secrets->v[i]))
            return 1;
    return 0;
}

/* Replaces every secret in the string at the top of the stack. */
static void redact_top(lua_State *L, const secret_list *secrets)
{
    int i;
    for (i = 0; i < secrets->n; i++)
        if (secrets->v[i] && secrets->v[i][0] && strstr(lua_tostring(L, -1), secrets->v[i])) {
            luaL_gsub(L, lua_tostring(L, -1), secrets->v[i], "<redacted>");
            lua_remove(L, -2);
        }
}

/* Redacts every string in the table at idx, keys and values, and nested
 * tables to the codec's depth.  Values are replaced during the traversal
 * (allowed for existing keys); keys that hold a secret are collected and
 * renamed after it. */
static void redact_table(lua_State *L, int idx, const secret_list *secrets, int depth)
{
    int renamed = 0, i;
    if (depth > RS_JSON_MAX_DEPTH)
        return;
    luaL_checkstack(L, 8, "robloxsocial: error object");
    lua_newtable(L);                    /* keys to rename */
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -1) == LUA_TTABLE)
            redact_table(L, lua_gettop(L), secrets, depth + 1);
        else if (lua_type(L, -1) == LUA_TSTRING && holds_secret(L, -1, secrets)) {
            redact_top(L, secrets);
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, idx);
            lua_pushnil(L);             /* popped below, like the value */
        }
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING && holds_secret(L, -1, secrets)) {
            lua_pushvalue(L, -1);
            lua_rawseti(L, -3, ++renamed);
        }
    }
    for (i = 1; i <= renamed; i++) {
        lua_rawgeti(L, -1, i);          /* old key */
        lua_pushvalue(L, -1);
        redact_top(L, secrets);         /* new key */
        lua_pushvalue(L, -2);
        lua_rawget(L, idx);             /* its value */
        lua_rawset(L, idx);
        lua_pushnil(L);
        lua_rawset(L, idx);             /* the old key goes */
    }
    lua_pop(L, 1);
}

/* The shortest start of a secret taken for one at the end of a message. */
#define RS_CUT_SECRET_MIN 8

/* Replaces a start of a secret (RS_CUT_SECRET_MIN bytes or more) that
 * ends the message field: the reason phrase it may come from is cut to
 * fit its buffer, and a long cookie echoed in it would be cut too, out
 * of reach of a whole match. */
static void redact_cut_tail(lua_State *L, int err, const secret_list *secrets)
{
    size_t len, k, n;
    const char *m;
    int i;
    if (lua_getfield(L, err, "message") != LUA_TSTRING) {
        lua_pop(L, 1);
        return;
    }
    m = lua_tolstring(L, -1, &len);
    for (i = 0; i < secrets->n; i++) {
        if (secrets->v[i] == NULL)
            continue;
        n = strlen(secrets->v[i]);
        for (k = n < len ? n : len; k >= RS_CUT_SECRET_MIN; k--)
            if (memcmp(m + len - k, secrets->v[i], k) == 0) {
                lua_pushlstring(L, m, len - k);
                lua_pushliteral(L, "<redacted>");
                lua_concat(L, 2);
                lua_setfield(L, err, "message");
                lua_pop(L, 1);
                return;
            }
    }
    lua_pop(L, 1);
}

/* Redacts the string field of the table at err, when it is one. */
static void redact_field(lua_State *L, int err, const char *field, const secret_list *secrets)
{
    if (lua_getfield(L, err, field) == LUA_TSTRING && holds_secret(L, -1, secrets)) {
        redact_top(L, secrets);
        lua_setfield(L, err, field);
    } else
        lua_pop(L, 1);
}

/* The fields whose text came from the server: message (maybe the reason
 * phrase), a code that is a string, the errors list and the challenge
 * (its id, type and decoded metadata).  The fields the client wrote
 * itself (kind, method, url) are left alone, so a short credential
 * cannot garble them. */
static void redact_server_text(lua_State *L, int err, const secret_list *secrets)
{
    static const char *const tables[] = {"errors", "challenge"};
    int i;
    redact_field(L, err, "message", secrets);
    redact_cut_tail(L, err, secrets);
    redact_field(L, err, "code", secrets);
    for (i = 0; i < 2; i++) {
        if (lua_getfield(L, err, tables[i]) == LUA_TTABLE)
            redact_table(L, lua_gettop(L), secrets, 0);
        lua_pop(L, 1);
    }
}

void rs_error_push(lua_State *L, const rs_failure *f)
{
    luaL_checkstack(L, 8, "robloxsocial: error object");
    lua_createtable(L, 0, 10);
    set_string(L, "kind", f->kind);
    set_string(L, "method", f->method);
    set_string(L, "url", f->url);
    if (f->status > 0) {
        lua_pushinteger(L, (lua_Integer)f->status);
        lua_setfield(L, -2, "status");
    }
    if (f->retry_after >= 0) {
        lua_Integer whole = (lua_Integer)f->retry_after;
        if ((double)whole == f->retry_after)
            lua_pushinteger(L, whole);
        else
            lua_pushnumber(L, (lua_Number)f->retry_after);
        lua_setfield(L, -2, "retry_after");
    }
    if (f->sent >= 0) {
        lua_pushboolean(L, f->sent);
        lua_setfield(L, -2, "sent");
    }
    if (strcmp(f->kind, "http") == 0)
        set_http_details(L, lua_gettop(L), f);
    else
        set_string(L, "message", f->reason);
    if (f->rate && f->rate->has) {
        if (f->view)            /* the contract's table, as client:rate_limit */
            rs_pace_push_view(L, f->view, f->queued, f->shared);
        else
            rs_rate_push(L, f->rate, -1);
        lua_setfield(L, -2, "rate_limit");
    }
    if (f->challenge_id || f->challenge_type) {
        lua_createtable(L, 0, 3);
        set_string(L, "id", f->challenge_id);
        set_string(L, "type", f->challenge_type);
        rs_push_challenge_metadata(L, f->challenge_metadata);
        lua_setfield(L, -2, "metadata");
        lua_setfield(L, -2, "challenge");
    }
    if (f->secrets) {
        secret_list secrets;
        secrets.v = f->secrets;
        secrets.n = f->secret_count;
        redact_server_text(L, lua_gettop(L), &secrets);
    }
    luaL_setmetatable(L, RS_ERROR_MT);
}

/* Pushes the field as a string when it has one of the types wanted and
 * returns 1; pushes nothing and returns 0 otherwise. */
static int push_text(lua_State *L, const char *field, int want_number)
{
    int t = lua_getfield(L, 1, field);
    if (t == LUA_TSTRING || (want_number && t == LUA_TNUMBER)) {
        luaL_tolstring(L, -1, NULL);
        lua_remove(L, -2);
        return 1;
    }
    lua_pop(L, 1);
    return 0;
}

/* __tostring: "robloxsocial: http 400 (code 1): <message> [GET <url>]".
 * Built from the fields as they are now, and never raises on odd ones. */
static int error__tostring(lua_State *L)
{
    int n = 1;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lua_pushliteral(L, "robloxsocial: ");
    if (!push_text(L, "kind", 0))
        lua_pushliteral(L, "error");
    n++;
    if (push_text(L, "status", 1)) {
        lua_pushliteral(L, " ");
        lua_insert(L, -2);
        n += 2;
    }
    if (push_text(L, "code", 1)) {
        lua_pushfstring(L, " (code %s)", lua_tostring(L, -1));
        lua_remove(L, -2);
        n++;
    }
    if (push_text(L, "message", 0)) {
        lua_pushliteral(L, ": ");
        lua_insert(L, -2);
        n += 2;
    }
    if (push_text(L, "method", 0)) {
        if (push_text(L, "url", 0)) {
            lua_pushfstring(L, " [%s %s]", lua_tostring(L, -2), lua_tostring(L, -1));
            lua_replace(L, -3);
            lua_pop(L, 1);
            n++;
        } else
            lua_pop(L, 1);
    }
    lua_concat(L, n);
    /* One line, whatever a server put in its message. */
    luaL_gsub(L, luaL_gsub(L, lua_tostring(L, -1), "\r", " "), "\n", " ");
    return 1;
}

void rs_error_open(lua_State *L)
{
    luaL_newmetatable(L, RS_ERROR_MT);
    lua_pushcfunction(L, error__tostring);
    lua_setfield(L, -2, "__tostring");
    lua_setfield(L, -2, "error_mt");
}
