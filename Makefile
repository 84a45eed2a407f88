# trio-paper — `make` alone prints this menu.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TP     := $(BIN)/trio-paper
MINUTES ?= 10

.DEFAULT_GOAL := help
.PHONY: help install run demo test lint recordings

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

CANDLES := ../shared/data/candles
recordings: install ## rebuild recordings/ from the real candles in ../shared/data
	$(TP) recordings from-candles --candles $(CANDLES)/binance_usdm_BTCUSDT_1m.csv.gz \
	  --funding $(CANDLES)/binance_usdm_BTCUSDT_funding_rate_8h.csv \
	  --start 2025-05-08T12:29:00Z --minutes 12 --out recordings/bitunix-btcusdt-2025-05-08-demo.jsonl.gz
	$(TP) recordings from-candles --candles $(CANDLES)/binance_usdm_BTCUSDT_1m.csv.gz \
	  --funding $(CANDLES)/binance_usdm_BTCUSDT_funding_rate_8h.csv \
	  --start 2025-05-08T00:00:00Z --minutes 1440 --out recordings/bitunix-btcusdt-2025-05-08-day.jsonl.gz
