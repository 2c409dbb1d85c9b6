# The two commands of the README:  `make reproduce`  (the main job)  and  `make test`.
# Both create or reuse the virtual environment $(VENV) and install `idm` with its dev extras.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= cpu
STAMP := $(VENV)/.idm-installed
PYTEST_ARGS ?=

.PHONY: install data test test-slow reproduce readme sync docs

$(STAMP): settings.ini setup.py
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The real Fashion-MNIST: Debian's dataset-fashion-mnist where apt is usable, else torchvision's download into ./data
data: install
	@bash tools/ensure_fashion_mnist.sh $(PY)

test: data
	$(PY) -m pytest tests -ra $(PYTEST_ARGS)

# also run the cells marked `#| slow` in the library notebooks
test-slow: data
	IDM_TEST_FLAGS=slow $(PY) -m pytest tests/test_notebooks.py -ra $(PYTEST_ARGS)

reproduce: data
	$(PY) tools/reproduce.py --profile $(PROFILE)

# README.md is generated from nbs/index.ipynb
readme: install
	$(PY) tools/make_readme.py

# export the library from the notebooks and clean the notebooks (run after every notebook edit)
sync: install
	$(VENV)/bin/nbdev_export && $(VENV)/bin/nbdev_clean

# the documentation site: the notebooks of nbs/, executed, rendered to _docs/ (Sphinx + myst-nb, offline;
# executions cached in _proc/.jupyter_cache; `make docs DOCS_ARGS=--force` re-executes everything)
docs: install
	$(PY) tools/build_docs.py $(DOCS_ARGS)
