#!/usr/bin/env bash
# Slither (static analysis) on contracts/src, compiled by the pinned solc-js through
# scripts/slither-solc.mjs (no native solc can be installed here). Every finding must be
# listed, with the reason it is accepted, in scripts/slither-accepted.json (see
# docs/contracts.md, "Static analysis"); a new finding fails the run.
# Usage: scripts/slither.sh [SLITHER]   (default .venv/slither/bin/slither, made by `make slither`)
set -euo pipefail
cd "$(dirname "$0")/.."
slither=${1:-.venv/slither/bin/slither}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# slither exits non-zero whenever it reports anything: the JSON decides, not the exit code
"$slither" contracts/src \
  --solc scripts/slither-solc.mjs \
  --solc-standard-json \
  --solc-remaps "@openzeppelin/=contracts/node_modules/@openzeppelin/" \
  --filter-paths "node_modules" \
  --solc-disable-warnings \
  --json "$work/slither.json" >"$work/slither.log" 2>&1 || true
if [ ! -s "$work/slither.json" ]; then
  cat "$work/slither.log" >&2
  echo "slither produced no report" >&2
  exit 1
fi
python3 scripts/slither-check.py "$work/slither.json" scripts/slither-accepted.json
