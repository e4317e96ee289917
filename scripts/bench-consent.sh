#!/usr/bin/env bash
# Measures the consent API on the release build over loopback (issue 3 targets), the server
# pinned to core 1 and the load generator to core 0:
#   - acknowledged (durable) consent writes/s on SQLite and PostgreSQL, with wrk, in rounds
#     alternating with GET /healthz, for the ratio (medians of ROUNDS=5 rounds);
#   - subject ids are UUIDv7 like the banner's (ASSENT_BENCH_SUBJECTS=v4 for random ones);
#   - p99 latency at 10,000 writes/s offered (open loop, examples/loadgen.rs);
#   - peak resident memory of the server during the load;
#   - `assent ledger verify` entries/s on the resulting database.
# Usage: [CONNS=64] [ROUNDS=5] scripts/bench-consent.sh [sqlite|postgres|all]
# (needs wrk: apt-get install wrk)
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
CONNS=${CONNS:-64}
OPEN_CONNS=${OPEN_CONNS:-256}
ROUNDS=${ROUNDS:-5}

run_backend() {
  local name=$1 db=$2
  local dir; dir=$(mktemp -d)
  local extra=()
  [ -n "$db" ] && extra=(--database "$db")
  ASSENT_METRICS_PUBLIC=true ASSENT_RATE_LIMIT=off ASSENT_LOG=warn taskset -c 1 "$BIN" serve --registry examples/callkom.toml \
      --data "$dir" --listen 127.0.0.1:$PORT "${extra[@]}" 2>"$dir/server.log" &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
  local peak=0
  ( while kill -0 $pid 2>/dev/null; do
      r=$(awk '/VmRSS/{print $2}' /proc/$pid/status 2>/dev/null || echo 0); echo "$r"; sleep 0.2
    done ) > "$dir/rss" &
  local sampler=$!
  # Warm-up, then alternate consent and healthz rounds: this machine's speed drifts by up to
  # 2x within seconds (shared host), so each round's ratio compares like with like.
  taskset -c 0 wrk -t1 -c"$CONNS" -d3s -s scripts/bench/consent.lua http://127.0.0.1:$PORT >/dev/null
  echo "== $name: $ROUNDS rounds of POST /v1/sites/callkom/consents (wrk, $CONNS connections, 8 s) then GET /healthz (4 s)"
  for r in $(seq 1 "$ROUNDS"); do
    local out hz p99 rps t0 t1 n
    t0=$(awk '{print $14+$15}' /proc/$pid/stat)
    out=$(taskset -c 0 wrk -t1 -c"$CONNS" -d8s --latency -s scripts/bench/consent.lua http://127.0.0.1:$PORT)
    t1=$(awk '{print $14+$15}' /proc/$pid/stat)
    n=$(echo "$out" | awk '/requests in/{print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
    p99=$(echo "$out" | awk '$1=="99%"{print $2}')
    hz=$(taskset -c 0 wrk -t1 -c"$CONNS" -d4s http://127.0.0.1:$PORT/healthz | awk '/Requests\/sec/{print $2}')
    echo "round $r: consents $rps/s (p99 $p99, $(echo "$out" | grep -c Non-2xx) non-2xx lines), healthz $hz/s, ratio $(awk -v a="$rps" -v b="$hz" 'BEGIN{printf "%.2f", a/b}'), server CPU $(awk -v t="$((t1 - t0))" -v n="$n" 'BEGIN{printf "%.0f", t*10000/n}') us/consent, core busy $(awk -v t="$((t1 - t0))" 'BEGIN{printf "%.0f", t/8}')%"
    echo "$rps $hz" >> "$dir/rounds"
  done
  sort -n "$dir/rounds" | awk '{c[NR]=$1} END{printf "median consents/s: %s\n", c[int((NR+1)/2)]}'
  awk '{print $1/$2}' "$dir/rounds" | sort -n | awk '{r[NR]=$1} END{printf "median ratio to healthz: %.2f\n", r[int((NR+1)/2)]}'
  curl -s http://127.0.0.1:$PORT/metrics | awk '/^assent_store_write_transactions_total/{t=$2} /^assent_store_write_requests_total/{q=$2} /^assent_store_flushes_total/{f=$2} END{printf "group commit: %.1f requests per transaction, %.1f per flush\n", q/t, q/f}'
  # Open loop: requests are sent on schedule whatever the answers, over OPEN_CONNS connections
  # (visitors each have their own; with 64, each connection must carry 156 requests/s, so any
  # answer slower than 6.4 ms delays the next request on it and is counted again as its latency).
  echo "== $name: open loop, 10,000 writes/s offered for 10 s over $OPEN_CONNS connections"
  taskset -c 0 "$LOADGEN" --addr 127.0.0.1:$PORT --rate 10000 --secs 10 --connections "$OPEN_CONNS"
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
  # ASSENT_BENCH_PG may carry parameters already (e.g. ?sslmode=require).
  case "$PG" in *\?*) sep='&' ;; *) sep='?' ;; esac
  run_backend postgres "$PG${sep}schema=$schema"
  psql "${PG%%\?*}" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
fi
