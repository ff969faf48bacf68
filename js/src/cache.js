// node redis-sessions 4's `cachetime` cache: sessions kept in memory by `app:token` (an LRU
// from lru-cache, with node's options), and a second Redis connection SUBSCRIBEd to
// `NS:cache`, where every write to a session announces `app:token` (the component's scripts
// publish it for set, kill, killsoid, killall and wipe, as node does when its cache is on),
// so that every process drops its copy.
//
// Beyond node: an entry is only stored while the subscription is up (a message missed while
// it was down would leave a stale copy, so the cache is emptied when the connection drops),
// and a read is not stored when a message for its key arrived while it was in flight (it
// may have read the session before that write).

import { LRUCache } from "lru-cache";

export class SessionCache {
  #lru;
  #subscriber;
  /** Set once SUBSCRIBE has been answered; node-redis resubscribes on every reconnection. */
  #subscribed = false;
  #started;
  /** key → the tickets of the reads of that key in flight (see `load`). */
  #inflight = new Map();

  /**
   * @param {object} o `cachetime` (seconds, > 0), `cachemax` (entries; node's default 5000),
   * `subscriber` (a node-redis client, not connected yet, owned by this cache, with the
   * offline queue on, so that SUBSCRIBE waits for a connection), `channel`.
   */
  constructor({ cachetime, cachemax, subscriber, channel }) {
    // node's options, as node computes them (a bad value throws where node's would).
    this.#lru = new LRUCache({
      max: cachemax ? (cachemax > 0 ? cachemax : 5000) : 5000,
      ttl: cachetime * 1000,
      updateAgeOnGet: false,
      ttlAutopurge: false,
    });
    this.#subscriber = subscriber;
    // Any trouble on the subscription may have cost a message: forget everything. node-redis
    // reconnects by itself and emits "ready" once it has subscribed again.
    const forgetAll = () => this.#dropWhere(() => true, () => true);
    subscriber.on("error", forgetAll);
    subscriber.on("reconnecting", forgetAll);
    subscriber.on("end", forgetAll);
    this.#started = this.#subscribe(channel).catch(forgetAll);
  }

  async #subscribe(channel) {
    await this.#subscriber.connect();
    await this.#subscriber.subscribe(channel, (message) => this.drop(message));
    this.#subscribed = true;
  }

  /** Whether a read finishing now may be stored: only while messages are being received. */
  #live() {
    return this.#subscribed && this.#subscriber.isReady;
  }

  /** The cached session of `key` (`app:token`), or undefined. */
  get(key) {
    return this.#lru.get(key);
  }

  /**
   * Runs `read()` (a get through the component) and stores the session it returns, if any,
   * unless a message for `key` arrived meanwhile or the subscription is down.
   */
  async load(key, read) {
    const ticket = { stale: false };
    let tickets = this.#inflight.get(key);
    if (!tickets) this.#inflight.set(key, (tickets = new Set()));
    tickets.add(ticket);
    try {
      const session = await read();
      if (session && !ticket.stale && this.#live()) this.#lru.set(key, session);
      return session;
    } finally {
      tickets.delete(ticket);
      if (tickets.size === 0 && this.#inflight.get(key) === tickets) this.#inflight.delete(key);
    }
  }

  /** Forgets `key` (`app:token`): a message, or this process's own set or kill. */
  drop(key) {
    this.#lru.delete(key);
    for (const ticket of this.#inflight.get(key) ?? []) ticket.stale = true;
  }

  /** Forgets every session of `app` (killall). */
  dropApp(app) {
    const prefix = `${app}:`;
    this.#dropWhere((key) => key.startsWith(prefix), (key) => key.startsWith(prefix));
  }

  /** Forgets the sessions of `id` in `app` (killsoid); reads of `app` in flight are not stored. */
  dropId(app, id) {
    const prefix = `${app}:`;
    this.#dropWhere((key, s) => key.startsWith(prefix) && s.id === id, (key) => key.startsWith(prefix));
  }

  #dropWhere(entry, inflightKey) {
    const gone = [];
    for (const [key, session] of this.#lru.entries()) if (entry(key, session)) gone.push(key);
    for (const key of gone) this.#lru.delete(key);
    for (const [key, tickets] of this.#inflight) {
      if (inflightKey(key)) for (const ticket of tickets) ticket.stale = true;
    }
  }

  /** Empties the cache and closes the subscriber connection. */
  async close() {
    const sub = this.#subscriber;
    if (sub.isReady) await sub.quit().catch(() => sub.disconnect());
    else if (sub.isOpen) await sub.disconnect();
    await this.#started;
    this.#lru.clear();
  }
}
