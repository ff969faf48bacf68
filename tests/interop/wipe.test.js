"use strict";
// Case 5: wipe. Expired sessions of both sides (ttl 10, one ~11 s wait for the whole case)
// are removed by OUR wipe (namespace "wa") and by node's `_wipe()` (namespace "wb"): the
// hash and every index entry; live sessions stay. Node's wipe only gets ids without ':'
// (node truncates ids at ':' there, a documented node bug); ours gets them too.

const { describe, test } = require("node:test");
const assert = require("node:assert/strict");
const { SUITE, useEnv, now, sleep, stable } = require("./helpers");

const APP = "wipeapp";
const APP2 = "wipeapp2";

// [label, app, id, who creates it, ttl]; ttl 10 = expired after the wait.
const PLAN = (withColons) => [
  ["expired node, user gone", APP, "gone1", "node", 10],
  ["expired ours, user gone", APP, "gone2", "ours", 10],
  ...(withColons
    ? [
        ["expired node, id with ':'", APP, "n:colon:id", "node", 10],
        ["expired ours, id with ':'", APP, "r:colon", "ours", 10]
      ]
    : []),
  ["expired node, user keeps a live one", APP, "mixed", "node", 10],
  ["expired ours, user keeps a live one", APP, "mixed", "ours", 10],
  ["live ours of that user", APP, "mixed", "ours", 3600],
  ["expired node, both of user expire", APP, "both", "node", 10],
  ["expired ours, both of user expire", APP, "both", "ours", 10],
  ["expired ours in another app", APP2, "solo", "ours", 10],
  ["expired node in another app", APP2, "solo", "node", 10],
  ["live node in another app", APP2, "solo2", "node", 3600]
];

describe("wipe", SUITE, () => {
  let env;
  const sessions = { wa: [], wb: [] };
  const nodeBy = {};

  useEnv(async (e) => {
    env = e;
    nodeBy.wa = env.node("wa");
    nodeBy.wb = env.node("wb");
    let lastLa = 0;
    for (const ns of ["wa", "wb"]) {
      for (const [label, app, id, who, ttl] of PLAN(ns === "wa")) {
        const token =
          who === "node"
            ? (await nodeBy[ns].create({ app, id, ip: "::1", ttl, d: { label } })).token
            : env.cli(ns, "create", "--ttl", String(ttl), "--d", JSON.stringify({ label }), "--", app, id, "::1").token;
        lastLa = Math.max(lastLa, Number(await env.raw.hGet(`${ns}:${app}:${token}`, "la")));
        sessions[ns].push({ label, app, id, who, ttl, token, expired: ttl === 10 });
      }
    }
    // Expired means idle > ttl: la + 11 <= now.
    await sleep((lastLa + 11) * 1000 + 100 - Date.now());
    // And live ones created after the wait.
    for (const ns of ["wa", "wb"]) {
      const late = [
        ["late node", APP, "late", "node"],
        ["late ours", APP, "late", "ours"],
        ["late node of mixed", APP, "mixed", "node"]
      ];
      for (const [label, app, id, who] of late) {
        const token =
          who === "node"
            ? (await nodeBy[ns].create({ app, id, ip: "::1", ttl: 60, d: { label } })).token
            : env.cli(ns, "create", "--ttl", "60", "--d", JSON.stringify({ label }), app, id, "::1").token;
        sessions[ns].push({ label, app, id, who, ttl: 60, token, expired: false });
      }
    }
  });

  /** True when every session of (app, id) in the plan is expired. */
  const userGone = (list, s) => list.filter((x) => x.app === s.app && x.id === s.id).every((x) => x.expired);

  async function checkBeforeWipe(ns) {
    for (const s of sessions[ns]) {
      await env.assertPresent(ns, s.app, s.token, s.id); // expired sessions are hidden, not deleted
      const ours = env.cli(ns, "get", s.app, s.token);
      const theirs = await nodeBy[ns].get({ app: s.app, token: s.token });
      if (s.expired) {
        assert.equal(ours, null, `${s.label}: we hide it`);
        assert.equal(theirs, null, `${s.label}: node hides it`);
        // Neither side's kill takes an expired session (only wipe does).
        assert.deepStrictEqual(env.cli(ns, "kill", s.app, s.token), { kill: 0 });
        assert.deepStrictEqual(await nodeBy[ns].kill({ app: s.app, token: s.token }), { kill: 0 });
        assert.ok(await env.raw.exists(`${ns}:${s.app}:${s.token}`), `${s.label}: still stored`);
      } else {
        assert.equal(ours.d.label, s.label);
        assert.equal(theirs.d.label, s.label);
      }
    }
    // soid and soapp leave expired sessions out, the same on both sides.
    for (const s of sessions[ns]) {
      const ours = env.cli(ns, "soid", "--", s.app, s.id).sessions;
      const theirs = (await nodeBy[ns].soid({ app: s.app, id: s.id })).sessions;
      const live = sessions[ns].filter((x) => x.app === s.app && x.id === s.id && !x.expired);
      assert.deepStrictEqual(ours.map((x) => x.d.label).sort(), live.map((x) => x.label).sort());
      assert.deepStrictEqual(ours.map(stable), theirs.map(stable));
    }
    for (const app of [APP, APP2]) {
      const ours = env.cli(ns, "soapp", app, "--dt", "600").sessions;
      const theirs = (await nodeBy[ns].soapp({ app, deltaTime: 600 })).sessions;
      assert.deepStrictEqual(ours.map(stable), theirs.map(stable));
    }
    // Both count the users of expired sessions until the wipe (kept for interop).
    for (const app of [APP, APP2]) {
      const users = new Set(sessions[ns].filter((s) => s.app === app).map((s) => s.id)).size;
      assert.deepStrictEqual(env.cli(ns, "activity", app), { activity: users });
      assert.deepStrictEqual(await nodeBy[ns].activity({ app, deltaTime: 600 }), { activity: users });
    }
  }

  async function checkAfterWipe(ns) {
    const list = sessions[ns];
    for (const s of list) {
      if (s.expired) {
        await env.assertGone(ns, s.app, s.token, s.id, { userGone: userGone(list, s) });
      } else {
        const l = await env.assertPresent(ns, s.app, s.token, s.id);
        assert.ok(l.globalScore > now(), `${s.label}: live`);
        assert.equal(env.cli(ns, "get", s.app, s.token).d.label, s.label);
        assert.equal((await nodeBy[ns].get({ app: s.app, token: s.token })).d.label, s.label);
      }
    }
    // Nothing else remains: SESSIONS, _sessions and us: hold exactly the live sessions.
    const live = list.filter((s) => !s.expired);
    assert.deepStrictEqual(
      (await env.raw.zRange(`${ns}:SESSIONS`, 0, -1)).sort(),
      live.map((s) => `${s.app}:${s.token}:${s.id}`).sort()
    );
    for (const app of [APP, APP2]) {
      const liveHere = live.filter((s) => s.app === app);
      assert.deepStrictEqual(
        (await env.raw.zRange(`${ns}:${app}:_sessions`, 0, -1)).sort(),
        liveHere.map((s) => `${s.token}:${s.id}`).sort()
      );
      const users = [...new Set(liveHere.map((s) => s.id))].sort();
      assert.deepStrictEqual((await env.raw.zRange(`${ns}:${app}:_users`, 0, -1)).sort(), users);
      const { keys } = await env.appKeys(ns, app);
      const expectedKeys = [
        `${ns}:${app}:_sessions`,
        `${ns}:${app}:_users`,
        ...users.map((u) => `${ns}:${app}:us:${u}`),
        ...liveHere.map((s) => `${ns}:${app}:${s.token}`)
      ].sort();
      assert.deepStrictEqual(keys, expectedKeys, `${app}: no key left behind`);
      assert.deepStrictEqual(env.cli(ns, "activity", app), { activity: users.length });
      assert.deepStrictEqual(await nodeBy[ns].activity({ app, deltaTime: 600 }), { activity: users.length });
    }
  }

  test("our wipe removes expired sessions of both sides, every index entry, and keeps live ones", async () => {
    await checkBeforeWipe("wa");
    const untouched = await env.raw.zCard("wb:SESSIONS");
    const expired = sessions.wa.filter((s) => s.expired).length;
    assert.deepStrictEqual(env.cli("wa", "wipe"), { wiped: expired });
    await checkAfterWipe("wa");
    assert.equal(await env.raw.zCard("wb:SESSIONS"), untouched, "another namespace is not ours to wipe");
    assert.deepStrictEqual(env.cli("wa", "wipe"), { wiped: 0 });
  });

  test("node's wipe removes our expired sessions the same way", async () => {
    await checkBeforeWipe("wb");
    await nodeBy.wb._wipe();
    await checkAfterWipe("wb");
  });
});
