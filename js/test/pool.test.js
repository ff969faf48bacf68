// The instance pool: an instance that trapped is never reused; a WIT error keeps it.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InstancePool } from "../src/component.js";

const unusedRedis = {
  execute: async () => ({ tag: "nil" }),
  pipeline: async () => [],
  transaction: async () => [],
};

describe("instance pool", () => {
  it("drops an instance after a trap, keeps it after a WIT error", async () => {
    const pool = new InstancePool({ redis: unusedRedis, namespace: "rs", size: 1 });
    const first = await pool.run(async (s) => s);
    assert.equal(await pool.run(async (s) => s), first, "an idle instance is reused");
    await assert.rejects(pool.run((s) => s.get("myapp", "short")), (e) => e.payload?.tag === "invalid-format");
    assert.equal(await pool.run(async (s) => s), first, "kept after the component's own error");
    await assert.rejects(
      pool.run(async () => {
        throw new WebAssembly.RuntimeError("unreachable");
      }),
      WebAssembly.RuntimeError,
    );
    const next = await pool.run(async (s) => s);
    assert.notEqual(next, first, "a fresh instance after a trap");
    assert.equal(await next.ping().catch(() => "nil reply"), "nil reply");
  });

  it("an exception inside the component's call rejects it; the next call works", async () => {
    let broken = true;
    const redis = {
      ...unusedRedis,
      // A reply jco cannot lower: the exception unwinds through the component's frames.
      execute: async () => (broken ? { tag: "bulk", val: 42 } : { tag: "status", val: "PONG" }),
    };
    const pool = new InstancePool({ redis, namespace: "rs", size: 1 });
    const first = await pool.run(async (s) => s);
    const e = await pool.run((s) => s.ping()).catch((err) => err);
    assert.ok(e instanceof Error && !e.payload, String(e));
    broken = false;
    const next = await pool.run(async (s) => s);
    assert.notEqual(next, first);
    assert.equal(await pool.run((s) => s.ping()), "PONG");
  });

  it("runs one call per instance; more calls wait for one", async () => {
    const pool = new InstancePool({ redis: unusedRedis, namespace: "rs", size: 2 });
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        pool.run(async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 5));
          inside--;
        }),
      ),
    );
    assert.equal(most, 2);
  });
});
