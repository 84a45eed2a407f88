# trio-paper — `make` alone prints this menu.
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
TP      := $(BIN)/trio-paper
MINUTES ?= 10
VENUE   ?=
DEMO    := src/trio_paper/sim/recordings/$(or $(VENUE),bitunix)-btcusdt-2025-05-08-demo.jsonl.gz
ON      := $(if $(VENUE),--venue $(VENUE))

.DEFAULT_GOAL := help
.PHONY: help install dev-install run demo replay sim test lint crash-test bench recordings clean \
        container-build container-run container-test

help: ## this menu
	@awk 'BEGIN {FS = ":.*## "} /^##@ / {printf "\n%s\n", substr($$0, 5)} \
	  /^[a-z-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo

##@ Paper trading (each target installs first)

install: $(VENV)/.runtime ## create .venv and install trio-paper (what a session needs)

dev-install: $(VENV)/.dev ## ... plus the dev tools: tests, linters, Dask for sweeps

$(VENV)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: install ## paper-trade live data (MINUTES=10; VENUE=binance_usdm, default: config)
	$(TP) run $(ON) --minutes $(MINUTES)

demo: install ## the same session offline, against the built-in simulator (MINUTES=10, VENUE=)
	$(TP) run $(ON) --minutes $(MINUTES) --sim

replay: install ## replay a recording or candle file: FILE=runs/latest/recording.jsonl
	@test -n "$(FILE)" || { echo "usage: make replay FILE=<recording .jsonl[.gz] or candles .csv[.gz]> [STRATEGY=pullback]"; exit 2; }
	$(TP) replay --file $(FILE) $(if $(STRATEGY),--strategy $(STRATEGY))

SIM_PORT      ?= 8765
SIM_REST_PORT ?= 8766
SIM_PATH      := $(if $(filter binance_usdm,$(VENUE)),,/public/)
sim: install ## serve the demo recording as a local exchange (VENUE=); prints its URLs
	@echo "connect a session from another terminal with:"
	@echo "  $(TP) run $(ON) --venue-url ws://127.0.0.1:$(SIM_PORT)$(SIM_PATH) --rest-url http://127.0.0.1:$(SIM_REST_PORT)"
	$(TP) sim --file $(DEMO) --port $(SIM_PORT) --rest-port $(SIM_REST_PORT)

##@ Development

test: lint ## lint, then the whole test suite
	$(BIN)/pytest

lint: dev-install ## ruff (with the ASYNC rules), mypy, and the import layering (import-linter)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo --no-cache

N ?= 20
crash-test: dev-install ## SIGKILL replays at N random moments each (N=20); they must end as if never killed
	TRIO_PAPER_CRASH_KILLS=$(N) $(BIN)/pytest tests/store/test_crash.py

bench: dev-install ## replay, live-path and sweep benchmarks → bench/results.md (~12 min; BASELINE=<commit|src>)
	@$(BIN)/python -c 'import backtesting' 2>/dev/null || $(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench $(if $(BASELINE),--baseline $(BASELINE))

CANDLES := ../shared/data/candles
recordings: install ## rebuild the shipped recordings from the real candles in ../shared/data
	$(TP) recordings from-candles --candles $(CANDLES)/binance_usdm_BTCUSDT_1m.csv.gz \
	  --funding $(CANDLES)/binance_usdm_BTCUSDT_funding_rate_8h.csv \
	  --start 2025-05-08T12:29:00Z --minutes 12 --out src/trio_paper/sim/recordings/bitunix-btcusdt-2025-05-08-demo.jsonl.gz
	$(TP) recordings from-candles --candles $(CANDLES)/binance_usdm_BTCUSDT_1m.csv.gz \
	  --funding $(CANDLES)/binance_usdm_BTCUSDT_funding_rate_8h.csv \
	  --start 2025-05-08T00:00:00Z --minutes 1440 --out recordings/bitunix-btcusdt-2025-05-08-day.jsonl.gz
	$(TP) recordings from-candles --venue binance_usdm \
	  --candles $(CANDLES)/binance_usdm_BTCUSDT_1m.csv.gz \
	  --funding $(CANDLES)/binance_usdm_BTCUSDT_funding_rate_8h.csv \
	  --start 2025-05-08T12:29:00Z --minutes 12 --out src/trio_paper/sim/recordings/binance_usdm-btcusdt-2025-05-08-demo.jsonl.gz

CACHES := __pycache__ .pytest_cache .mypy_cache .ruff_cache .hypothesis '*.egg-info'
clean: ## delete caches, build/, dist/ (never runs/ logs/ state/ .venv .env)
	rm -rf build dist
	find . \( -path ./.git -o -path ./$(VENV) -o -path ./runs -o -path ./logs -o -path ./state \) -prune \
	  -o -type d \( $(foreach c,$(CACHES),-name $(c) -o) -false \) -prune -print -exec rm -rf {} +

##@ Container (podman; CONTAINER=docker works too) — docs/container.md

CONTAINER ?= podman
IMAGE     ?= localhost/trio-paper:latest
# Machines that cannot pull public images nor set rlimits keep their adaptations in
# ../shared/tools (see its README): when it is there, its base image and runtime adapter are
# used, and said so. MACHINE_TOOLS= turns that off; BASE=... and PODMAN_RUNTIME=... set them.
MACHINE_TOOLS ?= ../shared/tools
LOCAL_BASE    := localhost/python-base:3.11-bookworm
ifneq ($(MACHINE_TOOLS),)
ifneq ($(wildcard $(MACHINE_TOOLS)/runc-no-rlimits),)
PODMAN_RUNTIME ?= $(realpath $(MACHINE_TOOLS)/runc-no-rlimits)
BASE           ?= $(LOCAL_BASE)
MAKE_BASE      := $(MACHINE_TOOLS)/make-base-image
endif
endif
BASE           ?= docker.io/library/python:3.11-slim-bookworm
PODMAN_RUNTIME ?=

ifeq ($(notdir $(CONTAINER)),podman)
ENGINE    = $(CONTAINER)$(if $(PODMAN_RUNTIME), --runtime $(PODMAN_RUNTIME))
# --format docker: the OCI image format has no HEALTHCHECK, podman would drop it
FORMAT    = --format docker
# files written in mounted directories belong to whoever runs make
ROOTLESS  = $(shell $(CONTAINER) info --format '{{.Host.Security.Rootless}}' 2>/dev/null)
AS_ME    ?= $(if $(filter true,$(ROOTLESS)),--userns=keep-id,--user $(shell id -u):$(shell id -g))
else
ENGINE    = $(CONTAINER)
FORMAT    =
AS_ME    ?= --user $(shell id -u):$(shell id -g)
endif
TTY        = $(shell [ -t 0 ] && echo --interactive --tty)
IN_IMAGE  := /home/trader
MOUNTS     = $(foreach d,runs logs state,--volume $(CURDIR)/$(d):$(IN_IMAGE)/$(d):z)

define container-note
	@echo "container: $(ENGINE), base $(BASE)$(if $(MAKE_BASE), (adaptations from $(MACHINE_TOOLS)))"
	$(if $(and $(MAKE_BASE),$(filter $(LOCAL_BASE),$(BASE))),@$(MAKE_BASE) $(BASE))
endef

container-build: ## build IMAGE=localhost/trio-paper:latest from Containerfile (BASE=…)
	$(container-note)
	$(ENGINE) build $(FORMAT) --build-arg BASE=$(BASE) --file Containerfile --tag $(IMAGE) .
	@$(ENGINE) image inspect --format '$(IMAGE): {{.Size}} bytes' $(IMAGE)

container-run: container-build ## a MINUTES=10 session in it, on ./runs ./logs ./state (+ .env)
	@mkdir -p runs logs state
	$(ENGINE) run --rm $(TTY) --name trio-paper --stop-timeout 30 $(AS_ME) $(MOUNTS) \
	  $(if $(wildcard .env),--env-file .env) $(IMAGE) run --minutes $(MINUTES) $(ARGS)

container-test: dev-install ## build it, SIGTERM --sim sessions in it (one with --serve), check from here
	$(container-note)
	TRIO_PAPER_CONTAINER_TEST=1 TRIO_PAPER_IMAGE=$(IMAGE) TRIO_PAPER_BASE=$(BASE) \
	  TRIO_PAPER_PODMAN_RUNTIME=$(PODMAN_RUNTIME) $(BIN)/pytest -m container -v -s tests/container
