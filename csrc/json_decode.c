/*
 * json_decode.c: the JSON decoder of robloxsocial.core (RFC 8259).
 *
 * One pass over the bytes (two over a string with escapes) that builds
 * the Lua values directly on the stack, with no tree in between.  Integers that fit in 64 bits stay Lua
 * integers: Debian's lua-cjson turns every number into a float, which
 * loses Roblox ids above 2^53.  The input is not NUL-terminated, so every
 * read is checked against the end pointer.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "rs.h"

/* Longest number text handed to lua_stringtonumber (Lua's own limit). */
#define NUMBUF 200

#define STR_(x) #x
#define STR(x) STR_(x)
#define TOO_DEEP "nesting deeper than " STR(RS_JSON_MAX_DEPTH) " levels"

typedef const unsigned char *cursor;

#if defined(__GNUC__) && defined(__BYTE_ORDER__) \
    && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LITTLE_ENDIAN_GNUC 1
#else
#define LITTLE_ENDIAN_GNUC 0
#endif

/* Containers stay out of line so that the per-value dispatch, which is
 * inlined into the loops, keeps a small frame. */
#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

/* Keys are cached in KEYCACHE stack slots (see push_key), for bodies
 * of at least KEYCACHE_MIN bytes, where setting the slots up pays off. */
#define KEYCACHE 64
#define KEYCACHE_MIN 512
#define KEYMAX 40                          /* LUAI_MAXSHORTLEN */

/* Key order remembered per level (see decoder.shape). */
#define SHAPE_DEPTH 16
#define SHAPE_KEYS 32
#define SHAPE_NONE 0xFF

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* Array elements wait on the stack, up to ACHUNK of them, so that the
 * table is made at its final size instead of growing. */
#define ACHUNK 64

/* Stack slots a value needs beyond its container: a key, the value, and
 * a string's luaL_Buffer box while it is being unescaped. */
#define VALUE_SLOTS 6

typedef struct decoder {
    lua_State *L;
    cursor start, end;
    char *err;
    size_t errlen;
    int depth;
    int seen;                              /* deepest level reached */
    int kbase;                             /* slot of key 0, or 0: no cache */
    unsigned char klen[KEYCACHE];          /* 0: empty slot */
    const char *kptr[KEYCACHE];
    int ohint[RS_JSON_MAX_DEPTH + 1];      /* keys of the last object */
    /* The cache slots of the keys of the last object at each of the
     * first SHAPE_DEPTH levels, in order (SHAPE_NONE: not cached): the
     * items of a page repeat them, so the next object's keys are
     * checked against these first, with no scan, hash or lookup. */
    unsigned char shape[SHAPE_DEPTH][SHAPE_KEYS];
    unsigned char shape_n[SHAPE_DEPTH];
} decoder;

/* Bytes a string scan stops at: '"', '\\' and control characters. */
#define X16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#define O16 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
static const unsigned char stops[256] = {
    X16, X16,                                              /* 0x00 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,        /* 0x20 */
    O16, O16,                                              /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,        /* 0x50 */
    O16, O16, O16, O16, O16, O16, O16, O16, O16, O16       /* 0x60 */
};

/* What a one-character escape stands for; 0 marks an invalid escape. */
static const char unescapes[256] = {
    ['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b',
    ['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t'
};

static ALWAYS_INLINE cursor parse_value(decoder *d, cursor p);

/* JSON whitespace is all <= ' ', so one compare rejects most bytes. */
static cursor skip_ws(cursor p, cursor end)
{
    while (p < end && *p <= ' '
           && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* Writes "<what> at byte <n>" (n counts from 1, as string.sub does) and
 * returns NULL.  what NULL means the byte at p was not expected. */
static cursor fail(decoder *d, cursor p, const char *what)
{
    size_t at = (size_t)(p - d->start) + 1;
    if (d->errlen == 0)
        return NULL;
    if (p >= d->end)
        snprintf(d->err, d->errlen, "unexpected end of input at byte %zu", at);
    else if (what)
        snprintf(d->err, d->errlen, "%s at byte %zu", what, at);
    else if (*p >= 0x20 && *p < 0x7f)
        snprintf(d->err, d->errlen, "unexpected character '%c' at byte %zu",
                 *p, at);
    else
        snprintf(d->err, d->errlen, "unexpected byte 0x%02X at byte %zu",
                 *p, at);
    return NULL;
}

/* ---- strings ---------------------------------------------------------- */

/* The first byte from q on that ends a plain run of string bytes: '"',
 * '\\', a control character, or end.  Sixteen bytes at a time with SSE2
 * (always there on x86-64), then eight with the classic SWAR tests for a
 * zero byte (after xor with '"' and '\\') and for a byte below 0x20; the
 * xors keep each byte's top bit, so the tests share one "& ~w". */
static inline cursor scan_plain(cursor q, cursor end)
{
    const uint64_t ones = 0x0101010101010101u, high = ones * 0x80;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i c1f = _mm_set1_epi8(0x1f);
    while (end - q >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
        __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                 _mm_cmpeq_epi8(v, bslash));
        int bits = _mm_movemask_epi8(_mm_or_si128(m,
                       _mm_cmpeq_epi8(_mm_min_epu8(v, c1f), v)));
        if (bits)
            return q + __builtin_ctz((unsigned)bits);
        q += 16;
    }
#endif
    while (end - q >= 8) {
        uint64_t w, m;
        memcpy(&w, q, 8);
        m = ((w ^ ones * '"') - ones) | ((w ^ ones * '\\') - ones)
            | (w - ones * 0x20);
        if ((m &= ~w & high) != 0) {
#if LITTLE_ENDIAN_GNUC
            /* the lowest flagged byte is always a true stop */
            return q + (__builtin_ctzll((unsigned long long)m) >> 3);
#else
            break;
#endif
        }
        q += 8;
    }
    while (q < end && !stops[*q])
        q++;
    return q;
}

/* The four hex digits at p (the caller checked that they are there), or
 * -1. */
static long hex4(cursor p)
{
    long v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        unsigned c = p[i], l = c | 0x20;
        if (c - '0' < 10)
            c -= '0';
        else if (l - 'a' < 6)
            c = l - 'a' + 10;
        else
            return -1;
        v = v << 4 | (long)c;
    }
    return v;
}

/* Writes code point c as UTF-8 at o; returns the number of bytes. */
static size_t put_utf8(char *o, unsigned long c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12);
        o[1] = (char)(0x80 | (c >> 6 & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18);
    o[1] = (char)(0x80 | (c >> 12 & 0x3F));
    o[2] = (char)(0x80 | (c >> 6 & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Decodes the \u escape at p (p[0] is the backslash; the string ends at
 * close) into o, joining a surrogate pair into one code point.  Returns
 * the byte after it, or NULL; *n gets the number of bytes written. */
static cursor unescape_u(decoder *d, cursor p, cursor close, char *o,
                         size_t *n)
{
    long hi, lo;
    if (close - p < 6)
        return fail(d, close < d->end ? p : close, "invalid \\u escape");
    if ((hi = hex4(p + 2)) < 0)
        return fail(d, p, "invalid \\u escape");
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return fail(d, p, "lone low surrogate in \\u escape");
    if (hi < 0xD800 || hi > 0xDBFF) {
        *n = put_utf8(o, (unsigned long)hi);
        return p + 6;
    }
    if (close - p < 12)
        return fail(d, close < d->end ? p : close,
                    "lone high surrogate in \\u escape");
    lo = p[6] == '\\' && p[7] == 'u' ? hex4(p + 8) : -1;
    if (lo < 0xDC00 || lo > 0xDFFF)
        return fail(d, p, "lone high surrogate in \\u escape");
    *n = put_utf8(o, 0x10000 + ((unsigned long)(hi - 0xD800) << 10)
                            + (unsigned long)(lo - 0xDC00));
    return p + 12;
}

/* Unescapes the string body p..close into o (close is the closing quote,
 * or the end of the input); returns the number of bytes written, or -1
 * after fail(). */
static ptrdiff_t unescape(decoder *d, cursor p, cursor close, char *o)
{
    char *start = o;
    size_t n = 0;
    for (;;) {
        cursor q = scan_plain(p, close);
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        if (q == close)
            return o - start;
        if (*q != '\\') {
            fail(d, q, "control character in string");
            return -1;
        }
        if (close - q < 2 || (q[1] != 'u' && !unescapes[q[1]])) {
            fail(d, close - q < 2 ? close : q, "invalid escape");
            return -1;
        }
        if (q[1] == 'u') {
            if (!(p = unescape_u(d, q, close, o, &n)))
                return -1;
            o += n;
        } else {
            *o++ = unescapes[q[1]];
            p = q + 2;
        }
    }
}

/* The closing quote of a string whose body has an escape or a control
 * character at q, or end when the input ends first. */
static cursor string_end(cursor q, cursor end)
{
    while ((q = scan_plain(q, end)) < end && *q != '"') {
        if (*q++ == '\\') {
            if (q == end)
                break;
            q++;
        }
    }
    return q;
}

/* The slow path of parse_string: the body from p has an escape (or an
 * error) at q.  Escapes only shrink the text, so the body's length bounds
 * the output: a short one is unescaped on the C stack, a long one into a
 * luaL_Buffer (left on the stack on error, for rs_json_decode to drop). */
static cursor parse_escaped(decoder *d, cursor p, cursor q)
{
    cursor close = string_end(q, d->end);
    size_t cap = (size_t)(close - p);
    char local[256], *o = local;
    luaL_Buffer b;
    ptrdiff_t n;
    if (cap > sizeof local)
        o = luaL_buffinitsize(d->L, &b, cap);
    if ((n = unescape(d, p, close, o)) < 0)
        return NULL;
    if (close == d->end)
        return fail(d, close, NULL);
    if (o == local)
        lua_pushlstring(d->L, local, (size_t)n);
    else
        luaL_pushresultsize(&b, (size_t)n);
    return close + 1;
}

/* Pushes the string whose opening quote is at p.  Without escapes the
 * bytes go straight from the input to lua_pushlstring. */
static ALWAYS_INLINE cursor parse_string(decoder *d, cursor p)
{
    cursor q = scan_plain(++p, d->end);
    if (q < d->end && *q == '"') {
        lua_pushlstring(d->L, (const char *)p, (size_t)(q - p));
        return q + 1;
    }
    return parse_escaped(d, p, q);
}

/* memcmp for a cached key of n bytes, 1 <= n <= KEYMAX, a word at a
 * time: keys are short and a libc call costs more than the compare. */
static ALWAYS_INLINE int same_key(const char *a, cursor b, size_t n)
{
    uint64_t x, y;
    uint32_t u, v;
    size_t i;
    if (n >= 8) {
        for (i = 0; i + 8 < n; i += 8) {
            memcpy(&x, a + i, 8), memcpy(&y, b + i, 8);
            if (x != y)
                return 0;
        }
        memcpy(&x, a + n - 8, 8), memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        memcpy(&u, a, 4), memcpy(&v, b, 4);
        if (u != v)
            return 0;
        memcpy(&u, a + n - 4, 4), memcpy(&v, b + n - 4, 4);
        return u == v;
    }
    for (i = 0; i < n; i++)
        if ((unsigned char)a[i] != b[i])
            return 0;
    return 1;
}

/* Pushes the key p[0..n).  Every item of a page repeats the same keys,
 * so short keys stay in stack slots (two-way, by a cheap hash) and are
 * pushed again with lua_pushvalue instead of being hashed and interned
 * each time.  Returns the slot, or SHAPE_NONE for a key not cached. */
static unsigned push_key(decoder *d, cursor p, size_t n)
{
    unsigned h;
    if (d->kbase == 0 || n == 0 || n > KEYMAX) {
        lua_pushlstring(d->L, (const char *)p, n);
        return SHAPE_NONE;
    }
    h = (unsigned)(n * 31 + p[0] * 7u + p[n - 1] + p[n >> 1] * 3u)
        & (KEYCACHE - 1);
    if (d->klen[h] != n || !same_key(d->kptr[h], p, n)) {
        h ^= 1;
        if (d->klen[h] != n || !same_key(d->kptr[h], p, n)) {
            h ^= d->klen[h ^ 1] == 0;   /* prefer an empty way */
            d->kptr[h] = lua_pushlstring(d->L, (const char *)p, n);
            d->klen[h] = (unsigned char)n;
            lua_copy(d->L, -1, d->kbase + (int)h);
            return h;
        }
    }
    lua_pushvalue(d->L, d->kbase + (int)h);
    return h;
}

/* Pushes the object key whose opening quote is at p, the i-th of its
 * object.  The key the last object at this level had in place i is
 * tried first: when the bytes match that cached string (which has no
 * escapes, so neither have they), it is pushed as it is. */
static cursor parse_key(decoder *d, cursor p, int i)
{
    cursor q;
    unsigned h = SHAPE_NONE;
    int level = d->depth - 1;
    if (level < SHAPE_DEPTH && i < SHAPE_KEYS) {
        if (i < d->shape_n[level]) {
            size_t n;
            h = d->shape[level][i];
            n = h == SHAPE_NONE ? 0 : d->klen[h];
            if (n > 0 && (size_t)(d->end - p) > n + 1 && p[n + 1] == '"'
                && same_key(d->kptr[h], p + 1, n)) {
                lua_pushvalue(d->L, d->kbase + (int)h);
                return p + n + 2;
            }
        }
        d->shape_n[level] = (unsigned char)(i + 1);
    }
    q = scan_plain(++p, d->end);
    if (q < d->end && *q == '"') {
        h = push_key(d, p, (size_t)(q - p));
        q++;
    } else {
        h = SHAPE_NONE;
        q = parse_escaped(d, p, q);
    }
    if (level < SHAPE_DEPTH && i < SHAPE_KEYS)
        d->shape[level][i] = (unsigned char)h;
    return q;
}

/* ---- numbers ---------------------------------------------------------- */

#define ISDIGIT(c) ((unsigned)((c) - '0') < 10)

/* Converts the float text s..p through lua_stringtonumber, which also
 * copes with the locale's decimal point. */
static cursor push_float(decoder *d, cursor s, cursor p)
{
    char buf[NUMBUF];
    size_t n = (size_t)(p - s);
    if (n >= sizeof buf)
        return fail(d, s, "number too long");
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (lua_stringtonumber(d->L, buf) != n + 1)
        return fail(d, s, "invalid number");
    return p;
}

/* Checks the fraction and exponent after the integer part at p. */
static cursor float_tail(decoder *d, cursor s, cursor p)
{
    cursor end = d->end;
    if (p < end && *p == '.') {
        if (++p >= end || !ISDIGIT(*p))
            return fail(d, p, "invalid number");
        while (p < end && ISDIGIT(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !ISDIGIT(*p))
            return fail(d, p, "invalid number");
        while (p < end && ISDIGIT(*p))
            p++;
    }
    return push_float(d, s, p);
}

/* Reads the digits after the 18th (fewer cannot overflow); returns 1
 * when the number does not fit in 64 bits. */
static int more_digits(cursor *pp, cursor end, uint64_t *u)
{
    const uint64_t cut = UINT64_MAX / 10;
    cursor p = *pp;
    int big = 0;
    for (; p < end && ISDIGIT(*p); p++) {
        unsigned dig = *p - '0';
        if (*u > cut || (*u == cut && dig > UINT64_MAX % 10))
            big = 1;
        *u = *u * 10 + dig;
    }
    *pp = p;
    return big;
}

#if LITTLE_ENDIAN_GNUC
/* The value of the eight ASCII digits in w (the first in the lowest
 * byte), or -1 when they are not all digits.  Neighbouring digits, then
 * pairs, then quads are combined, each step with one multiply. */
static ALWAYS_INLINE int64_t eight_digits(uint64_t w)
{
    const uint64_t nibs = 0xF0F0F0F0F0F0F0F0u, zeros = 0x3030303030303030u;
    if ((w & nibs) != zeros || ((w + 0x0606060606060606u) & nibs) != zeros)
        return -1;
    w -= zeros;
    w = (w * 10 + (w >> 8)) & 0x00FF00FF00FF00FFu;
    w = (w * 100 + (w >> 16)) & 0x0000FFFF0000FFFFu;
    return (int64_t)((w * 10000 + (w >> 32)) & 0xFFFFFFFFu);
}
#endif

/* Reads the digits of an integer part that starts with 1..9 into *u, up
 * to 18 of them (which cannot overflow), ids eight at a time. */
static cursor first_digits(cursor p, cursor end, uint64_t *u)
{
    cursor lim = end - p > 18 ? p + 18 : end;
#if LITTLE_ENDIAN_GNUC
    uint64_t w;
    int64_t v;
    while (lim - p >= 8) {
        memcpy(&w, p, 8);
        if ((v = eight_digits(w)) < 0)
            break;
        *u = *u * 100000000u + (uint64_t)v;
        p += 8;
    }
#endif
    while (p < lim && ISDIGIT(*p))
        *u = *u * 10 + (unsigned)(*p++ - '0');
    return p;
}

#if LITTLE_ENDIAN_GNUC
/* The common case of parse_number: an integer of 1 to 18 digits, not
 * starting with 0, at least 20 bytes before the end (so that no read
 * needs a bound check).  Pushes it and returns the byte after it, or
 * returns NULL, having pushed nothing, for parse_number to do it all. */
static ALWAYS_INLINE cursor quick_integer(decoder *d, cursor p, int neg)
{
    cursor q = p + 1;
    uint64_t u = (unsigned)(*p - '0'), w;
    int64_t v;
    if (u - 1 >= 9 || d->end - p < 20)
        return NULL;
    memcpy(&w, q, 8);
    if ((v = eight_digits(w)) >= 0) {
        u = u * 100000000u + (uint64_t)v, q += 8;
        memcpy(&w, q, 8);
        if ((v = eight_digits(w)) >= 0)
            u = u * 100000000u + (uint64_t)v, q += 8;
    }
    while (q - p < 18 && ISDIGIT(*q))
        u = u * 10 + (unsigned)(*q++ - '0');
    if (ISDIGIT(*q) || *q == '.' || (*q | 0x20) == 'e')
        return NULL;                    /* longer, or not an integer */
    lua_pushinteger(d->L, neg ? -(lua_Integer)u : (lua_Integer)u);
    return q;
}
#endif

/* Integer syntax that fits in lua_Integer becomes an integer, read here
 * digit by digit; anything else goes to float_tail. */
static cursor parse_number(decoder *d, cursor p)
{
    cursor s = p, end = d->end;
    uint64_t u = 0;
    int neg = (*p == '-'), big = 0;
    p += neg;

    if (p >= end || !ISDIGIT(*p))
        return fail(d, p, "invalid number");
    if (*p == '0') {
        if (++p < end && ISDIGIT(*p))
            return fail(d, p - 1, "leading zero in number");
    } else {
        p = first_digits(p, end, &u);
        if (p < end && ISDIGIT(*p))
            big = more_digits(&p, end, &u);
    }
    if ((p < end && (*p == '.' || *p == 'e' || *p == 'E')) || big
        || u > (uint64_t)LUA_MAXINTEGER + (uint64_t)neg)
        return float_tail(d, s, p);
    /* u is at most 2^63 here; -(u - 1) - 1 does not overflow at 2^63 */
    lua_pushinteger(d->L, neg && u ? -(lua_Integer)(u - 1) - 1
                                   : (lua_Integer)u);
    return p;
}

/* ---- literals, arrays, objects ---------------------------------------- */

/* true, false or null; a prefix of one cut off by the end of the input
 * is reported as truncated. */
static cursor parse_literal(decoder *d, cursor p)
{
    size_t left = (size_t)(d->end - p);
    const char *word;
    size_t n;
    if (left >= 4) {                    /* constant compares: one word each */
        if (memcmp(p, "null", 4) == 0) {
            rs_pushnull(d->L);
            return p + 4;
        }
        if (memcmp(p, "true", 4) == 0) {
            lua_pushboolean(d->L, 1);
            return p + 4;
        }
        if (left >= 5 && memcmp(p, "false", 5) == 0) {
            lua_pushboolean(d->L, 0);
            return p + 5;
        }
    }
    word = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
    n = *p == 'f' ? 5 : 4;
    if (left < n && memcmp(p, word, left) == 0)
        return fail(d, d->end, NULL);
    return fail(d, p, "invalid literal");
}

/* Goes one level down, making room for what the level keeps on the
 * stack.  A level seen for the first time guesses 4 keys for its
 * objects: cheap for an empty one, three rehashes fewer for a real one. */
static int enter(decoder *d, int slots)
{
    if (d->depth >= RS_JSON_MAX_DEPTH)
        return 0;
    if (++d->depth > d->seen)
        d->ohint[d->seen = d->depth] = 4;
    luaL_checkstack(d->L, slots + VALUE_SLOTS, "robloxsocial: JSON nesting");
    return 1;
}

/* Stores the k elements waiting above slot into the table at slot (which
 * holds nil until the first call makes the table) as n + 1 .. n + k. */
static lua_Integer flush(lua_State *L, int slot, lua_Integer n, int k)
{
    lua_Integer total = n + k;
    if (n == 0) {
        lua_createtable(L, k, 0);
        lua_replace(L, slot);
    }
    for (; k > 0; k--)
        lua_rawseti(L, slot, n + k);
    return total;
}

/* Arrays: no metatable, elements 1..n.  An array of up to ACHUNK elements
 * gets a table of exactly its size. */
static NOINLINE cursor parse_array(decoder *d, cursor p)
{
    lua_State *L = d->L;
    cursor end = d->end;
    lua_Integer n = 0;
    int slot, k = 0;
    if (!enter(d, ACHUNK + 1))
        return fail(d, p, TOO_DEEP);
    lua_pushnil(L);                     /* the table's place */
    slot = lua_gettop(L);
    p = skip_ws(p + 1, end);
    if (p < end && *p == ']') {
        p++;
    } else {
        for (;;) {
            if (!(p = parse_value(d, p)))
                return NULL;
            if (++k == ACHUNK)
                n = flush(L, slot, n, k), k = 0;
            p = skip_ws(p, end);
            if (p < end && *p == ',') {
                p = skip_ws(p + 1, end);
                continue;
            }
            if (p < end && *p == ']')
                break;
            return fail(d, p, "expected ',' or ']'");
        }
        p++;
    }
    if (k > 0 || n == 0)
        flush(L, slot, n, k);
    d->depth--;
    return p;
}

/* Reads the i-th "key": value pair into the table below the top.  Most
 * bodies have no whitespace: the punctuation is looked for first. */
static cursor parse_member(decoder *d, cursor p, int i)
{
    cursor end = d->end;
    if (p >= end || *p != '"')
        return fail(d, p, "expected a string key");
    if (!(p = parse_key(d, p, i)))
        return NULL;
    if (p >= end || *p != ':') {
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return fail(d, p, "expected ':'");
    }
    p++;
    if (p < end && *p <= ' ')
        p = skip_ws(p, end);
    if (!(p = parse_value(d, p)))
        return NULL;
    lua_rawset(d->L, -3);
    return p < end && *p <= ' ' ? skip_ws(p, end) : p;
}

static NOINLINE cursor parse_object(decoder *d, cursor p)
{
    cursor end = d->end;
    lua_Integer n = 0;
    if (!enter(d, 2))
        return fail(d, p, TOO_DEEP);
    lua_createtable(d->L, 0, d->ohint[d->depth]);
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            if (!(p = parse_member(d, p, n < INT_MAX ? (int)n : INT_MAX)))
                return NULL;
            n++;
            if (p < end && *p == ',') {
                p = skip_ws(p + 1, end);
                continue;
            }
            if (p < end && *p == '}')
                break;
            return fail(d, p, "expected ',' or '}'");
        }
        p++;
    }
    d->ohint[d->depth--] = n < INT_MAX ? (int)n : INT_MAX;
    return p;
}

/* Pushes the value that starts at p (whitespace already skipped).
 * Inlined into the loops of the containers: most values are scalars. */
static ALWAYS_INLINE cursor parse_value(decoder *d, cursor p)
{
    if (p >= d->end)
        return fail(d, p, NULL);
    switch (*p) {
    case '"':
        return parse_string(d, p);
    case '{':
        return parse_object(d, p);
    case '[':
        return parse_array(d, p);
    case 't': case 'f': case 'n':
        return parse_literal(d, p);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9': {
#if LITTLE_ENDIAN_GNUC
        int neg = *p == '-';
        cursor q = neg && p + 1 >= d->end ? NULL : quick_integer(d, p + neg, neg);
        if (q)
            return q;
#endif
        return parse_number(d, p);
    }
    default:
        return fail(d, p, NULL);
    }
}

/* Sets up the key cache slots above the stack top. */
static void open_cache(decoder *d, size_t len)
{
    d->kbase = 0;
    if (len < KEYCACHE_MIN)
        return;
    luaL_checkstack(d->L, KEYCACHE, "robloxsocial: JSON decode");
    d->kbase = lua_gettop(d->L) + 1;
    lua_settop(d->L, d->kbase + KEYCACHE - 1);
    memset(d->klen, 0, sizeof d->klen);
}

int rs_json_decode(lua_State *L, const char *s, size_t len,
                   char *err, size_t errlen)
{
    decoder d;
    cursor p;
    int top = lua_gettop(L);
    d.L = L;
    d.start = (cursor)s;
    d.end = len ? d.start + len : d.start;
    d.err = err;
    d.errlen = err ? errlen : 0;
    d.depth = d.seen = 0;
    memset(d.shape_n, 0, sizeof d.shape_n);
    if ((p = skip_ws(d.start, d.end)) == d.end) {
        lua_newtable(L);                /* an empty body is an empty table */
        return 1;
    }
    luaL_checkstack(L, VALUE_SLOTS, "robloxsocial: JSON decode");
    open_cache(&d, len);
    if ((p = parse_value(&d, p)) != NULL) {
        p = skip_ws(p, d.end);
        if (p == d.end) {
            if (d.kbase) {              /* drop the key cache slots */
                lua_replace(L, d.kbase);
                lua_settop(L, d.kbase);
            }
            return 1;
        }
        fail(&d, p, "unexpected data after the value");
    }
    lua_settop(L, top);                 /* drops partial values, buffers */
    return 0;
}
