#!/usr/bin/env python3
"""soapp and killall over 250k sessions of one app on a fresh redis-server, with Redis' PING
latency measured beside them (issue #14, "Big apps").

Usage: bench/bigapps.py BINARY [SESSIONS [serve]]
  e.g. bench/bigapps.py target/release/redis-sessions
Prints, per command: wall time, the CLI's peak resident memory, the longest PING wait seen by
a client pinging every 2 ms, and Redis' own longest command (SLOWLOG). With `serve`: the same
for `GET /bigapp/soapp?dt=600` (once, then 8 at once) on `redis-sessions serve`, and the
server's resident memory before and after.
"""
import urllib.request
import os, socket, subprocess, sys, tempfile, threading, time

LOADER = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fill-bigapp.lua")).read()


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def call(self, *args):
        self.s.sendall(resp(*args))
        return self.read()

    def read(self):
        line = self.f.readline()[:-2]
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-"):
            return rest.decode()
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if t == b"*":
            return [self.read() for _ in range(int(rest))]
        raise ValueError(line)


def pinger(port, stop, worst):
    c = Client(port)
    while not stop.is_set():
        t = time.perf_counter()
        c.call("PING")
        worst[0] = max(worst[0], time.perf_counter() - t)
        time.sleep(0.002)


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return -1


def hwm_mib(pid):
    """A live process' peak resident memory (VmHWM), in MiB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def serve(binary, port, c, n):
    now = int(time.time())
    c.call("FLUSHALL")
    for start in range(0, n, 10_000):
        c.call("EVAL", LOADER, 0, "rs:", "bigapp", start, min(start + 10_000, n), n // 5, now, "u")
    http = port + 1
    server = subprocess.Popen([binary, "serve", "--redis", f"redis://127.0.0.1:{port}", "--listen",
                               f"127.0.0.1:{http}", "--wipe", "0"], stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{http}/ping").read()
                break
            except OSError:
                time.sleep(0.05)
        baseline = rss_mib(server.pid)

        def get(results):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http}/bigapp/soapp?dt=600", timeout=300) as r:
                    results.append((r.status, len(r.read())))
            except urllib.error.HTTPError as e:
                results.append((e.code, 0))

        for parallel in (1, 8)[: int(os.environ.get("RUNS", "2"))]:
            stop, worst, results = threading.Event(), [0.0], []
            t = threading.Thread(target=pinger, args=(port, stop, worst))
            t.start()
            start = time.perf_counter()
            calls = [threading.Thread(target=get, args=(results,)) for _ in range(parallel)]
            for x in calls:
                x.start()
            for x in calls:
                x.join()
            elapsed = time.perf_counter() - start
            stop.set()
            t.join()
            time.sleep(1)
            after = rss_mib(server.pid)
            time.sleep(10)
            print(f"serve soapp x{parallel}: {elapsed:6.2f} s  statuses {sorted(set(r[0] for r in results))}  "
                  f"longest PING {worst[0] * 1000:7.1f} ms  resident {baseline} MiB before, "
                  f"{after} MiB 1 s after, {rss_mib(server.pid)} MiB 11 s after")
    finally:
        server.terminate()
        server.wait()


def main():
    binary = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 250_000
    port = 20000 + os.getpid() % 20000
    d = tempfile.mkdtemp()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                              "--dir", d], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                c = Client(port)
                break
            except OSError:
                time.sleep(0.05)
        if len(sys.argv) > 3 and sys.argv[3] == "serve":
            serve(binary, port, c, n)
            return
        for command in (["soapp", "bigapp", "--dt", "600"], ["killall", "bigapp"]):
            c.call("FLUSHALL")
            now = int(time.time())
            for start in range(0, n, 10_000):
                c.call("EVAL", LOADER, 0, "rs:", "bigapp", start, min(start + 10_000, n), n // 5, now, "u")
            c.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
            c.call("CONFIG", "SET", "slowlog-max-len", "1000000")
            c.call("SLOWLOG", "RESET")
            stop, worst = threading.Event(), [0.0]
            t = threading.Thread(target=pinger, args=(port, stop, worst))
            t.start()
            start = time.perf_counter()
            with open(os.devnull, "wb") as null:
                child = subprocess.Popen([binary, "--redis", f"redis://127.0.0.1:{port}", *command],
                                         stdout=null)
                # The CLI's own peak (VmHWM), polled: wait4's ru_maxrss also counts the forked
                # Python before the exec, which holds the previous command's SLOWLOG.
                rss = 0
                while child.poll() is None:
                    rss = max(rss, hwm_mib(child.pid))
                    time.sleep(0.02)
                status = child.returncode << 8
            elapsed = time.perf_counter() - start
            stop.set()
            t.join()
            log = c.call("SLOWLOG", "GET", "-1")
            if not isinstance(log, list):
                print("SLOWLOG:", log)
                log = []
            slow = max((e[2] for e in log if isinstance(e[3], list) and e[3] and e[3][0].upper() in (b"EVALSHA", b"EVAL")), default=0)
            print(f"{command[0]:8} {elapsed:6.2f} s  exit {status >> 8}  peak RSS {rss} MiB  "
                  f"longest PING {worst[0] * 1000:7.1f} ms  longest script {slow / 1000:7.1f} ms")
    finally:
        redis.terminate()
        redis.wait()


if __name__ == "__main__":
    main()
