# Local development. Targets append cleanly: each depends on `venv` and uses $(PY).
#   make venv                      create .venv, install requirements-dev.txt (again only
#                                  when a requirements file changed)
#   make run                       the local stack: moto :5000, REST :8000, WS :8001,
#                                  @connections + /health :8002 (MOTO_PORT, REST_PORT,
#                                  WS_PORT, CONNECTIONS_PORT override)
#   make package STAGE=prod        chalice package + infra/resources.yaml, then cfn-lint
#   make bench-moto                moto transaction benchmark -> docs/BENCHMARKS.md

# Lambda runs Python 3.11 and `chalice package` takes the runtime from this interpreter.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.requirements.stamp
STAGE  ?= dev
OUT    ?= out/$(STAGE)

.PHONY: venv run package bench-moto

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements-dev.txt
	# ccxt 1.56.1 (the last release with the hbtc class) pins async packages that do not
	# build on Python 3.11; its synchronous client needs nothing beyond requests.
	$(PY) -m pip install --no-deps ccxt==1.56.1
	# Swagger UI's files ship inside chalicelib/ (deployed Lambdas install requirements.txt only).
	$(PY) -m chalicelib.api.apidocs.swagger_ui
	touch $@

run: venv
	$(PY) -m infra.local.run

package: venv
	$(PY) -m infra.package $(STAGE) $(OUT)

bench-moto: venv
	$(PY) bench/moto_transactions.py --write-doc

.PHONY: test bench-matching e2e-tools
# The whole suite: unit (domain), functional (moto in-process), infra and e2e (the local
# stack over real HTTP and WebSocket, with the real client libraries).
# Test files run in TEST_WORKERS processes (pytest-xdist); a file's tests stay in one worker,
# so a module's stack or moto fixture is built once.
TEST_WORKERS ?= 2
test: venv e2e-tools
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# Real clients the end-to-end tests drive: klip-sdk under Node, Debian's Chromium for the
# pages (Playwright never downloads a browser of its own here).
e2e-tools: tests/e2e/klip/node_modules/.installed
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

tests/e2e/klip/node_modules/.installed: tests/e2e/klip/package-lock.json
	cd tests/e2e/klip && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	touch $@

bench-matching: venv
	$(PY) bench/matching_core.py --spread 10,50,200,1000
