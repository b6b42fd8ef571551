/*
 * store_script.c: what a fleet's store (store.c) says to Redis: the
 * script that keeps each endpoint's shares, and its calls in Redis's
 * protocol, formatted here rather than by hiredis (see rs_store_command).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rs.h"
#include "store_script.h"

/* KEYS[1]: the sorted set of shares by time; KEYS[2]: closed until.
 * ARGV: op, member, then take's flight, how many shares it wants and
 * windows (limit, seconds)..., granting as many as every window has room
 * for (at least one, or none and the wait), named member.1, member.2...;
 * or release's first and last: the shares member.first to member.last,
 * granted and never used (their requests ended before they went), leave
 * the count at once, not when their flight ends;
 * or answered's and refused's seconds, "new" (a request that went
 * without a share: counted from its answer) or "old", and the answer's
 * remaining count, reset and limit (-1: not said), then the bucket's
 * windows.  An answer is counted whether its share is still held or not
 * (trimmed while it waited for a slot, or lost with a Redis that
 * restarted): the server counted it.  An answer that says none remain
 * while the store still sees room in its window (requests it has not
 * counted: another client of the account) closes the endpoint until its
 * reset, as a 429 until its Retry-After (for every style of window the
 * budget has room again by then; counted from when the store heard it,
 * later than the server said it); one that the store's own count
 * explains adds nothing to the windows, whose rule already holds the
 * fleet back until that budget is back, and sooner than a reset rounded
 * up to whole seconds.  As pacing.c logs them, a share counts from
 * when it was answered (the latest it can have been counted); one in
 * flight counts as now, its time put flight seconds ahead (the longest
 * it can be out: a process that dies leaves no share held longer), and
 * a window whose L-th share is in flight is asked again shortly.  Floats
 * go back as strings (Redis truncates numbers a script returns). */
const char rs_store_script[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) + tonumber(t[2]) / 1e6\n"
    "local op, member = ARGV[1], ARGV[2]\n"
    "local function close(secs)\n"
    "  local ms = math.ceil(secs * 1000)\n"
    "  local closed = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
    "  if ms > 0 and now + ms / 1000 > closed then\n"
    "    redis.call('SET', KEYS[2], tostring(now + ms / 1000), 'PX', ms)\n"
    "  end\n"
    "end\n"
    "if op == 'release' then\n"
    "  local names = {}\n"
    "  for j = tonumber(ARGV[3]), tonumber(ARGV[4]) do names[#names + 1] = member .. '.' .. j end\n"
    "  if #names > 0 then redis.call('ZREM', KEYS[1], unpack(names)) end\n"
    "  return {1, '0'}\n"
    "end\n"
    "if op == 'answered' or op == 'refused' then\n"
    "  redis.call('ZADD', KEYS[1], now, member)\n"
    "  if redis.call('PTTL', KEYS[1]) < 120000 then redis.call('PEXPIRE', KEYS[1], 120000) end\n"
    "  if op == 'refused' then close(tonumber(ARGV[3])) end\n"
    "  local left, reset, limit = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])\n"
    "  if left == 0 and reset > 0 then\n"
    "    local known = false\n"
    "    for i = 8, #ARGV - 1, 2 do\n"
    "      local L, W = math.floor(tonumber(ARGV[i])), tonumber(ARGV[i + 1])\n"
    "      local n = redis.call('ZCOUNT', KEYS[1], '(' .. (now - W), '+inf')\n"
    "      if (limit < 0 or L == math.floor(limit)) and n >= L then known = true end\n"
    "    end\n"
    "    if not known then close(reset) end\n"
    "  end\n"
    "  return {1, '0'}\n"
    "end\n"
    "local closed = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
    "if closed > now then return {0, tostring(closed - now)} end\n"
    "local flight, room = tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local wait, longest = 0, 0\n"
    "for i = 5, #ARGV - 1, 2 do\n"
    "  local L, W = tonumber(ARGV[i]), tonumber(ARGV[i + 1])\n"
    "  if W > longest then longest = W end\n"
    "  local n = redis.call('ZCOUNT', KEYS[1], '(' .. (now - W), '+inf')\n"
    "  if L - n < room then room = L - n end\n"
    "  if n >= L then\n"
    "    local e = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', '(' .. (now - W),\n"
    "                         'WITHSCORES', 'LIMIT', L - 1, 1)\n"
    "    local at = tonumber(e[2])\n"
    "    local w = at > now and math.min(math.max(W / 8, 0.02), 0.25) or at + W - now\n"
    "    if w > wait then wait = w end\n"
    "  end\n"
    "end\n"
    "if wait > 0 or room < 1 then return {0, tostring(math.max(wait, 0.001))} end\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)\n"
    "local shares = {}\n"
    "for j = 1, room do\n"
    "  shares[#shares + 1] = now + flight\n"
    "  shares[#shares + 1] = member .. '.' .. j\n"
    "end\n"
    "redis.call('ZADD', KEYS[1], unpack(shares))\n"
    "redis.call('PEXPIRE', KEYS[1], math.ceil((longest + flight) * 1000) + 60000)\n"
    "return {room, '0'}\n";

/* v as the script reads a number: an integer's digits (a limit, a window
 * of whole seconds, a Retry-After, the timeout: most of them), else
 * %.17g, which costs snprintf some thousands of instructions. */
void rs_store_number(char *out, size_t cap, double v)
{
    size_t i = 0;
    if (cap < 24 || v != floor(v) || fabs(v) >= 1e15) {
        snprintf(out, cap, "%.17g", v);
        return;
    }
    if (v < 0)
        out[i++] = '-';
    i += rs_put_decimal(out + i, (unsigned long long)fabs(v));
    out[i] = '\0';
}

/* mark, n's digits and CRLF at p; NULL when they would pass end. */
static char *put_count(char *p, const char *end, char mark, size_t n)
{
    char digits[20];
    size_t k = rs_put_decimal(digits, n);
    if (p == NULL || (size_t)(end - p) < k + 3)
        return NULL;
    *p++ = mark;
    memcpy(p, digits, k);
    p += k;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

/* argv in Redis's protocol (an array of bulk strings) into buf: its
 * length, or 0 when it does not fit.  hiredis's own formatting of an
 * argv (sdscatfmt) cost some 8,000 instructions a command, most of a
 * record's; hiredis still sends it (redisAsyncFormattedCommand), and
 * reads and parses the answers. */
size_t rs_store_command(char *buf, size_t cap, int argc, const char **argv)
{
    char *p = put_count(buf, buf + cap, '*', (size_t)argc);
    int i;
    for (i = 0; i < argc && p != NULL; i++) {
        size_t len = strlen(argv[i]);
        p = put_count(p, buf + cap, '$', len);
        if (p == NULL || (size_t)(buf + cap - p) < len + 2)
            return 0;
        memcpy(p, argv[i], len);
        p += len;
        *p++ = '\r';
        *p++ = '\n';
    }
    return p == NULL ? 0 : (size_t)(p - buf);
}
