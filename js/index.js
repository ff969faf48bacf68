// redis-sessions-wasm: node redis-sessions 4.0.0's API over the redis-sessions WebAssembly
// component. The session logic (validation, Redis layout, scripts, tokens) is the
// component's; this file only turns node's option objects into the component's arguments,
// its results into node's shapes and its errors into node's `Error`s, and gives it Redis
// through node-redis 4 (src/capability.js).

import { createClient } from "redis";
import { SessionCache } from "./src/cache.js";
import { redisCapability } from "./src/capability.js";
import { InstancePool, witError } from "./src/component.js";

/** How long a call waits for a connection that is being (re)made before it fails. */
const READY_WAIT_MS = 1000;

const ERROR_NAMES = {
  "missing-parameter": "missingParameter",
  "invalid-format": "invalidFormat",
  "invalid-value": "invalidValue",
  store: "storeError",
  unavailable: "redisUnavailable",
};

/** An `Error` as node redis-sessions throws it: own `name`, non-enumerable `message`. */
function nodeError(name, message) {
  const err = new Error(message);
  err.name = name;
  return err;
}

function fromWit(e) {
  const payload = witError(e);
  if (!payload) return e;
  return nodeError(ERROR_NAMES[payload.tag] ?? payload.tag, payload.val);
}

/**
 * node checks `!value` first (missing), then the format on `String(value)`. A truthy value
 * whose text is empty (`[]`, `[""]`) is present but fails the format: "\n" fails every
 * format the component checks, as it stands in for it.
 */
const str = (v) => (v ? String(v) || "\n" : "");

const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

/** node's `parseInt`, as the component's s64: NaN becomes -1, which fails its `>= 10` check. */
function int(v) {
  const n = Number.parseInt(`${v}`, 10);
  if (Number.isNaN(n)) return -1n;
  if (!Number.isFinite(n)) return n > 0 ? I64_MAX : I64_MIN;
  const b = BigInt(n);
  return b > I64_MAX ? I64_MAX : b < I64_MIN ? I64_MIN : b;
}

/**
 * node's ttl: falsy is the default; otherwise parsed, and then 0 fails (the component takes
 * 0 as "the default", like a falsy ttl).
 */
function ttl(v) {
  if (!v) return undefined;
  const n = int(v);
  return n === 0n ? -1n : n;
}

const D_EMPTY = "d must containt at least one key.";

/**
 * node's `d` → the component's data-input. What the WIT cannot carry (not an object, a
 * value of a forbidden type) is reported as node reports it, but only after the
 * component has checked the parameters node checks before `d`: see `withD`.
 */
function dataInput(d) {
  if (!d) return { error: nodeError("missingParameter", "No d supplied") };
  if ((typeof d !== "object" && typeof d !== "function") || Array.isArray(d)) {
    return { error: nodeError("invalidValue", "d must be an object") };
  }
  const out = [];
  for (const key of Object.keys(d)) {
    const v = d[key];
    if (v === null) out.push([key, undefined]);
    else if (typeof v === "string") out.push([key, { tag: "text", val: v }]);
    else if (typeof v === "boolean") out.push([key, { tag: "boolean", val: v }]);
    else if (typeof v === "number") {
      out.push([key, Number.isSafeInteger(v) ? { tag: "integer", val: BigInt(v) } : { tag: "float", val: v }]);
    } else {
      return {
        error: nodeError(
          "invalidValue",
          `d.${key} has a forbidden type. Only strings, numbers, boolean and null are allowed.`,
        ),
      };
    }
  }
  return { value: out };
}

function dataOut(d) {
  const o = {};
  for (const [key, v] of d) o[key] = v.tag === "integer" ? Number(v.val) : v.val;
  return o;
}

/** The component's session → node's object, keys in node's order. */
function session(s) {
  const o = {
    id: s.id,
    r: Number(s.r),
    w: Number(s.w),
    ttl: Number(s.ttl),
    idle: Number(s.idle),
    ip: s.ip,
  };
  if (s.noResave) o.no_resave = true;
  if (s.d.length > 0) o.d = dataOut(s.d);
  if (s.maxAge !== undefined && s.maxAge !== null) o.max_age = Number(s.maxAge);
  return o;
}

function mergeSocket(options, host, port) {
  return { ...options, socket: { ...(options.socket ?? {}), port, host } };
}

export default class RedisSessions {
  /** The node-redis client the sessions live on. */
  redis;
  /** Key prefix, `namespace:` (node's `redisns`). */
  redisns;
  wiperInterval = null;
  #ownClient;
  #pool;
  #lastError = null;
  #readyWait = null;
  #address;
  /** The `cachetime` cache (src/cache.js), or null. */
  #cache = null;

  /**
   * @param {object} [o] node redis-sessions 4's options: `host`, `port`, `options` (node-redis
   * `createClient` options), `namespace`, `wipe`, `cachetime`, `cachemax`; and `client` (an
   * existing node-redis 4 client, used as is; the cache's subscriber is its duplicate) and
   * `poolSize` (component instances, default 8).
   */
  constructor(o) {
    if (typeof WebAssembly.Suspending !== "function") {
      throw new Error(
        `redis-sessions-wasm needs node 24 or newer (WebAssembly JSPI); this is node ${process.versions.node}`,
      );
    }
    o = o || {};
    const namespace = o.namespace ?? "rs";
    this.redisns = `${namespace}:`;
    let subscriber; // made only when the cache is on
    if (o.client) {
      this.redis = o.client;
      this.#ownClient = false;
      this.#address = "the given client";
      subscriber = () => o.client.duplicate({ disableOfflineQueue: false });
    } else {
      const options = o.options ?? {};
      const config = options.url
        ? { ...options }
        : mergeSocket(options, o.host ?? "127.0.0.1", o.port ?? 6379);
      subscriber = () => createClient({ ...config, disableOfflineQueue: false });
      // Fail fast while disconnected (node-redis would queue the call until Redis is back).
      config.disableOfflineQueue ??= true;
      this.redis = createClient(config);
      this.#ownClient = true;
      this.#address = options.url ? "the configured url" : `${config.socket.host}:${config.socket.port}`;
      this.redis.on("error", (e) => {
        this.#lastError = e;
      });
      this.redis.on("ready", () => {
        this.#lastError = null;
      });
    }
    // node's test, so the same values turn the cache on.
    if (o.cachetime && o.cachetime > 0) {
      this.#cache = new SessionCache({
        cachetime: o.cachetime,
        cachemax: o.cachemax,
        subscriber: subscriber(),
        channel: `${namespace}:cache`,
      });
    }
    // Only now: a cachetime or cachemax lru-cache refuses throws above, leaving no connection.
    // Connection errors are reported by the calls (and retried by node-redis).
    if (this.#ownClient) this.redis.connect().catch(() => {});
    const redis = redisCapability(this.redis, () => this.#ready(), this.#address);
    this.#pool = new InstancePool({ redis, namespace, size: o.poolSize ?? 8 });
    if (o.wipe !== 0) {
      let wipe = o.wipe || 600;
      if (wipe < 10) wipe = 10;
      this.wiperInterval = setInterval(this._wipe, wipe * 1000);
    }
  }

  /**
   * Resolves when the client can take commands; waits briefly for a (re)connection (one
   * wait shared by every call that arrives meanwhile).
   */
  async #ready() {
    const c = this.redis;
    if (c.isReady) return;
    if (!c.isOpen) throw new Error("the client is closed");
    this.#readyWait ??= new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        c.off("ready", onReady);
        const why = this.#lastError ? `: ${this.#lastError.message}` : "";
        reject(new Error(`not connected${why}`));
      }, READY_WAIT_MS);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      c.once("ready", onReady);
    }).finally(() => {
      this.#readyWait = null;
    });
    return this.#readyWait;
  }

  async #call(fn) {
    try {
      return await this.#pool.run(fn);
    } catch (e) {
      throw fromWit(e);
    }
  }

  /**
   * Runs `fn(d)` with `d` converted; when `d` is something the component cannot take, runs
   * it with an empty `d` instead, so the component reports the parameters it checks first,
   * and reports `d`'s own error only where node would.
   */
  async #withD(d, fn) {
    const input = dataInput(d);
    if (!input.error) return this.#call((s) => fn(s, input.value));
    try {
      await this.#call((s) => fn(s, []));
    } catch (e) {
      if (e.name === "invalidValue" && e.message === D_EMPTY) throw input.error;
      throw e;
    }
    throw input.error;
  }

  async create(o) {
    o = o || {};
    // `max_per_user` and `max_age` (not in node) go through the component's create-with.
    const given = (v) => v !== undefined && v !== null;
    const args = (s, d) =>
      !given(o.max_per_user) && !given(o.max_age)
        ? s.create(str(o.app), str(o.id), str(o.ip), ttl(o.ttl), d, Boolean(o.no_resave))
        : s.createWith(str(o.app), str(o.id), str(o.ip), {
            ttl: ttl(o.ttl),
            d,
            noResave: Boolean(o.no_resave),
            maxPerUser: given(o.max_per_user) ? int(o.max_per_user) : undefined,
            maxAge: given(o.max_age) ? int(o.max_age) : undefined,
          });
    const token = o.d ? await this.#withD(o.d, args) : await this.#call((s) => args(s, undefined));
    return { token };
  }

  /**
   * With the cache on, a cached session is returned as it is (the same object, `r` and
   * `idle` as they were), without calling the component: no read is counted and the
   * session is not refreshed, as in node.
   */
  async get(o) {
    o = o || {};
    const app = str(o.app);
    const token = str(o.token);
    const read = async () => {
      const s = await this.#call((c) => c.get(app, token));
      return s ? session(s) : null;
    };
    if (!this.#cache) return read();
    // Only a valid app and token are ever stored, and neither has a ":", so a call the
    // component would refuse never finds an entry.
    const key = `${app}:${token}`;
    return this.#cache.get(key) ?? this.#cache.load(key, read);
  }

  async set(o) {
    o = o || {};
    try {
      const s = await this.#withD(o.d, (c, d) => c.set(str(o.app), str(o.token), d));
      return s ? session(s) : null;
    } finally {
      // At once, not only when NS:cache's message comes back: a get after this set
      // resolves must not see the old session.
      this.#cache?.drop(`${str(o.app)}:${str(o.token)}`);
    }
  }

  async kill(o) {
    o = o || {};
    try {
      const n = await this.#call((s) => s.kill(str(o.app), str(o.token)));
      return { kill: Number(n) };
    } finally {
      this.#cache?.drop(`${str(o.app)}:${str(o.token)}`);
    }
  }

  /** This project's, not node's: a new token for a live session, the old one dead at once
   * (everything else kept). `{ token }`, or `null` when the session is missing or expired. */
  async rotate(o) {
    o = o || {};
    try {
      const token = await this.#call((s) => s.rotate(str(o.app), str(o.token)));
      return token === undefined || token === null ? null : { token };
    } finally {
      this.#cache?.drop(`${str(o.app)}:${str(o.token)}`);
    }
  }

  async activity(o) {
    o = o || {};
    const n = await this.#call((s) => s.activity(str(o.app), int(o.deltaTime)));
    return { activity: Number(n) };
  }

  async soid(o) {
    o = o || {};
    const list = await this.#call((s) => s.soid(str(o.app), str(o.id)));
    return { sessions: list.map(session) };
  }

  async killsoid(o) {
    o = o || {};
    try {
      const n = await this.#call((s) => s.killsoid(str(o.app), str(o.id)));
      return { kill: Number(n) };
    } finally {
      this.#cache?.dropId(str(o.app), str(o.id));
    }
  }

  async soapp(o) {
    o = o || {};
    const list = await this.#call((s) => s.soapp(str(o.app), int(o.deltaTime)));
    return { sessions: list.map(session) };
  }

  async killall(o) {
    o = o || {};
    try {
      const n = await this.#call((s) => s.killall(str(o.app)));
      return { kill: Number(n) };
    } finally {
      this.#cache?.dropApp(str(o.app));
    }
  }

  async ping() {
    return this.#call((s) => s.ping());
  }

  /**
   * Deletes every expired session of the namespace now (node runs this on its `wipe`
   * timer only); returns how many.
   */
  async wipe() {
    const n = await this.#call((s) => s.wipe());
    return { wiped: Number(n) };
  }

  /** node's timer job; errors are dropped (the next run retries). */
  _wipe = async () => {
    try {
      await this.wipe();
    } catch {
      // Redis down or a failed run: the next interval tries again.
    }
  };

  /**
   * Stops the wipe timer, empties the cache and closes its subscriber (node leaves that one
   * open), and closes the connection (a given `client` is left open).
   */
  async quit() {
    if (this.wiperInterval !== null) {
      clearInterval(this.wiperInterval);
      this.wiperInterval = null;
    }
    if (this.#cache) {
      const cache = this.#cache;
      this.#cache = null;
      await cache.close();
    }
    if (!this.#ownClient || !this.redis.isOpen) return;
    if (this.redis.isReady) await this.redis.quit();
    else await this.redis.disconnect(); // QUIT cannot be sent while Redis is away
  }
}

export { RedisSessions };
