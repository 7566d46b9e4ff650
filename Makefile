# blindpairs: `make demo` runs the pipeline on built-in example scenes, `make test` runs the tests.
# Stage targets take WORKSPACE=, SCENES=, CONFIG= (and ENCODERS=, MODEL= where they apply).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BP := $(VENV)/bin/blindpairs
# faiss build: gpu where an NVIDIA GPU answers, cpu otherwise (never both)
FAISS ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo gpu || echo cpu)
WORKSPACE ?= workspace
SCENES ?=
CONFIG ?=
# the demo runs the small real pair unless ENCODERS= is given on the command line
DEMO_ENCODERS := $(if $(filter command line,$(origin ENCODERS)),$(ENCODERS),small)
MODEL ?= random
LABEL_STUDIO_URL ?=
ANNOTATIONS ?=
PYTEST_ARGS ?=
CONFIG_FLAG := $(if $(CONFIG),--config $(CONFIG),)
# --encoders only when given: otherwise the config file's embed section (which mine shares) or paper
ENCODERS_FLAG := $(if $(ENCODERS),--encoders $(ENCODERS),)
# an existing Dask cluster for tile, embed and mine (default: $$DASK_SCHEDULER_ADDRESS, else this machine)
SCHEDULER ?=
SCHEDULER_FLAG := $(if $(SCHEDULER),--scheduler $(SCHEDULER),)
DEMO_WS ?= demo-workspace

.PHONY: help install test test-slow test-all test-cluster lint demo tiles embeddings pairs export ingest evaluate report benchmark clean-demo

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev,annotation,$(FAISS)]"
	touch $@

install: $(VENV)/.installed  ## create .venv and install blindpairs with dev tools (FAISS=cpu|gpu)

test: install  ## run the fast test suite
	$(VENV)/bin/pytest -m "not slow" $(PYTEST_ARGS)

test-slow: install  ## run only the slow tests
	$(VENV)/bin/pytest -m slow $(PYTEST_ARGS) || [ $$? -eq 5 ]

test-all: install  ## run every test
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-cluster: install  ## tile, embed and mine on a real local Dask cluster (slow, ~90 s)
	$(VENV)/bin/pytest -m slow tests/cluster $(PYTEST_ARGS)

lint: install  ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

demo: install  ## the pipeline on built-in example scenes (small real encoders; ENCODERS=tiny offline)
	@$(MAKE) --no-print-directory benchmark WORKSPACE=$(DEMO_WS) SCENES=$(DEMO_WS)/scenes \
		CONFIG=$(or $(CONFIG),examples/demo.yaml) ENCODERS=$(DEMO_ENCODERS) \
		BENCHMARK_BEFORE="example-scenes $(DEMO_WS)/scenes +" \
	|| { echo "demo: stopped. Without model weights, run the same demo on random-weight encoders:" \
		"make demo ENCODERS=tiny"; exit 1; }
	@echo "demo: done; open $(DEMO_WS)/reports/index.html"

tiles: install  ## tile SCENES into WORKSPACE/tiles
	$(BP) tile $(SCENES) --workspace $(WORKSPACE) $(CONFIG_FLAG) $(SCHEDULER_FLAG)

embeddings: install  ## embed new tiles with CLIP and DINOv2 (ENCODERS=tiny|small|paper)
	$(BP) embed --workspace $(WORKSPACE) $(CONFIG_FLAG) $(ENCODERS_FLAG) $(SCHEDULER_FLAG) --replace --prune

pairs: install  ## mine CLIP-blind pairs
	$(BP) mine --workspace $(WORKSPACE) $(CONFIG_FLAG) $(ENCODERS_FLAG) $(SCHEDULER_FLAG)

export: install  ## export candidate pairs for Label Studio (LABEL_STUDIO_URL= to push)
	$(BP) export --workspace $(WORKSPACE) $(CONFIG_FLAG) $(if $(LABEL_STUDIO_URL),--push $(LABEL_STUDIO_URL),)

ingest: install  ## publish WORKSPACE/benchmark from ANNOTATIONS=export.json or LABEL_STUDIO_URL=
	$(BP) ingest --workspace $(WORKSPACE) $(CONFIG_FLAG) $(if $(ANNOTATIONS),--annotations $(ANNOTATIONS),--pull $(LABEL_STUDIO_URL))

evaluate: install  ## score MODEL (comma-separated ids, e.g. random,clip:clip-tiny-random) on the benchmark
	$(BP) evaluate --workspace $(WORKSPACE) $(CONFIG_FLAG) --models $(MODEL)

report: install  ## render WORKSPACE/reports/index.html
	$(BP) report --workspace $(WORKSPACE) $(CONFIG_FLAG)

# The same commands as the stage targets, chained with + in one process (imports paid once).
TILE_CMD = tile $(SCENES) --workspace $(WORKSPACE) $(CONFIG_FLAG) $(SCHEDULER_FLAG)
EMBED_CMD = embed --workspace $(WORKSPACE) $(CONFIG_FLAG) $(ENCODERS_FLAG) $(SCHEDULER_FLAG) --replace --prune
MINE_CMD = mine --workspace $(WORKSPACE) $(CONFIG_FLAG) $(ENCODERS_FLAG) $(SCHEDULER_FLAG)
EXPORT_CMD = export --workspace $(WORKSPACE) $(CONFIG_FLAG) $(if $(LABEL_STUDIO_URL),--push $(LABEL_STUDIO_URL),)
INGEST_CMD = ingest --workspace $(WORKSPACE) $(CONFIG_FLAG) $(if $(ANNOTATIONS),--annotations $(ANNOTATIONS),--pull $(LABEL_STUDIO_URL))
REPORT_CMD = report --workspace $(WORKSPACE) $(CONFIG_FLAG)

INGEST_GIVEN := $(if $(ANNOTATIONS)$(LABEL_STUDIO_URL),yes,)
PUBLISHED = $(wildcard $(WORKSPACE)/benchmark/benchmark.parquet)
EVALUATE_CMD = evaluate --workspace $(WORKSPACE) $(CONFIG_FLAG) --models $(MODEL)
# evaluate, then the report and status whatever evaluate's exit code (a failed question
# exits 1: the report still shows what was scored), then that exit code
EVALUATE_THEN_REPORT = $(BP) $(EVALUATE_CMD); rc=$$?; \
	$(BP) $(REPORT_CMD) + status --workspace $(WORKSPACE); exit $$rc
# commands run first in the same process (the demo's example-scenes)
BENCHMARK_BEFORE ?=

benchmark: install  ## every stage: tile, embed, mine, export, [ingest, evaluate,] report
ifeq ($(INGEST_GIVEN),yes)
	$(BP) $(BENCHMARK_BEFORE) $(TILE_CMD) + $(EMBED_CMD) + $(MINE_CMD) + $(EXPORT_CMD) + $(INGEST_CMD)
	@if [ -f "$(WORKSPACE)/benchmark/benchmark.parquet" ]; then $(EVALUATE_THEN_REPORT); \
	else echo "evaluate: skipped (no published benchmark in $(WORKSPACE)/benchmark yet)"; \
		$(BP) $(REPORT_CMD) + status --workspace $(WORKSPACE); fi
else
	@echo "ingest: skipped (no ANNOTATIONS= or LABEL_STUDIO_URL= given)"
	@$(if $(PUBLISHED),,echo "evaluate: skipped (no published benchmark in $(WORKSPACE)/benchmark yet)")
	$(BP) $(BENCHMARK_BEFORE) $(TILE_CMD) + $(EMBED_CMD) + $(MINE_CMD) + $(EXPORT_CMD) \
		$(if $(PUBLISHED),,+ $(REPORT_CMD) + status --workspace $(WORKSPACE))
	$(if $(PUBLISHED),$(EVALUATE_THEN_REPORT))
endif

clean-demo:  ## remove the demo workspace
	rm -rf $(DEMO_WS)
