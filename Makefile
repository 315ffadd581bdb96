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
	@echo "make grade HW=hw1 [NB=path]             grade your homework notebook (never modified)"
	@echo "make release HW=hw1                     regenerate the student version from the source"
	@echo "make autograde HW=hw1 SUBMISSIONS=dir   grade a class in parallel, write grades.csv"
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
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir="$(CURDIR)" \
	    --LabApp.default_url=/lab/tree/notebooks/01_architecture_design.ipynb \
	    $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

# One BLAS thread per process in tests: on a 2-core machine the kernels, the JupyterLab server
# and Chromium compete for the cores, and spinning BLAS threads then slow small products
# tenfold.
test: setup browser
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest

bench: setup
	$(PY) tools/bench.py

clean:
	rm -rf $(VENV) build

# Homework
# make release HW=hw1         regenerate homework/release/HW from the source with nbgrader
#                             (refuses to overwrite a notebook someone edited unless FORCE=1)
# make grade HW=hw1 [NB=path] grade a copy of your notebook (default homework/release/HW/HW.ipynb)
# make autograde HW=hw1 SUBMISSIONS=folder [GRADES=folder]
#                             grade one notebook or folder per student, in parallel; write GRADES/grades.csv
# SOURCE is the folder holding HW/HW.ipynb with the solutions and hidden tests; an instructor
# may point it at a private copy outside the repository, e.g. SOURCE=~/teaching/homework-source.
HW ?= hw1
NB ?=
SUBMISSIONS ?=
SOURCE ?= homework/source
GRADES ?= build/autograde/$(HW)
FORCE ?=

.PHONY: release grade autograde

release: setup
	$(PY) -m grader release $(HW) --source "$(SOURCE)" $(if $(FORCE),--force)

grade: setup
	$(PY) -m grader grade $(HW) --source "$(SOURCE)" $(if $(NB),--notebook "$(NB)")

autograde: setup
	@test -n "$(SUBMISSIONS)" || { echo "Set SUBMISSIONS to a folder with one notebook or one folder per student"; exit 2; }
	$(PY) -m grader autograde $(HW) --source "$(SOURCE)" --submissions "$(SUBMISSIONS)" --output "$(GRADES)"
