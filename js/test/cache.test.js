// The `cachetime` / `cachemax` cache against a real redis-server: a cached get touches
// nothing in Redis, the LRU order and the ttl, the drops made by this process's own writes
// and by NS:cache messages, the subscription going away, and quit closing both connections.

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createClient } from "redis";
import RedisSessions from "redis-sessions-wasm";
import { startRedis } from "./redis-server.js";
import { cachedGet, sleep, until } from "./cache-helpers.js";

const APP = "cached";

describe("cachetime / cachemax", () => {
  let redis, raw, plain;
  const made = [];
  const cached = (o) => {
    const rs = new RedisSessions({ port: redis.port, wipe: 0, ...o });
    made.push(rs);
    return rs;
  };
  const create = async (id = "u", app = APP) => (await plain.create({ app, id, ip: "127.0.0.1", d: { v: 1 } })).token;
  /** Changes `d` in Redis behind every cache's back (no message). */
  const behindTheBack = (token, v, app = APP) => raw.hSet(`rs:${app}:${token}`, "d", JSON.stringify({ v }));

  before(async () => {
    redis = await startRedis();
    raw = createClient({ socket: { port: redis.port, host: "127.0.0.1" } });
    await raw.connect();
    plain = new RedisSessions({ port: redis.port, wipe: 0 });
  });
  after(async () => {
    for (const rs of made) await rs.quit();
    await plain.quit();
    await raw.quit();
    await redis.stop();
  });

  it("a cached get returns the same object and sends Redis nothing: r and la stay", async () => {
    const rs = cached({ cachetime: 30 });
    const token = await create();
    const s = await cachedGet(rs, APP, token);
    const hash = async () => ({ ...(await raw.hGetAll(`rs:${APP}:${token}`)) });
    const before = await hash();
    await raw.hSet(`rs:${APP}:${token}`, "la", String(Number(before.la) - 5)); // an idle session
    const again = await rs.get({ app: APP, token });
    assert.equal(again, s, "the cached object itself");
    assert.deepEqual(await hash(), { ...before, la: String(Number(before.la) - 5) });
    await behindTheBack(token, 2);
    assert.deepEqual((await rs.get({ app: APP, token })).d, { v: 1 });
    assert.deepEqual((await plain.get({ app: APP, token })).d, { v: 2 }, "without a cache, the change is seen");
  });

  it("cachemax evicts the least recently used session", async () => {
    const rs = cached({ cachetime: 30, cachemax: 2 });
    const [t1, t2, t3] = [await create(), await create(), await create()];
    await cachedGet(rs, APP, t1);
    await cachedGet(rs, APP, t2);
    await rs.get({ app: APP, token: t1 }); // t1 is now more recent than t2
    await rs.get({ app: APP, token: t3 }); // the third entry: t2 goes
    for (const t of [t1, t2, t3]) await behindTheBack(t, 9);
    assert.deepEqual((await rs.get({ app: APP, token: t1 })).d, { v: 1 }, "t1 still cached");
    assert.deepEqual((await rs.get({ app: APP, token: t3 })).d, { v: 1 }, "t3 still cached");
    assert.deepEqual((await rs.get({ app: APP, token: t2 })).d, { v: 9 }, "t2 evicted");
  });

  it("an entry expires cachetime seconds after it was stored, reads or not", async () => {
    const rs = cached({ cachetime: 2 });
    const token = await create();
    const s = await cachedGet(rs, APP, token);
    await behindTheBack(token, 3);
    await sleep(1000);
    assert.equal(await rs.get({ app: APP, token }), s, "within 2 s: cached");
    await sleep(1200);
    const fresh = await rs.get({ app: APP, token });
    assert.deepEqual(fresh.d, { v: 3 });
    assert.equal(fresh.r, s.r + 1, "read from Redis once more");
  });

  it("this process's set and kill drop the entry at once", async () => {
    const rs = cached({ cachetime: 30 });
    const token = await create();
    await cachedGet(rs, APP, token);
    await rs.set({ app: APP, token, d: { v: 4 } });
    assert.deepEqual((await rs.get({ app: APP, token })).d, { v: 4 });
    await cachedGet(rs, APP, token);
    assert.deepEqual(await rs.kill({ app: APP, token }), { kill: 1 });
    assert.equal(await rs.get({ app: APP, token }), null);
  });

  it("killsoid drops that id's sessions and killall the app's, at once", async () => {
    const rs = cached({ cachetime: 30 });
    const app = "cachedlists";
    const [a1, a2, b] = [await create("a", app), await create("a", app), await create("b", app)];
    for (const t of [a1, a2, b]) await cachedGet(rs, app, t);
    assert.deepEqual(await rs.killsoid({ app, id: "a" }), { kill: 2 });
    assert.equal(await rs.get({ app, token: a1 }), null);
    assert.equal(await rs.get({ app, token: a2 }), null);
    await behindTheBack(b, 5, app);
    assert.deepEqual((await rs.get({ app, token: b })).d, { v: 1 }, "b's entry kept");
    assert.deepEqual(await rs.killall({ app }), { kill: 1 });
    assert.equal(await rs.get({ app, token: b }), null);
  });

  it("another process's writes, and any app:token message on NS:cache, drop the entry", async () => {
    const rs = cached({ cachetime: 30 });
    const token = await create();
    await cachedGet(rs, APP, token);
    await plain.set({ app: APP, token, d: { v: 6 } }); // its script publishes APP:TOKEN
    await until(async () => (await rs.get({ app: APP, token })).d.v === 6, "the set seen");
    await cachedGet(rs, APP, token);
    await behindTheBack(token, 7);
    await raw.publish("rs:cache", `${APP}:${token}`);
    await until(async () => (await rs.get({ app: APP, token })).d.v === 7, "the message seen");
  });

  it("the namespace's own channel only", async () => {
    const rs = cached({ cachetime: 30, namespace: "other" });
    const other = new RedisSessions({ port: redis.port, wipe: 0, namespace: "other" });
    try {
      const { token } = await other.create({ app: APP, id: "u", ip: "127.0.0.1", d: { v: 1 } });
      await cachedGet(rs, APP, token);
      await raw.hSet(`other:${APP}:${token}`, "d", JSON.stringify({ v: 8 }));
      await raw.publish("rs:cache", `${APP}:${token}`);
      await sleep(100);
      assert.deepEqual((await rs.get({ app: APP, token })).d, { v: 1 }, "rs:cache is not other's");
      await raw.publish("other:cache", `${APP}:${token}`);
      await until(async () => (await rs.get({ app: APP, token })).d.v === 8, "other:cache seen");
    } finally {
      await other.quit();
    }
  });

  it("the subscription dropped empties the cache (messages may have been missed)", async () => {
    const rs = cached({ cachetime: 30 });
    const token = await create();
    await cachedGet(rs, APP, token);
    await behindTheBack(token, 10);
    await raw.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]);
    await until(async () => (await rs.get({ app: APP, token })).d.v === 10, "the cache emptied");
    // node-redis reconnects and subscribes again: caching resumes, messages arrive again.
    await cachedGet(rs, APP, token);
    await plain.set({ app: APP, token, d: { v: 11 } });
    await until(async () => (await rs.get({ app: APP, token })).d.v === 11, "messages after the reconnection");
  });

  it("without any message: own writes still drop at once, and a read overtaken by a message is not stored", async () => {
    // The `client` option's duplicate is the subscriber: here one that never hears Redis,
    // and whose message listener the test calls itself.
    const client = createClient({ socket: { port: redis.port, host: "127.0.0.1" } });
    await client.connect();
    let deliver;
    client.duplicate = () => ({
      isReady: true,
      isOpen: true,
      on() {},
      async connect() {},
      async subscribe(_channel, listener) {
        deliver = listener;
      },
      async quit() {},
    });
    const rs = new RedisSessions({ client, wipe: 0, cachetime: 30 });
    try {
      const token = await create();
      await cachedGet(rs, APP, token);
      await rs.set({ app: APP, token, d: { v: 12 } });
      assert.deepEqual((await rs.get({ app: APP, token })).d, { v: 12 });
      await cachedGet(rs, APP, token);
      await rs.kill({ app: APP, token });
      assert.equal(await rs.get({ app: APP, token }), null);

      const app = "deaf";
      const [a, b] = [await create("a", app), await create("b", app)];
      for (const t of [a, b]) await cachedGet(rs, app, t);
      await rs.killsoid({ app, id: "a" });
      assert.equal(await rs.get({ app, token: a }), null);
      await cachedGet(rs, app, b);
      await rs.killall({ app });
      assert.equal(await rs.get({ app, token: b }), null);

      const late = await create();
      const reading = rs.get({ app: APP, token: late });
      deliver(`${APP}:${late}`); // a write announced while the read is in flight
      await reading;
      await behindTheBack(late, 13);
      assert.deepEqual((await rs.get({ app: APP, token: late })).d, { v: 13 }, "not stored");
      deliver(`${APP}:${late}`);
      await cachedGet(rs, APP, late);
      await behindTheBack(late, 14);
      deliver(`${APP}:${late}`);
      assert.deepEqual((await rs.get({ app: APP, token: late })).d, { v: 14 }, "a message drops the entry");
    } finally {
      await rs.quit();
      await client.quit();
    }
  });

  it("quit closes the connection and the subscriber", async () => {
    const count = async () => (await raw.sendCommand(["CLIENT", "LIST"])).trim().split("\n").length;
    const base = await count();
    const rs = new RedisSessions({ port: redis.port, wipe: 0, cachetime: 30 });
    await cachedGet(rs, APP, await create());
    assert.equal(await count(), base + 2);
    await rs.quit();
    await until(async () => (await count()) === base, "both connections closed");

    const client = createClient({ socket: { port: redis.port, host: "127.0.0.1" } });
    await client.connect();
    const given = new RedisSessions({ client, wipe: 0, cachetime: 30 });
    await cachedGet(given, APP, await create());
    assert.equal(await count(), base + 2, "the given client and its duplicate, the subscriber");
    await given.quit();
    await until(async () => (await count()) === base + 1, "the subscriber closed");
    assert.equal(client.isReady, true, "the given client left open");
    await client.quit();
  });

  it("a process that quits exits by itself (node's quit leaves the subscriber open)", async () => {
    const script = `
      import RedisSessions from "redis-sessions-wasm";
      const rs = new RedisSessions({ port: ${redis.port}, cachetime: 30 });
      const { token } = await rs.create({ app: "${APP}", id: "exit", ip: "127.0.0.1" });
      for (let i = 0; i < 50 && (await rs.get({ app: "${APP}", token })) !== (await rs.get({ app: "${APP}", token })); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await rs.quit();`;
    const js = fileURLToPath(new URL("..", import.meta.url));
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: js, stdio: "inherit" });
    const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
    const [code, signal] = await new Promise((r) => child.on("exit", (c, s) => r([c, s])));
    clearTimeout(timer);
    assert.deepEqual([code, signal], [0, null], "exited on its own, within 10 s");
  });
});
