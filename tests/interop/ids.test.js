"use strict";
// Case 2: ids with UTF-8, with `@` and `.`, with `:`; ips in IPv6 and `::ffff:` form.

const { describe, test } = require("node:test");
const assert = require("node:assert/strict");
const { SUITE, useEnv, stable } = require("./helpers");

const NS = "rs";
const APP = "ids_app-1";

const CASES = [
  { id: "Jürgen Müller 用户 😀", ip: "2001:0db8:85a3:0000:0000:8a2e:0370:7334" }, // a 39-char IPv6
  { id: "first.last+tag@example.co.uk", ip: "::ffff:192.0.2.128" },
  { id: "tenant:42:user:7", ip: "::1" },
  { id: ":", ip: "fe80::1ff:fe23:4567:890a" },
  { id: "a.b@c:d ü", ip: "::ffff:10.0.0.1" },
  { id: "-leading-dash", ip: "::ffff:1.2.3.4" }, // the CLI needs `--` before it
  { id: "😀".repeat(64), ip: "127.0.0.1" } // 128 UTF-16 units: the longest id we accept
];

describe("ids and ips", SUITE, () => {
  let env;
  let rs;
  useEnv((e) => {
    env = e;
    rs = env.node(NS);
  });

  for (const { id, ip } of CASES) {
    const label = `id ${JSON.stringify(id.length > 20 ? id.slice(0, 8) + "…" : id)} ip ${ip}`;

    test(`node writes, we read, update and kill: ${label}`, async () => {
      const { token } = await rs.create({ app: APP, id, ip, d: { who: "node" } });
      await env.assertPresent(NS, APP, token, id);

      const ours = env.cli(NS, "get", APP, token);
      assert.equal(ours.id, id);
      assert.equal(ours.ip, ip);
      assert.equal(ours.r, 1);
      const set = env.cli(NS, "set", APP, token, '{"who":"rust","n":1}');
      assert.deepStrictEqual(set.d, { who: "rust", n: 1 });

      // Both sides list the session under the same id.
      const nodeSoid = await rs.soid({ app: APP, id });
      const ourSoid = env.cli(NS, "soid", "--", APP, id);
      assert.equal(nodeSoid.sessions.length, 1);
      assert.deepStrictEqual(ourSoid.sessions.map(stable), nodeSoid.sessions.map(stable));
      assert.equal(nodeSoid.sessions[0].id, id);

      const nodeGet = await rs.get({ app: APP, token });
      assert.equal(nodeGet.id, id);
      assert.equal(nodeGet.ip, ip);
      assert.equal(nodeGet.w, 2);

      assert.deepStrictEqual(env.cli(NS, "kill", APP, token), { kill: 1 });
      assert.equal(await rs.get({ app: APP, token }), null);
      await env.assertGone(NS, APP, token, id, { userGone: true });
    });

    test(`we write, node reads, updates and kills: ${label}`, async () => {
      const { token } = env.cli(NS, "create", "--d", '{"who":"rust"}', "--", APP, id, ip);
      const l = await env.assertPresent(NS, APP, token, id);
      assert.equal(l.hash.ip, ip);

      const nodeGet = await rs.get({ app: APP, token });
      assert.equal(nodeGet.id, id);
      assert.equal(nodeGet.ip, ip);
      assert.equal(nodeGet.r, 1);
      const set = await rs.set({ app: APP, token, d: { who: "node", n: 1 } });
      assert.deepStrictEqual(set.d, { who: "node", n: 1 });

      const nodeSoid = await rs.soid({ app: APP, id });
      const ourSoid = env.cli(NS, "soid", "--", APP, id);
      assert.deepStrictEqual(nodeSoid.sessions.map(stable), ourSoid.sessions.map(stable));
      assert.equal(ourSoid.sessions.length, 1);

      const ours = env.cli(NS, "get", APP, token);
      assert.equal(ours.id, id);
      assert.equal(ours.ip, ip);
      assert.equal(ours.r, 2);
      assert.equal(ours.w, 2);

      assert.deepStrictEqual(await rs.kill({ app: APP, token }), { kill: 1 });
      assert.equal(env.cli(NS, "get", APP, token), null);
      await env.assertGone(NS, APP, token, id, { userGone: true });
    });
  }

  test("node writes an id longer than 128 characters: we read, update and kill it by token", async () => {
    const id = "x".repeat(200);
    const { token } = await rs.create({ app: APP, id, ip: "::1" });
    assert.equal(env.cli(NS, "get", APP, token).id, id);
    assert.equal(env.cli(NS, "set", APP, token, '{"a":1}').w, 2);
    // Documented difference: we refuse ids over 128 UTF-16 units where an id is an argument.
    assert.equal(env.cliFail(NS, "soid", APP, id).error.name, "invalidFormat");
    assert.deepStrictEqual(env.cli(NS, "kill", APP, token), { kill: 1 });
    await env.assertGone(NS, APP, token, id, { userGone: true });
  });

  test("the same id from both sides lands in one us: set and one _users member", async () => {
    const id = "Zoë.o'Brien@exämple.org";
    const a = (await rs.create({ app: APP, id, ip: "::ffff:127.0.0.1" })).token;
    const b = env.cli(NS, "create", APP, id, "::1").token;
    assert.deepStrictEqual((await env.raw.sMembers(`${NS}:${APP}:us:${id}`)).sort(), [a, b].sort());
    assert.deepStrictEqual(await env.raw.zRange(`${NS}:${APP}:_users`, 0, -1), [id]);
    const members = await env.raw.zRange(`${NS}:${APP}:_sessions`, 0, -1);
    assert.deepStrictEqual(members.sort(), [`${a}:${id}`, `${b}:${id}`].sort());
    assert.deepStrictEqual(env.cli(NS, "killsoid", APP, id), { kill: 2 });
    await env.assertGone(NS, APP, a, id, { userGone: true });
    await env.assertGone(NS, APP, b, id, { userGone: true });
  });
});
