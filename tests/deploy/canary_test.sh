#!/usr/bin/env bash
# Tests deploy/canary.sh against a STAND-IN `gcloud` (and a stand-in `curl`):
# no real Cloud Run, Cloud Logging or Google identity token can be reached
# from the machine these tests run on, so a fake `gcloud` script is put first
# on PATH. It records every call (its arguments) in a log, answers what
# canary.sh asks (the revision serving traffic, the canary revision and its
# URL, the Ready condition, an identity token, log entries) and fails on cue:
#   FAKE_GCLOUD_FAIL_ON=<regex>   any call whose arguments match exits 1
#   FAKE_GCLOUD_ERRORS=n1,n2,...  the k-th `logging read` prints n_k entries
#                                 (the last number repeats; default 0)
#   FAKE_CURL_FAIL=1              the stand-in curl fails (as curl -f on a 503)
# Each case checks the exact sequence of calls and the exit status; what it
# proves is canary.sh's control flow, not gcloud's behaviour.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"

cat > "$work/bin/gcloud" <<'FAKE'
#!/usr/bin/env bash
# Stand-in gcloud for tests/deploy/canary_test.sh.
set -euo pipefail
echo "gcloud $*" >> "$FAKE_LOG"
if [[ -n "${FAKE_GCLOUD_FAIL_ON:-}" ]] && grep -Eq -- "$FAKE_GCLOUD_FAIL_ON" <<< "$*"; then
  echo "ERROR: (gcloud) stand-in failure on cue" >&2
  exit 1
fi
svc="${3:-}"
case "$1 $2" in
  "run services")
    case "$svc" in
      describe)
        echo ",$4-00041-old,100,"
        if [[ -f "$FAKE_STATE/deployed" ]]; then
          echo "canary,$4-00042-new,,https://canary---$4-abc.a.run.app"
        fi ;;
      update-traffic) ;;
    esac ;;
  "run deploy") touch "$FAKE_STATE/deployed" ;;
  "run revisions") echo "Ready,True"; echo "ConfigurationsReady,True" ;;
  "auth print-identity-token") echo "fake-identity-token" ;;
  "logging read")
    n=0; [[ -f "$FAKE_STATE/reads" ]] && n="$(cat "$FAKE_STATE/reads")"
    echo $((n + 1)) > "$FAKE_STATE/reads"
    IFS=, read -r -a counts <<< "${FAKE_GCLOUD_ERRORS:-0}"
    k=$(( n < ${#counts[@]} ? n : ${#counts[@]} - 1 ))
    for ((i = 0; i < counts[k]; i++)); do echo "insert-$i"; done ;;
  *) echo "stand-in gcloud: unexpected call: $*" >&2; exit 3 ;;
esac
FAKE

cat > "$work/bin/curl" <<'FAKE'
#!/usr/bin/env bash
# Stand-in curl for tests/deploy/canary_test.sh.
echo "curl $*" >> "$FAKE_LOG"
if [[ "${FAKE_CURL_FAIL:-0}" == 1 ]]; then
  echo "curl: (22) The requested URL returned error: 503" >&2
  exit 22
fi
FAKE
chmod +x "$work/bin/gcloud" "$work/bin/curl"
export PATH="$work/bin:$PATH"
[[ "$(command -v gcloud)" == "$work/bin/gcloud" ]] || { echo "canary_test: the stand-in gcloud is not first on PATH" >&2; exit 1; }

export PROJECT_ID=test-project REGION=test-region CANARY_BAKE_SECONDS=0 CANARY_HEALTH_RETRY_SECONDS=0
failures=0

# The calls canary.sh makes, as the stand-ins log them.
g="--project test-project --region test-region --quiet"
describe() { echo "gcloud run services describe $1 $g --flatten=status.traffic --format=csv[no-heading](status.traffic.tag,status.traffic.revisionName,status.traffic.percent,status.traffic.url)"; }
deploy() { echo "gcloud run deploy $1 $g --image $2 --no-traffic --tag canary"; }
ready() { echo "gcloud run revisions describe $1-00042-new $g --flatten=status.conditions --format=csv[no-heading](status.conditions.type,status.conditions.status)"; }
token() { echo "gcloud auth print-identity-token"; }
readyz() { echo "curl -fsS --max-time 10 -o /dev/null -H Authorization: Bearer fake-identity-token https://canary---$1-abc.a.run.app/readyz"; }
to_tag() { echo "gcloud run services update-traffic $1 $g --to-tags canary=$2"; }
errors() { echo "gcloud logging read resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"$1\" AND resource.labels.revision_name=\"$1-00042-new\" AND severity>=ERROR AND timestamp>=\"T\" --project test-project --limit 1000 --format=value(insertId)"; }
latest() { echo "gcloud run services update-traffic $1 $g --to-latest"; }
rollback() { echo "gcloud run services update-traffic $1 $g --to-revisions $1-00041-old=100"; }

# run_case NAME EXPECTED_STATUS EXPECTED_CALLS SERVICE [VAR=VALUE...]
run_case() {
  local name="$1" want_status="$2" want_calls="$3" service="$4"; shift 4
  local case_dir="$work/$name" status=0
  mkdir -p "$case_dir/state"
  : > "$case_dir/calls.log"
  env FAKE_LOG="$case_dir/calls.log" FAKE_STATE="$case_dir/state" "$@" \
    bash "$root/deploy/canary.sh" "$service" "example/image:test" 2> "$case_dir/stderr" || status=$?
  sed -e 's/timestamp>="[^"]*"/timestamp>="T"/' "$case_dir/calls.log" > "$case_dir/calls"
  if [[ "$status" != "$want_status" ]]; then
    echo "FAIL $name: exit status $status, expected $want_status; canary.sh said:" >&2
    sed 's/^/    /' "$case_dir/stderr" >&2
    failures=$((failures + 1))
  elif ! diff -u <(printf '%s\n' "$want_calls") "$case_dir/calls" > "$case_dir/diff"; then
    echo "FAIL $name: calls differ from the expected sequence (- expected, + made):" >&2
    sed 's/^/    /' "$case_dir/diff" >&2
    failures=$((failures + 1))
  else
    echo "ok   $name" >&2
  fi
}

s=propcast-raw
img=example/image:test

run_case "a: happy path, 10 % then 50 % then 100 %" 0 "$(
  describe $s; deploy $s $img; describe $s; ready $s; token; readyz $s
  to_tag $s 10; errors $s; to_tag $s 50; errors $s; latest $s)" $s

run_case "b: /readyz fails -> rollback, no traffic step" 1 "$(
  describe $s; deploy $s $img; describe $s; ready $s; token; readyz $s; readyz $s
  rollback $s)" $s FAKE_CURL_FAIL=1 CANARY_HEALTH_ATTEMPTS=2

run_case "b2: revision not describable (gcloud fails on cue) -> rollback" 1 "$(
  describe $s; deploy $s $img; describe $s; ready $s; rollback $s)" $s \
  FAKE_GCLOUD_FAIL_ON='^run revisions describe'

run_case "c: errors above threshold after 10 % -> rollback, no 50 %" 1 "$(
  describe $s; deploy $s $img; describe $s; ready $s; token; readyz $s
  to_tag $s 10; errors $s; rollback $s)" $s FAKE_GCLOUD_ERRORS=3 CANARY_MAX_ERRORS=2

run_case "c2: errors within the threshold pass" 0 "$(
  describe $s; deploy $s $img; describe $s; ready $s; token; readyz $s
  to_tag $s 10; errors $s; to_tag $s 50; errors $s; latest $s)" $s FAKE_GCLOUD_ERRORS=2,1 CANARY_MAX_ERRORS=2

run_case "c3: errors appear only after 50 % -> rollback, no 100 %" 1 "$(
  describe $s; deploy $s $img; describe $s; ready $s; token; readyz $s
  to_tag $s 10; errors $s; to_tag $s 50; errors $s; rollback $s)" $s FAKE_GCLOUD_ERRORS=0,1

run_case "d: deploy fails -> traffic untouched, no rollback call" 1 "$(
  describe $s; deploy $s $img)" $s FAKE_GCLOUD_FAIL_ON='^run deploy'

run_case "e: rollback fails too -> exit 2" 2 "$(
  describe $s; deploy $s $img; describe $s; ready $s; token; readyz $s
  to_tag $s 10; errors $s; rollback $s)" $s FAKE_GCLOUD_ERRORS=1 FAKE_GCLOUD_FAIL_ON='--to-revisions'

w=propcast-worker
run_case "f: the gRPC worker: Ready condition only, no HTTP health" 0 "$(
  describe $w; deploy $w $img; describe $w; ready $w
  to_tag $w 10; errors $w; to_tag $w 50; errors $w; latest $w)" $w

if [[ "$failures" -gt 0 ]]; then
  echo "canary_test: $failures case(s) failed" >&2
  exit 1
fi
echo "canary_test: all cases passed (against the stand-in gcloud)" >&2
