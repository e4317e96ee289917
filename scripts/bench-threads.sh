#!/usr/bin/env bash
# Where a consent's server CPU goes, per thread, and how often each thread sleeps or is
# preempted (docs/benchmarks.md, session 4): one 8 s wrk run of consents against a server on
# core 1, reading every thread's CPU time and context switches from /proc before and after.
# Usage: scripts/bench-threads.sh [BINARY] [CONNS]   (defaults: the release build, 64)
set -euo pipefail
cd "$(dirname "$0")/.."
which wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 2; }
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/assent}
CONNS=${2:-64}
[ -x "$BIN" ] || cargo build --release -q -p assent
PORT=18191
d=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$d"' EXIT
ASSENT_METRICS_PUBLIC=true ASSENT_RATE_LIMIT=off ASSENT_LOG=warn taskset -c 1 "$BIN" serve --registry examples/callkom.toml \
    --data "$d" --listen 127.0.0.1:$PORT 2>"$d/server.log" &
pid=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
taskset -c 0 wrk -t1 -c"$CONNS" -d3s -s scripts/bench/consent.lua http://127.0.0.1:$PORT >/dev/null
# name, CPU ticks, voluntary and involuntary switches, summed over threads of the same name
snap() {
  for t in /proc/$pid/task/*; do
    echo "$(tr ' ' _ < "$t/comm") $(awk '{print $14+$15}' "$t/stat") $(awk '/voluntary_ctxt/{printf "%s ", $2}' "$t/status")"
  done | awk '{a[$1]+=$2; v[$1]+=$3; n[$1]+=$4} END {for (k in a) print k, a[k], v[k], n[k]}' | sort
}
snap > "$d/before"
out=$(taskset -c 0 wrk -t1 -c"$CONNS" -d8s -s scripts/bench/consent.lua http://127.0.0.1:$PORT)
snap > "$d/after"
n=$(echo "$out" | awk '/requests in/{print $1}')
echo "$out" | grep Requests/sec
join "$d/before" "$d/after" | awk -v n="$n" -v hz="$(getconf CLK_TCK)" '
  { d = $5 - $2; s += d
    if (d > 0) printf "%-28s %6.2f us/consent; per 100 consents: %5.1f sleeps, %5.1f preemptions\n", $1, d * 1e6 / hz / n, ($6 - $3) * 100 / n, ($7 - $4) * 100 / n }
  END { printf "%-28s %6.2f us/consent\n", "all threads", s * 1e6 / hz / n }'
curl -s http://127.0.0.1:$PORT/metrics | awk '/^assent_store_write_transactions_total/{t=$2} /^assent_store_write_requests_total/{q=$2} END{printf "group commit: %.1f requests per transaction\n", q/t}'
