# The commands people and CI share.
.PHONY: setup build test interop lint guest wasm wit test-runtimes test-spin npm test-npm

setup:   ## the wasm32-wasip2 target and redis-server, when missing
	scripts/setup

build: setup   ## target/release/redis-sessions, with the component embedded
	cargo build --release

test: setup   ## every test: unit, component + real redis-server, CLI, HTTP, node interop
	cargo test --release
	bash tests/interop/run

interop: setup   ## only the node redis-sessions interop suite (needs a release build)
	cargo build --release
	bash tests/interop/run

lint:   ## formatting, clippy (host and guest), no module import cycles
	cargo fmt --all -- --check
	scripts/check-markdown
	for src in guest/core/src guest/component/src host/src host/memory/src bench/src plugs/resp/src \
	    rest/src fronts/http/src fronts/wasi-http/src plugs/spin/src plugs/spin-redis/src plugs/sockets-redis/src \
	    bundles/direct/src bundles/spin/src bundles/sockets/src cli/src test-crates/spin-host/src test-crates/support/src; do \
	  scripts/check-module-cycles $$src || exit 1; done
	cargo clippy --release --all-targets -- -D warnings
	cargo clippy -p redis-sessions-guest -p hostile-component -p redis-sessions-plug-sockets \
	  -p redis-sessions-plug-probe -p redis-sessions-plug-spin -p redis-sessions-http-front \
	  -p redis-sessions-wasi-http -p redis-sessions-spin-redis -p redis-sessions-bundle-spin \
	  -p redis-sessions-sockets-redis -p redis-sessions-direct -p redis-sessions-bundle-sockets --target wasm32-wasip2 --profile guest -- -D warnings

guest:   ## the component alone
	cargo build -p redis-sessions-guest --target wasm32-wasip2 --profile guest --target-dir target/wasm-guest

wasm:   ## target/wasm/: the session component, its compositions with the HTTP front and the sockets or the Spin plug, the WIT package
	scripts/build-wasm

wit:   ## only the WIT as a binary package: target/wasm/redis-sessions-wit.wasm
	eval "$$(scripts/setup-runtimes)" && mkdir -p target/wasm && \
	  "$$WASM_TOOLS" component wit wit --wasm -o target/wasm/redis-sessions-wit.wasm

test-runtimes: setup   ## the HTTP suite against `wasmtime serve` and the Spin-semantics host of the compositions (installs wasmtime 49 + wac)
	scripts/test-runtimes

test-spin: setup   ## the Spin composition under real Spin: `make test-spin SPIN=path/to/spin` (scripts/build-spin builds one)
	scripts/test-spin "$(SPIN)"

npm:   ## js/: the npm package redis-sessions-wasm (the session component transpiled by jco), packed into target/npm/
	js/build

test-npm: setup npm   ## the npm package's tests on node 24: its own, node redis-sessions' suite, interop with node redis-sessions 4
	js/test/run
