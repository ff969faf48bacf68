// The session component, transpiled by jco (generated/, made by `make npm`): its core
// modules compiled once per process, and a pool of instances per RedisSessions.
//
// An instance runs one call at a time: while a call waits for Redis (a JSPI suspension),
// its stack lives in the instance, so a second call must not enter it. Concurrent calls
// take other instances, up to the pool's size, and queue beyond that. An instance that
// trapped is dropped, never reused.

import { readFile } from "node:fs/promises";
import { instantiate } from "../generated/redis-sessions.js";
import { wasiImports } from "./wasi.js";

const modules = new Map();

function coreModule(name) {
  let m = modules.get(name);
  if (!m) {
    m = readFile(new URL(`../generated/${name}`, import.meta.url)).then((bytes) => WebAssembly.compile(bytes));
    modules.set(name, m);
  }
  return m;
}

/** jco looks imports up by interface name, unversioned; the types name them versioned. */
function withVersions(interfaces, versions) {
  const out = {};
  for (const [name, impl] of Object.entries(interfaces)) {
    out[name] = impl;
    if (versions[name]) out[`${name}@${versions[name]}`] = impl;
  }
  return out;
}

const VERSIONS = {
  "redis-sessions:redis/redis": "0.1.0",
  "redis-sessions:redis/config": "0.1.0",
  "wasi:clocks/wall-clock": "0.2.12",
  "wasi:random/random": "0.2.12",
};

/** A WIT result error thrown by an export: jco's ComponentError, with the variant as payload. */
export function witError(e) {
  return e instanceof Error && e.payload && typeof e.payload.tag === "string" ? e.payload : null;
}

export class InstancePool {
  /**
   * @param {{redis: object, namespace: string, size: number, now?: () => number}} options
   */
  constructor({ redis, namespace, size, now }) {
    this.imports = withVersions(
      {
        "redis-sessions:redis/redis": redis,
        // node's layout (shards 0): the package speaks to one Redis, as node does.
        "redis-sessions:redis/config": { namespace: () => namespace, shards: () => 0 },
        ...wasiImports({ now }),
      },
      VERSIONS,
    );
    this.size = Math.max(1, size);
    this.idle = [];
    this.live = 0;
    this.waiting = [];
  }

  async #make() {
    this.live += 1;
    try {
      const root = await instantiate(coreModule, this.imports);
      return root.sessions;
    } catch (e) {
      this.live -= 1;
      throw e;
    }
  }

  async #acquire() {
    if (this.idle.length > 0) return this.idle.pop();
    if (this.live < this.size) return this.#make();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  #release(instance) {
    const next = this.waiting.shift();
    if (next) next.resolve(instance);
    else this.idle.push(instance);
  }

  #drop() {
    this.live -= 1;
    const next = this.waiting.shift();
    if (next) this.#make().then(next.resolve, next.reject);
  }

  /** Runs `fn(exports)` on an instance of its own. */
  async run(fn) {
    const instance = await this.#acquire();
    let result;
    try {
      result = await fn(instance);
    } catch (e) {
      if (witError(e)) this.#release(instance);
      else this.#drop(); // a trap (or a bug in an import): the instance's state is unknown
      throw e;
    }
    this.#release(instance);
    return result;
  }
}
