"use strict";
// Case 3: soid / killsoid over one user's sessions from both sides; activity and soapp give
// the same answers from both sides; killall of an app holding both sides' sessions.

const { describe, test } = require("node:test");
const assert = require("node:assert/strict");
const { SUITE, useEnv, stable } = require("./helpers");

const NS = "rs";

/** Sessions by label (each carries d.label), minus clock-dependent fields. */
const byLabel = (list) =>
  list.map(stable).sort((a, b) => (a.d.label < b.d.label ? -1 : a.d.label > b.d.label ? 1 : 0));

describe("several sessions from both sides", SUITE, () => {
  let env;
  let rs;
  useEnv((e) => {
    env = e;
    rs = env.node(NS);
  });

  const nodeCreate = async (app, id, label, extra = {}) =>
    (await rs.create({ app, id, ip: "192.0.2.1", ttl: 3600, d: { label }, ...extra })).token;
  const ourCreate = (app, id, label, ...flags) =>
    env.cli(NS, "create", "--ttl", "3600", "--d", JSON.stringify({ label }), ...flags, "--", app, id, "192.0.2.2").token;

  /** alice: 2 node + 2 ours; bob: node only; carol: ours only. */
  async function populate(app) {
    const tokens = {
      aliceN1: await nodeCreate(app, "alice", "aliceN1"),
      aliceR1: ourCreate(app, "alice", "aliceR1"),
      aliceN2: await nodeCreate(app, "alice", "aliceN2", { no_resave: true }),
      aliceR2: ourCreate(app, "alice", "aliceR2", "--no-resave"),
      bobN: await nodeCreate(app, "bob", "bobN"),
      carolR: ourCreate(app, "carol", "carolR")
    };
    return tokens;
  }

  test("soid lists one user's sessions from both sides, the same on both sides", async () => {
    const app = "soidapp";
    await populate(app);
    const nodeList = (await rs.soid({ app, id: "alice" })).sessions;
    const ourList = env.cli(NS, "soid", app, "alice").sessions;
    assert.deepStrictEqual(
      byLabel(ourList).map((s) => s.d.label),
      ["aliceN1", "aliceN2", "aliceR1", "aliceR2"]
    );
    assert.deepStrictEqual(byLabel(ourList), byLabel(nodeList));
    for (const s of byLabel(ourList)) {
      assert.equal(s.no_resave, s.d.label.endsWith("2") ? true : undefined, `${s.d.label} no_resave`);
    }
    // soid touches no counters on either side.
    assert.deepStrictEqual(byLabel(env.cli(NS, "soid", app, "alice").sessions), byLabel(nodeList));
    assert.deepStrictEqual(
      (await rs.soid({ app, id: "alice" })).sessions.map((s) => s.r),
      nodeList.map(() => 1)
    );
    assert.deepStrictEqual(env.cli(NS, "soid", app, "nobody"), { sessions: [] });
    assert.deepStrictEqual(await rs.soid({ app, id: "nobody" }), { sessions: [] });
  });

  test("activity and soapp give the same answers from both sides", async () => {
    const app = "actapp";
    await populate(app);
    assert.deepStrictEqual(await rs.activity({ app, deltaTime: 600 }), { activity: 3 });
    assert.deepStrictEqual(env.cli(NS, "activity", app, "--dt", "600"), { activity: 3 });
    assert.deepStrictEqual(env.cli(NS, "activity", app), { activity: 3 }); // dt defaults to 600

    const nodeApp = (await rs.soapp({ app, deltaTime: 600 })).sessions;
    const ourApp = env.cli(NS, "soapp", app, "--dt", "600").sessions;
    assert.equal(ourApp.length, 6);
    // Same sessions in the same order (score descending, then member descending).
    assert.deepStrictEqual(ourApp.map(stable), nodeApp.map(stable));

    // Make one session older than dt on the wire, then both sides must exclude it.
    const old = Math.floor(Date.now() / 1000) - 1000;
    const [member] = (await env.raw.zRange(`${NS}:${app}:_sessions`, 0, -1)).filter((m) => m.endsWith(":bob"));
    await env.raw.zAdd(`${NS}:${app}:_sessions`, { score: old, value: member });
    await env.raw.zAdd(`${NS}:${app}:_users`, { score: old, value: "bob" });
    assert.deepStrictEqual(await rs.activity({ app, deltaTime: 600 }), { activity: 2 });
    assert.deepStrictEqual(env.cli(NS, "activity", app, "--dt", "600"), { activity: 2 });
    assert.deepStrictEqual(await rs.activity({ app, deltaTime: 2000 }), { activity: 3 });
    assert.deepStrictEqual(env.cli(NS, "activity", app, "--dt", "2000"), { activity: 3 });
    const nodeApp2 = (await rs.soapp({ app, deltaTime: 600 })).sessions;
    const ourApp2 = env.cli(NS, "soapp", app, "--dt", "600").sessions;
    assert.equal(ourApp2.length, 5);
    assert.deepStrictEqual(ourApp2.map(stable), nodeApp2.map(stable));
    assert.deepStrictEqual(
      env.cli(NS, "soapp", app, "--dt", "2000").sessions.map(stable),
      (await rs.soapp({ app, deltaTime: 2000 })).sessions.map(stable)
    );
  });

  test("our killsoid kills the user's sessions from both sides", async () => {
    const app = "ksapp1";
    const t = await populate(app);
    assert.deepStrictEqual(env.cli(NS, "killsoid", app, "alice"), { kill: 4 });
    for (const k of ["aliceN1", "aliceN2", "aliceR1", "aliceR2"]) {
      await env.assertGone(NS, app, t[k], "alice", { userGone: true });
      assert.equal(await rs.get({ app, token: t[k] }), null);
    }
    await env.assertPresent(NS, app, t.bobN, "bob");
    await env.assertPresent(NS, app, t.carolR, "carol");
    assert.deepStrictEqual(await rs.activity({ app, deltaTime: 600 }), { activity: 2 });
    assert.deepStrictEqual(await rs.soid({ app, id: "alice" }), { sessions: [] });
    assert.deepStrictEqual(env.cli(NS, "killsoid", app, "alice"), { kill: 0 });
  });

  test("node's killsoid kills the user's sessions from both sides", async () => {
    const app = "ksapp2";
    const t = await populate(app);
    assert.deepStrictEqual(await rs.killsoid({ app, id: "alice" }), { kill: 4 });
    for (const k of ["aliceN1", "aliceN2", "aliceR1", "aliceR2"]) {
      await env.assertGone(NS, app, t[k], "alice", { userGone: true });
      assert.equal(env.cli(NS, "get", app, t[k]), null);
    }
    await env.assertPresent(NS, app, t.bobN, "bob");
    await env.assertPresent(NS, app, t.carolR, "carol");
    assert.deepStrictEqual(env.cli(NS, "activity", app), { activity: 2 });
    assert.deepStrictEqual(env.cli(NS, "soid", app, "alice"), { sessions: [] });
  });

  test("kill of one of a user's two sessions keeps _users; killing the last removes it", async () => {
    const app = "ksapp3";
    const n = await nodeCreate(app, "dave", "n");
    const r = ourCreate(app, "dave", "r");
    assert.deepStrictEqual(await rs.kill({ app, token: r }), { kill: 1 });
    await env.assertGone(NS, app, r, "dave", { userGone: false });
    assert.deepStrictEqual(env.cli(NS, "kill", app, n), { kill: 1 });
    await env.assertGone(NS, app, n, "dave", { userGone: true });
  });

  test("our killall removes an app holding both sides' sessions (ids with ':' too)", async () => {
    const app = "killall1";
    const other = "keepapp";
    await populate(app);
    await nodeCreate(app, "tenant:1:eve", "eveN");
    ourCreate(app, "tenant:2:frank", "frankR");
    const keep = await populate(other);
    assert.deepStrictEqual(env.cli(NS, "killall", app), { kill: 8 });
    assert.deepStrictEqual(await env.appKeys(NS, app), { keys: [], global: [] });
    assert.deepStrictEqual(await rs.activity({ app, deltaTime: 600 }), { activity: 0 });
    assert.deepStrictEqual(await rs.soapp({ app, deltaTime: 600 }), { sessions: [] });
    for (const [k, token] of Object.entries(keep)) {
      await env.assertPresent(NS, other, token, k.replace(/[NR]\d?$/, ""));
    }
    assert.deepStrictEqual(env.cli(NS, "killall", app), { kill: 0 });
  });

  test("node's killall removes an app holding both sides' sessions", async () => {
    const app = "killall2";
    await populate(app);
    assert.deepStrictEqual(await rs.killall({ app }), { kill: 6 });
    assert.deepStrictEqual(await env.appKeys(NS, app), { keys: [], global: [] });
    assert.deepStrictEqual(env.cli(NS, "activity", app), { activity: 0 });
    assert.deepStrictEqual(env.cli(NS, "soapp", app), { sessions: [] });
    assert.deepStrictEqual(await env.appKeys(NS, "keepapp").then((k) => k.global.length), 6);
  });
});
