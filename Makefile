# Two commands a newcomer needs: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install pipeline clean

$(BIN)/klaxon: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(BIN)/tox: $(BIN)/klaxon
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]' tox
	touch $@

install: $(BIN)/klaxon

## run: the whole platform on this machine (RabbitMQ on localhost, SQLite, demo data)
run: install
	bash .ci/services-up rabbitmq
	KLAXON_KEYLESS_INGEST=$${KLAXON_KEYLESS_INGEST:-true} $(BIN)/klaxon run

## test: lint, complexity gate and the test suite, on real RabbitMQ and PostgreSQL
test: $(BIN)/tox
	bash .ci/services-up rabbitmq postgresql
	$(BIN)/tox

## pipeline: every stage of the local pipeline, in order
pipeline: $(BIN)/tox
	bash .ci/pipeline

clean:
	rm -rf $(VENV) .tox var .coverage .coverage.*
