"use strict";
// Case 7: node's read cache. A node app with `cachetime` keeps sessions in memory and drops
// one when `APP:TOKEN` arrives on `NS:cache`. Each of our writes that node announces (set,
// kill, killsoid, killall, wipe) and our own (rotate, the deletions of a capped create) must
// reach it, or that app keeps serving a killed session or an old `d` for up to `cachetime`
// seconds. Each case first shows that the cache is on: a change made behind its back (no
// message) stays invisible to it.

const { describe, test } = require("node:test");
const assert = require("node:assert/strict");
const { SUITE, useEnv, sleep } = require("./helpers");

const NS = "ca";
const APP = "cacheapp";

/** Polls `read` until `ok(value)`, for up to 3 s (the message crosses a second connection). */
async function eventually(read, ok, what) {
  const deadline = Date.now() + 3000;
  let value;
  while (Date.now() < deadline) {
    value = await read();
    if (ok(value)) return value;
    await sleep(20);
  }
  assert.fail(`${what}: still ${JSON.stringify(value)} after 3 s`);
}

describe("node's cache channel", SUITE, () => {
  let env;
  let cached;

  useEnv(async (e) => {
    env = e;
    cached = await env.nodeCached(NS);
  });

  /** Creates a session with our CLI and has node's cache hold it. */
  async function cachedSession(id, extra = []) {
    const { token } = env.cli(NS, "create", ...extra, "--d", JSON.stringify({ v: 1 }), "--", APP, id, "::1");
    const first = await cached.get({ app: APP, token });
    assert.equal(first.d.v, 1);
    // Behind the cache's back: node still answers from memory, so the cache is on.
    await env.raw.hSet(`${NS}:${APP}:${token}`, "d", JSON.stringify({ v: "raw" }));
    assert.equal((await cached.get({ app: APP, token })).d.v, 1, "node's cache is on");
    return token;
  }

  const gone = (token) =>
    eventually(() => cached.get({ app: APP, token }), (s) => s === null, `node's cached ${token}`);

  test("our set reaches node's cache", async () => {
    const token = await cachedSession("setter");
    const ours = env.cli(NS, "set", APP, token, JSON.stringify({ v: 2 }));
    assert.equal(ours.d.v, 2);
    const seen = await eventually(
      () => cached.get({ app: APP, token }),
      (s) => s && s.d.v === 2,
      "node's cached d after our set"
    );
    assert.equal(seen.id, "setter");
  });

  test("our kill reaches node's cache", async () => {
    const token = await cachedSession("killer");
    assert.deepStrictEqual(env.cli(NS, "kill", APP, token), { kill: 1 });
    await gone(token);
  });

  test("our rotate reaches node's cache: the old token dies there too", async () => {
    const token = await cachedSession("rotated");
    const { token: fresh } = env.cli(NS, "rotate", APP, token);
    await gone(token);
    assert.equal((await cached.get({ app: APP, token: fresh })).id, "rotated");
  });

  test("a session our capped create deletes reaches node's cache", async () => {
    const oldest = await cachedSession("capped");
    const { token: newest } = env.cli(NS, "create", "--max-per-user", "1", "--", APP, "capped", "::1");
    await gone(oldest);
    assert.equal((await cached.get({ app: APP, token: newest })).id, "capped");
  });

  test("our killsoid reaches node's cache, for each of the user's sessions", async () => {
    const tokens = [await cachedSession("soid"), await cachedSession("soid")];
    assert.deepStrictEqual(env.cli(NS, "killsoid", APP, "soid"), { kill: 2 });
    for (const token of tokens) await gone(token);
  });

  test("our killall reaches node's cache, for each session of the app", async () => {
    const app = "cacheall";
    const tokens = [];
    for (const id of ["a", "b", "c"]) {
      const { token } = env.cli(NS, "create", "--", app, id, "::1");
      await cached.get({ app, token });
      await env.raw.hSet(`${NS}:${app}:${token}`, "ip", "1.2.3.4");
      assert.equal((await cached.get({ app, token })).ip, "::1", "node's cache is on");
      tokens.push(token);
    }
    assert.deepStrictEqual(env.cli(NS, "killall", app), { kill: 3 });
    for (const token of tokens) {
      await eventually(() => cached.get({ app, token }), (s) => s === null, `node's cached ${token}`);
    }
  });

  test("our wipe reaches node's cache, for each expired session it removes", async () => {
    const token = await cachedSession("wiped", ["--ttl", "10"]);
    const la = Number(await env.raw.hGet(`${NS}:${APP}:${token}`, "la"));
    await sleep((la + 11) * 1000 + 100 - Date.now());
    // Expired, yet node's cache still holds it: only the wipe's message drops it.
    assert.ok(await cached.get({ app: APP, token }), "node's cache still serves it before the wipe");
    env.cli(NS, "wipe");
    await gone(token);
  });
});
