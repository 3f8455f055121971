#!/usr/bin/env bash
# Starts / stops the emulators of the `gcp` backends on free 127.0.0.1 ports,
# for their conformance tests (crates/platform/tests/emulator_conformance.rs):
# Google's official Firestore and Pub/Sub emulators, and bqemulator (a
# BigQuery emulator on DuckDB) for the warehouse.
#
#   eval "$(scripts/emulators.sh start)"   # prints export lines on stdout
#   cargo test -p propcast-platform --features gcp --test emulator_conformance
#   scripts/emulators.sh stop
#
# Logs, pid files and the chosen ports live in target/emulators/ (override
# with PROPCAST_EMULATOR_DIR). Needs the Debian packages google-cloud-cli,
# google-cloud-cli-firestore-emulator, google-cloud-cli-pubsub-emulator and a
# Java runtime for Google's emulators, and python3 with venv: bqemulator
# (BQEMULATOR_VERSION below) is pip-installed once into .cache/bqemulator (the only
# network access, skipped when that version is already there) and started
# through scripts/bqemulator.py, which keeps it from downloading DuckDB's
# spatial extension at start.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${PROPCAST_EMULATOR_DIR:-$root/target/emulators}"
project="${PROPCAST_PUBSUB_PROJECT:-propcast-test}"
BQEMULATOR_VERSION="1.4.0"
bq_venv="$root/.cache/bqemulator"

die() { echo "emulators: $*" >&2; exit 1; }

check_installed() {
  command -v gcloud >/dev/null ||
    die "gcloud not found: install the Debian package google-cloud-cli (apt-get install google-cloud-cli)"
  command -v java >/dev/null ||
    die "java not found: the emulators need a Java runtime (apt-get install default-jre-headless)"
  local sdk
  sdk="$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null || true)"
  [[ -n "$sdk" ]] || sdk=/usr/lib/google-cloud-sdk
  [[ -d "$sdk/platform/cloud-firestore-emulator" ]] ||
    die "Firestore emulator missing in $sdk: install the Debian package google-cloud-cli-firestore-emulator"
  [[ -d "$sdk/platform/pubsub-emulator" ]] ||
    die "Pub/Sub emulator missing in $sdk: install the Debian package google-cloud-cli-pubsub-emulator"
}

# Installs bqemulator into its own virtualenv unless that version is there.
install_bqemulator() {
  local have=""
  if [[ -x "$bq_venv/bin/python" ]]; then
    have="$("$bq_venv/bin/python" -c 'import importlib.metadata as m; print(m.version("bqemulator"))' 2>/dev/null || true)"
  fi
  [[ "$have" == "$BQEMULATOR_VERSION" ]] && return 0
  command -v python3 >/dev/null ||
    die "python3 not found: bqemulator needs Python 3.10+ with venv (apt-get install python3-venv)"
  echo "emulators: installing bqemulator $BQEMULATOR_VERSION into $bq_venv" >&2
  python3 -m venv "$bq_venv" ||
    die "cannot create a virtualenv in $bq_venv (apt-get install python3-venv)"
  "$bq_venv/bin/pip" install --quiet "bqemulator==$BQEMULATOR_VERSION" numpy >&2 ||
    die "pip could not install bqemulator==$BQEMULATOR_VERSION into $bq_venv (network or package index unreachable?)"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until http://127.0.0.1:PORT/PATH answers (Google's emulators serve
# HTTP/1 on their gRPC port; bqemulator's REST API lists datasets), or the
# process died, or 60 s passed.
wait_ready() {
  local name="$1" port="$2" pid="$3" log="$4" path="${5:-}"
  for _ in $(seq 1 240); do
    if curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$port/$path"; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$log" >&2; die "$name emulator exited (log: $log)"; }
    sleep 0.25
  done
  tail -n 30 "$log" >&2
  die "$name emulator did not answer on 127.0.0.1:$port within 60 s (log: $log)"
}

# Starts a command in its own process group, so stop can end the gcloud
# wrapper and the java process it spawns together.
launch() {
  local log="$1"; shift
  setsid "$@" >"$log" 2>&1 < /dev/null &
  echo $!
}

stop_one() {
  local name="$1" pidfile="$dir/$1.pid"
  [[ -f "$pidfile" ]] || return 0
  local pid
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    echo "emulators: stopped $name (pid $pid)" >&2
  fi
  rm -f "$pidfile" "$dir/$name.port"
}

start() {
  check_installed
  install_bqemulator
  mkdir -p "$dir"
  stop_one firestore
  stop_one pubsub
  stop_one bigquery
  local fport pport bport fpid ppid bpid
  fport="$(free_port)"
  pport="$(free_port)"
  while [[ "$pport" == "$fport" ]]; do pport="$(free_port)"; done
  bport="$(free_port)"
  while [[ "$bport" == "$fport" || "$bport" == "$pport" ]]; do bport="$(free_port)"; done
  fpid="$(launch "$dir/firestore.log" gcloud emulators firestore start --host-port="127.0.0.1:$fport" --quiet)"
  echo "$fpid" > "$dir/firestore.pid"
  echo "$fport" > "$dir/firestore.port"
  ppid="$(launch "$dir/pubsub.log" gcloud beta emulators pubsub start --host-port="127.0.0.1:$pport" --project="$project" --quiet)"
  echo "$ppid" > "$dir/pubsub.pid"
  echo "$pport" > "$dir/pubsub.port"
  # --grpc-port 0: its Storage API port is unused (the client's Storage
  # Write API is hard-wired to Google's host).
  bpid="$(launch "$dir/bigquery.log" "$bq_venv/bin/python" "$root/scripts/bqemulator.py" start \
    --rest-host 127.0.0.1 --rest-port "$bport" --grpc-port 0 --project "$project")"
  echo "$bpid" > "$dir/bigquery.pid"
  echo "$bport" > "$dir/bigquery.port"
  wait_ready firestore "$fport" "$fpid" "$dir/firestore.log"
  wait_ready pubsub "$pport" "$ppid" "$dir/pubsub.log"
  wait_ready bigquery "$bport" "$bpid" "$dir/bigquery.log" "bigquery/v2/projects/$project/datasets"
  echo "emulators: firestore on 127.0.0.1:$fport, pubsub on 127.0.0.1:$pport, bigquery on 127.0.0.1:$bport (logs in $dir)" >&2
  echo "export FIRESTORE_EMULATOR_HOST=127.0.0.1:$fport"
  echo "export PUBSUB_EMULATOR_HOST=127.0.0.1:$pport"
  echo "export BIGQUERY_EMULATOR_HOST=127.0.0.1:$bport"
}

stop() {
  stop_one firestore
  stop_one pubsub
  stop_one bigquery
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
