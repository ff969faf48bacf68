// get / create / set per second at 1 and 32 concurrent callers: this package against node
// redis-sessions 4.0.0, on one private redis-server, in one run (alternating, so both see
// the same machine load). Prints a Markdown table.
//
//   cd js && node_modules/.bin/node bench.js [seconds per cell, default 2]

import nodeRedisSessions from "redis-sessions";
import RedisSessions from "redis-sessions-wasm";
import { startRedis } from "./test/redis-server.js";

const NodeRS = nodeRedisSessions.default;
const SECONDS = Number(process.argv[2] ?? 2);
const APP = "bench";

const redis = await startRedis();
const POOL = process.env.POOL ? Number(process.env.POOL) : undefined;
const impls = {
  "redis-sessions-wasm": new RedisSessions({ port: redis.port, wipe: 0, poolSize: POOL }),
  "redis-sessions 4.0.0": new NodeRS({ port: redis.port, wipe: 0 }),
};

async function measure(rs, op, callers) {
  // Each caller has its session (a set on a session another caller is setting is retried
  // here, and lost in node).
  const tokens = [];
  for (let c = 0; c < callers; c++) {
    tokens.push((await rs.create({ app: APP, id: `reader${c}`, ip: "127.0.0.1", d: { a: 1, b: "x" } })).token);
  }
  let i = 0;
  const run = {
    get: (c) => rs.get({ app: APP, token: tokens[c] }),
    create: () => rs.create({ app: APP, id: `u${i++ % 1000}`, ip: "127.0.0.1", d: { n: i } }),
    set: (c) => rs.set({ app: APP, token: tokens[c], d: { n: i++ } }),
  }[op];
  // Warm up (JIT, the component instances, Redis's script cache).
  const warm = Date.now() + 300;
  await Promise.all(Array.from({ length: callers }, async (_, c) => { while (Date.now() < warm) await run(c); }));
  let done = 0;
  const end = Date.now() + SECONDS * 1000;
  const start = Date.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, c) => {
      while (Date.now() < end) {
        await run(c);
        done++;
      }
    }),
  );
  return done / ((Date.now() - start) / 1000);
}

const rows = [];
for (const op of ["get", "create", "set"]) {
  for (const callers of [1, 32]) {
    const row = { op, callers };
    for (const [name, rs] of Object.entries(impls)) row[name] = await measure(rs, op, callers);
    rows.push(row);
  }
}
const names = Object.keys(impls);
console.log(`| operation | callers | ${names.join(" | ")} |`);
console.log(`|---|---|${names.map(() => "---:").join("|")}|`);
for (const r of rows) {
  console.log(`| ${r.op} | ${r.callers} | ${names.map((n) => `${Math.round(r[n])}/s`).join(" | ")} |`);
}
await impls["redis-sessions-wasm"].killall({ app: APP });
for (const rs of Object.values(impls)) await rs.quit();
await redis.stop();
