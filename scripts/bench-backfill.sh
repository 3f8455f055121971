#!/usr/bin/env bash
# The full backfill of the shared landing zone, by range (the default) and
# date by date (--by-date), side by side: RUNS runs of each, alternating, a
# fresh data directory per run, then min / median / max of the pipeline
# total, each phase, wall time and peak RSS, the ratio of the medians, and
# a check that the last run of each path ended with the same business
# content in every table (md5 over all rows, run metadata excluded).
#
#   scripts/bench-backfill.sh [RUNS]          # release build, RUNS=3
#   BENCH_PROFILE=dev scripts/bench-backfill.sh 3
#
# Needs GNU time (/usr/bin/time -v) for the peak RSS. Writes its runs under
# $BENCH_DIR (default: a temporary directory, removed at exit).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-3}"
profile="${BENCH_PROFILE:-release}"
landing="${PROPCAST_BENCH_LANDING:-$root/../shared/data/landing}"
[ -d "$landing" ] || { echo "no landing zone at $landing (set PROPCAST_BENCH_LANDING)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }

"$root/scripts/setup.sh"
export LD_LIBRARY_PATH="$root/.cache/duckdb${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cargo build --profile "$profile" --locked --quiet --manifest-path "$root/Cargo.toml" -p propcast
dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
bin="$root/target/$dir/propcast"

work="${BENCH_DIR:-$(mktemp -d)}"
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"

run() { # path index
  local path=$1 i=$2 flags=()
  [ "$path" = by-date ] && flags=(--by-date)
  local d="$work/$path-$i"
  rm -rf "$d"
  /usr/bin/time -v -o "$d.time" "$bin" backfill "${flags[@]}" --landing "$landing" \
    --train-through 2025-06-30 --data-dir "$d" --summary-json "$d.json" --no-progress \
    > "$d.log" 2>&1
  echo "  $path run $i: $(grep -o 'total: [0-9.]* s' "$d.log")"
}

echo "$runs runs of each path, $profile build, in $work"
for i in $(seq 1 "$runs"); do
  run by-range "$i"
  run by-date "$i"
done

python3 - "$work" "$runs" <<'EOF'
import json, re, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
cols = ["phase2_raw", "phase3_analytics", "phase4_precompute", "phase5_predictions", "total"]
def stats(path):
    rows = {c: [] for c in cols + ["wall", "rss"]}
    for i in range(1, runs + 1):
        s = json.load(open(f"{work}/{path}-{i}.json"))["seconds"]
        for c in cols:
            rows[c].append(s[c])
        t = open(f"{work}/{path}-{i}.time").read()
        wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
        parts = [float(p) for p in wall.split(":")]
        rows["wall"].append(sum(p * 60 ** k for k, p in enumerate(reversed(parts))))
        rows["rss"].append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024)
    return rows
fmt = lambda v: f"{min(v):.2f} / {statistics.median(v):.2f} / {max(v):.2f}"
print()
print("| path | phase 2 | phase 3 | phase 4 | phase 5 | pipeline total | wall | peak RSS MiB |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
med = {}
for path in ["by-range", "by-date"]:
    r = stats(path)
    med[path] = statistics.median(r["total"])
    print(f"| {path} | " + " | ".join(fmt(r[c]) for c in cols + ["wall"]) +
          f" | {min(r['rss']):.0f} / {statistics.median(r['rss']):.0f} / {max(r['rss']):.0f} |")
print(f"\n(min / median / max of {runs} runs, seconds) ratio of medians, by date / by range: "
      f"{med['by-date'] / med['by-range']:.2f}x")
EOF

# The two paths' last runs: the same business content in every table.
q() { "$bin" query --data-dir "$1" "$2" 2>&1 | sed -n 4p; }
differ=0
tables=$("$bin" tables --data-dir "$work/by-range-$runs" | awk -F'┆' 'NR>3 && NF>=3 {gsub(/[│ ]/,"",$1); gsub(/ /,"",$2); print $1"."$2}')
for t in $tables; do
  sql="SELECT count(*), md5(string_agg(CAST(x AS VARCHAR), '|' ORDER BY CAST(x AS VARCHAR))) FROM (SELECT COLUMNS(c -> NOT (c LIKE '%_at' OR c IN ('execution_id','correlation_id','run_id','batch_id','duration_ms','round_id','system_timings'))) FROM $t) AS x"
  if [ "$(q "$work/by-range-$runs" "$sql")" != "$(q "$work/by-date-$runs" "$sql")" ]; then
    echo "DIFFERENT: $t"; differ=1
  fi
done
[ "$differ" = 0 ] && echo "tables: $(echo "$tables" | wc -w) tables, identical business content by range and by date"
exit "$differ"
