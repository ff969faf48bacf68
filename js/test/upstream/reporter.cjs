// A mocha reporter for the vendored suite: mocha's spec output, then a verdict against
// expected-failures.json (the cases that assert a node behaviour this project does not
// keep, each with its reason).
//
// The suite's root `after` hook calls process.exit(0) before mocha's own summary, so the
// verdict is printed, and the exit code set, from the process's "exit" event: 1 when a case
// failed that is not expected to, or an expected failure passed (the list is stale).
//
// `timing` in the same file names cases that hold only when a stretch of the suite runs
// within a time budget (the suite's own assumption about speed). When the measured stretch
// took longer, a failure of those cases is reported as not judged, with the time; when it
// was within budget they are judged like any other case.
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
    const finished = []; // {title, duration, failure} in the order they ran
    runner.on(EVENT_TEST_PASS, (t) => {
      passed.push(t.fullTitle());
      finished.push({ title: t.title, duration: t.duration ?? 0, failure: null });
    });
    runner.on(EVENT_TEST_FAIL, (t, err) => {
      const failure = { title: t.fullTitle(), err };
      failed.push(failure);
      finished.push({ title: t.title, duration: t.duration ?? 0, failure });
    });
    runner.on(EVENT_TEST_PENDING, () => skipped++);
    runner.on(EVENT_RUN_END, () => (ended = true));
    process.on("exit", () => {
      const timing = timingVerdict(expected.timing, finished);
      const unexpected = failed.filter((f) => !known.has(f.title) && !timing.excused.has(f));
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
      if (timing.note) out.push(`  ${timing.note}`);
      for (const f of timing.excused) out.push(`    - not judged: ${f.title}`);
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
          ` (${expectedHit.length} of the failures expected` +
          (timing.excused.size ? `, ${timing.excused.size} not judged for time` : "") +
          ")",
      );
      process.stdout.write(out.join("\n") + "\n");
      const ok = total > 0 && unexpected.length === 0 && stale.length === 0 && total >= expected.total;
      process.exitCode = ok ? 0 : 1;
    });
  }
}

/** Which failures `timing` excuses: those of its cases, from the last `through` on, when the
 * stretch `from` .. last `through` took at least `budget_ms`. */
function timingVerdict(timing, finished) {
  const none = { excused: new Set(), note: null };
  if (!timing) return none;
  const from = finished.findIndex((t) => t.title === timing.from);
  const through = finished.findLastIndex((t) => t.title === timing.through);
  if (from < 0 || through < from) return none;
  const took = finished.slice(from, through + 1).reduce((sum, t) => sum + t.duration, 0);
  if (took < timing.budget_ms) {
    return { excused: new Set(), note: `timing cases judged: the stretch took ${took} ms (budget ${timing.budget_ms} ms)` };
  }
  const excused = new Set(
    finished
      .slice(through)
      .filter((t) => t.failure && timing.cases.includes(t.title))
      .map((t) => t.failure),
  );
  return {
    excused,
    note: `the stretch from "${timing.from}" took ${took} ms (budget ${timing.budget_ms} ms), so ${timing.cases.length} cases that need it faster are not judged, because ${timing.reason}`,
  };
}

module.exports = Verdict;
