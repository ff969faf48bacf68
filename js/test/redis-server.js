// A private redis-server for a test file, on a free loopback port, killed when the process
// exits (or is killed by a signal).

import { spawn, spawnSync } from "node:child_process";
import net from "node:net";

const REDIS_SERVER = process.env.REDIS_SERVER || "redis-server";

export function freePort() {
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

async function ping(port) {
  return new Promise((resolve, reject) => {
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
}

let signalsHandled = false;

/**
 * Starts redis-server on `port` (a free one by default); resolves when it answers PING.
 * Returns `{ port, stop() }`.
 */
export async function startRedis(port) {
  const v = spawnSync(REDIS_SERVER, ["--version"], { encoding: "utf8" });
  if (v.error || v.status !== 0) {
    throw new Error(`redis-server not found (${REDIS_SERVER}): scripts/setup installs it, or set REDIS_SERVER`);
  }
  for (let attempt = 0; ; attempt++) {
    const p = port ?? (await freePort());
    const child = spawn(
      REDIS_SERVER,
      ["--port", String(p), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const kill = () => child.kill("SIGKILL");
    process.on("exit", kill);
    if (!signalsHandled) {
      signalsHandled = true;
      for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]]) process.once(sig, () => process.exit(code));
    }
    const deadline = Date.now() + 5000;
    let last;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        if ((await ping(p)) === "+PONG") {
          return {
            port: p,
            async stop() {
              process.off("exit", kill);
              if (child.exitCode !== null || child.signalCode !== null) return;
              const exited = new Promise((r) => child.once("exit", r));
              child.kill("SIGKILL");
              await exited;
            },
          };
        }
      } catch (e) {
        last = e;
      }
      await sleep(25);
    }
    kill();
    process.off("exit", kill);
    if (attempt >= 2 || port) throw new Error(`could not start redis-server on ${p}: ${last?.message ?? ""} ${stderr}`);
  }
}
