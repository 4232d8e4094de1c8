# Two commands for a new user: `make plan` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: plan test check bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

## plan: offline plan of every stack under Pulumi's mock runtime, then the guardrail check
plan: $(STAMP)
	$(BIN)/mlops-platform plan
	$(BIN)/mlops-platform check

## test: the whole suite
test: $(STAMP)
	$(BIN)/pytest

## check: the guardrail gate alone (what pull requests run)
check: $(STAMP)
	$(BIN)/mlops-platform check

## bench: the benchmarks whose figures the README quotes
bench: $(STAMP)
	$(BIN)/python benchmarks/plan_all_stacks.py
	$(BIN)/python benchmarks/gate_preview_10k.py

clean:
	rm -rf $(VENV) .plan-cache
