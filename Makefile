# The commands people and CI share.
.PHONY: setup build test lint guest

setup:   ## the wasm32-wasip2 target and redis-server, when missing
	scripts/setup

build: setup   ## target/release/redis-sessions, with the component embedded
	cargo build --release

test: setup   ## every test: unit, component + real redis-server, CLI
	cargo test --release

lint:   ## formatting and clippy, host and guest
	cargo fmt --all -- --check
	cargo clippy --release --all-targets -- -D warnings
	cargo clippy -p redis-sessions-guest --target wasm32-wasip2 --profile guest -- -D warnings

guest:   ## the component alone
	cargo build -p redis-sessions-guest --target wasm32-wasip2 --profile guest
