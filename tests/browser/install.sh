#!/usr/bin/env bash
# Installs what the browser tests need, only when it is missing (safe to run every time):
# Node.js and npm (Debian's packages), Debian's chromium (/usr/bin/chromium), and the npm
# packages pinned in package-lock.json. System packages are installed with apt-get as root
# (through sudo when not root), after an apt-get update.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "browser tests: installing Debian's ${missing[*]}" >&2
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

if [ ! -f "$here/node_modules/playwright-core/package.json" ] \
  || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  echo "browser tests: installing npm packages (npm ci)" >&2
  (cd "$here" && npm ci --no-audit --no-fund)
fi
