#!/usr/bin/env bash
# Prove that a fresh clone sets itself up: clone the committed tree (HEAD) into a
# temporary folder and run `make test` there, as CI does. Nothing from this checkout's
# .venv or node_modules is reused.
#   usage: scripts/fresh-clone-check.sh [make-target]   (default: test)
set -euo pipefail
target="${1:-test}"
top="$(git rev-parse --show-toplevel)"
work="$(mktemp -d -t docex-fresh-XXXXXX)"
trap 'rm -rf "$work"' EXIT
git clone --quiet --no-hardlinks "$top" "$work/docex"
cd "$work/docex"
echo "fresh clone of $(git rev-parse --short HEAD) in $work/docex: make $target"
make "$target"
