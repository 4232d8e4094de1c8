# Two commands for a new user: `make plan` and `make test`. Both create .venv on first use.
# `make help` lists every target.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# A progress line while a long step runs; silent when stderr is not a terminal or CI is set.
PROGRESS := $(PYTHON) mlops_platform/progress_line.py

.PHONY: help plan test check report policy-config bench clean

## help: list the targets
help:
	@sed -n 's/^## //p' Makefile

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	@$(PROGRESS) "installing the dependencies into $(VENV) (first run: a few minutes)" -- \
		$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

## plan: rewrite policies/config/ from organization.yaml, plan every stack offline, run the guardrail check
plan: $(STAMP)
	$(BIN)/mlops-platform policy-config
	$(BIN)/mlops-platform plan --summary
	$(BIN)/mlops-platform check

## test: the whole suite
test: $(STAMP)
	$(BIN)/pytest

## check: the guardrail gate alone (what pull requests run)
check: $(STAMP)
	$(BIN)/mlops-platform check

## report: report.html, the page for a security reviewer (plan, guardrails, accounts diagram, config)
report: $(STAMP)
	$(BIN)/mlops-platform report --out report.html

## policy-config: rewrite policies/config/<role>.json (what the Pulumi CLI's --policy-pack-config reads)
policy-config: $(STAMP)
	$(BIN)/mlops-platform policy-config

## bench: the benchmarks whose figures the README quotes
bench: $(STAMP)
	$(BIN)/python benchmarks/plan_all_stacks.py
	$(BIN)/python benchmarks/gate_preview_10k.py
	$(BIN)/python benchmarks/scale.py

## clean: remove the virtualenv and the plan cache
clean:
	rm -rf $(VENV) .plan-cache
