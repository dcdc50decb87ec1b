# Private & Robust ML - the two everyday commands are `make lab` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Two installs, each recorded by a stamp: the learner's (`make lab`: the course package and
# JupyterLab) and the developer tools on top of it (`make test`: pytest, nbval, Playwright, ruff,
# latex2mathml for the static site). `make test` after `make lab` only adds the developer tools.
LAB_STAMP := $(VENV)/.installed-lab
DEV_STAMP := $(VENV)/.installed-dev
# PyTorch's CPU-only wheels: PyPI's Linux torch is the CUDA build (several GB of downloads);
# where this index cannot be reached pip warns and takes the wheel from PyPI or a local mirror.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: lab lab-settings test check lint bench exercises grade footers site doctor clean install install-dev student-release

# Re-install only when the dependency files change. pip shows its progress (no --quiet): the
# first install downloads a few hundred MB. tools/check_python.py stops an unsupported Python
# (3.13+, < 3.10) with what to do instead, before anything is downloaded.
$(LAB_STAMP): pyproject.toml constraints.txt
	@$(if $(wildcard $(PY)),$(PY),$(PYTHON)) tools/check_python.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	@echo ">>> installing torch 2.13.0, CPU build (about 190 MB to download, then about 1 min)"
	$(PY) -m pip install -c constraints.txt torch==2.13.0 --extra-index-url $(TORCH_INDEX) --retries 1 --timeout 15
	@echo ">>> installing the course and JupyterLab (about 340 MB more to download, 160 packages, then 2-3 min)"
	$(PY) -m pip install -c constraints.txt -e ".[lab]"
	touch $(LAB_STAMP)

$(DEV_STAMP): $(LAB_STAMP)
	@echo ">>> adding the developer tools: pytest, nbval, Playwright, ruff (about 65 MB to download, then under 1 min)"
	$(PY) -m pip install -c constraints.txt -e ".[dev]"
	touch $(DEV_STAMP)

install: $(LAB_STAMP) lab-settings

install-dev: $(DEV_STAMP)

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
lab: $(LAB_STAMP) lab-settings
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" $(if $(filter 0,$(shell id -u)),--allow-root,)

# Parallel test workers (pytest-xdist); conftest.py keeps a notebook's cells, a module's fixtures
# and the browser session on one worker each.
JOBS ?= 2
PYTEST_PARALLEL := -n $(JOBS) --dist loadfile

# ruff (configured in pyproject.toml): lint and formatting, part of `make test` and `make check`
lint: $(DEV_STAMP)
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

bench: $(DEV_STAMP)
	$(PY) benchmarks/run.py

exercises: $(LAB_STAMP)
	$(PY) -m course_utils.grading generate solutions exercises

# Static HTML course (executed notebooks + index) in site/; its MathML converter is a dev tool
site: $(DEV_STAMP)
	$(PY) tools/build_site.py --out site

# Environment check: what is missing and how to fix it (versions, offline data, lab extensions)
doctor: $(LAB_STAMP)
	$(PY) -m course_utils.doctor

footers: $(LAB_STAMP)
	$(PY) tools/footers.py --write

# Grade a folder of submissions: make grade SUBMISSIONS=path/to/folder
SUBMISSIONS ?= submissions
grade: $(LAB_STAMP)
	$(VENV)/bin/course-grade $(SUBMISSIONS) --csv grades.csv

# The students' repository: the course without solutions/, tests/ and the instructor material,
# scanned for answer keys before anything is written (INSTRUCTORS.md, "Two repositories"):
#   make student-release DIR=../prml-students
student-release:
	@test -n "$(DIR)" || { echo "usage: make student-release DIR=path/to/the/students/repository"; exit 2; }
	$(if $(wildcard $(PY)),$(PY),$(PYTHON)) -m course_utils.grading.release "$(DIR)"

clean:
	rm -rf $(VENV) site .pytest_cache benchmarks/results.json
	find . -name __pycache__ -prune -exec rm -rf {} +
