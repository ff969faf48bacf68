// The package's API against a real redis-server: node redis-sessions 4's methods, shapes
// and errors, the Redis layout it writes, the `client` and `namespace` options, concurrent
// calls, wipe, and Redis going away and coming back.

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "redis";
import RedisSessions from "redis-sessions-wasm";
import { startRedis } from "./redis-server.js";

const APP = "myapp";
const TOKEN = /^[A-Za-z0-9]{64}$/;

async function rejects(promise, name, message) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.name, name);
    assert.equal(e.message, message);
    return true;
  });
}

describe("redis-sessions-wasm", () => {
  let redis, raw, rs;
  before(async () => {
    redis = await startRedis();
    raw = createClient({ socket: { port: redis.port, host: "127.0.0.1" } });
    await raw.connect();
    rs = new RedisSessions({ port: redis.port, wipe: 0 });
  });
  after(async () => {
    await rs.quit();
    await raw.quit();
    await redis.stop();
  });

  it("ping answers PONG", async () => {
    assert.equal(await rs.ping(), "PONG");
  });

  it("create returns a token and writes node's layout", async () => {
    const { token, ...rest } = await rs.create({ app: APP, id: "user1", ip: "127.0.0.1", ttl: 3600, d: { plan: "pro", n: 1, gone: null } });
    assert.match(token, TOKEN);
    assert.deepEqual(rest, {});
    const hash = await raw.hGetAll(`rs:${APP}:${token}`);
    assert.deepEqual(Object.keys(hash).sort(), ["d", "id", "ip", "la", "r", "ttl", "w"]);
    assert.equal(hash.id, "user1");
    assert.equal(hash.ttl, "3600");
    assert.deepEqual(JSON.parse(hash.d), { plan: "pro", n: 1 });
    assert.equal(await raw.zScore(`rs:${APP}:_sessions`, `${token}:user1`), Number(hash.la));
    assert.equal(await raw.zScore(`rs:SESSIONS`, `${APP}:${token}:user1`), Number(hash.la) + 3600);
    assert.equal(await raw.sIsMember(`rs:${APP}:us:user1`, token), true);
  });

  it("get returns node's session object, r counting reads before this one", async () => {
    const { token } = await rs.create({ app: APP, id: "getter", ip: "::1", ttl: 60 });
    const s = await rs.get({ app: APP, token });
    assert.deepEqual(s, { id: "getter", r: 1, w: 1, ttl: 60, idle: 0, ip: "::1" });
    assert.deepEqual(Object.keys(s), ["id", "r", "w", "ttl", "idle", "ip"]);
    assert.equal((await rs.get({ app: APP, token })).r, 2);
    assert.equal(await rs.get({ app: APP, token: "a".repeat(64) }), null);
  });

  it("d keeps its types: integers, floats, booleans, unicode", async () => {
    const d = { s: "ü\"\n\u2028", i: 42, neg: -7, f: 1.5, big: 1e21, t: true, no: false };
    const { token } = await rs.create({ app: APP, id: "typed", ip: "1.2.3.4", d });
    const s = await rs.get({ app: APP, token });
    assert.deepEqual(s.d, d);
    assert.ok(Number.isInteger(s.d.i));
  });

  it("set merges d: null deletes a key, the rest replaces or appends", async () => {
    const { token } = await rs.create({ app: APP, id: "setter", ip: "127.0.0.1", d: { c: 1, a: 2 } });
    const s = await rs.set({ app: APP, token, d: { a: null, b: 3, c: 4 } });
    assert.deepEqual(s.d, { c: 4, b: 3 });
    assert.equal(s.w, 2);
    const all = await rs.set({ app: APP, token, d: { b: null, c: null } });
    assert.equal("d" in all, false);
    assert.equal(await raw.hExists(`rs:${APP}:${token}`, "d"), false);
    assert.equal(await rs.set({ app: APP, token: "b".repeat(64), d: { x: 1 } }), null);
  });

  it("no_resave sessions say so and return their real w", async () => {
    const { token } = await rs.create({ app: APP, id: "nr", ip: "127.0.0.1", ttl: 100, no_resave: true });
    const s = await rs.get({ app: APP, token });
    assert.equal(s.no_resave, true);
    assert.equal((await rs.set({ app: APP, token, d: { x: 1 } })).w, 2);
  });

  it("kill deletes a session and does not count a read first", async () => {
    const { token } = await rs.create({ app: APP, id: "victim", ip: "127.0.0.1" });
    assert.deepEqual(await rs.kill({ app: APP, token }), { kill: 1 });
    assert.equal(await raw.exists(`rs:${APP}:${token}`), 0);
    assert.deepEqual(await rs.kill({ app: APP, token }), { kill: 0 });
    assert.equal(await rs.get({ app: APP, token }), null);
  });

  it("rotate gives a new token, kills the old one and keeps the rest (not in node)", async () => {
    const { token } = await rs.create({ app: APP, id: "rot", ip: "10.0.0.9", ttl: 300, d: { role: "guest" } });
    await rs.get({ app: APP, token });
    const rotated = await rs.rotate({ app: APP, token });
    assert.equal(rotated.token.length, 64);
    assert.notEqual(rotated.token, token);
    assert.equal(await rs.get({ app: APP, token }), null);
    assert.equal(await rs.rotate({ app: APP, token }), null);
    const s = await rs.get({ app: APP, token: rotated.token });
    assert.deepEqual([s.id, s.ip, s.ttl, s.r, s.w, s.d], ["rot", "10.0.0.9", 300, 2, 1, { role: "guest" }]);
    await assert.rejects(rs.rotate({ app: APP, token: "nope" }), { name: "invalidFormat", message: "Invalid token format" });
    assert.deepEqual(await rs.kill({ app: APP, token: rotated.token }), { kill: 1 });
  });

  it("max_per_user caps a user's live sessions, the oldest activity first (not in node)", async () => {
    const app = "capped";
    const first = await rs.create({ app, id: "u", ip: "127.0.0.1" });
    const second = await rs.create({ app, id: "u", ip: "127.0.0.1", max_per_user: 2 });
    const third = await rs.create({ app, id: "u", ip: "127.0.0.1", d: { n: 3 }, max_per_user: 2 });
    const left = (await rs.soid({ app, id: "u" })).sessions.length;
    assert.equal(left, 2);
    assert.equal(await rs.get({ app, token: first.token }) === null || await rs.get({ app, token: second.token }) === null, true);
    assert.deepEqual((await rs.get({ app, token: third.token })).d, { n: 3 });
    await assert.rejects(rs.create({ app, id: "u", ip: "127.0.0.1", max_per_user: 0 }), {
      name: "invalidValue",
      message: "max_per_user must be a positive integer >= 1",
    });
    await rs.killall({ app });
  });

  it("max_age gives an absolute lifetime, returned as the seconds left (not in node)", async () => {
    const { token } = await rs.create({ app: APP, id: "ma", ip: "127.0.0.1", ttl: 600, max_age: 60 });
    const s = await rs.get({ app: APP, token });
    assert.ok(s.max_age > 55 && s.max_age <= 60, `max_age ${s.max_age}`);
    assert.equal(await raw.hGet(`rs:${APP}:${token}`, "exp"), String(Number(await raw.hGet(`rs:${APP}:${token}`, "la")) + 60));
    await assert.rejects(rs.create({ app: APP, id: "ma", ip: "127.0.0.1", max_age: 9 }), {
      name: "invalidValue",
      message: "max_age must be a positive integer >= 10",
    });
    await rs.kill({ app: APP, token });
  });

  it("soid, killsoid, activity, soapp, killall", async () => {
    const app = "lists";
    const a = await rs.create({ app, id: "u1", ip: "127.0.0.1" });
    await rs.create({ app, id: "u1", ip: "127.0.0.2" });
    await rs.create({ app, id: "u2", ip: "127.0.0.3" });
    const soid = await rs.soid({ app, id: "u1" });
    assert.deepEqual(Object.keys(soid), ["sessions"]);
    assert.equal(soid.sessions.length, 2);
    assert.ok(soid.sessions.every((s) => s.id === "u1"));
    assert.deepEqual(await rs.activity({ app, deltaTime: 60 }), { activity: 2 });
    assert.equal((await rs.soapp({ app, deltaTime: 60 })).sessions.length, 3);
    assert.deepEqual(await rs.killsoid({ app, id: "u1" }), { kill: 2 });
    assert.equal(await rs.get({ app, token: a.token }), null);
    assert.deepEqual(await rs.activity({ app, deltaTime: 60 }), { activity: 1 });
    assert.deepEqual(await rs.killall({ app }), { kill: 1 });
    assert.deepEqual(await rs.soapp({ app, deltaTime: 60 }), { sessions: [] });
    assert.deepEqual(await rs.killall({ app }), { kill: 0 });
  });

  it("errors carry node's name and message, in node's order", async () => {
    await rejects(rs.get({}), "missingParameter", "No app supplied");
    await rejects(rs.get({ app: "a" }), "invalidFormat", "Invalid app format");
    await rejects(rs.get({ app: APP }), "missingParameter", "No token supplied");
    await rejects(rs.get({ app: APP, token: "x" }), "invalidFormat", "Invalid token format");
    await rejects(rs.create({ app: APP, id: "u" }), "missingParameter", "No ip supplied");
    await rejects(rs.create({ app: APP, id: "u", ip: "1".repeat(40) }), "invalidFormat", "Invalid ip format");
    // Present for node (truthy), but its text is empty: node's format check fails.
    await rejects(rs.create({ app: APP, id: "u", ip: [] }), "invalidFormat", "Invalid ip format");
    await rejects(rs.get({ app: [""], token: "x" }), "invalidFormat", "Invalid app format");
    await rejects(rs.create({ app: APP, id: "u", ip: "1", ttl: 4 }), "invalidValue", "ttl must be a positive integer >= 10");
    await rejects(rs.create({ app: APP, id: "u", ip: "1", ttl: "soon" }), "invalidValue", "ttl must be a positive integer >= 10");
    await rejects(rs.create({ app: APP, id: "u", ip: "1", d: {} }), "invalidValue", "d must containt at least one key.");
    await rejects(rs.create({ app: APP, id: "u", ip: "1", d: [1] }), "invalidValue", "d must be an object");
    await rejects(rs.create({ app: APP, id: "u", ip: "1", d: { o: {} } }), "invalidValue",
      "d.o has a forbidden type. Only strings, numbers, boolean and null are allowed.");
    await rejects(rs.create({ app: APP, id: "a\nb", ip: "1", d: "x" }), "invalidFormat", "Invalid id format");
    await rejects(rs.create({ app: APP, id: "u", ip: "1", ttl: 5, d: "x" }), "invalidValue", "ttl must be a positive integer >= 10");
    const token = "c".repeat(64);
    await rejects(rs.set({ app: APP, token }), "missingParameter", "No d supplied");
    await rejects(rs.set({ app: "x", token, d: "str" }), "invalidFormat", "Invalid app format");
    await rejects(rs.set({ app: APP, token: "short", d: [1] }), "invalidFormat", "Invalid token format");
    await rejects(rs.set({ app: APP, token, d: "str" }), "invalidValue", "d must be an object");
    await rejects(rs.set({ app: APP, token, d: { n: NaN } }), "invalidValue", "d.n must be a finite number");
    await rejects(rs.activity({ app: APP }), "invalidValue", "deltaTime must be a positive integer >= 10");
    await rejects(rs.soapp({ app: APP, deltaTime: 9 }), "invalidValue", "deltaTime must be a positive integer >= 10");
    await rejects(rs.soid({ app: APP }), "missingParameter", "No id supplied");
    await rejects(rs.killall({ app: "no spaces" }), "invalidFormat", "Invalid app format");
    const e = await rs.get({ app: APP, token: "x" }).catch((err) => err);
    assert.ok(e instanceof Error);
    assert.equal(JSON.stringify(e), '{"name":"invalidFormat"}'); // v4: message is not enumerable
  });

  it("an error Redis answers rejects as storeError, with Redis's message", async () => {
    await raw.set("rs:broken:_sessions", "not a sorted set");
    const e = await rs.create({ app: "broken", id: "u", ip: "127.0.0.1" }).catch((err) => err);
    assert.equal(e.name, "storeError");
    assert.match(e.message, /^WRONGTYPE /);
  });

  it("an id's line break is refused at once (node's regex takes minutes)", async () => {
    const t = Date.now();
    await rejects(rs.create({ app: APP, id: "x".repeat(40) + "\n", ip: "1" }), "invalidFormat", "Invalid id format");
    assert.ok(Date.now() - t < 1000);
  });

  it("many concurrent calls", async () => {
    const created = await Promise.all(
      Array.from({ length: 300 }, (_, i) => rs.create({ app: "bulk", id: `u${i}`, ip: "127.0.0.1" })),
    );
    const got = await Promise.all(created.map(({ token }) => rs.get({ app: "bulk", token })));
    got.forEach((s, i) => assert.equal(s.id, `u${i}`));
    assert.deepEqual(await rs.activity({ app: "bulk", deltaTime: 60 }), { activity: 300 });
    assert.deepEqual(await rs.killall({ app: "bulk" }), { kill: 300 });
  });

  it("wipe removes expired sessions with their index entries", async () => {
    const { token } = await rs.create({ app: "wiped", id: "old", ip: "127.0.0.1", ttl: 10 });
    const live = await rs.create({ app: "wiped", id: "new", ip: "127.0.0.1", ttl: 100 });
    // Make the first one expired: last activity and expiry 100 s ago.
    const past = Math.floor(Date.now() / 1000) - 100;
    await raw.hSet(`rs:wiped:${token}`, "la", String(past - 10));
    await raw.zAdd("rs:SESSIONS", { score: past, value: `wiped:${token}:old` });
    assert.equal(await rs.get({ app: "wiped", token }), null);
    assert.deepEqual(await rs.wipe(), { wiped: 1 });
    assert.equal(await raw.exists(`rs:wiped:${token}`), 0);
    assert.equal(await raw.exists("rs:wiped:us:old"), 0);
    assert.equal((await rs.get({ app: "wiped", token: live.token })).id, "new");
  });

  it("namespace option", async () => {
    const other = new RedisSessions({ port: redis.port, wipe: 0, namespace: "other" });
    try {
      const { token } = await other.create({ app: APP, id: "ns", ip: "127.0.0.1" });
      assert.equal(await raw.exists(`other:${APP}:${token}`), 1);
      assert.equal(await rs.get({ app: APP, token }), null);
      assert.equal((await other.get({ app: APP, token })).id, "ns");
    } finally {
      await other.quit();
    }
  });

  it("client option: an existing node-redis client, left open by quit", async () => {
    const client = createClient({ socket: { port: redis.port, host: "127.0.0.1" } });
    await client.connect();
    const mine = new RedisSessions({ client, wipe: 0 });
    const { token } = await mine.create({ app: APP, id: "shared", ip: "127.0.0.1" });
    assert.equal((await rs.get({ app: APP, token })).id, "shared");
    await mine.quit();
    assert.equal(client.isReady, true);
    await client.quit();
  });
});

describe("Redis going away", () => {
  it("rejects with redisUnavailable while Redis is down, and recovers when it is back", async () => {
    let redis = await startRedis();
    const port = redis.port;
    const rs = new RedisSessions({ port, wipe: 0, poolSize: 32 });
    try {
      const { token } = await rs.create({ app: APP, id: "u", ip: "127.0.0.1" });
      await redis.stop();
      const t = Date.now();
      const e = await rs.get({ app: APP, token }).catch((err) => err);
      assert.equal(e.name, "redisUnavailable", String(e));
      assert.match(e.message, new RegExp(`^Redis at 127.0.0.1:${port} is unavailable: `));
      assert.ok(Date.now() - t < 5000, "fails fast");
      const many = await Promise.all(
        Array.from({ length: 40 }, () => rs.get({ app: APP, token }).catch((err) => err.name)),
      );
      assert.deepEqual(new Set(many), new Set(["redisUnavailable"]));
      redis = await startRedis(port);
      // node-redis reconnects with a backoff: within a few seconds the calls work again.
      const deadline = Date.now() + 10000;
      let ok = null;
      while (Date.now() < deadline) {
        ok = await rs.create({ app: APP, id: "back", ip: "127.0.0.1" }).catch(() => null);
        if (ok) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(ok, "works again once Redis is back");
      assert.equal((await rs.get({ app: APP, token: ok.token })).id, "back");
    } finally {
      await rs.quit();
      await redis.stop();
    }
  });
});
