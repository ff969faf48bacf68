// A mocha reporter for the vendored suite: mocha's spec output, then a verdict against
// expected-failures.json (the cases that assert a node behaviour this project does not
// keep, each with its reason).
//
// The suite's root `after` hook calls process.exit(0) before mocha's own summary, so the
// verdict is printed, and the exit code set, from the process's "exit" event: 1 when a case
// failed that is not expected to, or an expected failure passed (the list is stale).
"use strict";
const Mocha = require("mocha");
const path = require("node:path");
const expected = require(path.join(__dirname, "expected-failures.json"));

const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;

class Verdict extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const passed = [];
    const failed = [];
    let skipped = 0;
    let ended = false;
    const known = new Map(expected.cases.map((c) => [c.test, c.reason]));
    runner.on(EVENT_TEST_PASS, (t) => passed.push(t.fullTitle()));
    runner.on(EVENT_TEST_FAIL, (t, err) => failed.push({ title: t.fullTitle(), err }));
    runner.on(EVENT_TEST_PENDING, () => skipped++);
    runner.on(EVENT_RUN_END, () => (ended = true));
    process.on("exit", () => {
      const unexpected = failed.filter((f) => !known.has(f.title));
      const expectedHit = failed.filter((f) => known.has(f.title));
      const stale = passed.filter((t) => known.has(t));
      const out = [];
      out.push("");
      out.push(`upstream suite (smrchy/redis-sessions ${expected.commit.slice(0, 7)} test/test.ts):`);
      const reasons = new Map();
      for (const f of expectedHit) {
        const r = known.get(f.title);
        reasons.set(r, [...(reasons.get(r) ?? []), f.title]);
      }
      for (const [reason, titles] of reasons) {
        out.push(`  ${titles.length} expected failure(s), because ${reason}:`);
        for (const t of titles) out.push(`    - ${t}`);
      }
      for (const f of unexpected) {
        out.push(`  UNEXPECTED FAILURE: ${f.title}`);
        out.push(`    ${String(f.err && (f.err.stack || f.err.message)).split("\n").slice(0, 6).join("\n    ")}`);
      }
      for (const t of stale) out.push(`  PASSED but listed in expected-failures.json: ${t}`);
      const total = passed.length + failed.length;
      if (total === 0) out.push("  no test ran");
      if (!ended && total < expected.total) out.push(`  ran ${total} of ${expected.total} cases`);
      out.push(
        `upstream: ${passed.length} passed, ${failed.length} failed` +
          (skipped ? `, ${skipped} skipped` : "") +
          ` (${expectedHit.length} of the failures expected)`,
      );
      process.stdout.write(out.join("\n") + "\n");
      const ok = total > 0 && unexpected.length === 0 && stale.length === 0 && total >= expected.total;
      process.exitCode = ok ? 0 : 1;
    });
  }
}

module.exports = Verdict;
