#!/usr/bin/env bash
# The scale curve: the full backfill (by range, all phases, training and
# grading) over the shared landing zone repeated 1x, 4x and 16x, each copy
# shifted by whole seasons (scripts/scale-landing.py), so the work grows
# k-fold and the answers are checkable. For each scale: min / median / max
# of the pipeline total and the wall time over RUNS runs, peak RSS, time and
# memory per copy, and checks that the box scores, their points and the
# lines are exactly k times the 1x run's.
#
#   scripts/bench-scale.sh [RUNS]              # release build, RUNS=3
#   SCALES="1 4" BENCH_PROFILE=dev scripts/bench-scale.sh 1
#
# Needs GNU time (/usr/bin/time -v) and python3. Writes the landing zones
# and runs under $BENCH_DIR (default: a temporary directory, removed at
# exit); 16 copies take about 400 MB there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-3}"
scales="${SCALES:-1 4 16}"
profile="${BENCH_PROFILE:-release}"
landing="${PROPCAST_BENCH_LANDING:-$root/../shared/data/landing}"
[ -d "$landing" ] || { echo "no landing zone at $landing (set PROPCAST_BENCH_LANDING)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }
case " $scales " in *" 1 "*) ;; *) echo "SCALES must include 1 (the reference the others are checked against)" >&2; exit 2 ;; esac

"$root/scripts/setup.sh"
export LD_LIBRARY_PATH="$root/.cache/duckdb${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cargo build --profile "$profile" --locked --quiet --manifest-path "$root/Cargo.toml" -p propcast
dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
bin="$root/target/$dir/propcast"

work="${BENCH_DIR:-$(mktemp -d)}"
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"

q() { "$bin" query --data-dir "$1" "$2" 2>&1 | sed -n 4p | tr -d '│ ' | tr '┆' ' '; }
facts() { # data dir: player-games, their points, point lines, predictions
  echo "$(q "$1" "SELECT count(*), sum(points) FROM nba_analytics.player_game_summary")" \
       "$(q "$1" "SELECT count(*) FROM nba_raw.player_props")" \
       "$(q "$1" "SELECT count(*) FROM nba_predictions.player_prop_predictions")"
}

echo "scales: $scales; $runs runs each, $profile build, in $work"
for k in $scales; do
  zone="$work/landing-$k"
  [ -d "$zone" ] || "$root/scripts/scale-landing.py" "$k" "$landing" "$zone"
  for i in $(seq 1 "$runs"); do
    d="$work/x$k-$i"
    rm -rf "$d"
    /usr/bin/time -v -o "$d.time" "$bin" backfill --landing "$zone" --train-through 2025-06-30 \
      --data-dir "$d" --summary-json "$d.json" --no-progress > "$d.log" 2>&1
    echo "  ${k}x run $i: $(grep -o 'total: [0-9.]* s' "$d.log")"
    [ "$i" = "$runs" ] && facts "$d" > "$work/x$k.facts"
    rm -rf "$d"
  done
  rm -rf "$zone"
done

python3 - "$work" "$runs" "$scales" <<'EOF'
import json, re, statistics, sys
work, runs, scales = sys.argv[1], int(sys.argv[2]), [int(k) for k in sys.argv[3].split()]
def run(k, i):
    s = json.load(open(f"{work}/x{k}-{i}.json"))
    t = open(f"{work}/x{k}-{i}.time").read()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
    wall = sum(float(p) * 60 ** n for n, p in enumerate(reversed(wall.split(":"))))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    return s["seconds"]["total"], wall, rss, s.get("dates", {})
fmt = lambda v: f"{min(v):.1f} / {statistics.median(v):.1f} / {max(v):.1f}"
print()
print("| scale | player-games | predictions | pipeline total s | wall s | peak RSS MiB | s per copy | time vs 1x | RSS vs 1x |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
base = {}
ok = True
ref = open(f"{work}/x1.facts").read().split()
for k in scales:
    rs = [run(k, i) for i in range(1, runs + 1)]
    total, wall, rss = [r[0] for r in rs], [r[1] for r in rs], [r[2] for r in rs]
    facts = open(f"{work}/x{k}.facts").read().split()
    games, points, lines, predictions = (int(x) for x in facts)
    if k == 1:
        base = {"t": statistics.median(total), "rss": max(rss)}
    expect = [int(x) * k for x in ref[:3]]
    if [games, points, lines] != expect:
        ok = False
        print(f"CHECK FAILED at {k}x: player-games, points, lines {games, points, lines} != {k} x 1x = {expect}")
    print(f"| {k}x | {games:,} | {predictions:,} | {fmt(total)} | {fmt(wall)} | {max(rss):.0f} | "
          f"{statistics.median(total) / k:.1f} | {statistics.median(total) / base['t']:.2f}x | {max(rss) / base['rss']:.2f}x |")
print(f"\n(min / median / max of {runs} runs; peak RSS is the largest of the runs)")
if ok:
    print("checks: at every scale the player-games, their points and the raw lines are exactly k times the 1x run's")
sys.exit(0 if ok else 1)
EOF
