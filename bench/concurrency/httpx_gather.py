# Python's side (issue 9): presence of 5,000 ids, 100 POSTs of 50 ids with
# httpx.AsyncClient and asyncio.gather, limits max_connections 100.  One
# untimed round first, then ROUNDS timed ones; prints "ms M1 M2 ..." like
# curl_multi.  Each answer is parsed (.json()).  Debian's python3-httpx:
# run it with /usr/bin/python3.
#
#   /usr/bin/python3 httpx_gather.py BASE_URL ROUNDS
import asyncio, os, sys, time
import httpx

FIRST_ID = 4294967297

async def main(base, rounds):
    key = os.environ.get("BENCH_API_KEY", "bench")
    headers = {"Accept": "application/json", "User-Agent": "robloxsocial/0.1.0",
               "x-api-key": key, "Content-Type": "application/json"}
    bodies = [{"userIds": [FIRST_ID + r * 50 + i for i in range(50)]} for r in range(100)]
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:
        async def one(body):
            res = await client.post("/v1/presence/users", json=body)
            if res.status_code != 200:
                raise RuntimeError("status %d" % res.status_code)
            return res.json()["userPresences"]

        async def round_():
            parts = await asyncio.gather(*(one(b) for b in bodies))
            if sum(len(p) for p in parts) != 5000:
                raise RuntimeError("a short answer")

        await round_()
        out = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            await round_()
            out.append("%.3f" % ((time.perf_counter() - t0) * 1000))
        print("ms " + " ".join(out))

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
