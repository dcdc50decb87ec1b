# Private & Robust ML - the two everyday commands are `make lab` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# PyTorch's CPU-only wheels: PyPI's Linux torch is the CUDA build (several GB of downloads);
# where this index cannot be reached pip warns and takes the wheel from PyPI or a local mirror.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: lab lab-settings test check lint bench exercises grade footers site doctor clean install

# Re-install only when the dependency files change (the stamp records the last install).
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet torch==2.13.0 --extra-index-url $(TORCH_INDEX) --retries 1 --timeout 15
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) lab-settings

# JupyterLab's defaults for this environment (jupyter/overrides.json): no "notified about official
# Jupyter news?" pop-up and no update check, so a fresh `make lab` opens on the course undisturbed.
# JupyterLab reads overrides.json from <prefix>/share/jupyter/lab/settings; a learner can still
# change both in Settings > Notifications.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
$(LAB_SETTINGS): jupyter/overrides.json
	mkdir -p $(dir $@)
	cp jupyter/overrides.json $@

lab-settings: $(LAB_SETTINGS)

# --allow-root only when run as root (containers, JupyterHub images); never needed otherwise.
lab: $(STAMP) lab-settings
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" $(if $(filter 0,$(shell id -u)),--allow-root,)

# Parallel test workers (pytest-xdist); conftest.py keeps a notebook's cells, a module's fixtures
# and the browser session on one worker each.
JOBS ?= 2
PYTEST_PARALLEL := -n $(JOBS) --dist loadfile

# ruff (configured in pyproject.toml): lint and formatting, part of `make test` and `make check`
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The whole suite, as CI runs it: lint, unit tests and doctests, every notebook, the exercises
# and the grader, the browser tests.
test: lint
	$(PY) -m pytest $(PYTEST_PARALLEL)

# The developer's inner loop: lint plus the unit tests and doctests that start no Jupyter
# kernel, Ray or browser (marked slow), about a minute on 2 cores.
check: lint
	$(PY) -m pytest tests course_utils --ignore=tests/browser -m "not slow" $(PYTEST_PARALLEL)

bench: $(STAMP)
	$(PY) benchmarks/run.py

exercises: $(STAMP)
	$(PY) -m course_utils.grading generate solutions exercises

# Static HTML course (executed notebooks + index) in site/
site: $(STAMP)
	$(PY) tools/build_site.py --out site

# Environment check (versions, offline datasets, lab extensions)
doctor: $(STAMP)
	$(PY) -m course_utils.doctor

footers: $(STAMP)
	$(PY) tools/footers.py --write

# Grade a folder of submissions: make grade SUBMISSIONS=path/to/folder
SUBMISSIONS ?= submissions
grade: $(STAMP)
	$(VENV)/bin/course-grade $(SUBMISSIONS) --csv grades.csv

clean:
	rm -rf $(VENV) site .pytest_cache benchmarks/results.json
	find . -name __pycache__ -prune -exec rm -rf {} +
