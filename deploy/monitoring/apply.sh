#!/usr/bin/env bash
# Creates or updates propcast's Cloud Monitoring objects from the files
# beside this script: the log-based metrics (log-metrics/*.json), then the
# alert policies (alert-policies/*.json) and the dashboard (dashboard.json).
# Idempotent: a metric that exists is updated, a policy or dashboard with
# the same display name is replaced.
#   deploy/monitoring/apply.sh PROJECT_ID [NOTIFICATION_CHANNEL]
# NOTIFICATION_CHANNEL (projects/P/notificationChannels/N) is added to every
# policy. Needs gcloud (with its alpha component for policies) and jq.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="${1:?usage: deploy/monitoring/apply.sh PROJECT_ID [NOTIFICATION_CHANNEL]}"
channel="${2:-}"
command -v gcloud >/dev/null || { echo "apply.sh: gcloud not found" >&2; exit 1; }
command -v jq >/dev/null || { echo "apply.sh: jq not found" >&2; exit 1; }

for file in "$here"/log-metrics/*.json; do
  name="$(jq -r .name "$file")"
  if gcloud logging metrics describe "$name" --project "$project" >/dev/null 2>&1; then
    gcloud logging metrics update "$name" --project "$project" --config-from-file "$file"
  else
    gcloud logging metrics create "$name" --project "$project" --config-from-file "$file"
  fi
done

for file in "$here"/alert-policies/*.json; do
  display="$(jq -r .displayName "$file")"
  policy="$(mktemp)"
  if [[ -n "$channel" ]]; then
    jq --arg c "$channel" '.notificationChannels = [$c]' "$file" > "$policy"
  else
    cp "$file" "$policy"
  fi
  existing="$(gcloud alpha monitoring policies list --project "$project" \
    --filter "displayName=\"$display\"" --format 'value(name)')"
  if [[ -n "$existing" ]]; then
    gcloud alpha monitoring policies update "$existing" --project "$project" --policy-from-file "$policy"
  else
    gcloud alpha monitoring policies create --project "$project" --policy-from-file "$policy"
  fi
  rm -f "$policy"
done

display="$(jq -r .displayName "$here/dashboard.json")"
existing="$(gcloud monitoring dashboards list --project "$project" \
  --filter "displayName=\"$display\"" --format 'value(name)')"
if [[ -n "$existing" ]]; then
  gcloud monitoring dashboards delete "$existing" --project "$project" --quiet
fi
gcloud monitoring dashboards create --project "$project" --config-from-file "$here/dashboard.json"
