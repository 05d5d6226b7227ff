# pt_spark developer commands. `make` (or `make help`) lists them.
# `make demo` and `make test` install everything they need on first use and reuse it afterwards.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
# A lane is one pyspark/delta-spark pair with its own virtualenv and jar folder, defined in
# conf/lanes/<lane>.mk: spark42 (the default, Spark 4.2 + Delta 4.4) or spark35 (Spark 3.5 +
# Delta 3.3). `make test LANE=spark35` runs the suite on Spark 3.5.
LANE ?= spark42
ifeq ($(wildcard conf/lanes/$(LANE).mk),)
$(error unknown LANE=$(LANE): pick one of $(basename $(notdir $(wildcard conf/lanes/*.mk))))
endif
include conf/lanes/$(LANE).mk
VENV := $(LANE_VENV)
PY := $(VENV)/bin/python
# The folder name is the one pt_spark.session looks for, from the installed delta-spark/pyspark.
DELTA_JARS := .cache/delta-jars/delta-$(DELTA_VERSION)_spark-$(SPARK_LINE)
MVN_DEP := org.apache.maven.plugins:maven-dependency-plugin:3.8.1
STAMP := $(VENV)/.installed
export JAVA_HOME ?= $(shell dirname $$(dirname $$(readlink -f $$(command -v java))))

.PHONY: help setup demo test test-unit test-fast test-processes test-connect test-wheel test-report bench bench-quick lint format typecheck check clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml conf/lanes/$(LANE).mk
	test -d $(VENV) || $(LANE_PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[$(LANE_EXTRA),dev]'
	touch $(STAMP)

$(DELTA_JARS)/.complete:
	mkdir -p $(DELTA_JARS)
	mvn -B -q $(MVN_DEP):copy -Dartifact=io.delta:$(DELTA_ARTIFACT):$(DELTA_VERSION) -DoutputDirectory=$(DELTA_JARS)
	mvn -B -q $(MVN_DEP):copy -Dartifact=io.delta:delta-storage:$(DELTA_VERSION) -DoutputDirectory=$(DELTA_JARS)
	touch $@

setup: $(STAMP) $(DELTA_JARS)/.complete ## Create the virtualenv (pinned packages) and fetch the Delta jars

demo: setup ## Run the demo pipeline on a local Delta store (./pt_spark_store)
	$(PY) -m pt_spark.demo

# Two pytest workers (one SparkSession each); a test module always runs whole on one worker.
# --durations lists the slowest tests, so a CI log shows where the suite time goes.
PYTEST := $(PY) -m pytest -n 2 --dist loadfile --durations=15

test: setup ## Run the test suite on real Spark + Delta (all but the multi-process lane); LANE=spark35 for Spark 3.5
	$(PYTEST) -m "not processes and not wheel and not jobs and not browser"

test-unit: setup ## Run the Spark-free unit tests of the pure logic (tests/unit, seconds; no JVM)
	$(PY) -m pytest -p no:xdist tests/unit

test-fast: setup ## Run the tests not marked slow
	$(PYTEST) -m "not slow and not processes and not wheel and not jobs and not browser"

# Alone: it builds the wheel and installs it with the `spark` extra into a fresh virtualenv.
test-wheel: setup ## Install the wheel outside the repo (fresh venv) and run a tracked job and the CLI from it
	$(PY) -m pytest -p no:xdist -m wheel tests/test_wheel.py --durations=5

# Alone: the run report opened in headless Chromium. Only Debian's chromium package is reachable
# (playwright drives it; no tool may download a browser build), so install it when missing.
test-report: setup ## Open the run report in headless Chromium: figures drawn, no console errors (~3 min)
	command -v chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(PY) -m pytest -p no:xdist -m browser tests/reports --durations=5

# Alone, one JVM at a time: the scheduled-job example under spark-submit, and the CLI as a process
# of its own (what only a real process's stdout shows). Each test waits for its job before it asks
# for the test session, so the job never shares the 2 cores with a second JVM.
test-jobs: setup ## Run pt_spark in processes of its own: the spark-submit example job and the CLI (~10 min on 2 cores)
	$(PY) -m pytest -p no:xdist -m jobs --durations=5

# Up to 8 worker OS processes, each with its own SparkSession, on one store: alone, no xdist.
test-processes: setup ## Run the concurrency tests with separate OS processes (~15 min on 2 cores)
	$(PY) -m pytest -m processes --durations=5

# The Spark Connect client's own packages (pyspark[connect] for 4.2.0, pinned; pandas below 3,
# which pyspark 4.2 warns it does not fully support). Only this lane installs them.
CONNECT_STAMP := $(VENV)/.connect-installed
CONNECT_DEPS := pandas==2.3.3 numpy==2.4.6 grpcio==1.85.3 grpcio-status==1.85.3 \
	googleapis-common-protos==1.76.0 protobuf==7.36.2 zstandard==0.25.0

$(CONNECT_STAMP): $(STAMP)
	$(PY) -m pip install -q $(CONNECT_DEPS)
	touch $(CONNECT_STAMP)

# Starts a local Spark Connect server (Delta jars, free localhost port), runs tests/connect
# against it over sc://, stops it (also on failure). One server JVM; the client starts none.
test-connect: setup $(CONNECT_STAMP) ## Run the public API end to end over Spark Connect (~14 min on a busy 2-core machine)
	PY=$(PY) tests/connect/lane.sh $(DELTA_JARS) --durations=10

bench: setup ## Run the benchmarks (writes benchmarks/results/latest.json)
	$(PY) benchmarks/run.py

bench-quick: setup ## Run the benchmarks at small sizes
	$(PY) benchmarks/run.py --quick

lint: setup ## Check style with ruff
	$(VENV)/bin/ruff check pt_spark tests benchmarks
	$(VENV)/bin/ruff format --check pt_spark tests benchmarks

format: setup ## Format the code with ruff
	$(VENV)/bin/ruff format pt_spark tests benchmarks
	$(VENV)/bin/ruff check --fix pt_spark tests benchmarks

typecheck: setup ## Type-check pt_spark with mypy
	$(VENV)/bin/mypy

check: lint typecheck test ## Lint, type-check and test

clean: ## Remove caches and local stores (keeps the virtualenv and jars)
	rm -rf .pytest_cache .mypy_cache .ruff_cache pt_spark_store spark-warehouse demo_data
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
