# Bridgehead: `make demo` and `make test` are all a new machine needs (Python 3.11 and make).
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: install demo test lint clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	@echo "Installing Bridgehead and its pinned dependencies into $(VENV) (log: $(VENV)/install.log)"
	@$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]' \
	  > $(VENV)/install.log 2>&1 || { tail -40 $(VENV)/install.log; exit 1; }
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/bridgehead demo --dir var/demo

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf var reports .pytest_cache
