# The two commands of the README: `make run` (set up, then run the reference review) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
CORES  ?= 4

.PHONY: run test test-slurm lint format bench clean-venv

# What the workflow needs, and no more: every Snakemake start imports each installed
# executor plugin (the Slurm one asks the cluster's controller for its settings).
$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

# The tests' and linters' tools too (pytest, ruff, selenium, the Slurm plugin, ...); it
# holds what `make run` needs, so `make run` installs nothing more (or offline) after it.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(RUN_STAMP)

## run: install the workflow's dependencies into .venv and run the workflow on
## config/config.yaml (offline-capable)
run: $(RUN_STAMP)
	$(BIN)/snakemake --cores $(CORES)

## test: install into .venv and run the test suite, a test file per worker, a worker per
## core (at most 4: the end-to-end tests run Snakemake on 2 cores each)
test: $(STAMP)
	$(BIN)/python -m pytest --numprocesses auto --maxprocesses 4 --dist loadfile

## test-slurm: as root on Debian, start a single-node Slurm cluster (tests/slurm/cluster.sh),
## run a portfolio through workflow/profiles/slurm and compare it with a local run (one job
## killed, then the node set DOWN and resumed: both resubmitted), stop the cluster
test-slurm: $(VENV)/.slurm-installed
	trap 'tests/slurm/cluster.sh stop' EXIT; \
	tests/slurm/cluster.sh start && $(BIN)/python tests/slurm/portfolio.py --kill-one --fail-node

$(VENV)/.slurm-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[slurm]'
	touch $@

## lint: ruff, snakefmt and snakemake --lint
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/snakefmt Snakefile workflow/rules

bench: $(STAMP)
	$(BIN)/python benchmarks/pooling.py
	$(BIN)/python benchmarks/dedup_accuracy.py

clean-venv:
	rm -rf $(VENV)
