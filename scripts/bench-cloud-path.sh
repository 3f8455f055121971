#!/usr/bin/env bash
# Benchmark: the five-date backfill (2025-11-01 … 05, the dates of
# tests/cloud_path.rs) on the embedded default and on the cloud path
# (BigQuery, Firestore and Pub/Sub emulators), RUNS times each (default 3),
# release build. Prints min / median / max wall seconds of each.
#
#   scripts/bench-cloud-path.sh [RUNS]
#   BENCH_PROFILE=dev scripts/bench-cloud-path.sh   # the test build instead
#
# Starts and stops the emulators itself (scripts/emulators.sh). Each cloud
# run uses a fresh project, so every run starts from empty tables as the
# embedded one does from an empty data directory.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-3}"
"$root/scripts/setup.sh"
export LD_LIBRARY_PATH="$root/.cache/duckdb${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
profile="${BENCH_PROFILE:-release}"
case "$profile" in
  release) cargo build --release --locked --quiet --manifest-path "$root/Cargo.toml" -p propcast
           bin="$root/target/release/propcast" ;;
  dev) cargo build --locked --quiet --manifest-path "$root/Cargo.toml" --workspace --features propcast-orchestrator/gcp
       bin="$root/target/debug/propcast" ;;
  *) echo "bench: BENCH_PROFILE is release or dev, not $profile" >&2; exit 1 ;;
esac
shared="$root/../shared/data/landing"
[[ -d "$shared" ]] || { echo "bench: the shared landing zone is expected in $shared" >&2; exit 1; }

work="$(mktemp -d)"
export PROPCAST_EMULATOR_DIR="$work/emulators"
eval "$("$root/scripts/emulators.sh" start)"
trap '"$root/scripts/emulators.sh" stop; rm -rf "$work"' EXIT

# The five dates' payloads and the season schedule.
land="$work/landing"
mkdir -p "$land/nba-com/schedule-cdn"
cp -r "$shared/nba-com/schedule-cdn/2025-26" "$land/nba-com/schedule-cdn/"
for d in 2025-11-01 2025-11-02 2025-11-03 2025-11-04 2025-11-05; do
  for k in nba-com/player-boxscores nba-com/team-boxscores odds-api/events-history odds-api/player-props-history; do
    if [[ -d "$shared/$k/$d" ]]; then mkdir -p "$land/$k"; cp -r "$shared/$k/$d" "$land/$k/"; fi
  done
done

# one DATA_DIR [backend flags…]: one timed backfill, milliseconds on stdout.
one() {
  local data="$1"; shift
  local start end
  start=$(date +%s%N)
  "$bin" backfill --landing "$land" --from 2025-11-01 --to 2025-11-05 --no-progress \
    --data-dir "$data" "$@" > "$data.out" 2>&1 || { cat "$data.out" >&2; exit 1; }
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}

stats() {
  python3 -c 'import sys, statistics as s; v = sorted(float(x) / 1000 for x in sys.argv[2:]); print(f"{sys.argv[1]:<40} min {v[0]:6.2f} s   median {s.median(v):6.2f} s   max {v[-1]:6.2f} s   ({len(v)} runs)")' "$@"
}

embedded=() cloud=()
for i in $(seq 1 "$runs"); do
  embedded+=("$(one "$work/embedded-$i")")
  project="bench-$i-$$"
  cloud+=("$(one "$work/cloud-$i" --warehouse "bigquery://$project/bench_" \
    --state "firestore://$project" --bus "pubsub://$project")")
done
echo "five-date backfill (2025-11-01 … 05), $profile build:"
stats "embedded (DuckDB + SQLite)" "${embedded[@]}"
stats "cloud path (BigQuery/Firestore/Pub/Sub emulators)" "${cloud[@]}"
