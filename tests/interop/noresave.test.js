"use strict";
// Case 4: no_resave sessions created by node read by us, and ours read by node.
// One timeline of ~11 s: reads at t0, t0+2, t0+6 and t0+11 (t0 = the start of a second, so
// no read happens at idle == 1, where node's no_resave drifts; see the behaviour document).

const { describe, test } = require("node:test");
const assert = require("node:assert/strict");
const { SUITE, useEnv, now, sleep, stable } = require("./helpers");

const NS = "rs";
const APP = "nrapp";

/** Sleeps until the clock reads `second` + `ms`. */
async function until(second, ms = 250) {
  const wait = second * 1000 + ms - Date.now();
  if (wait > 0) await sleep(wait);
}

describe("no_resave", SUITE, () => {
  let env;
  let rs;
  useEnv((e) => {
    env = e;
    rs = env.node(NS);
  });

  const score = (token, id) => env.raw.zScore(`${NS}:SESSIONS`, `${APP}:${token}:${id}`);
  const hash = (token) => env.raw.hGetAll(`${NS}:${APP}:${token}`);

  /** Calls `read` and checks the remaining ttl against the deadline at call time. */
  async function readRemaining(read, deadline, what) {
    const before = now();
    const s = await read();
    const after = now();
    assert.ok(s, `${what}: session present`);
    assert.equal(s.no_resave, true, `${what}: no_resave`);
    assert.ok(s.ttl >= deadline - after && s.ttl <= deadline - before, `${what}: ttl ${s.ttl} remaining to ${deadline}`);
    return s;
  }

  test("both sides honour each other's no_resave (remaining ttl, fixed deadline, expiry)", async () => {
    // ttl 100: read and updated; ttl 10: must expire at t0+10 however often it is read;
    // the plain ttl-10 sessions, read as often, must live on. All created and first read
    // within one second t0 (retried on a loaded machine).
    let t0, N100, W100, N10, W10, NP, WP, o, n;
    for (let attempt = 1; ; attempt++) {
      await until(now() + 1, 20);
      t0 = now();
      N100 = (await rs.create({ app: APP, id: "nodeUser", ip: "::1", ttl: 100, no_resave: true, d: { k: 1 } })).token;
      W100 = env.cli(NS, "create", APP, "rustUser", "::1", "--ttl", "100", "--no-resave", "--d", '{"k":1}').token;
      N10 = (await rs.create({ app: APP, id: "nodeUser", ip: "::1", ttl: 10, no_resave: true })).token;
      W10 = env.cli(NS, "create", APP, "rustUser", "::1", "--ttl", "10", "--no-resave").token;
      NP = (await rs.create({ app: APP, id: "nodeUser", ip: "::1", ttl: 10 })).token;
      WP = env.cli(NS, "create", APP, "rustUser", "::1", "--ttl", "10").token;
      // t0: each reads the other's, idle 0, full ttl.
      o = env.cli(NS, "get", APP, N100);
      n = await rs.get({ app: APP, token: W100 });
      if (now() === t0) break;
      assert.ok(attempt < 3, "could not create and read 6 sessions within one second, 3 times");
      await rs.killall({ app: APP });
    }

    // Both write the flag the same way.
    assert.equal((await hash(N100)).no_resave, "1");
    assert.equal((await hash(W100)).no_resave, "1");
    assert.equal((await hash(WP)).no_resave, undefined);

    assert.deepStrictEqual(o, { id: "nodeUser", r: 1, w: 1, ttl: 100, idle: 0, ip: "::1", no_resave: true, d: { k: 1 } });
    assert.deepStrictEqual(n, { id: "rustUser", r: 1, w: 1, ttl: 100, idle: 0, ip: "::1", no_resave: true, d: { k: 1 } });
    assert.equal(await score(N100, "nodeUser"), t0 + 100);
    assert.equal(await score(W100, "rustUser"), t0 + 100);

    const keepAlive = async () => {
      for (const token of [N10, W10, NP, WP]) {
        await rs.get({ app: APP, token });
        env.cli(NS, "get", APP, token);
      }
    };
    await keepAlive();

    // t0+2: the remaining ttl, and the deadline stays put.
    await until(t0 + 2);
    const deadline = t0 + 100;
    const o2 = await readRemaining(() => env.cli(NS, "get", APP, N100), deadline, "our get of node's");
    assert.ok(o2.idle >= 2, "idle >= 2");
    assert.equal(o2.ttl, 100 - o2.idle, "remaining = ttl - idle");
    assert.equal(o2.r, 2);
    let h = await hash(N100);
    assert.equal(h.la, String(t0 + o2.idle), "la moves on (idle > 1)");
    assert.equal(h.ttl, String(o2.ttl), "ttl field rewritten to the remaining ttl");
    assert.equal(await score(N100, "nodeUser"), deadline, "SESSIONS keeps the creation deadline");
    const n2 = await readRemaining(() => rs.get({ app: APP, token: N100 }), deadline, "node's own, after our get");
    assert.ok(n2.idle <= 1);

    const oset = await readRemaining(() => env.cli(NS, "set", APP, N100, '{"k":2}'), deadline, "our set");
    assert.equal(oset.w, 2, "we return the real w (node returns 0 for no_resave: documented)");
    assert.deepStrictEqual(oset.d, { k: 2 });

    const n3 = await readRemaining(() => rs.get({ app: APP, token: W100 }), deadline, "node's get of ours");
    assert.ok(n3.idle >= 2);
    assert.equal(n3.ttl, 100 - n3.idle);
    assert.equal(n3.r, 2);
    h = await hash(W100);
    assert.equal(h.ttl, String(n3.ttl), "node rewrote our ttl field to the remaining ttl");
    assert.equal(h.la, String(t0 + n3.idle));
    assert.equal(await score(W100, "rustUser"), deadline);
    await rs.set({ app: APP, token: W100, d: { k: 2 } }); // node returns w:0 here (node bug)
    const o3 = await readRemaining(() => env.cli(NS, "get", APP, W100), deadline, "our get after node's set");
    assert.equal(o3.w, 2);
    assert.deepStrictEqual(o3.d, { k: 2 });
    assert.ok(Math.abs((await score(W100, "rustUser")) - deadline) <= 1);

    // soid on both sides shows the flag and the same sessions.
    for (const id of ["nodeUser", "rustUser"]) {
      const a = (await rs.soid({ app: APP, id })).sessions;
      const b = env.cli(NS, "soid", APP, id).sessions;
      assert.equal(b.filter((s) => s.no_resave).length, 2);
      const key = (s) => `${s.ttl + s.idle}/${JSON.stringify(s.d)}/${s.no_resave}`;
      assert.deepStrictEqual(b.map(stable).map(key).sort(), a.map(stable).map(key).sort());
    }
    await keepAlive();

    // t0+6: keep reading.
    await until(t0 + 6);
    await keepAlive();

    // t0+11: the no_resave ttl-10 sessions are gone for both sides, the plain ones live.
    await until(t0 + 11);
    for (const token of [N10, W10]) {
      assert.equal(await rs.get({ app: APP, token }), null, "node: no_resave session expired");
      assert.equal(env.cli(NS, "get", APP, token), null, "we: no_resave session expired");
    }
    for (const token of [NP, WP]) {
      assert.ok(await rs.get({ app: APP, token }), "node: refreshed session alive");
      assert.ok(env.cli(NS, "get", APP, token), "we: refreshed session alive");
    }
  });
});
