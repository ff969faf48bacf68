// The WASI 0.2 imports of the session component, as node provides them.
//
// The session logic uses only the wall clock (idle times, expiry) and randomness (tokens).
// Rust's wasm32-wasip2 standard library also imports wasi:cli and wasi:io (environment,
// stdio, exit); the component touches them only to print a panic message before it traps,
// so they are small: output goes to this process's stderr, there is no input and no
// environment. Nothing here reaches the file system or the network.

import { randomFillSync } from "node:crypto";
import { writeSync } from "node:fs";

/** wasi:clocks/wall-clock: the system clock. `now` may be replaced (tests). */
export function wallClock(now = () => Date.now()) {
  return {
    now() {
      const ms = now();
      const seconds = Math.floor(ms / 1000);
      return { seconds: BigInt(seconds), nanoseconds: Math.floor((ms - seconds * 1000) * 1e6) };
    },
    resolution() {
      return { seconds: 0n, nanoseconds: 1e6 };
    },
  };
}

/** wasi:random/random: node's CSPRNG. */
export const random = {
  getRandomBytes(len) {
    return randomFillSync(new Uint8Array(Number(len)));
  },
  getRandomU64() {
    return randomFillSync(new BigUint64Array(1))[0];
  },
};

const insecureSeed = {
  insecureSeed() {
    const [a, b] = randomFillSync(new BigUint64Array(2));
    return [a, b];
  },
};

class IoError {
  constructor(message) {
    this.message = message;
  }
  toDebugString() {
    return this.message;
  }
}

class Pollable {
  ready() {
    return true;
  }
  block() {}
}

class InputStream {
  read() {
    throw { tag: "closed" };
  }
  blockingRead() {
    throw { tag: "closed" };
  }
  skip() {
    throw { tag: "closed" };
  }
  blockingSkip() {
    throw { tag: "closed" };
  }
  subscribe() {
    return new Pollable();
  }
}

/** An output stream writing synchronously to a file descriptor (stderr). */
class OutputStream {
  constructor(fd) {
    this.fd = fd;
  }
  checkWrite() {
    return 1n << 20n;
  }
  write(bytes) {
    if (bytes.length > 0) writeSync(this.fd, bytes);
  }
  blockingWriteAndFlush(bytes) {
    this.write(bytes);
  }
  flush() {}
  blockingFlush() {}
  subscribe() {
    return new Pollable();
  }
  writeZeroes(n) {
    this.write(new Uint8Array(Number(n)));
  }
  blockingWriteZeroesAndFlush(n) {
    this.writeZeroes(n);
  }
  splice() {
    throw { tag: "closed" };
  }
  blockingSplice() {
    throw { tag: "closed" };
  }
}

class TerminalInput {}
class TerminalOutput {}

// The component's panic messages go to stderr; so does anything it would print on stdout.
const stderr = new OutputStream(2);

/** Every WASI import the component has, keyed as jco's bindings look them up. */
export function wasiImports({ now } = {}) {
  const interfaces = {
    "wasi:clocks/wall-clock": wallClock(now),
    "wasi:random/random": random,
    "wasi:random/insecure-seed": insecureSeed,
    "wasi:io/error": { Error: IoError },
    "wasi:io/poll": {
      Pollable,
      poll(list) {
        return new Uint32Array(list.map((_, i) => i));
      },
    },
    "wasi:io/streams": { InputStream, OutputStream },
    "wasi:cli/environment": {
      getEnvironment: () => [],
      getArguments: () => [],
      initialCwd: () => undefined,
    },
    "wasi:cli/exit": {
      exit(status) {
        throw new Error(`the session component called exit (${status?.tag ?? status})`);
      },
    },
    "wasi:cli/stdin": { getStdin: () => new InputStream() },
    "wasi:cli/stdout": { getStdout: () => stderr },
    "wasi:cli/stderr": { getStderr: () => stderr },
    "wasi:cli/terminal-input": { TerminalInput },
    "wasi:cli/terminal-output": { TerminalOutput },
    "wasi:cli/terminal-stdin": { getTerminalStdin: () => undefined },
    "wasi:cli/terminal-stdout": { getTerminalStdout: () => undefined },
    "wasi:cli/terminal-stderr": { getTerminalStderr: () => undefined },
  };
  return interfaces;
}
