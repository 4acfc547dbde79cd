# The two commands: `make run` (the platform with simulators and demo data) and
# `make test` (the whole suite). Both need nothing but Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install run serve test lint clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(MAKE) serve

# The platform without the install step (used by `make run`, and by its end-to-end test).
# The demo's simulator sends no receipt for 2 % of messages; a one-minute receipt deadline
# (the product's default is 48 h) lets the demo campaign complete while you watch. The MM4
# simulator logs in to the receiver as the demo account (demo data) over loopback, in clear:
# MM4_RECEIVER_PLAIN_AUTH_LOOPBACK=on allows that for loopback peers only (docs/mms.md).
serve:
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py load_demo_data
	PATH="$(abspath $(BIN)):$$PATH" RECEIPT_DEADLINE_S=$${RECEIPT_DEADLINE_S:-60} \
		MM4_RECEIVER_PLAIN_AUTH_LOOPBACK=$${MM4_RECEIVER_PLAIN_AUTH_LOOPBACK:-on} \
		WEBHOOKS_ALLOW_PRIVATE=$${WEBHOOKS_ALLOW_PRIVATE:-on} $(BIN)/python -m config.foreground $(BIN)/honcho start -f Procfile

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf var/broker var/test_db.sqlite3*
