// node redis-sessions 4.0.0 behind node's plain http server, answering rest-sessions' routes
// for get, create, set and kill as rest-sessions does. The baseline of bench/serve-vs-node;
// not a product.
"use strict";
const http = require("node:http");
const RedisSessions = require("redis-sessions").default;

const [redisPort, listenPort] = process.argv.slice(2).map(Number);
const rs = new RedisSessions({ host: "127.0.0.1", port: redisPort, wipe: 0 });
const route = /^\/([^/]+)\/(get|set|kill|create)\/([^/?]+)(?:\?(.*))?$/;
const methods = { get: "GET", set: "POST", kill: "DELETE", create: "PUT" };

function body(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(chunks.length ? JSON.parse(Buffer.concat(chunks)) : {}));
    req.on("error", reject);
  });
}

async function answer(req, m) {
  const [, app, op, arg, query] = m;
  switch (op) {
    case "get":
      return (await rs.get({ app, token: arg })) || {};
    case "set":
      return (await rs.set({ app, token: arg, d: await body(req) })) || {};
    case "kill":
      return rs.kill({ app, token: arg });
    case "create": {
      const q = new URLSearchParams(query || "");
      const d = await body(req);
      const o = { app, id: arg, ip: q.get("ip"), ttl: q.get("ttl") || undefined };
      if (Object.keys(d).length) o.d = d;
      return rs.create(o);
    }
  }
}

http
  .createServer(async (req, res) => {
    const m = route.exec(req.url);
    if (!m || req.method !== methods[m[2]]) {
      res.writeHead(404).end();
      return;
    }
    try {
      const out = await answer(req, m);
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(out));
    } catch (e) {
      res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify({ name: e.name, message: e.message }));
    }
  })
  .listen(listenPort, "127.0.0.1");
