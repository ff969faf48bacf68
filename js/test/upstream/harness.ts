// The one thing the vendored suite needs besides this package: its instances use the
// suite's private redis-server (on a free port, RS_TEST_PORT) instead of 127.0.0.1:6379.
// Options the suite passes win; nothing else changes.
import Base from "redis-sessions-wasm";
import type { RedisSessionsOptions } from "redis-sessions-wasm";

export default class RedisSessions<D extends object = Record<string, unknown>> extends Base<D> {
  constructor(options?: RedisSessionsOptions) {
    super({ host: "127.0.0.1", port: Number(process.env.RS_TEST_PORT), ...options });
  }
}
