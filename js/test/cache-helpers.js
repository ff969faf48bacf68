// Helpers for the cache tests (cache.test.js, interop.test.js).

import assert from "node:assert/strict";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` (async, truthy when done) for up to 3 s. */
export async function until(check, what) {
  const deadline = Date.now() + 3000;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`not within 3 s: ${what}`);
    await sleep(20);
  }
}

/**
 * Gets the session until two gets in a row return the same object: from then on it is
 * cached (a cache stores nothing until its subscription is up, shortly after construction).
 * Works for node redis-sessions' cache too (it also returns the cached object itself).
 */
export async function cachedGet(rs, app, token) {
  let got;
  await until(async () => {
    const a = await rs.get({ app, token });
    got = await rs.get({ app, token });
    return a !== null && a === got;
  }, `${app}:${token} cached`);
  return got;
}
