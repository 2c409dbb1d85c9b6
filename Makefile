# The two commands of the README:  `make reproduce`  (the main job)  and  `make test`.
# Both create or reuse the virtual environment $(VENV) and install `idm` with its dev extras.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= cpu
STAMP := $(VENV)/.idm-installed
PYTEST_ARGS ?=
BENCH_ARGS ?=
# further arguments of tools/reproduce.py, e.g. `make reproduce REPRODUCE_ARGS=--dry-run` (the plan, nothing run)
REPRODUCE_ARGS ?=
# a faster allocator for CPU runs (same results): see tools/malloc_env.sh; `make ... MALLOC_ENV=` runs without it
MALLOC_ENV ?= $(shell bash tools/malloc_env.sh)

.PHONY: install data test test-slow reproduce bench readme sync docs

# uv installs the same pinned packages as pip in less than half the time (83 s against 200 s on 2 cores, empty caches),
# bytecode compiled as pip does (where PYTHONDONTWRITEBYTECODE is set, every process would otherwise compile its
# imports anew: 21 s instead of 10 s to import idm, torch and papermill); pip does it alone where uv cannot be had
$(STAMP): settings.ini setup.py
	test -x $(PY) || python3 -m venv $(VENV)
	{ $(PY) -m pip install -q uv && $(PY) -m uv pip install --compile-bytecode --python $(PY) -e ".[dev]"; } || $(PY) -m pip install -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The real Fashion-MNIST: Debian's dataset-fashion-mnist where apt is usable, else torchvision's download into ./data
# and jemalloc (libjemalloc2) where apt is usable
data: install
	@bash tools/ensure_fashion_mnist.sh $(PY)
	@bash tools/malloc_env.sh --install >/dev/null

test: data
	env $(MALLOC_ENV) $(PY) -m pytest tests -ra $(PYTEST_ARGS)

# also run the cells marked `#| slow` in the library notebooks
test-slow: data
	env IDM_TEST_FLAGS=slow $(MALLOC_ENV) $(PY) -m pytest tests/test_notebooks.py -ra $(PYTEST_ARGS)

reproduce: data
	env $(MALLOC_ENV) $(PY) tools/reproduce.py --profile $(PROFILE) $(REPRODUCE_ARGS)

# the speed and memory tables of benchmarks/README.md (not a test)
bench: data
	env $(MALLOC_ENV) $(PY) benchmarks/bench.py $(BENCH_ARGS)

# README.md is generated from nbs/index.ipynb
readme: install
	$(PY) tools/make_readme.py

# clean the notebooks, then export the library from them (run after every notebook edit; cleaning renumbers cell ids,
# which the exported modules quote)
sync: install
	$(VENV)/bin/nbdev_clean && $(VENV)/bin/nbdev_export

# the documentation site: the notebooks of nbs/, executed, rendered to _docs/ (Sphinx + myst-nb, offline;
# executions cached in _proc/.jupyter_cache; `make docs DOCS_ARGS=--force` re-executes everything)
docs: install
	$(PY) tools/build_docs.py $(DOCS_ARGS)
