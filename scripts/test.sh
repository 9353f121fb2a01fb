#!/usr/bin/env bash
# The test command (README, CI): ruff and mypy (scripts/lint.sh), then the whole suite on a
# real dev server, PostgreSQL and SQLite.
set -uo pipefail
cd "$(dirname "$0")/.."
# Lint and types first: a minute of suite is not worth running on code that fails them.
bash scripts/lint.sh || exit 1
# Three workers (BRAIN_TEST_WORKERS; 0 for one process), each with its own dev server and
# scratch databases: most tests wait on the dev server, PostgreSQL or a subprocess, so on
# two cores the suite took 975 s in one process, 590-630 s on two workers and 520-620 s on
# three (measured on the machine CI runs on). worksteal: slow files do not pile up on one
# worker.
.venv/bin/pytest -n "${BRAIN_TEST_WORKERS:-3}" --dist worksteal "$@"
status=$?
if [ "$status" -eq 5 ]; then
  # pytest's "no tests collected": say so loudly rather than fail a checkout with none yet.
  echo "test.sh: pytest collected no tests" >&2
  exit 0
fi
exit "$status"
