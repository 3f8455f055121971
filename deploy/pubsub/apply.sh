#!/usr/bin/env bash
# Creates propcast's Pub/Sub topics and push subscriptions in a project,
# only what is absent (re-running changes nothing that exists; to change an
# existing subscription use `gcloud pubsub subscriptions update`).
#
#   PROJECT_ID=my-project PROJECT_NUMBER=123456789012 REGION=europe-west1 deploy/pubsub/apply.sh
#   deploy/pubsub/apply.sh --list     # the table below, one subscription a line
#
# Per subscription: its topic; a dead-letter topic {subscription}-dead-letter
# with a pull subscription of the same name that keeps what lands there for
# 7 days (a topic without subscriptions drops messages); the push
# subscription to https://SERVICE-PROJECT_NUMBER.REGION.run.app/pubsub/push
# (Cloud Run's deterministic URL) with an OIDC token signed as
# propcast-push@PROJECT_ID.iam.gserviceaccount.com for that URL as audience,
# at most 5 delivery attempts, exponential retry backoff; and the Pub/Sub
# service agent's rights to move messages to the dead-letter topic.
# deploy/pubsub/subscriptions/*.yaml record the same subscriptions as Pub/Sub
# resources; scripts/lint-deploy.sh fails when the two disagree.
set -euo pipefail

# subscription                topic                  push target            ack  min-retry max-retry
subscriptions="\
propcast-raw-push            landing-events         propcast-raw           600  10s       600s
propcast-orchestrator-push   processor-completions  propcast-orchestrator  60   10s       600s
propcast-analytics-push      phase3-trigger         propcast-analytics     600  10s       600s
propcast-precompute-push     phase4-trigger         propcast-precompute    600  10s       600s
propcast-coordinator-push    phase5-trigger         propcast-coordinator   600  10s       600s
propcast-grading-push        predictions-ready      propcast-grading       600  10s       600s"
max_delivery_attempts=5

if [[ "${1:-}" == "--list" ]]; then
  echo "$subscriptions"
  exit 0
fi

die() { echo "pubsub apply: $*" >&2; exit 1; }
: "${PROJECT_ID:?set PROJECT_ID (the project id)}"
: "${PROJECT_NUMBER:?set PROJECT_NUMBER (gcloud projects describe \$PROJECT_ID --format='value(projectNumber)')}"
: "${REGION:?set REGION (the Cloud Run region, e.g. europe-west1)}"
push_sa="propcast-push@${PROJECT_ID}.iam.gserviceaccount.com"
agent="serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"
gc=(--project "$PROJECT_ID" --quiet)

ensure_topic() {
  if gcloud pubsub topics describe "$1" "${gc[@]}" >/dev/null 2>&1; then
    echo "pubsub apply: topic $1 exists" >&2
  else
    echo "pubsub apply: creating topic $1" >&2
    gcloud pubsub topics create "$1" "${gc[@]}" >/dev/null || die "could not create topic $1"
  fi
}

subscription_exists() {
  gcloud pubsub subscriptions describe "$1" "${gc[@]}" >/dev/null 2>&1
}

while read -r name topic service ack min_retry max_retry; do
  [[ -n "$name" ]] || continue
  dead_letter="${name}-dead-letter"
  url="https://${service}-${PROJECT_NUMBER}.${REGION}.run.app"
  ensure_topic "$topic"
  ensure_topic "$dead_letter"
  if subscription_exists "$dead_letter"; then
    echo "pubsub apply: subscription $dead_letter exists" >&2
  else
    echo "pubsub apply: creating subscription $dead_letter (keeps dead letters 7 days)" >&2
    gcloud pubsub subscriptions create "$dead_letter" "${gc[@]}" --topic "$dead_letter" \
      --message-retention-duration 7d --ack-deadline 60 >/dev/null ||
      die "could not create subscription $dead_letter"
  fi
  if subscription_exists "$name"; then
    echo "pubsub apply: subscription $name exists (left as is)" >&2
  else
    echo "pubsub apply: creating push subscription $name: $topic -> $url/pubsub/push" >&2
    gcloud pubsub subscriptions create "$name" "${gc[@]}" --topic "$topic" \
      --push-endpoint "$url/pubsub/push" \
      --push-auth-service-account "$push_sa" \
      --push-auth-token-audience "$url" \
      --ack-deadline "$ack" \
      --dead-letter-topic "$dead_letter" \
      --max-delivery-attempts "$max_delivery_attempts" \
      --min-retry-delay "$min_retry" --max-retry-delay "$max_retry" >/dev/null ||
      die "could not create subscription $name"
  fi
  # Dead-lettering needs the Pub/Sub service agent to publish to the
  # dead-letter topic and to ack on the source subscription (idempotent).
  gcloud pubsub topics add-iam-policy-binding "$dead_letter" "${gc[@]}" \
    --member "$agent" --role roles/pubsub.publisher >/dev/null ||
    die "could not let the Pub/Sub service agent publish to $dead_letter"
  gcloud pubsub subscriptions add-iam-policy-binding "$name" "${gc[@]}" \
    --member "$agent" --role roles/pubsub.subscriber >/dev/null ||
    die "could not let the Pub/Sub service agent subscribe to $name"
done <<< "$subscriptions"
echo "pubsub apply: done" >&2
