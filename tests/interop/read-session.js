"use strict";
// node redis-sessions 4's `get` of one session, printed as JSON: how scripts/test-spin's
// tests (cli/tests/it/spin_up.rs) read back what another runtime wrote.
//
//   node tests/interop/read-session.js PORT APP TOKEN     # Redis on 127.0.0.1:PORT

const RedisSessions = require("redis-sessions").default;

async function main() {
  const [port, app, token] = process.argv.slice(2);
  if (!token) {
    console.error("usage: node read-session.js PORT APP TOKEN");
    process.exit(2);
  }
  // wipe: 0, no background wipe of expired sessions; nothing else of node runs here.
  const rs = new RedisSessions({ port: Number(port), host: "127.0.0.1", wipe: 0 });
  try {
    const session = await rs.get({ app, token });
    process.stdout.write(JSON.stringify(session) + "\n");
  } finally {
    await rs.quit();
  }
  // Nothing may keep node alive after the answer (a reconnecting client would).
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
