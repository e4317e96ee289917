#!/usr/bin/env bash
# Measures the consent API on the release build over loopback (issue 3 targets), the server
# pinned to core 1 and the load generator to core 0:
#   - acknowledged (durable) consent writes/s on SQLite and PostgreSQL, with wrk;
#   - GET /healthz in the same run, for the ratio;
#   - p99 latency at 10,000 writes/s offered (open loop, examples/loadgen.rs);
#   - peak resident memory of the server during the load;
#   - `assent ledger verify` entries/s on the resulting database.
# Usage: scripts/bench-consent.sh [sqlite|postgres|all]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
which wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 2; }
cargo build --release -q -p assent
cargo build --release -q -p assent-server --example loadgen
BIN=${CARGO_TARGET_DIR:-target}/release/assent
LOADGEN=${CARGO_TARGET_DIR:-target}/release/examples/loadgen
PORT=18181
WHICH=${1:-all}
PG=${ASSENT_BENCH_PG:-postgres://postgres@127.0.0.1:5432/test}

run_backend() {
  local name=$1 db=$2
  local dir; dir=$(mktemp -d)
  local extra=()
  [ -n "$db" ] && extra=(--database "$db")
  ASSENT_RATE_LIMIT=off ASSENT_LOG=warn taskset -c 1 "$BIN" serve --registry examples/callkom.toml \
      --data "$dir" --listen 127.0.0.1:$PORT "${extra[@]}" 2>"$dir/server.log" &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
  local peak=0
  ( while kill -0 $pid 2>/dev/null; do
      r=$(awk '/VmRSS/{print $2}' /proc/$pid/status 2>/dev/null || echo 0); echo "$r"; sleep 0.2
    done ) > "$dir/rss" &
  local sampler=$!
  echo "== $name: wrk, 64 connections, 15 s, POST /v1/sites/callkom/consents"
  taskset -c 0 wrk -t1 -c64 -d15s --latency -s scripts/bench/consent.lua http://127.0.0.1:$PORT | grep -E "Requests/sec|Latency|99%|Non-2xx|Socket errors" || true
  echo "== $name: wrk, 64 connections, 10 s, GET /healthz"
  taskset -c 0 wrk -t1 -c64 -d10s http://127.0.0.1:$PORT/healthz | grep -E "Requests/sec" || true
  echo "== $name: open loop, 10,000 writes/s offered for 10 s"
  taskset -c 0 "$LOADGEN" --addr 127.0.0.1:$PORT --rate 10000 --secs 10 --connections 64
  kill -TERM $pid; wait $pid 2>/dev/null || true
  kill $sampler 2>/dev/null || true
  peak=$(sort -n "$dir/rss" | tail -1)
  echo "== $name: peak RSS of the server: $((peak / 1024)) MB"
  echo "== $name: assent ledger verify"
  "$BIN" ledger verify --data "$dir" "${extra[@]}" 2>&1 | tail -2
  rm -rf "$dir"
}

if [ "$WHICH" = sqlite ] || [ "$WHICH" = all ]; then run_backend sqlite ""; fi
if [ "$WHICH" = postgres ] || [ "$WHICH" = all ]; then
  schema="assent_bench_$$"
  run_backend postgres "$PG?schema=$schema"
  psql "$PG" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
fi
