# The two commands (see README):  make demo   — the pipeline end to end on the bundled sample
#                                 make test   — the whole test suite against real services
# Both install what they need first (virtualenv at .venv/, Java/Maven checks, Kafka and
# Elasticsearch through Maven on first use).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.sada-installed

.PHONY: install demo test up down status lint clean-state

$(STAMP): pyproject.toml constraints.txt
	@bash scripts/system-deps.sh
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/sada demo

test: install
	$(BIN)/sada up
	$(BIN)/python -m pytest -q

up: install
	$(BIN)/sada up

down:
	$(BIN)/sada down

status:
	$(BIN)/sada status

lint: install
	$(BIN)/ruff check .
