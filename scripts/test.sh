#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script).
# Installs what it needs (the prebuilt DuckDB library), then: formatting,
# clippy with warnings as errors, and every test of the workspace, including
# the end-to-end pipeline tests on the real data in ../shared/data; then the
# cloud backends (feature gcp) through the same conformance suite on
# Google's Firestore and Pub/Sub emulators, which it starts and stops itself.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh"
# Belt and braces for test binaries that link DuckDB (each package also sets an rpath).
export LD_LIBRARY_PATH="$root/.cache/duckdb${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [[ ! -d "$root/../shared/data/landing" ]]; then
  echo "test: the real data is expected in $root/../shared/data (shared/ beside the repository)" >&2
  exit 1
fi
echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test" >&2
cargo test --workspace --locked
echo "== cloud backends on the Firestore and Pub/Sub emulators (feature gcp)" >&2
cargo clippy -p propcast-platform -p propcast-orchestrator --all-targets --features propcast-orchestrator/gcp --locked -- -D warnings
eval "$("$root/scripts/emulators.sh" start)"
trap '"$root/scripts/emulators.sh" stop' EXIT
PROPCAST_REQUIRE_EMULATORS=1 cargo test -p propcast-platform --features gcp --locked --test emulator_conformance
PROPCAST_REQUIRE_EMULATORS=1 cargo test -p propcast-orchestrator --features gcp --locked --test fires_once_emulator
