# One command to work (make lab), one to check everything (make test).
# Setup is incremental: the virtual environment is rebuilt only when requirements.txt,
# constraints.txt or pyproject.toml change, and Chromium is installed only when missing.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8888

.PHONY: setup lab test bench browser clean help

help:
	@echo "make lab     set up the environment and open the course in JupyterLab"
	@echo "make test    set up the environment and run every test"
	@echo "make bench   time the notebooks and sliders, write docs/benchmarks.md"
	@echo "make clean   remove the virtual environment and build outputs"

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# Debian's chromium for the browser test; installed only as root where apt exists (as in CI).
browser:
	@if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 \
	    || command -v google-chrome >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	    echo "No Chromium found: the browser test will fail until one is installed (see README)"; \
	fi

lab: setup
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --port=$(PORT) \
	    $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) notebooks/01_architecture_design.ipynb

test: setup browser
	$(PY) -m pytest

bench: setup
	$(PY) tools/bench.py

clean:
	rm -rf $(VENV) build
