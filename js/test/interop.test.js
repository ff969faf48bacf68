// Interop: this package and the real npm redis-sessions 4.0.0 on one Redis, both ways.

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import nodeRedisSessions from "redis-sessions";
import RedisSessions from "redis-sessions-wasm";
import { startRedis } from "./redis-server.js";

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
