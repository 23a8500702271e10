# Two commands a newcomer needs: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install pipeline hooks lock clean

# uv installs in seconds what pip takes a minute for; pip is the fallback when uv cannot
# be had (KLAXON_NO_UV=1 forces it).
PIP_INSTALL = $(BIN)/pip install --quiet --disable-pip-version-check
install_into_venv = if [ -z "$$KLAXON_NO_UV" ] && { [ -x $(BIN)/uv ] || $(PIP_INSTALL) uv >/dev/null 2>&1; }; \
	then $(BIN)/uv pip install --quiet --python $(BIN)/python $(1); else $(PIP_INSTALL) $(1); fi

$(BIN)/klaxon: pyproject.toml requirements.lock
	@# a PEP 832 redirect *file* named .venv (tox writes one unless venv_redirect = false) is not our venv
	if [ -f $(VENV) ]; then rm -f $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(call install_into_venv,-c requirements.lock -e .)
	touch $@

$(BIN)/tox: $(BIN)/klaxon
	$(call install_into_venv,-c requirements.lock -e '.[test]' tox)
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

## hooks: install the git pre-commit hook (secret scan and ruff on the staged files)
hooks: $(BIN)/tox
	$(call install_into_venv,pre-commit==4.7.0)
	$(BIN)/pre-commit install

## lock: re-pin requirements.lock (what `make install` installs) after editing pyproject.toml
lock: $(BIN)/klaxon
	$(call install_into_venv,uv==0.13.8)
	$(BIN)/uv pip compile pyproject.toml --extra test --python-version 3.11 -q --custom-compile-command "make lock" -o requirements.lock

clean:
	rm -rf $(VENV) .tox var .coverage .coverage.*
