#!/usr/bin/env bash
# Fills the placeholders of deploy/cloudrun/*.yaml and writes the results to
# OUTDIR, ready for `gcloud run services replace OUTDIR/SERVICE.yaml`:
#
#   PROJECT_ID=my-project PROJECT_NUMBER=123456789012 REGION=europe-west1 \
#   IMAGE=europe-west1-docker.pkg.dev/my-project/propcast/propcast:TAG \
#   LANDING_BUCKET=my-project-landing NETWORK=default SUBNET=default \
#     deploy/render.sh /tmp/propcast-cloudrun
#
# PROJECT_ID      project id (service accounts, bigquery://, firestore://, pubsub://)
# PROJECT_NUMBER  project number (Cloud Run's deterministic service URLs:
#                 https://SERVICE-PROJECT_NUMBER.REGION.run.app, the push audience)
# REGION          Cloud Run region
# IMAGE           the propcast image (a digest is best: ...@sha256:...)
# LANDING_BUCKET  the bucket of the landing zone (propcast-raw reads gs://LANDING_BUCKET/landing)
# NETWORK, SUBNET the VPC the coordinator reaches the internal worker through
# Fails when a placeholder is unset or still present after the substitution.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ $# -eq 1 ]] || { echo "usage: $0 OUTDIR (with the placeholders in the environment)" >&2; exit 2; }
out="$1"
placeholders=(PROJECT_ID PROJECT_NUMBER REGION IMAGE LANDING_BUCKET NETWORK SUBNET)
for p in "${placeholders[@]}"; do
  [[ -n "${!p:-}" ]] || { echo "render: set $p (see the top of $0)" >&2; exit 1; }
done
mkdir -p "$out"
for manifest in "$root"/deploy/cloudrun/*.yaml; do
  target="$out/$(basename "$manifest")"
  # \b keeps PROJECT_ID from matching inside a longer word.
  sed -e "s|\bPROJECT_ID\b|$PROJECT_ID|g" -e "s|\bPROJECT_NUMBER\b|$PROJECT_NUMBER|g" \
      -e "s|\bREGION\b|$REGION|g" -e "s|\bIMAGE\b|$IMAGE|g" \
      -e "s|\bLANDING_BUCKET\b|$LANDING_BUCKET|g" -e "s|\bNETWORK\b|$NETWORK|g" \
      -e "s|\bSUBNET\b|$SUBNET|g" "$manifest" > "$target"
  for p in "${placeholders[@]}"; do
    if grep -v '^ *#' "$target" | grep -qw "$p"; then
      echo "render: $target still holds $p" >&2
      exit 1
    fi
  done
  echo "render: $target" >&2
done
