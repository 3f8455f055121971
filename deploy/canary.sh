#!/usr/bin/env bash
# Canary release of one propcast Cloud Run service:
#
#   PROJECT_ID=my-project REGION=europe-west1 deploy/canary.sh propcast-raw IMAGE
#
# 1. reads the revision serving traffic now (PREVIOUS);
# 2. deploys IMAGE as a new revision with no traffic, tagged `canary`;
# 3. checks its health: the revision's Ready condition (its startup probe,
#    /readyz or gRPC health, passed) and, for HTTP services, GET /readyz on
#    the canary's tag URL with an identity token (CANARY_HTTP_CHECK=0 skips
#    that request, e.g. from outside the VPC of an ingress-internal service);
# 4. moves CANARY_STEPS percent of the traffic to it (default "10 50"),
#    baking CANARY_BAKE_SECONDS (default 300) after each step and counting
#    the canary revision's log entries of severity >= ERROR since the deploy;
#    more than CANARY_MAX_ERRORS (default 0) fails;
# 5. sends all traffic to the latest revision.
# Any failure after the deploy sends 100 % back to PREVIOUS and exits 1
# (exit 2 when even that fails). Needs gcloud (and curl for the HTTP check).
# tests/deploy/canary_test.sh runs it against a stand-in gcloud.
set -euo pipefail

usage() { echo "usage: PROJECT_ID=... REGION=... $0 SERVICE IMAGE" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
service="$1"
image="$2"
project="${PROJECT_ID:?set PROJECT_ID}"
region="${REGION:?set REGION}"
bake="${CANARY_BAKE_SECONDS:-300}"
max_errors="${CANARY_MAX_ERRORS:-0}"
steps="${CANARY_STEPS:-10 50}"
http_check="${CANARY_HTTP_CHECK:-1}"
health_attempts="${CANARY_HEALTH_ATTEMPTS:-3}"
health_wait="${CANARY_HEALTH_RETRY_SECONDS:-10}"
# The worker speaks gRPC only: its health is the Ready condition.
[[ "$service" == *-worker ]] && http_check=0
gc=(--project "$project" --region "$region" --quiet)

say() { echo "canary $service: $*" >&2; }
fail() { echo "canary $service: FAILED: $*" >&2; }

# tag,revision,percent,url — one line per traffic target of the service.
traffic() {
  gcloud run services describe "$service" "${gc[@]}" --flatten=status.traffic \
    --format='csv[no-heading](status.traffic.tag,status.traffic.revisionName,status.traffic.percent,status.traffic.url)'
}

previous=""
rollback() {
  fail "$1"
  say "rolling back: 100 % to $previous"
  if gcloud run services update-traffic "$service" "${gc[@]}" --to-revisions "$previous=100" >/dev/null; then
    say "rolled back to $previous"
    exit 1
  fi
  fail "rollback to $previous failed too: fix the traffic by hand (gcloud run services update-traffic $service --to-revisions $previous=100)"
  exit 2
}

say "reading the revision that serves traffic now"
table="$(traffic)" || { fail "cannot describe service $service in $project/$region"; exit 1; }
previous="$(awk -F, '$3 != "" && $3 > best { best = $3; rev = $2 } END { print rev }' <<< "$table")"
if [[ -z "$previous" ]]; then
  fail "no revision of $service serves traffic: a first deploy is not a canary (gcloud run services replace, see docs/DEPLOY.md)"
  exit 1
fi
say "previous revision: $previous"

since="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "deploying $image with no traffic, tag canary"
if ! gcloud run deploy "$service" "${gc[@]}" --image "$image" --no-traffic --tag canary >/dev/null; then
  fail "deploy failed; traffic untouched ($previous still serves 100 %)"
  exit 1
fi
table="$(traffic)" || rollback "cannot describe service $service after the deploy"
canary="$(awk -F, '$1 == "canary" { print $2 }' <<< "$table")"
url="$(awk -F, '$1 == "canary" { print $4 }' <<< "$table")"
[[ -n "$canary" ]] || rollback "no revision carries the canary tag after the deploy"
say "canary revision: $canary (${url:-no URL})"

say "health: Ready condition of $canary"
ready="$(gcloud run revisions describe "$canary" "${gc[@]}" --flatten=status.conditions \
  --format='csv[no-heading](status.conditions.type,status.conditions.status)')" ||
  rollback "cannot describe revision $canary"
grep -qx 'Ready,True' <<< "$ready" || rollback "revision $canary is not Ready"
if [[ "$http_check" == 1 ]]; then
  [[ -n "$url" ]] || rollback "the canary tag has no URL to check /readyz on"
  token="$(gcloud auth print-identity-token)" || rollback "cannot get an identity token"
  healthy=0
  for attempt in $(seq 1 "$health_attempts"); do
    say "health: GET $url/readyz (attempt $attempt of $health_attempts)"
    if curl -fsS --max-time 10 -o /dev/null -H "Authorization: Bearer $token" "$url/readyz"; then
      healthy=1
      break
    fi
    [[ "$attempt" -lt "$health_attempts" ]] && sleep "$health_wait"
  done
  [[ "$healthy" == 1 ]] || rollback "$url/readyz did not answer 2xx after $health_attempts attempts"
fi

# Count of the canary revision's log entries with severity >= ERROR since the deploy.
errors() {
  local entries
  entries="$(gcloud logging read "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"$service\" AND resource.labels.revision_name=\"$canary\" AND severity>=ERROR AND timestamp>=\"$since\"" \
    --project "$project" --limit 1000 --format='value(insertId)')" || return 1
  grep -c . <<< "$entries" || true
}

for percent in $steps; do
  say "traffic: $percent % to canary"
  gcloud run services update-traffic "$service" "${gc[@]}" --to-tags "canary=$percent" >/dev/null ||
    rollback "could not move $percent % of the traffic to the canary"
  say "baking ${bake}s"
  sleep "$bake"
  count="$(errors)" || rollback "cannot read the canary's logs"
  say "errors logged by $canary: $count (allowed: $max_errors)"
  [[ "$count" -le "$max_errors" ]] || rollback "$count errors at $percent % (more than CANARY_MAX_ERRORS=$max_errors)"
done

say "traffic: 100 % to the latest revision ($canary)"
gcloud run services update-traffic "$service" "${gc[@]}" --to-latest >/dev/null ||
  rollback "could not move all traffic to $canary"
say "done: $canary serves 100 % (previous: $previous)"
