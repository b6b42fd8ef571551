/*
 * rs.h: declarations shared by the parts of robloxsocial.core.
 *
 * Each part (json, error, loop, transfer, client) exposes a small C interface
 * here and registers its Lua-visible functions from an rs_*_open function
 * that the aggregator in robloxsocial.c calls.  Nothing here is exported
 * from the shared object but luaopen_robloxsocial_core.
 */
#ifndef RS_H
#define RS_H

#include <stddef.h>

#include "lua.h"
#include "lauxlib.h"

#define RS_VERSION "0.1.0"

/* Registry names of the module's metatables. */
#define RS_CLIENT_MT "robloxsocial.Client"
#define RS_ERROR_MT "robloxsocial.Error"
#define RS_ARRAY_MT "robloxsocial.array"

/* JSON null is the light userdata NULL, the same value as cjson.null. */
#define rs_pushnull(L) lua_pushlightuserdata((L), NULL)
#define rs_isnull(L, i) \
    (lua_islightuserdata((L), (i)) && lua_touserdata((L), (i)) == NULL)

/* Deepest nesting of arrays and objects that the codec accepts. */
#define RS_JSON_MAX_DEPTH 256

/* ---- json_decode.c ------------------------------------------------------
 * Decodes the len bytes at s and pushes the value.  Integers without a
 * fraction or exponent that fit in 64 bits become Lua integers, other
 * numbers floats, null rs_pushnull, an empty or all-blank input an empty
 * table.  On malformed input it pushes nothing, writes a one-line reason
 * into err (errlen bytes, NUL-terminated) and returns 0; otherwise 1.
 * May raise only a memory error; the input is not modified. */
int rs_json_decode(lua_State *L, const char *s, size_t len,
                   char *err, size_t errlen);

/* ---- json_encode.c ------------------------------------------------------
 * Pushes the JSON text of the value at idx.  Integers are written exactly,
 * floats with an integral value as integers, other floats with 17
 * significant digits.  A sequence is an array, a table with string keys an
 * object, an empty table {} unless its metatable is RS_ARRAY_MT.  Raises
 * "robloxsocial: cannot encode ...: <why>" on NaN, infinities, mixed or
 * sparse tables, functions and too deep nesting. */
void rs_json_encode(lua_State *L, int idx);

/* Adds json_decode, json_encode, null and array_mt to the table on top. */
void rs_json_open(lua_State *L);

/* ---- ratelimit.c -------------------------------------------------------- */

#define RS_RATE_WINDOWS 8

/* One window of a limit: at most limit requests in seconds. */
typedef struct rs_window {
    double limit, seconds;
} rs_window;

/* What one answer's x-ratelimit-* headers said. */
typedef struct rs_rate {
    int has;
    double limit, remaining, reset;      /* reset: seconds from the reading */
    int windows;
    rs_window window[RS_RATE_WINDOWS];
} rs_rate;

/* Parses the three header values ("" when absent) into r; returns r->has:
 * 0 unless limit and remaining are numbers. */
int rs_rate_parse(rs_rate *r, const char *limit, const char *remaining, const char *reset);

/* Pushes { limit, remaining, reset, windows = { {limit, seconds}, ... } }
 * and, when age >= 0, age: the seconds since it was read. */
void rs_rate_push(lua_State *L, const rs_rate *r, double age);

/* ---- challenge.c -------------------------------------------------------- */

/* Whether an answer of that status and rblx-challenge-id and -type
 * values ("" when absent) is a challenge. */
int rs_challenge_is(long status, const char *id, const char *type);

/* Pushes the decoded JSON of base64 text, or nil when it is neither. */
void rs_push_challenge_metadata(lua_State *L, const char *b64);

/* ---- ids.c --------------------------------------------------------------
 * Adds ids_check and ids_body (a list of ids checked, and written as a
 * one-field JSON body) to the table on top. */
void rs_ids_open(lua_State *L);

/* ---- error.c ------------------------------------------------------------ */

/* What the transport knows about a failed exchange. */
typedef struct rs_failure {
    const char *kind;      /* "http", "network", "timeout", "decode" */
    long status;           /* HTTP status, 0 when there was none */
    const char *reason;    /* HTTP reason phrase, or a transport message */
    const char *body;      /* response body, may be NULL */
    size_t body_len;
    double retry_after;    /* seconds, < 0 when the server did not say */
    const char *method;
    const char *url;       /* never holds credentials */
    int sent;              /* writes: 0 or 1; -1 for a read (no field) */
    char *const *secrets;  /* secret_count credentials or NULLs, replaced by <redacted> */
    int secret_count;
    const rs_rate *rate;   /* the answer's rate limit, or NULL */
    /* with rate: its endpoint's bucket as client:rate_limit shows it, or NULL */
    const struct rs_bucket_view *view;
    int queued, shared;    /* of view: requests waiting, a shared_limits store holds it */
    const char *challenge_id, *challenge_type, *challenge_metadata;  /* or NULL */
} rs_failure;

/* Pushes the contract's error table for f (a table with metatable
 * RS_ERROR_MT).  Every string that came from the server (message,
 * errors, a string code, the challenge) is scrubbed of the secrets.  May raise only a memory error. */
void rs_error_push(lua_State *L, const rs_failure *f);

/* Creates RS_ERROR_MT and adds error_mt to the module table on top. */
void rs_error_open(lua_State *L);

/* ---- loop.c, client.c ----------------------------------------------------- */

/* Creates the loop of this Lua state (once) and adds progress,
 * stats, now, result, cancel and done to the table on top. */
void rs_loop_open(lua_State *L);

/* Creates RS_CLIENT_MT and adds new and methods to the table on top. */
void rs_client_open(lua_State *L);

/* ---- testing.c ------------------------------------------------------------ */

/* Adds fail_alloc_after, for the specs, to the table on top. */
void rs_testing_open(lua_State *L);

/* Adds pacing_bucket and pace_key (pacing_test.c, for the specs). */
void rs_pacing_test_open(lua_State *L);

/* Writes n's decimal digits at out (room for 20, no terminator) and
 * returns how many: for the hand-built texts (a URL's id, a Redis
 * command's counts and numbers, a share's name), without snprintf. */
static inline size_t rs_put_decimal(char *out, unsigned long long n)
{
    char rev[20];
    size_t k = 0, i;
    do
        rev[k++] = (char)('0' + n % 10);
    while ((n /= 10) != 0);
    for (i = 0; i < k; i++)
        out[i] = rev[k - 1 - i];
    return k;
}

#endif
