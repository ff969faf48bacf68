"use strict";
// Shared plumbing for the interop suite: a private redis-server, node redis-sessions v4/v3
// clients, this project's CLI, and raw looks at the Redis layout.
//
// Every *.test.js file wraps its cases in `describe(name, SUITE, ...)` and calls `useEnv`
// there; node's test runner runs the files in parallel processes, each with its own
// redis-server.

const { before, after } = require("node:test");
const { spawn, spawnSync } = require("node:child_process");
const { createRequire } = require("node:module");
const fs = require("node:fs");
const net = require("node:net");
const path = require("node:path");
const assert = require("node:assert/strict");

const RedisSessions = require("redis-sessions").default; // v4.0.0 (TypeScript default export)
const RedisSessionsV3 = require("redis-sessions-v3"); // v3.0.0 (callback API)
// node-redis v4, the client redis-sessions v4 itself uses: resolved from its own folder.
const { createClient } = createRequire(require.resolve("redis-sessions"))("redis");

const RS_BIN = process.env.RS_BIN
  ? path.resolve(process.env.RS_BIN)
  : path.resolve(__dirname, "../../target/release/redis-sessions");
const REDIS_SERVER = process.env.REDIS_SERVER || "redis-server";

function checkBinary() {
  if (!fs.existsSync(RS_BIN)) {
    throw new Error(`redis-sessions CLI not found at ${RS_BIN}: run cargo build --release first (or set RS_BIN)`);
  }
}

function checkRedisServer() {
  const r = spawnSync(REDIS_SERVER, ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new Error(
      `redis-server not found or not runnable (${REDIS_SERVER}: ${r.error ? r.error.code : r.stderr}). ` +
        "Install Redis 7 (scripts/setup, or apt-get install redis-server), or set REDIS_SERVER."
    );
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Answers when redis-server answers PING with PONG, else throws after `ms`. */
async function waitForPing(port, child, ms = 5000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    try {
      const pong = await new Promise((resolve, reject) => {
        const sock = net.connect(port, "127.0.0.1");
        let buf = "";
        sock.setTimeout(500, () => sock.destroy(new Error("timeout")));
        sock.on("connect", () => sock.write("PING\r\n"));
        sock.on("data", (d) => {
          buf += d;
          if (buf.includes("\r\n")) {
            sock.end();
            resolve(buf.trim());
          }
        });
        sock.on("error", reject);
      });
      if (pong === "+PONG") return;
      last = new Error(`PING answered ${pong}`);
    } catch (e) {
      last = e;
    }
    await sleep(25);
  }
  throw new Error(`redis-server on port ${port} did not answer PING: ${last && last.message}`);
}

// Killed by a signal (Ctrl-C, the test runner's timeout), still take redis-server down:
// exit through process.exit so the "exit" handlers run.
let signalsHandled = false;
function killOnSignal() {
  if (signalsHandled) return;
  signalsHandled = true;
  for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]]) {
    process.once(sig, () => process.exit(code));
  }
}

async function startRedis() {
  checkRedisServer();
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      REDIS_SERVER,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"],
      { stdio: ["ignore", "ignore", "pipe"] }
    );
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const killOnExit = () => child.kill("SIGKILL");
    process.on("exit", killOnExit);
    killOnSignal();
    try {
      await waitForPing(port, child);
      return { port, child, killOnExit };
    } catch (e) {
      child.kill("SIGKILL");
      process.off("exit", killOnExit);
      if (attempt >= 2) throw new Error(`could not start redis-server: ${e.message} ${stderr}`);
    }
  }
}

/** Runs the CLI; returns {status, stdout, stderr}. */
function runCli(url, ns, args) {
  const r = spawnSync(RS_BIN, ["--redis", url, "--namespace", ns, ...args], {
    encoding: "utf8",
    timeout: 20000
  });
  if (r.error) throw r.error;
  return r;
}

async function startEnv() {
  checkBinary();
  const redis = await startRedis();
  const url = `redis://127.0.0.1:${redis.port}`;
  const raw = createClient({ socket: { port: redis.port, host: "127.0.0.1" } });
  raw.on("error", () => {});
  await raw.connect();
  const clients = [];

  const env = {
    port: redis.port,
    url,
    raw,

    /** node redis-sessions 4.0.0 (no wipe timer, no cache). */
    node(namespace = "rs") {
      const rs = new RedisSessions({ port: redis.port, host: "127.0.0.1", wipe: 0, namespace });
      clients.push(() => rs.quit());
      return rs;
    },

    /** node redis-sessions 4.0.0 with its read cache on (`cachetime` seconds), once its
     * subscriber to `NS:cache` is listening. */
    async nodeCached(namespace, cachetime = 60) {
      const rs = new RedisSessions({ port: redis.port, host: "127.0.0.1", wipe: 0, namespace, cachetime });
      // node's quit leaves its subscriber connected (it would reconnect forever once
      // redis-server stops), so that one is closed here.
      clients.push(async () => {
        await rs.quit();
        await rs.redissub.quit();
      });
      await rs.ping();
      const deadline = Date.now() + 5000;
      while ((await raw.sendCommand(["PUBSUB", "NUMSUB", `${namespace}:cache`]))[1] < 1) {
        if (Date.now() > deadline) throw new Error(`node's cache never subscribed to ${namespace}:cache`);
        await sleep(10);
      }
      return rs;
    },

    /** node redis-sessions 3.0.0, with its callbacks wrapped in promises. */
    nodeV3(namespace = "rs") {
      const rs = new RedisSessionsV3({ port: redis.port, host: "127.0.0.1", wipe: 0, namespace });
      rs.on("disconnect", () => {});
      clients.push(() => new Promise((resolve) => {
        rs.redis.once("end", resolve);
        rs.quit();
      }));
      const p = (method) => (o) =>
        new Promise((resolve, reject) => rs[method](o, (err, resp) => (err ? reject(err) : resolve(resp))));
      const api = {};
      for (const m of ["create", "get", "set", "kill", "activity", "soid", "killsoid", "soapp", "killall"]) {
        api[m] = p(m);
      }
      api.ping = () => new Promise((resolve, reject) => rs.ping((err, resp) => (err ? reject(err) : resolve(resp))));
      return api;
    },

    /** This project's CLI: parsed JSON of stdout; throws on exit != 0. */
    cli(ns, ...args) {
      const r = runCli(url, ns, args);
      if (r.status !== 0) {
        throw new Error(`redis-sessions ${args.join(" ")} failed (${r.status}): ${r.stderr.trim()}`);
      }
      return JSON.parse(r.stdout);
    },

    /** The CLI's error: {status, error: {name, message}}. */
    cliFail(ns, ...args) {
      const r = runCli(url, ns, args);
      assert.notEqual(r.status, 0, `expected redis-sessions ${args.join(" ")} to fail, got ${r.stdout}`);
      return { status: r.status, error: JSON.parse(r.stderr.trim().split("\n").pop()) };
    },

    /** Everything the layout says about one session. */
    async layout(ns, app, token, id) {
      const [hash, sessionsScore, inUs, globalScore, usersScore, usExists] = await Promise.all([
        raw.hGetAll(`${ns}:${app}:${token}`),
        raw.zScore(`${ns}:${app}:_sessions`, `${token}:${id}`),
        raw.sIsMember(`${ns}:${app}:us:${id}`, token),
        raw.zScore(`${ns}:SESSIONS`, `${app}:${token}:${id}`),
        raw.zScore(`${ns}:${app}:_users`, id),
        raw.exists(`${ns}:${app}:us:${id}`)
      ]);
      return {
        hash: Object.keys(hash).length ? hash : null,
        sessionsScore,
        inUs: Boolean(inUs),
        globalScore,
        usersScore,
        usExists: usExists === 1
      };
    },

    /** Asserts every index entry of a live session is in place. */
    async assertPresent(ns, app, token, id) {
      const l = await env.layout(ns, app, token, id);
      assert.ok(l.hash, `hash ${ns}:${app}:${token} exists`);
      assert.equal(l.hash.id, id);
      assert.notEqual(l.sessionsScore, null, `_sessions has ${token}:${id}`);
      assert.ok(l.inUs, `us:${id} has ${token}`);
      assert.notEqual(l.globalScore, null, `SESSIONS has ${app}:${token}:${id}`);
      assert.notEqual(l.usersScore, null, `_users has ${id}`);
      return l;
    },

    /** Asserts the session left no trace; `userGone`: nor its user (no session left). */
    async assertGone(ns, app, token, id, { userGone }) {
      const l = await env.layout(ns, app, token, id);
      assert.equal(l.hash, null, `hash ${ns}:${app}:${token} deleted`);
      assert.equal(l.sessionsScore, null, `_sessions member ${token}:${id} removed`);
      assert.equal(l.inUs, false, `us:${id} member ${token} removed`);
      assert.equal(l.globalScore, null, `SESSIONS member ${app}:${token}:${id} removed`);
      if (userGone) {
        assert.equal(l.usersScore, null, `_users member ${id} removed`);
        assert.equal(l.usExists, false, `us:${id} set removed`);
      } else {
        assert.notEqual(l.usersScore, null, `_users member ${id} kept (user has a live session)`);
      }
    },

    /** Every key of the namespace that belongs to `app`. */
    async appKeys(ns, app) {
      const keys = [];
      for await (const k of raw.scanIterator({ MATCH: `${ns}:${app}:*`, COUNT: 1000 })) keys.push(k);
      const global = (await raw.zRange(`${ns}:SESSIONS`, 0, -1)).filter((m) => m.startsWith(`${app}:`));
      return { keys: keys.sort(), global };
    },

    async stop() {
      // Quit every client (each bounded: a stuck client must not keep redis-server alive).
      const bounded = (p) => {
        let timer;
        const limit = new Promise((resolve) => (timer = setTimeout(resolve, 3000)));
        return Promise.race([Promise.resolve(p).catch(() => {}), limit]).finally(() => clearTimeout(timer));
      };
      for (const quit of clients.splice(0)) await bounded(quit());
      await bounded(raw.quit());
      await new Promise((resolve) => {
        if (redis.child.exitCode !== null) return resolve();
        redis.child.once("exit", resolve);
        redis.child.kill("SIGTERM");
      });
      process.off("exit", redis.killOnExit);
    }
  };
  return env;
}

/** The options of each file's describe(): the whole file's time budget. */
const SUITE = { timeout: 60000 };

/**
 * Registers the suite's hooks: before its tests, a fresh env (see startEnv), handed to
 * `setup` to keep and to add clients or data to; after them, the env stopped.
 */
function useEnv(setup) {
  let env;
  before(async () => {
    env = await startEnv();
    await setup(env);
  }, { timeout: 30000 });
  after(async () => {
    if (env) await env.stop();
  }, { timeout: 15000 });
}

/** Unix seconds, as node and this project count them. */
const now = () => Math.floor(Date.now() / 1000);

/** node's merge in `set`: `_.extend(_.omit(old, nullkeys), _.omit(new, nullkeys))`. */
function nodeMerge(old, update) {
  const nullkeys = Object.keys(update).filter((k) => update[k] === null);
  const out = {};
  for (const [k, v] of Object.entries(old || {})) if (!nullkeys.includes(k)) out[k] = v;
  for (const [k, v] of Object.entries(update)) if (!nullkeys.includes(k)) out[k] = v;
  return out;
}

/** `d` equal in keys, key order, values and types. */
function assertSameD(actual, expected, what = "d") {
  assert.deepStrictEqual(actual, expected, `${what}: values`);
  assert.deepStrictEqual(Object.keys(actual), Object.keys(expected), `${what}: key order`);
  for (const k of Object.keys(expected)) {
    assert.equal(typeof actual[k], typeof expected[k], `${what}.${k}: type`);
  }
}

/** A session without the fields that depend on the clock or on who read it last. */
function stable(s) {
  if (!s) return s;
  const { idle, r, ...rest } = s; // eslint-disable-line no-unused-vars
  // A no_resave session reports the remaining ttl; ttl + idle is the stored one.
  if (s.no_resave) rest.ttl = s.ttl + s.idle;
  return rest;
}

module.exports = {
  SUITE,
  useEnv,
  now,
  sleep,
  nodeMerge,
  assertSameD,
  stable,
  RS_BIN
};
