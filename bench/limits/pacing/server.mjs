// The pacing bench's server (issue 20): a loopback stand-in for the
// services, LATENCY (50 ms) away, that enforces a style of rate limit
// (styles.mjs) per client and per endpoint, and counts what it saw.
//
// A client is its cookie value (.ROBLOSECURITY=...), registered with its
// style by the runner before it starts.  A request is decided half the
// latency after it arrived (as a server 25 ms away would see it) and
// answered half the latency later.  POST without the client's
// x-csrf-token is answered 403 with the token, as the services do;
// those are counted apart and do not touch the limit.
//
// Endpoints: POST /v1/presence/users (at most 50 ids),
// GET /v1/users/{id}/friends/count, GET /v1/messages.
import http from "node:http";
import { performance } from "node:perf_hooks";
import { makeLimiter } from "./limiter.mjs";
import { STYLES, LATENCY, limitsOf } from "./styles.mjs";

const now = () => performance.now() / 1000;
const TOO_MANY = JSON.stringify({ errors: [{ code: 0, message: "Too many requests" }] });
const TOKEN_FAILED = JSON.stringify({ errors: [{ code: 0, message: "Token Validation Failed" }] });
const UNAUTHORIZED = JSON.stringify({ errors: [{ code: 0, message: "Authorization has been denied for this request." }] });
const NOT_FOUND = JSON.stringify({ errors: [{ code: 0, message: "NotFound" }] });
const MESSAGES = JSON.stringify({
  collection: [{
    id: 987654321, sender: { hasVerifiedBadge: false, id: 1, name: "Roblox", displayName: "Roblox" },
    recipient: { hasVerifiedBadge: false, id: 2, name: "bench", displayName: "bench" },
    subject: "Welcome", body: "Hello", created: "2026-01-01T00:00:00Z", updated: "2026-01-01T00:00:00Z",
    isRead: true, isSystemMessage: true, isReportAbuseDisplayed: false,
  }],
  totalCollectionSize: 1, totalPages: 1, pageNumber: 0,
});

// A reset or Retry-After is said to 1/60 of the window, rounded up: the
// live services say whole seconds of a 60 s window.
function seconds(value, window) {
  const step = window / 60;
  return (Math.ceil(value / step - 1e-9) * step).toFixed(3);
}

function presenceBody(ids) {
  const parts = ids.map((id) =>
    `{"userPresenceType":${id % 3},"lastLocation":"${id % 3 === 2 ? "Bench Place" : "Website"}",` +
    `"placeId":${id % 3 === 2 ? 1818 : null},"rootPlaceId":${id % 3 === 2 ? 1818 : null},` +
    `"gameId":${id % 3 === 2 ? '"9f7e7d3a-3c1e-4c55-9a57-1e2a6b1c0f00"' : null},` +
    `"universeId":${id % 3 === 2 ? 13058 : null},"userId":${id},"lastOnline":"2026-01-01T00:00:00Z",` +
    `"invisibleModeExpiry":null}`);
  return `{"userPresences":[${parts.join(",")}]}`;
}

function newCounts() {
  return { requests: 0, ok: 0, r429: 0, r429_after_first: 0, csrf: 0, bad: 0,
           first_answer: null, first_decided: null, last_answer: null, per_window: new Map() };
}

export class PacingServer {
  constructor() {
    this.clients = new Map();
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 600000;
    this.server.headersTimeout = 0;
    this.server.requestTimeout = 0;
  }

  listen() {
    return new Promise((resolve) => this.server.listen(0, "127.0.0.1", () => resolve(this.server.address().port)));
  }

  close() { this.server.closeAllConnections?.(); this.server.close(); }

  register(cookie, styleName) {
    const style = STYLES[styleName];
    const limits = limitsOf(styleName);
    const endpoints = {};
    for (const [name, l] of Object.entries(limits))
      endpoints[name] = { limits: l, limiter: makeLimiter(style.kind, l.limit, l.window), counts: newCounts() };
    this.clients.set(cookie, { style, endpoints, token: "bench-" + Math.random().toString(36).slice(2) });
  }

  // What the server saw of a client, per endpoint.
  stats(cookie) {
    const c = this.clients.get(cookie);
    const out = {};
    for (const [name, e] of Object.entries(c.endpoints)) {
      const k = e.counts;
      out[name] = {
        requests: k.requests, ok: k.ok, r429: k.r429, r429_after_first: k.r429_after_first,
        csrf: k.csrf, bad: k.bad, limit: e.limits.limit, window: e.limits.window,
        max_429_per_window: Math.max(0, ...k.per_window.values()),
        windows: k.first_decided === null ? 0 : Math.ceil((k.last_answer - k.first_decided) / e.limits.window),
      };
    }
    return out;
  }

  forget(cookie) { this.clients.delete(cookie); }

  handle(req, res) {
    const arrived = now();
    const chunks = [];
    req.on("data", (d) => chunks.push(d));
    req.on("end", () => this.route(req, res, arrived, chunks.length ? Buffer.concat(chunks).toString() : ""));
  }

  route(req, res, arrived, body) {
    const m = /\.ROBLOSECURITY=([^;\s]+)/.exec(req.headers.cookie || "");
    const client = m && this.clients.get(m[1]);
    const path = req.url.split("?")[0];
    let endpoint = null, id = 0;
    if (req.method === "POST" && path === "/v1/presence/users") endpoint = "presence";
    else if (req.method === "GET" && path === "/v1/messages") endpoint = "messages";
    else {
      const f = /^\/v1\/users\/(\d+)\/friends\/count$/.exec(path);
      if (req.method === "GET" && f) { endpoint = "friends_count"; id = Number(f[1]); }
    }
    if (!client) return this.later(res, LATENCY, 401, {}, UNAUTHORIZED);
    if (!endpoint) return this.later(res, LATENCY, 404, {}, NOT_FOUND);
    const e = client.endpoints[endpoint];
    if (req.method === "POST" && req.headers["x-csrf-token"] !== client.token) {
      e.counts.csrf++;
      return this.later(res, LATENCY, 403, { "x-csrf-token": client.token }, TOKEN_FAILED);
    }
    let answer = null;
    if (endpoint === "presence") {
      let ids = null;
      try { ids = JSON.parse(body).userIds; } catch { ids = null; }
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > 50) {
        e.counts.bad++;
        return this.later(res, LATENCY, 400, {}, JSON.stringify({ errors: [{ code: 1, message: "Too many ids." }] }));
      }
      answer = () => presenceBody(ids);
    } else if (endpoint === "friends_count") answer = () => `{"count":${id % 500}}`;
    else answer = () => MESSAGES;
    setTimeout(() => this.decide(client, e, res, arrived, answer), LATENCY * 500);
  }

  decide(client, e, res, arrived, answer) {
    // A timer may fire a little early (libuv's loop time is that of the
    // start of the iteration): the decision is never before its due time,
    // so that a client that sends exactly on time is never refused for it.
    const t = Math.max(now(), arrived + LATENCY / 2), k = e.counts, style = client.style, w = e.limits.window;
    const d = e.limiter.admit(t);
    k.requests++;
    if (k.first_decided === null) k.first_decided = t;
    // For the oracle only (the other clients ignore it): when this was
    // decided, in ms since the epoch, which every process reads alike.
    const headers = { "x-bench-decided": (performance.timeOrigin + t * 1000).toFixed(3) };
    if (style.headers) {
      headers["x-ratelimit-limit"] = `${e.limits.limit}, ${e.limits.limit};w=${w}`;
      headers["x-ratelimit-remaining"] = String(d.remaining);
      headers["x-ratelimit-reset"] = seconds(d.reset, w);
    }
    if (d.ok) {
      k.ok++;
      return this.later(res, LATENCY / 2, 200, headers, answer(), k);
    }
    k.r429++;
    // Arrived after the bucket's first answer was sent: the client could
    // have known better.
    if (k.first_answer !== null && arrived > k.first_answer) k.r429_after_first++;
    const slot = Math.floor((t - k.first_decided) / w);
    k.per_window.set(slot, (k.per_window.get(slot) || 0) + 1);
    if (style.retryAfter) headers["retry-after"] = seconds(d.wait, w);
    this.later(res, LATENCY / 2, 429, headers, TOO_MANY, k);
  }

  // Answers `delay` seconds from now, never earlier: a timer may fire a
  // few ms early (libuv's loop time is that of the start of the
  // iteration), and then it waits again for the rest.
  later(res, delay, status, headers, body, counts) {
    const due = now() + delay;
    const send = () => {
      const t = now();
      if (t < due - 0.0002) return void setTimeout(send, (due - t) * 1000);
      if (counts) {
        if (counts.first_answer === null) counts.first_answer = t;
        counts.last_answer = t;
      }
      res.writeHead(status, { "content-type": "application/json; charset=utf-8",
                              "content-length": Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    setTimeout(send, delay * 1000);
  }
}
