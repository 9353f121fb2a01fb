#!/usr/bin/env bash
# The static checks (`make lint`, and `make test` before the suite): ruff's lint, ruff's
# format, mypy over the packages, tests/, bench/ and scripts/ (pyproject.toml [tool.mypy]),
# the import rules (pyproject.toml [tool.importlinter]) and the reference deployment
# (deploy/: Kubernetes schemas, systemd-analyze verify, BRAIN_* names;
# scripts/check_deploy.py). Stops at the first that fails, naming it and how to see or fix it.
set -uo pipefail
cd "$(dirname "$0")/.."

check() {
  local what=$1 fix=$2
  shift 2
  if ! "$@"; then
    echo "lint.sh: $what failed ($fix)" >&2
    exit 1
  fi
}

check "ruff check" "see above; many fix with: .venv/bin/ruff check --fix ." .venv/bin/ruff check .
check "ruff format --check" "fix with: .venv/bin/ruff format ." .venv/bin/ruff format --check .
check "mypy" "type errors above" .venv/bin/mypy
check "lint-imports" "a folder imports one it must not, above" .venv/bin/lint-imports
check "deploy/ check" "see above" .venv/bin/python scripts/check_deploy.py
