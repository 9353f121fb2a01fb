# Two entry points (README): `make up` runs the stack, `make test` runs the suite.
# Each sets itself up from a fresh clone.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test lint bench services browser tls-tools clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/brain up

services:
	bash scripts/services.sh

# Debian's Chromium for the Web UI browser test (tests/webui); Playwright is a dev extra.
browser:
	bash scripts/browser.sh

# Debian's nginx and openssl for the production tests (tests/production: TLS fronts to Temporal).
tls-tools:
	bash scripts/tls_tools.sh

test: $(STAMP) services browser tls-tools
	bash scripts/test.sh

lint: $(STAMP)
	bash scripts/lint.sh

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .brain
