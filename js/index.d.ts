// Types of redis-sessions-wasm: node redis-sessions 4.0.0's, plus `client`, `poolSize`
// and `wipe()`.
import type { RedisClientOptions } from "redis";

/** A value of a session's custom data `d`. */
export type DataValue = string | number | boolean;

export interface RedisSessionsOptions {
  /** Redis port. Default 6379. */
  port?: number;
  /** Redis host. Default "127.0.0.1". */
  host?: string;
  /** node-redis `createClient` options; with `url`, `host` and `port` are ignored. */
  options?: RedisClientOptions;
  /**
   * An existing, connected node-redis 4 client to use instead (never closed by `quit`); with
   * `cachetime`, the subscriber is its `duplicate()`.
   */
  client?: any;
  /** Key prefix. Default "rs". */
  namespace?: string;
  /** Seconds between runs of the expired-session wipe (at least 10); 0 disables it. Default 600. */
  wipe?: number;
  /**
   * Seconds a session read by `get` stays in an in-memory LRU cache; > 0 turns the cache on
   * (with a second Redis connection subscribed to `namespace:cache`, where every write
   * announces `app:token`). A cached `get` returns the cached object itself, with `r` and
   * `idle` as they were, and does not touch Redis (the session is not refreshed). Default 0.
   */
  cachetime?: number;
  /** Most sessions the cache holds (the least recently used go first). Default 5000. */
  cachemax?: number;
  /** Component instances that may run calls at the same time. Default 8. */
  poolSize?: number;
}

export interface Session<D = Record<string, DataValue>> {
  id: string;
  /** Reads before this one. */
  r: number;
  /** Writes so far. */
  w: number;
  /** Timeout in seconds (for `no_resave` sessions: what is left). */
  ttl: number;
  /** Seconds since the last activity. */
  idle: number;
  ip: string;
  no_resave?: boolean;
  d?: D;
  /** Not in node: seconds left of the absolute lifetime of a session created with `max_age`. */
  max_age?: number;
}

/** The errors the methods reject with. */
export interface RedisSessionsError extends Error {
  name: "missingParameter" | "invalidFormat" | "invalidValue" | "storeError" | "redisUnavailable";
}

type Nullable<D> = { [K in keyof D]?: D[K] | null };

export default class RedisSessions<D extends object = Record<string, DataValue>> {
  constructor(options?: RedisSessionsOptions);
  /** The node-redis client the sessions live on. */
  redis: any;
  /** `namespace:` */
  redisns: string;
  wiperInterval: ReturnType<typeof setInterval> | null;

  create(options: {
    app: string;
    id: string;
    ip: string;
    ttl?: number;
    d?: Nullable<D>;
    no_resave?: boolean;
    /** Not in node: keep at most this many live sessions of the user (>= 1), this one
     * included; the others with the oldest last activity are deleted. */
    max_per_user?: number;
    /** Not in node: the session dies this many seconds (>= 10) after creation however
     * active it is; `get` then returns `max_age`, the seconds left. */
    max_age?: number;
  }): Promise<{ token: string }>;
  get(options: { app: string; token: string }): Promise<Session<D> | null>;
  set(options: { app: string; token: string; d: Nullable<D>; no_resave?: boolean }): Promise<Session<D> | null>;
  kill(options: { app: string; token: string }): Promise<{ kill: number }>;
  /** Not in node: gives a live session a new token and kills the old one at once; everything
   * else (id, ip, ttl, d, r, w, last activity) stays. `null` when missing or expired. */
  rotate(options: { app: string; token: string }): Promise<{ token: string } | null>;
  activity(options: { app: string; deltaTime: number }): Promise<{ activity: number }>;
  soid(options: { app: string; id: string }): Promise<{ sessions: Session<D>[] }>;
  killsoid(options: { app: string; id: string }): Promise<{ kill: number }>;
  soapp(options: { app: string; deltaTime: number }): Promise<{ sessions: Session<D>[] }>;
  killall(options: { app: string }): Promise<{ kill: number }>;
  ping(): Promise<string>;
  /** Deletes every expired session of the namespace now; node only does this on its timer. */
  wipe(): Promise<{ wiped: number }>;
  /** node's wipe timer job (errors are dropped). */
  _wipe: () => Promise<void>;
  /** Stops the wipe timer, closes the cache's subscriber and the connection it made. */
  quit(): Promise<void>;
}

export { RedisSessions };
