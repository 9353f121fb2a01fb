#!/usr/bin/env bash
# Install Debian's Chromium for the Web UI browser test (tests/webui) if it is missing.
# Playwright (a dev extra) drives it through executable_path: no browser is ever downloaded.
# Idempotent, and instant once installed. A failed install does not stop `make test`: the
# Web UI test then fails and says why. BRAIN_CHROMIUM overrides the path (the test reads it).
set -uo pipefail

CHROMIUM="${BRAIN_CHROMIUM:-/usr/bin/chromium}"

[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "browser: $CHROMIUM is missing and cannot be installed here (needs root and apt-get);" \
    "the Web UI test will fail until Debian's chromium is installed" >&2
  exit 0
fi
echo "browser: installing Debian's chromium"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if apt-get update -q >"$log" 2>&1 && apt-get install -y -q chromium >>"$log" 2>&1 \
  && [ -x "$CHROMIUM" ]; then
  echo "browser: chromium installed at $CHROMIUM"
else
  echo "browser: installing chromium failed; the Web UI test will fail. apt output:" >&2
  tail -n 20 "$log" >&2
fi
rm -f "$log"
exit 0
