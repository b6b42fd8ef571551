// The pacing bench's runner (issue 20): starts the server in this
// process, runs every style x job x client once as a child process,
// reads what the server saw, prints the table with PASS/FAIL per target
// and writes it to RESULTS (bench/limits/RESULTS.md by default).
// pacing.sh sets it up; README.md says what every column means.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PacingServer } from "./server.mjs";
import { FRIENDS_LIMIT, JOBS, LATENCY, PRESENCE_LIMIT, STYLES, WINDOW, limitsOf } from "./styles.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
const quick = env.LIMITS_QUICK === "1";
const list = (name, dflt) => (env[name] ? env[name].split(",").map((s) => s.trim()).filter(Boolean) : dflt);

const STYLE_NAMES = list("LIMITS_STYLES", quick ? ["fixed", "bucket_next", "no_headers"] : Object.keys(STYLES));
const JOB_NAMES = list("LIMITS_JOBS", quick ? ["presence", "messages"] : Object.keys(JOBS));
const PEER_CONC = Number(env.LIMITS_PEER_CONCURRENCY || 8);
const RS_CONCS = list("LIMITS_RS_CONCURRENCY", quick ? ["8"] : ["8", "32", "100"]).map(Number);
const PEERS = list("LIMITS_PEERS", quick ? ["rozod"] : ["bottleneck", "rozod", "discord"]);
const PARALLEL = Number(env.LIMITS_PARALLEL || 1);
// A quick run checks the harness: it leaves the recorded results alone.
const RESULTS = env.LIMITS_RESULTS ||
  (quick ? path.join(here, "..", "..", "out", "pacing-quick.md") : path.join(here, "..", "RESULTS.md"));
const LUA = env.LUA || "lua5.4";
const NODE = process.execPath;
const RTT_BUDGET = LATENCY + 0.020;

// The clients of one style and job: the oracle at every concurrency used,
// robloxsocial at each, the peers at PEER_CONC.
function clients() {
  const concs = [...new Set([...RS_CONCS, PEER_CONC])].sort((a, b) => a - b);
  const out = concs.map((c) => ({ name: "oracle", conc: c }));
  for (const c of RS_CONCS) out.push({ name: "robloxsocial", conc: c });
  if (env.LIMITS_RS_RATE_LIMITS === "1") out.push({ name: "rs+rate_limits", conc: PEER_CONC });
  for (const p of PEERS) out.push({ name: p, conc: PEER_CONC });
  return out;
}

function rateLimitsArg(style) {
  return Object.entries(limitsOf(style)).map(([ep, l]) => `${ep}=${l.limit}/${l.window}`).join(",");
}

// The child's cookie goes in its environment (BENCH_COOKIE), never in its
// arguments: a command line is open to every user of the machine.
function runChild(cmd, args, cookie) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...env, BENCH_COOKIE: cookie } });
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => {
      const line = out.trim().split("\n").pop() || "";
      try { resolve(JSON.parse(line)); } catch { resolve({ error: `exit ${code}: ${(err || out).trim().split("\n").slice(-2).join(" ")}` }); }
    });
  });
}

let seq = 0;
async function runOne(server, port, style, jobName, client) {
  const cookie = `bench.${style}.${jobName}.${client.name.replace(/[^a-z]/g, "")}.${client.conc}.${++seq}`;
  server.register(cookie, style);
  const job = JOBS[jobName];
  let result;
  if (client.name === "robloxsocial" || client.name === "rs+rate_limits") {
    result = await runChild(LUA, [path.join(here, "rs_job.lua"), jobName, `http://127.0.0.1:${port}`,
      String(client.conc), String(job.ids || 0), String(job.tasks || 0), String(job.at || 0),
      client.name === "rs+rate_limits" ? rateLimitsArg(style) : ""], cookie);
  } else {
    result = await runChild(NODE, [path.join(here, "peers.mjs"), client.name, jobName, style, String(client.conc),
      String(port)], cookie);
  }
  const seen = server.stats(cookie);
  server.forget(cookie);
  const eps = Object.values(seen);
  const sum = (k) => eps.reduce((s, e) => s + e[k], 0);
  return { style, job: jobName, client: client.name, conc: client.conc, ...result,
           requests: sum("requests"), r429: sum("r429"), r429_after_first: sum("r429_after_first"),
           csrf: sum("csrf"), bad: sum("bad"), max_429_per_window: Math.max(...eps.map((e) => e.max_429_per_window)) };
}

// Runs the tasks PARALLEL at a time, in order.
async function pool(tasks, n) {
  const results = new Array(tasks.length);
  let next = 0;
  async function worker() { while (next < tasks.length) { const i = next++; results[i] = await tasks[i](); } }
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
  return results;
}

// ---- judging ---------------------------------------------------------
const isRs = (r) => r.client === "robloxsocial" || r.client === "rs+rate_limits";
const fmt = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? "n/a" : Number(x).toFixed(d));

function judge(rows) {
  const oracleOf = (r) => rows.find((o) => o.client === "oracle" && o.style === r.style && o.job === r.job && o.conc === r.conc);
  for (const r of rows) {
    const o = oracleOf(r);
    r.ratio = !r.error && o && !o.error ? r.wall / o.wall : null;
    r.checks = [];
    if (!isRs(r) || r.error) continue;
    const headers = STYLES[r.style].headers;
    if (headers) {
      const bound = 1.05;
      const no429 = r.client === "rs+rate_limits" ? r.r429 === 0 : r.r429_after_first === 0;
      r.checks.push(["T1 time<=1.05x, 0 429 after 1st", r.ratio !== null && r.ratio <= bound && no429]);
    } else {
      r.checks.push(["T2 time<=1.10x, <=2 429/window", r.ratio !== null && r.ratio <= 1.10 && r.max_429_per_window <= 2]);
    }
    r.checks.push(["T3 no failed call", r.failed_calls === 0]);
    if (r.job === "messages")
      r.checks.push([`T4 messages <= ${Math.round(RTT_BUDGET * 1000)} ms`, r.msg_latency !== null && r.msg_latency <= RTT_BUDGET]);
    if (r.conc === PEER_CONC && r.client === "robloxsocial") {
      const peers = rows.filter((p) => PEERS.includes(p.client) && p.style === r.style && p.job === r.job && !p.error);
      // "Level with": within 2% of the wall time (the run-to-run noise of
      // one run), and no more 429s.  A peer that failed a call did not do
      // the whole job (it can end below the oracle's time, the physical
      // floor): it is compared on 429s only.
      const ahead = peers.every((p) =>
        (p.failed_calls > 0 || r.wall <= p.wall * 1.02) && r.r429 <= p.r429);
      r.checks.push(["T5 ahead of every peer", peers.length > 0 && ahead]);
    }
  }
}

function table(rows) {
  const head = "| style | job | client | conc | wall s | / oracle | 429s | 429s after 1st answer | max 429s in a window | CSRF 403s | failed calls | messages ms | targets |";
  const lines = [head, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"];
  for (const r of rows) {
    const targets = r.error ? `n/a: ${r.error.slice(0, 120).replace(/\|/g, "/")}`
      : r.checks.map(([name, ok]) => `${ok ? "PASS" : "**FAIL**"} ${name.split(" ")[0]}`).join(", ");
    lines.push(`| ${STYLES[r.style].n} ${r.style} | ${r.job} | ${r.client} | ${r.conc} | ${fmt(r.wall)} | ${fmt(r.ratio)} | ` +
      `${r.r429} | ${r.r429_after_first} | ${r.max_429_per_window} | ${r.csrf} | ${r.error ? "n/a" : r.failed_calls} | ` +
      `${r.msg_latency === null || r.msg_latency === undefined ? "" : fmt(r.msg_latency * 1000, 0)} | ${targets} |`);
  }
  return lines.join("\n");
}

function summary(rows) {
  const tally = new Map();
  for (const r of rows) for (const [name, ok] of r.checks) {
    const t = tally.get(name) || { pass: 0, fail: 0, failed: [] };
    if (ok) t.pass++; else { t.fail++; t.failed.push(`${r.style}/${r.job}/${r.client}@${r.conc}`); }
    tally.set(name, t);
  }
  const lines = ["| target | PASS | FAIL | failing runs |", "|---|---:|---:|---|"];
  for (const [name, t] of [...tally.entries()].sort())
    lines.push(`| ${name} | ${t.pass} | ${t.fail} | ${t.failed.slice(0, 12).join(", ")}${t.failed.length > 12 ? ", ..." : ""} |`);
  return lines.join("\n");
}

async function main() {
  const server = new PacingServer();
  const port = await server.listen();
  const started = Date.now();
  const tasks = [];
  for (const style of STYLE_NAMES)
    for (const job of JOB_NAMES) {
      // The two-endpoint style differs from the fixed window only when
      // both endpoints are used at once.
      if (style === "two_endpoints" && job !== "both") continue;
      for (const client of clients())
        tasks.push(async () => {
          const r = await runOne(server, port, style, job, client);
          process.stderr.write(`${style} ${job} ${client.name}@${client.conc}: ${r.error ? r.error : fmt(r.wall) + " s"}, ` +
            `${r.r429} 429s\n`);
          return r;
        });
    }
  const rows = await pool(tasks, PARALLEL);
  server.close();
  judge(rows);
  const minutes = (Date.now() - started) / 60000;
  const l2 = limitsOf("two_endpoints").friends_count;
  const text = [
    "# Pacing bench results (issue 20)",
    "",
    `Written by \`bench/limits/pacing.sh\` on ${new Date().toISOString().slice(0, 16)} UTC` +
      `${env.LIMITS_COMMIT ? ` for commit ${env.LIMITS_COMMIT}` : ""}, in ${minutes.toFixed(1)} minutes` +
      ` (${PARALLEL} run${PARALLEL > 1 ? "s" : ""} at once, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)} at the end)` +
      `${quick ? "; LIMITS_QUICK: a subset, smaller jobs" : ""}.`,
    `Server ${Math.round(LATENCY * 1000)} ms away; windows of ${WINDOW} s: presence ${PRESENCE_LIMIT}/${WINDOW} s, ` +
      `friends_count ${FRIENDS_LIMIT}/${WINDOW} s (two_endpoints: ${l2.limit}/${l2.window} s), messages ${PRESENCE_LIMIT}/${WINDOW} s. ` +
      `Jobs: presence of ${JOBS.presence.ids} ids, ${JOBS.friends.tasks} friends_count tasks, both at once, ` +
      `messages at ${JOBS.messages.at} s into presence of ${JOBS.messages.ids} ids. Peers at concurrency ${PEER_CONC}.`,
    "See README.md for the columns and the targets.",
    "",
    "## Targets",
    "",
    summary(rows),
    "",
    "## Every run",
    "",
    table(rows),
    "",
  ].join("\n");
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, text);
  console.log(table(rows));
  console.log("");
  console.log(summary(rows));
  console.log(`\nwritten to ${RESULTS}`);
  const failed = rows.some((r) => r.checks.some(([, ok]) => !ok));
  process.exit(env.LIMITS_STRICT === "1" && failed ? 1 : 0);
}

main().catch((e) => { console.error(e.stack || String(e)); process.exit(2); });
