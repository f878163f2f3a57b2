#!/usr/bin/env bash
# Installs Microsoft's SARIF validator (@microsoft/sarif-multitool, pinned)
# under target/tools/sarif for tests/check_formats.rs. Idempotent: does
# nothing when that version is already installed. Needs node and npm.
set -euo pipefail
version=5.7.0
root="$(cd "$(dirname "$0")/../.." && pwd)"
prefix="$root/target/tools/sarif"
installed="$prefix/node_modules/@microsoft/sarif-multitool/package.json"
bin="$prefix/node_modules/.bin/sarif-multitool"
if [ -x "$bin" ] && [ -f "$installed" ] &&
  grep -q "\"version\": *\"$version\"" "$installed"; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "sarif.sh: npm is needed to install @microsoft/sarif-multitool (apt-get install npm)" >&2
  exit 1
fi
echo "installing @microsoft/sarif-multitool@$version into target/tools/sarif"
mkdir -p "$prefix"
# The platform binary comes as an optional dependency (…-linux); pin it too,
# so a later 5.x cannot slip in.
npm install --prefix "$prefix" --no-audit --no-fund --save-exact --loglevel=error \
  "@microsoft/sarif-multitool@$version" "@microsoft/sarif-multitool-linux@$version"
test -x "$bin"
