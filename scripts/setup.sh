#!/usr/bin/env bash
# Installs what a fresh machine needs to build propcast: the prebuilt DuckDB
# shared library, fetched with the ordinary npm client into .cache/ inside the
# repository. Compiling DuckDB from source takes > 45 min on 2 cores; linking
# against this library takes a few minutes. Idempotent: does nothing when the
# library is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Keep in lock-step with the `duckdb` crate version in Cargo.toml
# (crate 1.10506.1 <-> DuckDB 1.5.6).
DUCKDB_NPM_VERSION="1.5.6-r.1"
dest="$root/.cache/duckdb"
if [[ -f "$dest/libduckdb.so" && "$(cat "$dest/VERSION" 2>/dev/null)" == "$DUCKDB_NPM_VERSION" ]]; then
  exit 0
fi
command -v npm >/dev/null || { echo "setup: npm is required to fetch libduckdb (install Node.js/npm)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "setup: fetching libduckdb $DUCKDB_NPM_VERSION (npm package @duckdb/node-bindings-linux-x64)" >&2
(cd "$tmp" && npm pack --silent "@duckdb/node-bindings-linux-x64@$DUCKDB_NPM_VERSION" >/dev/null)
tar -xzf "$tmp"/*.tgz -C "$tmp"
mkdir -p "$dest"
cp "$tmp/package/libduckdb.so" "$dest/libduckdb.so"
cp "$tmp/package/LICENSE" "$dest/LICENSE"
echo "$DUCKDB_NPM_VERSION" > "$dest/VERSION"
echo "setup: libduckdb installed in $dest" >&2
