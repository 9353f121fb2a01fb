#!/usr/bin/env bash
# The test command (README, CI): ruff and mypy (scripts/lint.sh), then the whole suite on a
# real dev server, PostgreSQL and SQLite.
set -uo pipefail
cd "$(dirname "$0")/.."
# Lint and types first: a minute of suite is not worth running on code that fails them.
bash scripts/lint.sh || exit 1
.venv/bin/pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  # pytest's "no tests collected": say so loudly rather than fail a checkout with none yet.
  echo "test.sh: pytest collected no tests" >&2
  exit 0
fi
exit "$status"
