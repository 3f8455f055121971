#!/usr/bin/env bash
# Tests deploy/changed-services.sh, the map from changed paths to the Cloud
# Run services that .github/workflows/deploy.yml redeploys.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
all='["propcast-raw","propcast-orchestrator","propcast-analytics","propcast-precompute","propcast-coordinator","propcast-worker","propcast-grading","propcast-scraper"]'
failures=0
# expect PATHS EXPECTED: PATHS is newline-separated.
expect() {
  local got
  got="$(printf '%s' "$1" | bash "$root/deploy/changed-services.sh")"
  if [[ "$got" == "$2" ]]; then
    echo "ok   $(tr '\n' ' ' <<< "$1")-> $got" >&2
  else
    echo "FAIL $(tr '\n' ' ' <<< "$1"): got $got, expected $2" >&2
    failures=$((failures + 1))
  fi
}
expect $'crates/raw/src/lib.rs\n' '["propcast-raw","propcast-scraper"]'
expect $'crates/scrape/src/http.rs\n' '["propcast-scraper"]'
expect $'deploy/cloudrun/propcast-scraper.yaml\n' '["propcast-scraper"]'
expect $'crates/analytics/src/a.rs\ncrates/precompute/src/b.rs\n' '["propcast-analytics","propcast-precompute"]'
expect $'crates/prediction-worker/src/grading.rs\n' '["propcast-coordinator","propcast-worker","propcast-grading"]'
expect $'crates/orchestrator/src/lib.rs\n' '["propcast-orchestrator"]'
expect $'crates/platform/src/config.rs\n' "$all"
expect $'deploy/Dockerfile\n' "$all"
expect $'Cargo.lock\n' "$all"
expect $'deploy/cloudrun/propcast-grading.yaml\n' '["propcast-grading"]'
expect $'docs/DEPLOY.md\ncrates/raw/tests/parse.rs\nscripts/test.sh\n' '[]'
got="$(bash "$root/deploy/changed-services.sh" --all < /dev/null)"
[[ "$got" == "$all" ]] || { echo "FAIL --all: got $got" >&2; failures=$((failures + 1)); }
if [[ "$failures" -gt 0 ]]; then
  echo "changed_services_test: $failures case(s) failed" >&2
  exit 1
fi
echo "changed_services_test: all cases passed" >&2
