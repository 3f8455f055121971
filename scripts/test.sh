#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script).
# Installs what it needs (the prebuilt DuckDB library; Chromium and
# chromedriver for the dashboard's browser test), then: formatting,
# clippy with warnings as errors, and every test of the workspace, including
# the end-to-end pipeline tests on the real data in ../shared/data; then the
# cloud backends (feature gcp) through the same conformance suite on
# Google's Firestore and Pub/Sub emulators and bqemulator (BigQuery), which
# it starts and stops itself (scripts/emulators.sh). Between the two, the
# deployment files that cannot run here are linted (scripts/lint-deploy.sh)
# and deploy/canary.sh runs against a stand-in gcloud (tests/deploy/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh"
# The dashboard's test (tests/dashboard.rs) drives headless Chromium through
# chromedriver: Debian's packages, installed here when missing.
if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
  echo "== installing chromium and chromium-driver (apt-get)" >&2
  sudo=""
  [[ "$(id -u)" -ne 0 ]] && sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
# Belt and braces for test binaries that link DuckDB (each package also sets an rpath).
export LD_LIBRARY_PATH="$root/.cache/duckdb${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [[ ! -d "$root/../shared/data/landing" ]]; then
  echo "test: the real data is expected in $root/../shared/data (shared/ beside the repository)" >&2
  exit 1
fi
# A CI run builds from cold: incremental compilation only costs there.
export CARGO_INCREMENTAL=0
# One feature set for every step, so clippy checks and the test build
# compile each crate once, the cloud backends (feature gcp) included.
features=(--features propcast-orchestrator/gcp)
echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings" >&2
cargo clippy --workspace --all-targets --locked "${features[@]}" -- -D warnings
echo "== cargo test" >&2
# The emulator suites skip here (no emulator running); they run below.
cargo test --workspace --locked "${features[@]}"
echo "== deploy/ lint and canary" >&2
"$root/scripts/lint-deploy.sh"
bash "$root/tests/deploy/canary_test.sh"
bash "$root/tests/deploy/changed_services_test.sh"
echo "== cloud backends on the Firestore, Pub/Sub and BigQuery emulators (feature gcp)" >&2
eval "$("$root/scripts/emulators.sh" start)"
trap '"$root/scripts/emulators.sh" stop' EXIT
# Already built above, so this only lists the four suites' executables:
# the backends' conformance, the orchestrator firing once, five real dates
# through the whole pipeline on the cloud path (tests/cloud_path.rs), and
# three through the per-phase services as separate processes
# (tests/services.rs).
mapfile -t suites < <(cargo test --workspace --locked "${features[@]}" --no-run \
  --test emulator_conformance --test fires_once_emulator --test cloud_path --test services \
  --message-format=json \
  | grep -o '"executable":"[^"]*"' | cut -d'"' -f4 \
  | grep -E '/deps/(emulator_conformance|fires_once_emulator|cloud_path|services)-[0-9a-f]+$')
if [[ ${#suites[@]} -ne 4 ]]; then
  echo "test: expected the four emulator suites, found: ${suites[*]:-none}" >&2
  exit 1
fi
for suite in "${suites[@]}"; do
  echo "== $(basename "$suite")" >&2
  PROPCAST_REQUIRE_EMULATORS=1 "$suite"
done
