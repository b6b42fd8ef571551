// Node's side (issue 9): presence of 5,000 ids, 100 POSTs of 50 ids with
// fetch, all at once with Promise.all (CAP 0, as users write it) or at
// most CAP at a time.  One untimed round first, then ROUNDS timed ones;
// prints "ms M1 M2 ..." like curl_multi.  Each answer is parsed (.json()).
//
//   node node_fetch.mjs BASE_URL ROUNDS CAP
const [base, roundsArg, capArg] = process.argv.slice(2);
const rounds = Number(roundsArg), cap = Number(capArg);
const key = process.env.BENCH_API_KEY || "bench";
const FIRST_ID = 4294967297;
const url = base + "/v1/presence/users";
const headers = { "Accept": "application/json", "User-Agent": "robloxsocial/0.1.0",
                  "x-api-key": key, "Content-Type": "application/json" };
const bodies = [];
for (let r = 0; r < 100; r++) {
  const ids = [];
  for (let i = 0; i < 50; i++) ids.push(FIRST_ID + r * 50 + i);
  bodies.push(JSON.stringify({ userIds: ids }));
}

async function one(body) {
  const res = await fetch(url, { method: "POST", headers, body });
  if (res.status !== 200) throw new Error("status " + res.status);
  return (await res.json()).userPresences;
}

async function round() {
  let parts;
  if (cap === 0) {
    parts = await Promise.all(bodies.map(one));
  } else {
    parts = new Array(bodies.length);
    let next = 0;
    const worker = async () => {
      while (next < bodies.length) { const i = next++; parts[i] = await one(bodies[i]); }
    };
    await Promise.all(Array.from({ length: Math.min(cap, bodies.length) }, worker));
  }
  const all = parts.flat();
  if (all.length !== 5000) throw new Error("a short answer");
}

await round();
const out = [];
for (let r = 0; r < rounds; r++) {
  const t0 = process.hrtime.bigint();
  await round();
  out.push((Number(process.hrtime.bigint() - t0) / 1e6).toFixed(3));
}
console.log("ms " + out.join(" "));
