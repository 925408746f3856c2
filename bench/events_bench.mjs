// bench/events_bench.mjs: N open event streams on one nginx worker (bench/events_bench.sh
// starts it): the worker's CPU while idle, and the latency from a commit by
// another process to the event on every stream.
//   BASE=http://127.0.0.1:PORT WORKER_PID=… DB=… ROOT=… STREAMS=1000 IDLE_SECONDS=20 WRITES=20 node bench/events_bench.mjs
import http from "node:http";
import { readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";

const { BASE, WORKER_PID, DB, ROOT, WORK } = process.env;
const N = Number(process.env.STREAMS || 1000);
const IDLE = Number(process.env.IDLE_SECONDS || 20);
const WRITES = Number(process.env.WRITES || 20);
const url = new URL(`${BASE}/inventory/v1/events?collector_id=collector-bench`);
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const HZ = 100;   // USER_HZ

function cpu() {
  const f = readFileSync(`/proc/${WORKER_PID}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / HZ;    // utime + stime, seconds
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const arrivals = [];        // per write: array of arrival times (ms)
let open = 0;
let refused = 0;
function stream() {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers: { Authorization: "Bearer demo-a-admin" } }, (res) => {
      if (res.statusCode !== 200) { refused += 1; res.resume(); resolve(); return; }
      open += 1;
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const m = block.match(/^data: (.*)$/m);
          if (/^event: job$/m.test(block) && m) {
            const w = JSON.parse(m[1]).plugin_id;       // "bench-<k>"
            const k = Number(String(w).slice(6));
            (arrivals[k] ||= []).push(Date.now());
          }
        }
      });
      resolve();
    });
    req.on("error", () => { refused += 1; resolve(); });
  });
}

for (let i = 0; i < N; i += 50) {
  await Promise.all(Array.from({ length: Math.min(50, N - i) }, stream));
}
console.log(`open streams: ${open} (refused ${refused})`);
await sleep(1000);
const c0 = cpu(); const t0 = Date.now();
await sleep(IDLE * 1000);
const idle = (cpu() - c0) / ((Date.now() - t0) / 1000);
console.log(`idle: worker CPU ${(idle * 100).toFixed(2)} % of one core over ${IDLE} s with ${open} streams`);

// writes by another process: one job each (a commit), its time taken right after the commit
const lat = [];
const c1 = cpu();
for (let k = 0; k < WRITES; k++) {
  const chunk = `${WORK}/bench-w.lua`;
  const out = `${WORK}/bench-w.out`;
  writeFileSync(chunk, `assert(inv.job.create{ domain_id = "domain-1f2e3d4c5b6a", collector_id = "collector-bench", plugin_id = "bench-${k}", tasks = {} }); mark("t", "")`);
  writeFileSync(out, "");
  spawnSync("lua5.4", [`${ROOT}/test/nginx/writes.lua`, DB, chunk, out], { env: process.env });
  const t = Number(readFileSync(out, "utf8").split("\t")[2]) * 1000;
  await sleep(1500);
  const got = arrivals[k] || [];
  for (const a of got) lat.push(a - t);
  if (got.length !== open) console.log(`write ${k}: ${got.length} of ${open} streams got it`);
}
const busy = cpu() - c1;
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(0);
console.log(`latency commit -> event, ${WRITES} writes x ${open} streams (${lat.length} events): ` +
            `p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${lat[lat.length - 1].toFixed(0)} ms`);
console.log(`worker CPU for the ${WRITES} writes: ${(busy * 1000 / WRITES).toFixed(1)} ms per commit fanned out to ${open} streams`);
process.exit(0);
