# trio-paper — `make` alone prints this menu.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TP     := $(BIN)/trio-paper
MINUTES ?= 10

.DEFAULT_GOAL := help
.PHONY: help install run demo test lint

help: ## this menu
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(VENV)/.installed ## create .venv and install trio-paper with its dev tools

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: install ## paper-trade live Bitunix data for $(MINUTES) minutes
	$(TP) run --minutes $(MINUTES)

demo: install ## the same session offline, against the built-in exchange simulator
	$(TP) run --minutes $(MINUTES) --sim

lint: install ## ruff (with the ASYNC rules) and mypy
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

test: lint ## lint, then the whole test suite
	$(BIN)/pytest
