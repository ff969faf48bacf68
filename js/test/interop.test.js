// Interop: this package and the real npm redis-sessions 4.0.0 on one Redis, both ways.

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import nodeRedisSessions from "redis-sessions";
import RedisSessions from "redis-sessions-wasm";
import { createClient } from "redis";
import { startRedis } from "./redis-server.js";
import { cachedGet, until } from "./cache-helpers.js";

const NodeRS = nodeRedisSessions.default; // v4's TypeScript default export, from CommonJS
const APP = "interop";

/** A session without `idle` and `r` (they move with time and reads). */
const still = ({ idle, r, ...rest }) => rest;

describe("with node redis-sessions 4.0.0 on one Redis", () => {
  let redis, node, wasm;
  before(async () => {
    redis = await startRedis();
    node = new NodeRS({ port: redis.port, host: "127.0.0.1", wipe: 0 });
    wasm = new RedisSessions({ port: redis.port, host: "127.0.0.1", wipe: 0 });
  });
  after(async () => {
    await node.quit();
    await wasm.quit();
    await redis.stop();
  });

  it("node creates, this package reads, sets, and kills", async () => {
    const d = { plan: "pro", n: 1, f: 2.5, b: false, s: "ü\n\"" };
    const { token } = await node.create({ app: APP, id: "fromnode", ip: "10.0.0.1", ttl: 300, d });
    const mine = await wasm.get({ app: APP, token });
    assert.deepEqual(still(mine), { id: "fromnode", w: 1, ttl: 300, ip: "10.0.0.1", d });
    assert.equal(mine.r, 1);
    const set = await wasm.set({ app: APP, token, d: { n: 2, plan: null, x: true } });
    assert.deepEqual(set.d, { n: 2, f: 2.5, b: false, s: "ü\n\"", x: true });
    const theirs = await node.get({ app: APP, token });
    assert.deepEqual(still(theirs), still(set));
    assert.equal(theirs.r, 2);
    assert.deepEqual(await wasm.kill({ app: APP, token }), { kill: 1 });
    assert.equal(await node.get({ app: APP, token }), null);
    assert.deepEqual(await node.soid({ app: APP, id: "fromnode" }), { sessions: [] });
  });

  it("this package creates, node reads, sets, and kills", async () => {
    const { token } = await wasm.create({ app: APP, id: "fromwasm", ip: "::1", ttl: 120, d: { a: 1, z: "x" } });
    const theirs = await node.get({ app: APP, token });
    assert.deepEqual(still(theirs), { id: "fromwasm", w: 1, ttl: 120, ip: "::1", d: { a: 1, z: "x" } });
    const set = await node.set({ app: APP, token, d: { a: null, k: 3 } });
    assert.deepEqual(set.d, { z: "x", k: 3 });
    const mine = await wasm.get({ app: APP, token });
    assert.deepEqual(still(mine), { id: "fromwasm", w: 2, ttl: 120, ip: "::1", d: { z: "x", k: 3 } });
    assert.deepEqual(await node.kill({ app: APP, token }), { kill: 1 });
    assert.equal(await wasm.get({ app: APP, token }), null);
    assert.deepEqual(await wasm.activity({ app: "interop", deltaTime: 60 }), await node.activity({ app: APP, deltaTime: 60 }));
  });

  it("no_resave sessions, both ways", async () => {
    const a = await node.create({ app: APP, id: "nr1", ip: "127.0.0.1", ttl: 100, no_resave: true });
    const mine = await wasm.get({ app: APP, token: a.token });
    assert.equal(mine.no_resave, true);
    assert.ok(mine.ttl <= 100 && mine.ttl >= 99);
    const b = await wasm.create({ app: APP, id: "nr2", ip: "127.0.0.1", ttl: 100, no_resave: true });
    const theirs = await node.get({ app: APP, token: b.token });
    assert.equal(theirs.no_resave, true);
  });

  it("soid, soapp, activity, killsoid and killall see both sides' sessions", async () => {
    const app = "mixed";
    const n1 = await node.create({ app, id: "u", ip: "127.0.0.1" });
    const w1 = await wasm.create({ app, id: "u", ip: "127.0.0.1" });
    await node.create({ app, id: "v", ip: "127.0.0.1" });
    await wasm.create({ app, id: "w", ip: "127.0.0.1" });
    const tokensOf = (r) => r.sessions.length;
    assert.equal(tokensOf(await wasm.soid({ app, id: "u" })), 2);
    assert.equal(tokensOf(await node.soid({ app, id: "u" })), 2);
    assert.equal(tokensOf(await wasm.soapp({ app, deltaTime: 60 })), 4);
    assert.equal(tokensOf(await node.soapp({ app, deltaTime: 60 })), 4);
    assert.deepEqual(await wasm.activity({ app, deltaTime: 60 }), { activity: 3 });
    assert.deepEqual(await node.activity({ app, deltaTime: 60 }), { activity: 3 });
    assert.deepEqual(await wasm.killsoid({ app, id: "u" }), { kill: 2 });
    assert.equal(await node.get({ app, token: n1.token }), null);
    assert.equal(await node.get({ app, token: w1.token }), null);
    assert.deepEqual(await node.killall({ app }), { kill: 2 });
    assert.deepEqual(await wasm.soapp({ app, deltaTime: 60 }), { sessions: [] });
    const again = await node.create({ app, id: "x", ip: "127.0.0.1" });
    await wasm.create({ app, id: "y", ip: "127.0.0.1" });
    assert.deepEqual(await wasm.killall({ app }), { kill: 2 });
    assert.equal(await node.get({ app, token: again.token }), null);
    assert.deepEqual(await node.activity({ app, deltaTime: 60 }), { activity: 0 });
  });

  it("a namespace is shared the same way", async () => {
    const n = new NodeRS({ port: redis.port, host: "127.0.0.1", wipe: 0, namespace: "shared" });
    const w = new RedisSessions({ port: redis.port, host: "127.0.0.1", wipe: 0, namespace: "shared" });
    try {
      const { token } = await w.create({ app: APP, id: "ns", ip: "127.0.0.1" });
      assert.equal((await n.get({ app: APP, token })).id, "ns");
      assert.equal(await node.get({ app: APP, token }), null);
    } finally {
      await n.quit();
      await w.quit();
    }
  });
});

describe("caches on both sides, fed by NS:cache", () => {
  let redis, raw, node, wasm, nodeCached, wasmCached;
  const opts = () => ({ port: redis.port, host: "127.0.0.1", wipe: 0 });
  const d = async (rs, token) => (await rs.get({ app: APP, token }))?.d ?? null;
  /** Changes `d` in Redis behind every cache's back (no message). */
  const behindTheBack = (token, v) => raw.hSet(`rs:${APP}:${token}`, "d", JSON.stringify({ v }));
  /** Proves `rs` serves `token` from its cache: a change made behind its back is not seen. */
  async function proveCached(rs, token) {
    await cachedGet(rs, APP, token);
    const before = await d(rs, token);
    await behindTheBack(token, "behind");
    assert.deepEqual(await d(rs, token), before, "served from the cache");
  }

  before(async () => {
    redis = await startRedis();
    raw = createClient({ socket: { port: redis.port, host: "127.0.0.1" } });
    await raw.connect();
    node = new NodeRS(opts());
    wasm = new RedisSessions(opts());
    nodeCached = new NodeRS({ ...opts(), cachetime: 60 });
    wasmCached = new RedisSessions({ ...opts(), cachetime: 60 });
  });
  after(async () => {
    await node.quit();
    await nodeCached.quit();
    await nodeCached.redissub.quit(); // node's quit leaves its subscriber open
    await wasm.quit();
    await wasmCached.quit();
    await raw.quit();
    await redis.stop();
  });

  it("node's set and kill (cachetime on: node publishes) reach this package's cache", async () => {
    const { token } = await wasm.create({ app: APP, id: "c1", ip: "127.0.0.1", d: { v: 0 } });
    await proveCached(wasmCached, token);
    await nodeCached.set({ app: APP, token, d: { v: 1 } });
    await until(async () => (await d(wasmCached, token))?.v === 1, "node's set seen");
    await proveCached(wasmCached, token);
    assert.deepEqual(await nodeCached.kill({ app: APP, token }), { kill: 1 });
    await until(async () => (await wasmCached.get({ app: APP, token })) === null, "node's kill seen");
  });

  it("this package's set, kill, rotate, killsoid and killall reach node's cache", async () => {
    const make = async (id) => (await wasm.create({ app: APP, id, ip: "127.0.0.1", d: { v: 0 } })).token;
    const gone = (token) => async () => (await nodeCached.get({ app: APP, token })) === null;

    const token = await make("c2");
    await proveCached(nodeCached, token);
    await wasm.set({ app: APP, token, d: { v: 2 } }); // a package without a cache: the script publishes
    await until(async () => (await d(nodeCached, token))?.v === 2, "our set seen");
    await proveCached(nodeCached, token);
    assert.deepEqual(await wasm.kill({ app: APP, token }), { kill: 1 });
    await until(gone(token), "our kill seen");

    const r = await make("c5");
    await proveCached(nodeCached, r);
    const { token: fresh } = await wasm.rotate({ app: APP, token: r });
    await until(gone(r), "our rotate seen (the old token)");
    assert.equal((await nodeCached.get({ app: APP, token: fresh })).id, "c5");

    const [a1, a2] = [await make("c3"), await make("c3")];
    for (const t of [a1, a2]) await proveCached(nodeCached, t);
    assert.deepEqual(await wasm.killsoid({ app: APP, id: "c3" }), { kill: 2 });
    await until(gone(a1), "our killsoid seen (1)");
    await until(gone(a2), "our killsoid seen (2)");

    const b = await make("c4");
    await proveCached(nodeCached, b);
    assert.ok((await wasm.killall({ app: APP })).kill >= 1);
    await until(gone(b), "our killall seen");
  });
});
