// The styles of rate limiting that the pacing bench's server enforces
// (issue 20), and the scaled limits.  The live services allow about 60
// presence requests and 100 friends counts a minute; here the windows are
// LIMITS_WINDOW seconds (2 by default) with the limits scaled so that a
// job spans several windows and the whole run takes minutes.
const env = process.env;
const num = (name, dflt) => (env[name] === undefined || env[name] === "" ? dflt : Number(env[name]));

export const WINDOW = num("LIMITS_WINDOW", 2);
export const LATENCY = num("LIMITS_LATENCY_MS", 50) / 1000;
export const PRESENCE_LIMIT = num("LIMITS_PRESENCE_LIMIT", 120);
export const FRIENDS_LIMIT = num("LIMITS_FRIENDS_LIMIT", 200);

// kind: the limiter (limiter.mjs); headers: whether answers carry
// x-ratelimit-*; retryAfter: whether a 429 carries Retry-After.
export const STYLES = {
  fixed: { n: 1, title: "fixed window, headers", kind: "fixed", headers: true, retryAfter: true },
  bucket_full: { n: 2, title: "token bucket, reset = until full", kind: "bucket_full", headers: true, retryAfter: true },
  bucket_next: { n: 3, title: "token bucket, reset = until next token", kind: "bucket_next", headers: true, retryAfter: true },
  no_headers: { n: 4, title: "no headers, 429 + Retry-After", kind: "fixed", headers: false, retryAfter: true },
  no_retry_after: { n: 5, title: "headers, 429 without Retry-After", kind: "fixed", headers: true, retryAfter: false },
  sliding: { n: 6, title: "sliding window, headers", kind: "sliding", headers: true, retryAfter: true },
  // Two endpoints of one host at once, each with its own limit and window:
  // a client that keeps one budget for both, or takes one's headers for
  // the other's, draws 429s or waits for nothing.
  two_endpoints: {
    n: 7, title: "two endpoints, different limits, at once", kind: "fixed", headers: true, retryAfter: true,
    friends_count: { limit: FRIENDS_LIMIT / 2, window: WINDOW / 2 },
  },
};

// { limit, window } of each endpoint under a style.
export function limitsOf(styleName) {
  const style = STYLES[styleName];
  return {
    presence: style.presence ?? { limit: PRESENCE_LIMIT, window: WINDOW },
    friends_count: style.friends_count ?? { limit: FRIENDS_LIMIT, window: WINDOW },
    messages: style.messages ?? { limit: PRESENCE_LIMIT, window: WINDOW },
  };
}

// The jobs, as the issue lists them; `ids` and `tasks` may be shrunk for
// a quick check of the harness (LIMITS_QUICK).
const quick = env.LIMITS_QUICK === "1";
export const JOBS = {
  presence: { title: "presence of 20,000 ids, one call", ids: quick ? 10000 : 20000 },
  friends: { title: "1,000 friends_count tasks", tasks: quick ? 300 : 1000 },
  both: { title: "both at once", ids: quick ? 10000 : 20000, tasks: quick ? 300 : 1000 },
  messages: {
    title: "one messages call while presence is paced", ids: quick ? 8000 : 10000,
    // When the messages call starts: after the first window's budget is
    // spent, while presence waits for the next.
    at: WINDOW * 0.6,
  },
};
