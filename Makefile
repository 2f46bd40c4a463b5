# Two entry points for a fresh machine with Python 3.11+, git and make:
#   make demo   creates .venv and runs `deploy-kit doctor` on a copy of the broken sample project
#   make test   creates .venv and runs the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	@demo_dir=$$(mktemp -d) && cp -R fixtures/projects/broken/. "$$demo_dir" && \
	  echo "deploy-kit doctor on a copy of fixtures/projects/broken in $$demo_dir" && \
	  $(BIN)/deploy-kit doctor "$$demo_dir" --offline; \
	  echo; echo "Apply the safe fixes with: $(BIN)/deploy-kit doctor $$demo_dir --offline --fix"

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check deploykit engine fixers tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m pytest benchmarks --benchmark-enable -q

clean:
	rm -rf $(VENV)
