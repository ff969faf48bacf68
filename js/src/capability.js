// The component's Redis capability (`redis-sessions:redis/redis@0.1.0`) over a node-redis 4
// client: execute, pipeline (one round trip) and transaction (MULTI ... EXEC written in one
// go, one round trip), binary safe, with the host's command allowlist.
//
// node-redis writes commands issued in the same tick back to back, in order, so a pipeline
// or a MULTI ... EXEC block issued without an `await` in between is one write and one round
// trip, and no other caller's command can land inside the transaction.

/** The commands a component may send: the host's allowlist (host/src/capability/commands.rs,
 *  whose tests keep this copy equal to it). */
const ALLOWED = new Set(["PING", "EVALSHA", "EVAL", "ZADD", "SADD", "HSET", "HMGET", "ZCOUNT"]);

/**
 * Commands whose plain reply is a status (`+PONG`). node-redis hands status and bulk
 * replies back alike; the rest are bulk.
 */
const STATUS_REPLY = new Set(["PING"]);

/** A WIT `redis.error`, thrown from an import: jco lowers `payload` as the `err` case. */
class CapabilityError extends Error {
  constructor(tag, val) {
    super(val);
    this.payload = { tag, val };
  }
}

/** A thrown node-redis error → the WIT error: Redis's own answers are `server`. */
function failure(e, address) {
  if (e instanceof CapabilityError) return e;
  // node-redis's ErrorReply (matched by name: a caller's client may come from another copy
  // of the package).
  if (e instanceof Error && e.constructor?.name === "ErrorReply") {
    return new CapabilityError("server", e.message);
  }
  const message = e instanceof Error ? e.message : String(e);
  return new CapabilityError("unavailable", `Redis at ${address} is unavailable: ${message}`);
}

function name(command) {
  return Buffer.from(command[0] ?? []).toString("latin1").toUpperCase();
}

function args(command) {
  return command.map((a) => Buffer.from(a));
}

function element(v, status) {
  if (v === null || v === undefined) return { tag: "nil" };
  if (typeof v === "number") return { tag: "integer", val: BigInt(v) };
  if (typeof v === "bigint") return { tag: "integer", val: v };
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) {
    return status ? { tag: "status", val: Buffer.from(v).toString("utf8") } : { tag: "bulk", val: new Uint8Array(v) };
  }
  if (typeof v === "string") {
    return status ? { tag: "status", val: v } : { tag: "bulk", val: new Uint8Array(Buffer.from(v, "utf8")) };
  }
  if (v instanceof Error) throw new CapabilityError("server", v.message);
  if (Array.isArray(v)) {
    throw new CapabilityError("unsupported-reply", "an array nested deeper than one level");
  }
  throw new CapabilityError("unsupported-reply", `a reply of type ${typeof v}`);
}

function reply(v, cmdName) {
  if (Array.isArray(v)) return { tag: "array", val: v.map((e) => element(e, false)) };
  return element(v, STATUS_REPLY.has(cmdName));
}

function check(command) {
  const n = name(command);
  if (!ALLOWED.has(n)) throw new CapabilityError("denied", `${n || "(empty)"} is not allowed`);
  return n;
}

/**
 * The `redis` import for one client. `ready()` resolves when the client can take commands
 * or rejects (as `unavailable`) when it cannot.
 */
export function redisCapability(client, ready, address) {
  const opts = { returnBuffers: true };
  return {
    async execute(command) {
      const n = check(command);
      try {
        await ready();
        return reply(await client.sendCommand(args(command), opts), n);
      } catch (e) {
        throw failure(e, address);
      }
    },

    async pipeline(commands) {
      const names = commands.map(check);
      try {
        await ready();
        const sent = commands.map((c) => client.sendCommand(args(c), opts));
        const settled = await Promise.allSettled(sent);
        const failed = settled.find((s) => s.status === "rejected");
        if (failed) throw failed.reason;
        return settled.map((s, i) => reply(s.value, names[i]));
      } catch (e) {
        throw failure(e, address);
      }
    },

    async transaction(commands) {
      const names = commands.map(check);
      try {
        await ready();
        // MULTI, the commands and EXEC, issued in one tick: one write, one round trip.
        const sent = [
          client.sendCommand(["MULTI"], opts),
          ...commands.map((c) => client.sendCommand(args(c), opts)),
          client.sendCommand(["EXEC"], opts),
        ];
        const settled = await Promise.allSettled(sent);
        // A command refused while queueing makes EXEC fail (EXECABORT): report the first
        // error, the one Redis gave for the command itself.
        const failed = settled.find((s) => s.status === "rejected");
        if (failed) throw failed.reason;
        const replies = settled[settled.length - 1].value;
        if (!Array.isArray(replies)) {
          // A nil EXEC: the transaction was aborted (WATCH; never used here).
          throw new CapabilityError("server", "EXECABORT the transaction was aborted");
        }
        if (replies.length !== commands.length) {
          throw new CapabilityError(
            "unsupported-reply",
            `EXEC gave ${replies.length} replies for ${commands.length} commands`,
          );
        }
        return replies.map((r, i) => {
          if (r instanceof Error) throw new CapabilityError("server", r.message);
          return reply(r, names[i]);
        });
      } catch (e) {
        throw failure(e, address);
      }
    },
  };
}

export { CapabilityError };
