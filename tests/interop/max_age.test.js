"use strict";
// Case 9: this project's max_age. A session created with one carries an extra hash field
// (`exp`, the absolute deadline) that node ignores: node 4.0.0 reads, updates and kills it
// like any other, and SESSIONS holds the earlier of the two deadlines, so a wipe (ours or
// node's) removes it at max-age.

const { describe, test } = require("node:test");
const assert = require("node:assert/strict");
const { SUITE, useEnv, sleep } = require("./helpers");

const NS = "ma";
const APP = "maxapp";

describe("max_age", SUITE, () => {
  let env;
  let v4;

  useEnv(async (e) => {
    env = e;
    v4 = env.node(NS);
  });

  test("node reads, updates and kills a session created with max_age", async () => {
    const { token } = env.cli(NS, "create", "--ttl", "600", "--max-age", "300", "--d", '{"a":1}', "--", APP, "u1", "::1");
    const seen = await v4.get({ app: APP, token });
    assert.deepStrictEqual([seen.id, seen.ttl, seen.d], ["u1", 600, { a: 1 }]);
    assert.equal(seen.max_age, undefined, "node knows nothing of it");
    assert.deepStrictEqual((await v4.set({ app: APP, token, d: { b: 2 } })).d, { a: 1, b: 2 });
    const ours = env.cli(NS, "get", APP, token);
    assert.ok(ours.max_age > 295 && ours.max_age <= 300, `max_age ${ours.max_age}`);
    assert.deepStrictEqual(ours.d, { a: 1, b: 2 });
    assert.deepStrictEqual(await v4.kill({ app: APP, token }), { kill: 1 });
    await env.assertGone(NS, APP, token, "u1", { userGone: true });
  });

  test("at max-age we hide it, and node's wipe removes it", async () => {
    const { token } = env.cli(NS, "create", "--ttl", "600", "--max-age", "10", "--", APP, "u2", "::1");
    const la = Number(await env.raw.hGet(`${NS}:${APP}:${token}`, "la"));
    assert.equal(await env.raw.zScore(`${NS}:SESSIONS`, `${APP}:${token}:u2`), la + 10, "the earlier deadline");
    await sleep((la + 11) * 1000 + 100 - Date.now());
    assert.equal(env.cli(NS, "get", APP, token), null);
    await v4._wipe();
    await env.assertGone(NS, APP, token, "u2", { userGone: true });
  });
});
