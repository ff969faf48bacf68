// node redis-sessions 4.0.0 behind node's plain http server, answering GET /:app/get/:token
// like rest-sessions does. The baseline of bench/serve-vs-node; not a product.
"use strict";
const http = require("node:http");
const RedisSessions = require("redis-sessions").default;

const [redisPort, listenPort] = process.argv.slice(2).map(Number);
const rs = new RedisSessions({ host: "127.0.0.1", port: redisPort, wipe: 0 });
const route = /^\/([^/]+)\/get\/([^/?]+)$/;

http
  .createServer(async (req, res) => {
    const m = req.method === "GET" && route.exec(req.url);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    try {
      const session = await rs.get({ app: m[1], token: m[2] });
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(session || {}));
    } catch (e) {
      res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify({ name: e.name, message: e.message }));
    }
  })
  .listen(listenPort, "127.0.0.1");
