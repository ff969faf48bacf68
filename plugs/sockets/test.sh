#!/usr/bin/env bash
# End-to-end test of the wasi:sockets plug on the real wasmtime CLI (49, from PyPI):
# builds the plug and the probe component (plugs/probe), composes them with `wac plug`,
# starts its own redis-server on a free port and drives the composition through
# `wasmtime run -S inherit-network -S config ...`, checking replies and, with redis-cli,
# what landed in Redis. Also runs the codec crate's native tests.
#
#   plugs/sockets/test.sh          # needs redis-server, python3, cargo; installs the rest
#
# Prints `N passed, M failed` last; exits non-zero when anything failed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"

for tool in redis-server redis-cli python3 cargo; do
  command -v "$tool" >/dev/null || { echo "test.sh: $tool is missing (scripts/setup installs redis-server)" >&2; exit 2; }
done
eval "$(scripts/setup-runtimes)" # sets WASMTIME and WAC

work="$(mktemp -d)"
redis_pid=""
cleanup() {
  [ -n "${PROBE_PID:-}" ] && kill "$PROBE_PID" 2>/dev/null || true
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
# check NAME ACTUAL EXPECTED: passes when ACTUAL is EXPECTED, or matches it as a shell
# pattern (`*` wildcards; a literal `[` only ever matches itself through the first test).
check() {
  # shellcheck disable=SC2053 # the pattern is meant to match as a glob
  if [[ "$2" == "$3" || "$2" == $3 ]]; then
    passed=$((passed + 1))
    echo "ok   $1"
  else
    failed=$((failed + 1))
    printf 'FAIL %s\n     got:      %s\n     expected: %s\n' "$1" "$2" "$3"
  fi
}
# refute NAME ACTUAL GLOB: passes when ACTUAL does not match.
refute() {
  # shellcheck disable=SC2053
  if [[ "$2" != $3 ]]; then
    passed=$((passed + 1))
    echo "ok   $1"
  else
    failed=$((failed + 1))
    printf 'FAIL %s\n     got:        %s\n     must not match: %s\n' "$1" "$2" "$3"
  fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

port="$(free_port)"
start_redis() {
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
    --logfile "$work/redis.log" &
  redis_pid=$!
  for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "test.sh: redis-server did not start; its log:" >&2
  cat "$work/redis.log" >&2
  exit 2
}
stop_redis() {
  kill "$redis_pid"
  wait "$redis_pid" 2>/dev/null || true
  redis_pid=""
}
rcli() { redis-cli -p "$port" "$@"; }

echo "== native tests of the codec crate"
if cargo test -q --release -p redis-sessions-resp >"$work/unit.log" 2>&1; then
  check "redis-sessions-resp unit tests ($(grep -o '[0-9]* passed' "$work/unit.log" | head -n1))" pass pass
else
  cat "$work/unit.log"
  check "redis-sessions-resp unit tests" fail pass
fi

echo "== build and compose"
# Every component in one build (the probe among them), so `make wasm` after this one
# finds them all built.
scripts/build-wasm >/dev/null
plug="$target/wasm-guest/wasm32-wasip2/guest/redis_sessions_plug_sockets.wasm"
probe="$target/wasm-guest/wasm32-wasip2/guest/redis-sessions-plug-probe.wasm"
composed="$work/composed.wasm"
"$WAC" plug "$probe" --plug "$plug" -o "$composed"
echo "plug $(wc -c <"$plug") B, probe $(wc -c <"$probe") B, composed $(wc -c <"$composed") B"

# run [NAME=VALUE...] < lines: runs the composition with those wasi:config variables.
run() {
  local vars=()
  for kv in "$@"; do vars+=(-S "config-var=$kv"); done
  "$WASMTIME" run -S cli -S inherit-network -S config "${vars[@]}" "$composed"
}

start_redis
url="redis://127.0.0.1:$port"

echo "== commands, a pipeline and a transaction"
mapfile -t out < <(run "redis_url=$url" <<'EOF'
exec PING
exec SET plug:k hello
exec GET plug:k
exec GET plug:missing
pipe SET plug:a 1 | INCR plug:a | HMGET plug:h x y
multi INCR plug:n | HSET plug:h f v | HGETALL plug:h
ns
exec HGET plug:k f
exec EVAL return{1,{2}} 0
multi SET plug:never 1 | NOSUCHCOMMAND
exec
EOF
)
check "PING" "${out[0]-}" "ok status(PONG)"
check "SET" "${out[1]-}" "ok status(OK)"
check "GET" "${out[2]-}" 'ok bulk("hello")'
check "GET of a missing key is nil" "${out[3]-}" "ok nil"
check "pipeline replies in order" "${out[4]-}" "ok [status(OK), integer(2), array[nil, nil]]"
check "transaction replies (EXEC's array)" "${out[5]-}" 'ok [integer(1), integer(1), array[bulk("f"), bulk("v")]]'
check "namespace defaults to rs" "${out[6]-}" "ok rs"
check "a Redis error is a server error, code first" "${out[7]-}" "err server: WRONGTYPE *"
check "arrays nested twice are unsupported" "${out[8]-}" "err unsupported-reply: *"
check "EXECABORT names the refused command" "${out[9]-}" "err server: EXECABORT *NOSUCHCOMMAND*"
check "an empty command is refused" "${out[10]-}" "err denied: empty command"
check "redis-cli sees the pipeline's INCR" "$(rcli GET plug:a)" "2"
check "redis-cli sees the transaction's HSET" "$(rcli HGET plug:h f)" "v"
check "an aborted transaction wrote nothing" "$(rcli EXISTS plug:never)" "0"

echo "== namespace from wasi:config"
check "namespace key" "$(echo ns | run "redis_url=$url" namespace=tenant1)" "ok tenant1"

echo "== credentials and database from the URL"
rcli ACL SETUSER plugapp on '>s3cret-pw' '~*' '&*' '+@all' >/dev/null
check "user, password and db" \
  "$(echo 'exec SET plug:db2 yes' | run "redis_url=redis://plugapp:s3cret-pw@127.0.0.1:$port/2")" "ok status(OK)"
check "the write landed in db 2" "$(rcli -n 2 GET plug:db2)" "yes"
check "and not in db 0" "$(rcli -n 0 EXISTS plug:db2)" "0"
wrong="$(echo 'exec PING' | run "redis_url=redis://plugapp:not-the-pw-42@127.0.0.1:$port")"
check "a wrong password is unavailable, with Redis' reason and the address" "$wrong" \
  "err unavailable: *127.0.0.1:$port*WRONGPASS*"
refute "the wrong password is not in the message" "$wrong" "*not-the-pw-42*"

echo "== unreachable, missing or invalid configuration"
dead="$(free_port)"
unreachable="$(echo 'exec PING' | run "redis_url=redis://:pw-never-shown@127.0.0.1:$dead")"
check "a closed port is unavailable naming host:port" "$unreachable" "err unavailable: *127.0.0.1:$dead*"
refute "the password is not in it" "$unreachable" "*pw-never-shown*"
check "a missing redis_url is unavailable naming the key" "$(echo 'exec PING' | run)" \
  'err unavailable: *`redis_url` is not set*'
check "rediss:// is refused: no TLS" "$(echo 'exec PING' | run "redis_url=rediss://127.0.0.1:$port")" \
  "err unavailable: invalid redis_url: rediss:// needs TLS*"
invalid="$(echo 'exec PING' | run "redis_url=redis://:pw-bad-db@127.0.0.1:$port/abc")"
check "an invalid URL is a one-line error" "$invalid" "err unavailable: invalid redis_url: *"
refute "without the password" "$invalid" "*pw-bad-db*"

silent="$(free_port)"
# The listener says when it listens: a fixed sleep lost the race on a loaded machine (the
# plug connected before listen() and got ENOTCONN, not the timeout under test).
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
open(sys.argv[2], "w").close()
c, _ = s.accept(); time.sleep(30)' "$silent" "$work/silent.ready" &
silent_pid=$!
for _ in $(seq 200); do [ -e "$work/silent.ready" ] && break; sleep 0.05; done
started=$SECONDS
mute="$(echo 'exec PING' | run "redis_url=redis://127.0.0.1:$silent")"
check "a server that never answers times out as unavailable ($((SECONDS - started)) s)" "$mute" \
  "err unavailable: Redis at 127.0.0.1:$silent did not answer in time"
kill "$silent_pid" 2>/dev/null || true

echo "== Redis going away and coming back during one run"
coproc PROBE { run "redis_url=$url" 2>"$work/probe.err"; }
ask() {
  echo "$1" >&"${PROBE[1]}"
  IFS= read -r -t 30 answer <&"${PROBE[0]}" || answer="(no answer)"
}
ask "exec SET plug:r 1"
check "before the restart" "$answer" "ok status(OK)"
stop_redis
ask "exec INCR plug:r"
check "Redis down: unavailable" "$answer" "err unavailable: *127.0.0.1:$port*"
start_redis
ask "exec INCR plug:r"
check "Redis back: the next call reconnects" "$answer" "ok integer(1)"
stop_redis
start_redis
ask "exec INCR plug:r"
check "Redis restarted between calls: the call goes through" "$answer" "ok integer(1)"
ask "multi INCR plug:r | INCR plug:r"
check "and the connection is kept" "$answer" "ok [integer(2), integer(3)]"
plug_client() { rcli CLIENT LIST | grep -v 'cmd=client' | grep -o '^id=[0-9]*'; }
before="$(plug_client)"
ask "exec PING"
check "one connection, the same between calls" "$(plug_client) $answer" "$before ok status(PONG)"
exec {PROBE[1]}>&-
wait "$PROBE_PID" || true

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
