#!/usr/bin/env bash
# Compares the consent write path of two (or more) server builds on this VM, whose speed drifts
# by up to 2x within seconds: all servers run at once (each pinned to core 1, fresh data
# directory, rate limit off) and wrk (core 0) alternates short rounds between them, so every
# round compares the builds in the same phase. Prints per round and server the consents/s and
# the server's CPU time per consent (all its threads, from /proc/PID/stat), then GET /healthz of
# the first server as the phase indicator.
# Usage: [ROUNDS=6] [SLICE=3] [CONNS=64] scripts/bench-ab.sh [ENV=1,ENV2=1@]BINARY ...
#   e.g. scripts/bench-ab.sh /tmp/assent-before target/release/assent
set -euo pipefail
cd "$(dirname "$0")/.."
which wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 2; }
[ $# -ge 1 ] || { sed -n 2,10p "$0"; exit 2; }
ROUNDS=${ROUNDS:-6}
SLICE=${SLICE:-3}
CONNS=${CONNS:-64}
BASE_PORT=18300
pids=(); dirs=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "${dirs[@]}"; }
trap cleanup EXIT
i=0
for spec in "$@"; do
  envs=(); bin=$spec
  if [[ "$spec" == *@* ]]; then IFS=, read -r -a envs <<< "${spec%@*}"; bin=${spec#*@}; fi
  d=$(mktemp -d); dirs+=("$d")
  env "${envs[@]}" ASSENT_RATE_LIMIT=off ASSENT_LOG=warn taskset -c 1 "$bin" serve \
      --registry examples/callkom.toml --data "$d" --listen 127.0.0.1:$((BASE_PORT + i)) 2>"$d/log" &
  pids+=($!); i=$((i + 1))
done
for i in "${!pids[@]}"; do
  port=$((BASE_PORT + i))
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
  taskset -c 0 wrk -t1 -c"$CONNS" -d2s -s scripts/bench/consent.lua http://127.0.0.1:$port >/dev/null
done
for r in $(seq 1 "$ROUNDS"); do
  line="round $r:"
  for i in "${!pids[@]}"; do
    port=$((BASE_PORT + i)); pid=${pids[$i]}
    t0=$(awk '{print $14+$15}' /proc/"$pid"/stat)
    out=$(taskset -c 0 wrk -t1 -c"$CONNS" -d"${SLICE}"s -s scripts/bench/consent.lua http://127.0.0.1:$port)
    t1=$(awk '{print $14+$15}' /proc/"$pid"/stat)
    n=$(echo "$out" | awk '/requests in/{print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/{printf "%d", $2}')
    line="$line  [$i] $rps/s $(awk -v t=$((t1 - t0)) -v n="$n" 'BEGIN{printf "%.1f", t*10000/n}') us"
  done
  hz=$(taskset -c 0 wrk -t1 -c"$CONNS" -d2s http://127.0.0.1:$BASE_PORT/healthz | awk '/Requests\/sec/{printf "%d", $2}')
  echo "$line  (healthz $hz/s)"
done
