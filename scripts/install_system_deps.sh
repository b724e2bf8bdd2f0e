#!/usr/bin/env bash
# Debian packages the tests drive for real: headless Chromium (browser tests) and redis-server
# (the Redis serving store); and the load generators of bench/bench_serve.py (wrk, h2load). Installs only what is missing, only where apt-get is usable as root;
# elsewhere it says what to install and the tests that need them skip with that reason.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v h2load >/dev/null 2>&1 || missing+=(nghttp2-client)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "note: install ${missing[*]} (Debian packages) to run the browser and Redis tests; they skip without them"
fi
