#!/usr/bin/env bash
# Which Cloud Run services a set of changed paths touches, as a JSON array
# for a GitHub Actions matrix (.github/workflows/deploy.yml):
#
#   git diff --name-only BEFORE AFTER | deploy/changed-services.sh
#   ["propcast-analytics","propcast-raw"]
#
# crates/scrape -> scraper; crates/raw -> raw and scraper (the scrapers
# land at raw's layout); crates/analytics -> analytics; crates/precompute ->
# precompute; crates/prediction-worker -> worker, coordinator and grading
# (grading lives in that crate too: crates/prediction-worker/src/grading.rs);
# crates/orchestrator -> orchestrator; the shared code (crates/core,
# patterns, platform, proto, cli, service, Cargo.toml, Cargo.lock,
# rust-toolchain.toml, proto/, deploy/Dockerfile) -> all eight; a service's
# own manifest deploy/cloudrun/SERVICE.yaml -> that service. Anything else
# (docs, tests, benches, scripts) deploys nothing. `--all` prints all eight.
set -euo pipefail
all=(raw orchestrator analytics precompute coordinator worker grading scraper)
declare -A hit=()
mark() { local s; for s in "$@"; do hit[$s]=1; done; }
if [[ "${1:-}" == "--all" ]]; then
  mark "${all[@]}"
else
  while IFS= read -r path; do
    case "$path" in
      # A crate's own tests and benches are not in the binary.
      crates/*/tests/* | crates/*/benches/*) ;;
      crates/raw/*) mark raw scraper ;;
      crates/scrape/*) mark scraper ;;
      crates/analytics/*) mark analytics ;;
      crates/precompute/*) mark precompute ;;
      crates/prediction-worker/*) mark worker coordinator grading ;;
      crates/orchestrator/*) mark orchestrator ;;
      crates/core/* | crates/patterns/* | crates/platform/* | crates/proto/* | crates/cli/* | crates/service/* \
        | proto/* | Cargo.toml | Cargo.lock | rust-toolchain.toml | .cargo/* | deploy/Dockerfile)
        mark "${all[@]}" ;;
      deploy/cloudrun/propcast-*.yaml)
        s="${path#deploy/cloudrun/propcast-}"; mark "${s%.yaml}" ;;
    esac
  done
fi
out=""
for s in "${all[@]}"; do
  [[ -n "${hit[$s]:-}" ]] && out+="${out:+,}\"propcast-$s\""
done
echo "[$out]"
