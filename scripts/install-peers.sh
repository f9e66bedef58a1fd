#!/usr/bin/env bash
# Installs the external test peers when they are missing, idempotently:
#   - Debian packages: zookeeper (Apache ZooKeeper 3.8 server + zkCli.sh), zookeeper-bin
#     (the C client's cli_mt), python3-kazoo (kazoo for /usr/bin/python3).
#   - node_modules, via `npm ci`, when missing or older than package-lock.json (judged by
#     node_modules/.package-lock.json, the copy npm writes on every install).
# Works without stdin and with CI=true. Keeps output short: apt/npm noise goes to a log under
# /tmp whose tail is printed only on failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PACKAGES=(zookeeper zookeeper-bin python3-kazoo)
LOG="$(mktemp "${TMPDIR:-/tmp}/paddock-install-peers.XXXXXX.log")"

fail() {
  echo "install-peers: $1 (log: $LOG)" >&2
  echo "----- last 40 lines of $LOG -----" >&2
  tail -n 40 "$LOG" >&2 || true
  exit 1
}

is_installed() {
  local status
  status="$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)"
  [ "$status" = "installed" ]
}

# --- Debian packages ------------------------------------------------------------------------
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-peers: WARNING: not a Debian-based system (no dpkg-query); cannot install ${PACKAGES[*]}." >&2
  echo "install-peers: interop/differential tests against Apache ZooKeeper, zkCli, cli_mt and kazoo will be skipped or fail." >&2
else
  missing=()
  for pkg in "${PACKAGES[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-peers: ${PACKAGES[*]}: already installed"
  elif [ "$(id -u)" -ne 0 ]; then
    echo "install-peers: WARNING: missing Debian packages: ${missing[*]}, and not running as root." >&2
    echo "install-peers: interop/differential tests that need them will be skipped or fail." >&2
    echo "install-peers: to install: sudo apt-get install -y --no-install-recommends ${PACKAGES[*]}" >&2
  else
    echo "install-peers: installing ${missing[*]} (apt log: $LOG)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update </dev/null >>"$LOG" 2>&1 || fail "apt-get update failed"
    apt-get install -y --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      "${PACKAGES[@]}" </dev/null >>"$LOG" 2>&1 || fail "apt-get install failed"
    for pkg in "${PACKAGES[@]}"; do
      is_installed "$pkg" || fail "$pkg is still not installed after apt-get install"
    done
    echo "install-peers: installed ${missing[*]}"
  fi
fi

# --- node_modules ---------------------------------------------------------------------------
if [ -f package-lock.json ]; then
  # The directory's own mtime is no guide (npm writes package-lock.json after creating it);
  # npm's hidden lockfile is written last by `npm install`/`npm ci`.
  if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] ||
    [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "install-peers: running npm ci (log: $LOG)"
    CI=true npm ci --no-audit --no-fund --no-progress --loglevel=error </dev/null >>"$LOG" 2>&1 ||
      fail "npm ci failed"
    echo "install-peers: node_modules installed"
  else
    echo "install-peers: node_modules: up to date"
  fi
else
  echo "install-peers: WARNING: no package-lock.json; skipping npm ci" >&2
fi

rm -f "$LOG"
