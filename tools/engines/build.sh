#!/usr/bin/env bash
# Builds one pinned engine (geth or kubo) from its Go module in tools/engines/<engine>/
# into bin/, once per version of that module: the stamp bin/.<engine>.stamp holds the
# sha256 of the module's go.mod + go.sum, and the build is skipped while it matches.
# CGO off (static binaries, no C toolchain needed); `nice` because the build machines are
# shared; -mod=readonly so that a build never rewrites the pinned go.sum.
set -euo pipefail

engine="${1:?usage: tools/engines/build.sh geth|kubo}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
module="$root/tools/engines/$engine"
bin="$root/bin"

case "$engine" in
  geth)
    package=github.com/ethereum/go-ethereum/cmd/geth
    output="$bin/geth"
    # geth 1.13's memsize dependency links to runtime internals that Go 1.23+ guards.
    ldflags="-checklinkname=0"
    ;;
  kubo)
    package=github.com/ipfs/kubo/cmd/ipfs
    output="$bin/ipfs"
    ldflags=""
    ;;
  *)
    echo "unknown engine: $engine (geth or kubo)" >&2
    exit 2
    ;;
esac

command -v go >/dev/null || { echo "the Go toolchain (go 1.26) is needed to build $engine" >&2; exit 1; }

wanted="$(cat "$module/go.mod" "$module/go.sum" | sha256sum | cut -d' ' -f1)"
stamp="$bin/.$engine.stamp"
if [[ -x "$output" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
  exit 0
fi

mkdir -p "$bin"
rm -f "$stamp"
echo "building $engine ($package) into $output; the first build takes a few minutes"
(
  cd "$module"
  CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
    nice -n 10 go build -trimpath -ldflags="$ldflags" -o "$output.tmp" "$package"
)
mv "$output.tmp" "$output"
echo "$wanted" > "$stamp"
