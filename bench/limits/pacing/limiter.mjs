// The limiters of the pacing bench (issue 20), shared by the server,
// which enforces them, and the oracle, which keeps a copy to know when a
// request will be let through.  Times are in seconds, from any origin.
//
// admit(t) decides a request at time t: { ok, remaining, reset, wait }:
// remaining and reset as the x-ratelimit-* headers say them, wait the
// seconds until a request would be let through (Retry-After of a 429).
// next(t) is the earliest time >= t at which admit would say ok.
//
// For the oracle's copy only: a request may reach the server up to `late`
// seconds after the copy predicted (a new connection, a busy loop), so the
// copy counts what it let through that much later where that is the safe
// side; and settle(handle, t) corrects a prediction with the time at which
// the server did decide (its answer says it), since the window or refill
// that the request opened starts then.  admit returns the handle as
// `handle`.  CLOCK: how far two processes' clocks may disagree.
const CLOCK = 0.001;

// At most L requests in each window of W seconds; the first window opens
// at the first request, the next ones follow it back to back.
export class FixedWindow {
  constructor(limit, window, late = 0) {
    this.limit = limit; this.window = window; this.late = late;
    this.start = null; this.count = 0; this.carry = 0;
  }
  roll(t) {
    if (this.start === null) return;
    if (t >= this.start + this.window) {
      const windows = Math.floor((t - this.start) / this.window);
      this.start += windows * this.window;
      this.count = windows === 1 ? this.carry : 0;
      this.carry = 0;
    }
  }
  admit(t) {
    const opens = this.start === null;
    if (opens) this.start = t;
    this.roll(t);
    const ok = this.count < this.limit;
    if (ok) this.count++;
    // The copy's request may reach the server up to `late` after it was
    // predicted to: one that close to the end of the window may fall in
    // the next one, so it is counted there too.
    if (ok && this.late > 0 && t + this.late >= this.start + this.window) this.carry++;
    const reset = Math.max(0, this.start + this.window - t);
    return { ok, remaining: this.limit - this.count, reset, wait: ok ? 0 : reset, handle: opens };
  }
  // Both ways matter here: a window thought to open early lets the next
  // window's requests land in this one, one thought to open late lets
  // this window's requests land in the next.
  settle(opened, t) {
    if (opened) this.start = t + CLOCK;
  }
  next(t) {
    if (this.start === null) return t;
    this.roll(t);
    return this.count < this.limit ? t : this.start + this.window;
  }
}

// A bucket of L tokens refilled at L/W a second, full at first.  resetMeans
// is "full" (reset: seconds until the bucket is full again) or "next"
// (seconds until the next token).
export class TokenBucket {
  constructor(limit, window, resetMeans, late = 0) {
    this.limit = limit; this.rate = limit / window; this.resetMeans = resetMeans;
    this.late = late; this.tokens = limit; this.last = null;
  }
  refill(t) {
    if (this.last !== null && t > this.last)
      this.tokens = Math.min(this.limit, this.tokens + (t - this.last) * this.rate);
    if (this.last === null || t > this.last) this.last = t;
  }
  admit(t) {
    this.refill(t);
    const ok = this.tokens >= 1;
    if (ok) this.tokens -= 1;
    const full = (this.limit - this.tokens) / this.rate;
    const nextToken = this.tokens >= this.limit ? 0 : (Math.floor(this.tokens) + 1 - this.tokens) / this.rate;
    return {
      ok, remaining: Math.floor(this.tokens),
      reset: this.resetMeans === "full" ? full : nextToken,
      wait: ok ? 0 : (1 - this.tokens) / this.rate,
    };
  }
  next(t) {
    this.refill(t);
    // A refill is linear in time: when the server took a token does not
    // change its level later, so the copy needs no `late` here.
    // 1e-9: a token that floating point leaves a hair short is not one.
    return this.tokens >= 1 + 1e-9 ? t : t + (1 + 1e-9 - this.tokens) / this.rate;
  }
}

// The oracle's copy of a bucket.  The level of a bucket depends on when
// each token was taken while it is near full (a refill past full is
// lost), and the requests of a burst on new connections reach the server
// spread over some ms: so the copy keeps the requests in flight apart and
// folds each into its state once the server said when it took it, in the
// order the server took them.
export class TokenBucketCopy {
  constructor(limit, window, late) {
    this.base = new TokenBucket(limit, window, "full");
    this.rate = this.base.rate; this.late = late; this.flight = [];
  }
  // A request not yet settled is taken as taken at t: the later a token
  // is taken, the more refill a bucket near full may lose, so that is the
  // careful side (and far from full it changes nothing).
  level(t) {
    const b = this.base, saved = [b.tokens, b.last];
    const times = this.flight.map((e) => (e.settled ? Math.min(e.at, t) : t)).sort((x, y) => x - y);
    for (const at of times) { b.refill(at); b.tokens -= 1; }
    b.refill(t);
    const level = b.tokens;
    [b.tokens, b.last] = saved;
    return level;
  }
  admit(t) {
    const handle = { at: t + this.late, settled: false };
    this.flight.push(handle);
    return { ok: true, handle };
  }
  settle(handle, t) {
    handle.at = t + CLOCK; handle.settled = true;
    // Fold the settled requests that come before every unsettled one.
    this.flight.sort((x, y) => x.at - y.at);
    while (this.flight.length && this.flight[0].settled) {
      const e = this.flight.shift();
      this.base.refill(e.at); this.base.tokens -= 1;
    }
  }
  // A request the server refused: it took no token.
  refuse(handle) {
    this.flight = this.flight.filter((e) => e !== handle);
  }
  next(t) {
    const level = this.level(t);
    return level >= 1 + 1e-9 ? t : t + (1 + 1e-9 - level) / this.rate;
  }
}

// At most L requests in any W seconds: a log of the times let through.
export class SlidingWindow {
  constructor(limit, window, late = 0) {
    this.limit = limit; this.window = window; this.late = late;
    this.log = []; this.head = 0; this.dropped = 0;
  }
  purge(t) {
    while (this.head < this.log.length && this.log[this.head] + this.window <= t) this.head++;
    if (this.head > 1024) { this.dropped += this.head; this.log = this.log.slice(this.head); this.head = 0; }
  }
  admit(t) {
    this.purge(t);
    const ok = this.log.length - this.head < this.limit;
    if (ok) this.log.push(t + this.late);
    const used = this.log.length - this.head;
    const reset = used > 0 ? Math.max(0, this.log[this.head] + this.window - t) : 0;
    return { ok, remaining: this.limit - used, reset, wait: ok ? 0 : reset,
             handle: ok ? this.dropped + this.log.length - 1 : null };
  }
  settle(handle, t) {
    const i = handle === null ? -1 : handle - this.dropped;
    if (i >= this.head && i < this.log.length && t + CLOCK > this.log[i]) this.log[i] = t + CLOCK;
  }
  next(t) {
    this.purge(t);
    return this.log.length - this.head < this.limit ? t : this.log[this.head] + this.window;
  }
}

export function makeLimiter(kind, limit, window, late = 0) {
  switch (kind) {
    case "fixed": return new FixedWindow(limit, window, late);
    case "bucket_full": return late > 0 ? new TokenBucketCopy(limit, window, late) : new TokenBucket(limit, window, "full");
    case "bucket_next": return late > 0 ? new TokenBucketCopy(limit, window, late) : new TokenBucket(limit, window, "next");
    case "sliding": return new SlidingWindow(limit, window, late);
    default: throw new Error(`unknown limiter ${kind}`);
  }
}
