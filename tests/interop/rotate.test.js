"use strict";
// Case 8: this project's rotate (node has none). node 4.0.0 and 3.0.0 read, update and kill
// a rotated session like any other, and find the old token dead, every index entry moved.

const { describe, test } = require("node:test");
const assert = require("node:assert/strict");
const { SUITE, useEnv } = require("./helpers");

const NS = "ro";
const APP = "rotapp";

describe("rotate", SUITE, () => {
  let env;
  let v4;
  let v3;

  useEnv(async (e) => {
    env = e;
    v4 = env.node(NS);
    v3 = env.nodeV3(NS);
  });

  test("node reads, updates and kills a session we rotated; the old token is dead", async () => {
    const { token } = await v4.create({ app: APP, id: "alice", ip: "::1", ttl: 600, d: { role: "guest" } });
    await v4.get({ app: APP, token });
    const { token: fresh } = env.cli(NS, "rotate", APP, token);
    assert.notEqual(fresh, token);
    await env.assertGone(NS, APP, token, "alice", { userGone: false });
    await env.assertPresent(NS, APP, fresh, "alice");

    assert.equal(await v4.get({ app: APP, token }), null);
    const seen = await v4.get({ app: APP, token: fresh });
    // r as read before this get's increment: node's get before the rotation counted, rotate did not.
    assert.deepStrictEqual([seen.id, seen.r, seen.w, seen.ttl, seen.d], ["alice", 2, 1, 600, { role: "guest" }]);
    assert.equal((await v3.get({ app: APP, token: fresh })).id, "alice");
    assert.deepStrictEqual((await v4.set({ app: APP, token: fresh, d: { role: "admin" } })).d, { role: "admin" });
    assert.equal((await v4.soid({ app: APP, id: "alice" })).sessions.length, 1);
    assert.deepStrictEqual(await v4.kill({ app: APP, token: fresh }), { kill: 1 });
    await env.assertGone(NS, APP, fresh, "alice", { userGone: true });
  });

  test("node's killsoid and killall take rotated sessions", async () => {
    const APP = "rotapp2";
    const a = await v4.create({ app: APP, id: "bob", ip: "::1", ttl: 600 });
    const b = env.cli(NS, "create", APP, "bob", "::1");
    const ra = env.cli(NS, "rotate", APP, a.token).token;
    env.cli(NS, "rotate", APP, b.token);
    assert.deepStrictEqual(await v4.killsoid({ app: APP, id: "bob" }), { kill: 2 });
    assert.equal(env.cli(NS, "get", APP, ra), null);
    env.cli(NS, "rotate", APP, env.cli(NS, "create", APP, "carol", "::1").token);
    assert.deepStrictEqual(await v4.killall({ app: APP }), { kill: 1 });
    assert.deepStrictEqual(await env.appKeys(NS, APP), { keys: [], global: [] });
  });
});
