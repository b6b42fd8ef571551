// The peers of the pacing bench (issue 20), each running one job against
// the bench's server with one rule for rate limits, printing one JSON line
// { wall, failed_calls, failed_requests, msg_latency, seen_429 }.
//
//   BENCH_COOKIE=... node peers.mjs RULE JOB STYLE CONCURRENCY PORT
//
// RULE:
//   oracle     knows each endpoint's limiter (limiter.mjs) and the 25 ms to
//              the server: sends every request at the earliest time it is
//              let through, within CONCURRENCY, the endpoints taking turns;
//              corrects its copies with when the server decided (the
//              x-bench-decided header); the reference;
//   bottleneck Bottleneck: a limiter per endpoint with its reservoir set
//              from x-ratelimit-remaining, refilled to the limit at the
//              reset, chained to one limiter of CONCURRENCY; a 429 retried
//              from the "failed" event after Retry-After (else the reset,
//              else 1 s), at most 3 times;
//   rozod      fetch with RoZod's retry rule (429 and 5xx retried after
//              Retry-After when it is a positive number of seconds, else
//              after retryDelay; at most `retries` times), under
//              p-limit(CONCURRENCY); retries 3, retryDelay 1000 ms, as
//              robloxsocial's defaults (RoZod's own are 0 and 0: no retry);
//   discord    discord.js's per-route rule: a bucket per route holding the
//              answer's limit, remaining and reset (+ a 50 ms offset);
//              a request waits while remaining <= 0 before the reset
//              (+ the offset once more); a 429 with the headers saying
//              none remain waits for that reset, one without them is a
//              "sublimit" and waits its Retry-After; a 429 is retried
//              without counting against the retries; CONCURRENCY requests
//              at once in all (discord.js itself sends one request per
//              route at a time, see README.md).
import http from "node:http";
import { performance } from "node:perf_hooks";
import Bottleneck from "bottleneck";
import pLimit from "p-limit";
import { makeLimiter } from "./limiter.mjs";
import { JOBS, LATENCY, STYLES, limitsOf } from "./styles.mjs";

const [rule, jobName, styleName, concArg, port] = process.argv.slice(2);
const cookie = process.env.BENCH_COOKIE;      // not an argument: see pacing.mjs's runChild
const concurrency = Number(concArg);
const base = `http://127.0.0.1:${port}`;
const FIRST_ID = 4294967297;
const now = () => performance.now() / 1000;
const sleep = (s) => new Promise((r) => setTimeout(r, Math.max(0, s) * 1000));

// ---- one exchange, with the CSRF handshake of a cookie client ----------
let csrfToken = null;
let seen429 = 0;
const ENDPOINTS = {
  presence: (ids) => ({ url: `${base}/v1/presence/users`, method: "POST", body: JSON.stringify({ userIds: ids }) }),
  friends_count: (id) => ({ url: `${base}/v1/users/${id}/friends/count`, method: "GET" }),
  messages: () => ({ url: `${base}/v1/messages?pageNumber=0&pageSize=20&messageTab=Inbox`, method: "GET" }),
};

// Node's fetch for the peers (RoZod is built on it); the oracle goes
// through node:http on kept-alive sockets, which costs less per request
// than fetch, so that its transport does not set it back against the
// clients it measures.
const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, concurrency) * 2 });
function viaHttp(r, headers) {
  return new Promise((resolve) => {
    const req = http.request(r.url, { method: r.method, headers, agent }, (res) => {
      const chunks = [];
      res.on("data", (d) => chunks.push(d));
      res.on("end", () => resolve({ status: res.statusCode, headers: new Headers(res.headers),
                                    text: Buffer.concat(chunks).toString() }));
      res.on("error", () => resolve({ status: 0, headers: new Headers(), text: "" }));
    });
    req.on("error", () => resolve({ status: 0, headers: new Headers(), text: "" }));
    if (r.body) req.write(r.body);
    req.end();
  });
}
async function viaFetch(r, headers) {
  try {
    const res = await fetch(r.url, { method: r.method, headers, body: r.body });
    return { status: res.status, headers: res.headers, text: await res.text() };
  } catch {
    return { status: 0, headers: new Headers(), text: "" };
  }
}
const transport = rule === "oracle" ? viaHttp : viaFetch;

async function exchange(endpoint, arg) {
  return exchangeOnce(ENDPOINTS[endpoint](arg));
}

async function exchangeOnce(r) {
  for (let attempt = 0; ; attempt++) {
    const headers = { cookie: `.ROBLOSECURITY=${cookie}`, accept: "application/json" };
    if (r.method === "POST") {
      headers["content-type"] = "application/json";
      if (csrfToken) headers["x-csrf-token"] = csrfToken;
    }
    const res = await transport(r, headers);
    const token = res.headers.get("x-csrf-token");
    if (res.status === 403 && token && attempt === 0) { csrfToken = token; continue; }
    if (res.status === 429) seen429++;
    if (res.status === 200) JSON.parse(res.text);
    return res;
  }
}

// ---- the rules: each gives call(endpoint, arg) -> true on success -------
function fifo(n) {
  let active = 0;
  const waiting = [];
  return {
    async acquire() { if (active < n) { active++; return; } await new Promise((r) => waiting.push(r)); },
    release() { const next = waiting.shift(); if (next) next(); else active--; },
  };
}

function oracleRule() {
  // The oracle's copies record what they let through 5 ms late, and
  // correct it with when the server did decide (limiter.mjs).
  const LATE = 0.005;
  const limits = limitsOf(styleName), kind = STYLES[styleName].kind;
  const copies = {}, queues = {};
  for (const [ep, l] of Object.entries(limits)) {
    copies[ep] = makeLimiter(kind, l.limit, l.window, LATE);
    queues[ep] = [];
  }
  let inflight = 0, timer = null, turn = 0;
  const names = Object.keys(queues);
  const oneWay = LATENCY / 2;
  function pump() {
    for (;;) {
      if (inflight >= concurrency) return;
      const t = now() + oneWay;
      // The endpoints take turns at a free slot, so that a call on one
      // endpoint never waits for a batch on another to be sent.
      let chosen = null, earliest = Infinity;
      for (let i = 1; i <= names.length; i++) {
        const ep = names[(turn + i) % names.length];
        if (!queues[ep].length) continue;
        const at = copies[ep].next(t);
        if (at <= t) { chosen = ep; turn = (turn + i) % names.length; break; }
        earliest = Math.min(earliest, at);
      }
      if (!chosen) {
        if (earliest < Infinity && !timer)
          timer = setTimeout(() => { timer = null; pump(); }, Math.max(0, (earliest - oneWay - now()) * 1000));
        return;
      }
      const job = queues[chosen].shift();
      const { handle } = copies[chosen].admit(t);
      inflight++;
      exchange(chosen, job.arg).then((a) => {
        const decided = a.headers.get("x-bench-decided");
        if (a.status === 429 && copies[chosen].refuse) copies[chosen].refuse(handle);
        else if (decided !== null) copies[chosen].settle(handle, (Number(decided) - performance.timeOrigin) / 1000);
        inflight--;
        // A 429 is a fault of the bench, shown in its row; the request
        // goes again first, so that the wall time stays that of the job.
        if (a.status === 429 && (job.tries = (job.tries || 0) + 1) <= 3) queues[chosen].unshift(job);
        else job.resolve(a.status === 200);
        pump();
      });
    }
  }
  // The CSRF handshake goes first and alone, outside the schedule: its
  // 403 does not count against the limit.
  let handshake = null;
  function handshakeFirst(r) {
    handshake ??= transport(r, { cookie: `.ROBLOSECURITY=${cookie}`, "content-type": "application/json" })
      .then((res) => { csrfToken = res.headers.get("x-csrf-token"); });
    return handshake;
  }
  return async (ep, arg) => {
    const r = ENDPOINTS[ep](arg);
    if (r.method === "POST" && !csrfToken) await handshakeFirst(r);
    return new Promise((resolve) => { queues[ep].push({ arg, resolve }); pump(); });
  };
}

function retryMs(headers, fallback) {
  const ra = headers.get("retry-after"), reset = headers.get("x-ratelimit-reset");
  if (ra !== null) return Number(ra) * 1000;
  if (reset !== null) return Number(reset) * 1000;
  return fallback;
}

function bottleneckRule() {
  const all = new Bottleneck({ maxConcurrent: concurrency });
  const routes = {};
  for (const ep of Object.keys(ENDPOINTS)) {
    const route = new Bottleneck({ maxConcurrent: concurrency });
    route.chain(all);
    route.on("failed", (err, info) => (err.retryIn !== undefined && info.retryCount < 3 ? err.retryIn : undefined));
    routes[ep] = { limiter: route, refill: null };
  }
  // The reservoir follows the answers' remaining count; when it says none
  // remain, the reservoir is set back to the limit at the reset.
  function learn(ep, headers) {
    const remaining = headers.get("x-ratelimit-remaining");
    if (remaining === null) return;
    const r = routes[ep];
    r.limiter.updateSettings({ reservoir: Number(remaining) });
    if (Number(remaining) === 0 && !r.refill) {
      const limit = parseInt(headers.get("x-ratelimit-limit"), 10);
      r.refill = setTimeout(() => { r.refill = null; r.limiter.updateSettings({ reservoir: limit }); },
                            Number(headers.get("x-ratelimit-reset")) * 1000);
    }
  }
  return async (ep, arg) => {
    try {
      return await routes[ep].limiter.schedule(async () => {
        const a = await exchange(ep, arg);
        learn(ep, a.headers);
        if (a.status === 429) throw Object.assign(new Error("429"), { retryIn: retryMs(a.headers, 1000) });
        return a.status === 200;
      });
    } catch {
      return false;
    }
  };
}

function rozodRule() {
  const limit = pLimit(concurrency);
  const retries = 3, retryDelay = 1000;
  return (ep, arg) => limit(async () => {
    let left = retries;
    for (;;) {
      const a = await exchange(ep, arg);
      const retryable = [429, 500, 502, 503, 504].includes(a.status) || a.status === 0;
      if (!retryable || left <= 0) return a.status === 200;
      left--;
      let delay = retryDelay;
      const ra = a.headers.get("retry-after");
      if (ra !== null && Number.isFinite(Number(ra)) && Number(ra) > 0) delay = Number(ra) * 1000;
      await sleep(delay / 1000);
    }
  });
}

function discordRule() {
  const OFFSET = 50;   // ms, discord.js's default `offset`
  const slots = fifo(concurrency);
  const buckets = {};
  for (const ep of Object.keys(ENDPOINTS)) buckets[ep] = { limit: Infinity, remaining: 1, reset: -1 };
  const limited = (b) => b.remaining <= 0 && Date.now() < b.reset;
  return async (ep, arg) => {
    const b = buckets[ep];
    for (let attempt = 0; attempt < 50; attempt++) {
      while (limited(b)) await sleep((b.reset + OFFSET - Date.now()) / 1000);
      b.remaining--;
      await slots.acquire();
      const a = await exchange(ep, arg);
      slots.release();
      const h = a.headers;
      const limit = h.get("x-ratelimit-limit"), remaining = h.get("x-ratelimit-remaining");
      const reset = h.get("x-ratelimit-reset"), retry = h.get("retry-after");
      b.limit = limit ? parseInt(limit, 10) : Infinity;
      b.remaining = remaining ? Number(remaining) : 1;
      b.reset = reset ? Number(reset) * 1000 + Date.now() + OFFSET : Date.now();
      const retryAfter = retry ? Number(retry) * 1000 + OFFSET : 0;
      if (a.status !== 429) return a.status === 200;
      if (retryAfter > 0 && !limited(b)) await sleep(retryAfter / 1000);   // a "sublimit"
    }
    return false;
  };
}

const RULES = { oracle: oracleRule, bottleneck: bottleneckRule, rozod: rozodRule, discord: discordRule };

// ---- the jobs ------------------------------------------------------------
function ids(n) { return Array.from({ length: n }, (_, i) => FIRST_ID + i); }

async function presenceCall(call, n) {
  const all = ids(n), chunks = [];
  for (let i = 0; i < all.length; i += 50) chunks.push(all.slice(i, i + 50));
  const ok = await Promise.all(chunks.map((c) => call("presence", c)));
  const failed = ok.filter((x) => !x).length;
  return { failedCalls: failed ? 1 : 0, failedRequests: failed };
}

async function friendsTasks(call, n) {
  const ok = await Promise.all(ids(n).map((id) => call("friends_count", id)));
  const failed = ok.filter((x) => !x).length;
  return { failedCalls: failed, failedRequests: failed };
}

async function main() {
  const call = RULES[rule]();
  const job = JOBS[jobName];
  const t0 = now();
  let parts = [], msgLatency = null;
  if (jobName === "presence") parts = [presenceCall(call, job.ids)];
  else if (jobName === "friends") parts = [friendsTasks(call, job.tasks)];
  else if (jobName === "both") parts = [presenceCall(call, job.ids), friendsTasks(call, job.tasks)];
  else if (jobName === "messages") {
    parts = [presenceCall(call, job.ids), (async () => {
      await sleep(job.at);
      const t = now();
      const ok = await call("messages");
      msgLatency = now() - t;
      return { failedCalls: ok ? 0 : 1, failedRequests: ok ? 0 : 1 };
    })()];
  }
  const results = await Promise.all(parts);
  const wall = now() - t0;
  const sum = (k) => results.reduce((s, r) => s + r[k], 0);
  console.log(JSON.stringify({ wall, failed_calls: sum("failedCalls"), failed_requests: sum("failedRequests"),
                               msg_latency: msgLatency, seen_429: seen429 }));
  process.exit(0);
}

main().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
