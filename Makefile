# Every target sets itself up from a fresh clone: only Python 3.10+ and make are needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The suite runs on every core (pytest-xdist), a test file per worker (a module-scoped Dask
# cluster starts once); `make test PYTEST_ARGS=` runs it in one process.
PYTEST_ARGS ?= -n auto --dist loadfile

.PHONY: test lint demo test-all bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	FALYX_HISTORY=off FALYX_DEMO_SEED=$${FALYX_DEMO_SEED:-4} $(BIN)/python examples/simple.py run R -y --summary

# The suite under every CPython 3.10-3.13 found (PATH first, then pyenv), one venv each.
test-all:
	@bash .ci/test-all

bench: $(STAMP)
	$(BIN)/python benchmarks/overhead.py
	@for b in startup history shell scale_out; do \
	  if [ -f benchmarks/$$b.py ]; then $(BIN)/python benchmarks/$$b.py; fi; done

clean:
	rm -rf $(VENV) .venv-3.* .pytest_cache .hypothesis .ruff_cache build dist *.egg-info
