# smartcity developer tasks. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help install kafka-jars tools test lint proto demo samples bench clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-11s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: $(STAMP) ## Create .venv with smartcity and its dev tools (pinned by constraints.txt)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "smartcity needs Python 3.11+: run make with PYTHON=python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	@touch $@

kafka-jars: install ## Fetch the Apache Kafka broker jars into $$SMARTCITY_CACHE (once)
	$(BIN)/smartcity kafka provision

KUSTOMIZE_VERSION := v5.8.2
KUSTOMIZE := .tools/bin/kustomize

tools: $(KUSTOMIZE) ## Build kustomize (Go) into .tools/bin: the Kubernetes manifests' tests render with it

$(KUSTOMIZE):
	@command -v go >/dev/null || { echo "note: no Go toolchain, so no kustomize: the manifest tests cannot render"; exit 0; }; \
		GOBIN=$(CURDIR)/.tools/bin GOTOOLCHAIN=local GOFLAGS=-mod=mod go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

test: install kafka-jars tools ## Run the test suite in PYTEST_WORKERS processes, each with its own Kafka broker (PYTEST_ARGS=... to narrow)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=25 $(PYTEST_ARGS)

lint: install ## ruff check and mypy (strict on storage/ and analysis/)
	$(BIN)/ruff check .
	$(BIN)/python .ci/typecheck.py

proto: install ## Regenerate Python code and proto/smartcity.desc from proto/smartcity/v1/*.proto
	$(BIN)/python -m smartcity.proto.generate

demo: install ## Simulate a day into ./lake, run every flow, build the catalog and the report
	$(BIN)/smartcity demo

samples: install ## Regenerate the committed sample day in data/samples/
	$(BIN)/smartcity samples --output data/samples

bench: install kafka-jars ## Run every benchmark (about 2 minutes each) into bench-results/
	$(BIN)/smartcity bench all

clean: ## Remove the virtualenv and caches (not the lake)
	rm -rf $(VENV) .tools .pytest_cache .ruff_cache .mypy_cache .hypothesis
