#!/usr/bin/env bash
# Install Debian's nginx and openssl for the production tests (tests/production) if either is
# missing: nginx stands in front of the Temporal dev server as a TLS, mTLS and API-key
# terminator. Idempotent, and instant once installed. As scripts/browser.sh: a failed install
# does not stop `make test`; the production tests then fail and say what is missing.
# The package's own service is never started (policy-rc.d): the tests run nginx themselves,
# on ports of their own, and nothing should listen on port 80 because of them.
set -uo pipefail

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "tls_tools: ${missing[*]} missing and cannot be installed here (needs root and" \
    "apt-get); tests/production will fail until Debian's ${missing[*]} is installed" >&2
  exit 0
fi
echo "tls_tools: installing Debian's ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  # "Action forbidden": the package's postinst does not start nginx on port 80.
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
fi
log=$(mktemp)
if apt-get update -q >"$log" 2>&1 && apt-get install -y -q --no-install-recommends \
  "${missing[@]}" >>"$log" 2>&1; then
  echo "tls_tools: installed ${missing[*]}"
else
  echo "tls_tools: installing ${missing[*]} failed; tests/production will fail. apt output:" >&2
  tail -n 20 "$log" >&2
fi
[ "$made_policy" -eq 1 ] && rm -f "$policy"
rm -f "$log"
exit 0
