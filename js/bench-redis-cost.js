// What each operation costs Redis: its round trips and Redis' CPU per call (INFO cpu:
// the server's user + system time over the calls, network reads included), each against
// `get`'s, in one run on one private redis-server. The component is the same whatever the host, so this is the cost
// of the Rust service's and the CLI's calls too. Prints a Markdown table.
//
//   cd js && node_modules/.bin/node bench-redis-cost.js [calls per operation, default 3000]

import { createClient } from "redis";
import RedisSessions from "redis-sessions-wasm";
import { startRedis } from "./test/redis-server.js";

const CALLS = Number(process.argv[2] ?? 3000);
const APP = "cost";

const redis = await startRedis();
const raw = createClient({ socket: { port: redis.port, host: "127.0.0.1" } });
await raw.connect();
const rs = new RedisSessions({ port: redis.port, wipe: 0 });

/** Redis' own CPU time so far (user + system, all its threads), in microseconds. */
async function redisCpu() {
  const info = await raw.info("cpu");
  const field = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)[1]);
  return (field("used_cpu_user") + field("used_cpu_sys")) * 1e6;
}

/** Runs `op` CALLS times, one at a time; returns Redis' CPU per call in microseconds. */
async function measure(op) {
  const before = await redisCpu();
  for (let i = 0; i < CALLS; i++) await op(i);
  return ((await redisCpu()) - before) / CALLS;
}

const fresh = async (id, options = {}) =>
  (await rs.create({ app: APP, id, ip: "127.0.0.1", d: { a: 1, b: "x" }, ...options })).token;
const tokens = [];
for (let i = 0; i < CALLS; i++) tokens.push(await fresh(`u${i % 500}`));
// Warm up: JIT, the component instances, Redis' script cache.
for (let i = 0; i < 300; i++) await rs.get({ app: APP, token: tokens[i] });

// Round trips per call, from the code: each is one script or one MULTI/EXEC, except set's
// read before its compare-and-set.
const ops = [
  ["get", 1, (i) => rs.get({ app: APP, token: tokens[i] })],
  ["create (node's MULTI)", 1, (i) => rs.create({ app: APP, id: `c${i % 500}`, ip: "127.0.0.1", d: { n: i } })],
  [
    "create, max_per_user 3",
    1,
    (i) => rs.create({ app: APP, id: `m${i % 500}`, ip: "127.0.0.1", d: { n: i }, max_per_user: 3 }),
  ],
  [
    "create, max_age 600",
    1,
    (i) => rs.create({ app: APP, id: `a${i % 500}`, ip: "127.0.0.1", d: { n: i }, max_age: 600 }),
  ],
  ["set", 2, (i) => rs.set({ app: APP, token: tokens[i], d: { n: i } })],
  ["rotate", 1, (i) => rs.rotate({ app: APP, token: tokens[i] }).then((r) => (tokens[i] = r.token))],
  ["kill", 1, (i) => rs.kill({ app: APP, token: tokens[i] })],
];
// Each operation twice, in turn, and the lower of the two (the machine may be busy).
const cost = new Map(ops.map(([name]) => [name, Infinity]));
for (let round = 0; round < 2; round++) {
  for (const [name, , op] of ops) {
    if (name === "kill" && round === 0) continue; // kill last, once: it empties `tokens`
    cost.set(name, Math.min(cost.get(name), await measure(op)));
  }
}
const get = cost.get("get");
const version = (await raw.info("server")).match(/redis_version:(\S+)/)[1];
console.log(`Redis CPU per call, ${CALLS} calls each, one caller (redis-sessions-wasm, Redis ${version}):\n`);
console.log("| operation | round trips | Redis µs per call | against get |");
console.log("|---|---:|---:|---:|");
for (const [name, trips] of ops) {
  const us = cost.get(name);
  console.log(`| ${name} | ${trips} | ${us.toFixed(1)} | ${(us / get).toFixed(2)}× |`);
}

await rs.quit();
await raw.quit();
await redis.stop();
