// Runs node redis-sessions' own test suite (test.ts, vendored) against this package, with
// mocha as upstream runs it (its package.json: timeout 8000, slow 5, spec), without bail so
// every case is reported, on a private redis-server. See README.md here.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { startRedis } from "../redis-server.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const js = path.resolve(here, "../..");
const redis = await startRedis();
const mocha = spawn(
  process.execPath,
  [
    "--import", "tsx",
    path.join(js, "node_modules/mocha/bin/mocha.js"),
    "--timeout", "8000", "--slow", "5",
    "--reporter", path.join(here, "reporter.cjs"),
    path.join(here, "test.ts"),
  ],
  { cwd: js, stdio: "inherit", env: { ...process.env, RS_TEST_PORT: String(redis.port) } },
);
const code = await new Promise((resolve) => mocha.on("exit", (c, sig) => resolve(c ?? (sig ? 1 : 0))));
await redis.stop();
process.exit(code);
