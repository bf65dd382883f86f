#!/usr/bin/env bash
# Real-browser tests: installs what they need when it is missing (Debian's
# chromium and a Chinese font, the npm packages of tests/browser), builds the
# opsmeter binary, and runs tests/browser/run.mjs against a fixture site served
# by `opsmeter serve`. Screenshots go to target/browser-artifacts/.
# Exits non-zero when any test fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "missing: $* (install them with apt-get as root)" >&2
    exit 1
  fi
  if [ -z "${apt_updated:-}" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium"
  apt_install chromium fonts-liberation
fi
# Without a CJK font the Chinese pages' screenshots show boxes.
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing a Chinese font"
    apt_install fonts-wqy-microhei
  else
    echo "note: no Chinese font (apt-get install fonts-wqy-microhei): Chinese screenshots show boxes" >&2
  fi
fi
# git generates the fixture repositories.
if ! command -v git >/dev/null 2>&1; then
  apt_install git
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "== installing node and npm"
  apt_install nodejs npm
fi

echo "== npm packages (tests/browser)"
(
  cd tests/browser
  # playwright-core never downloads a browser; this only makes sure nothing else tries.
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  if [ -f package-lock.json ]; then
    if ! npm ls --depth=0 >/dev/null 2>&1; then
      npm ci --no-audit --no-fund --loglevel=error
    fi
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
)

echo "== cargo build"
cargo build --quiet
target_dir=${CARGO_TARGET_DIR:-$root/target}
export OPSMETER_BIN=${OPSMETER_BIN:-$target_dir/debug/opsmeter}
export ARTIFACTS=${ARTIFACTS:-$root/target/browser-artifacts}

echo "== browser tests"
node tests/browser/run.mjs
