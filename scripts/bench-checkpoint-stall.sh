#!/usr/bin/env bash
# Open-loop latency across a signed-checkpoint tick with a large backlog (docs/benchmarks.md,
# session 4): the server signs every 20 s; wrk writes consents for 17 s (256 connections), then
# examples/loadgen offers 10,000 consents/s for 10 s, so the tick falls inside the open loop.
# Prints the closed-loop rate, every 250 ms slice of the open loop whose worst latency exceeds
# 12 ms, and the percentiles. Server on core 1, load on core 0, as in bench-consent.sh.
# Usage: scripts/bench-checkpoint-stall.sh [BINARY]   (default: the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
which wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 2; }
cargo build --release -q -p assent-server --example loadgen
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/assent}
LOADGEN=${CARGO_TARGET_DIR:-target}/release/examples/loadgen
[ -x "$BIN" ] || cargo build --release -q -p assent
PORT=18190
d=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$d"' EXIT
printf 'checkpoint_interval_secs = 20\n' > "$d/assent.toml"
ASSENT_RATE_LIMIT=off ASSENT_LOG=warn taskset -c 1 "$BIN" serve --config "$d/assent.toml" \
    --registry examples/callkom.toml --data "$d" --listen 127.0.0.1:$PORT 2>"$d/server.log" &
pid=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
taskset -c 0 wrk -t1 -c256 -d17s -s scripts/bench/consent.lua http://127.0.0.1:$PORT | grep Requests/sec
taskset -c 0 "$LOADGEN" --addr 127.0.0.1:$PORT --rate 10000 --secs 10 --connections 256 \
    --timeline 250 | awk '/worst/ { if ($(NF-1) + 0 > 12) print } /p99/'
