# Developer commands for reachkit. The first target that needs Python creates
# $(VENV) and installs the package with the extras below (JupyterLab, MP4 export,
# the test tools, which include Voila, JupyterHub and nbgitpuller);
# later runs reuse it, and an edited pyproject.toml triggers a re-install.
# `pip install reachkit` alone is the lean library (numpy, scipy, matplotlib, ipywidgets, anywidget, pillow, threadpoolctl).

VENV ?= .venv
PYTHON ?= python3
PY = $(VENV)/bin/python
STAMP = $(VENV)/.installed

NOTEBOOKS = $(wildcard notebooks/*.ipynb)
START_NOTEBOOK = notebooks/00_start_here.ipynb
LAB_ARGS ?=
# Jupyter refuses to start as root (containers, CI machines) without this flag.
LAB_ROOT_FLAG = $(if $(filter 0,$(shell id -u)),--allow-root)
PYTEST_ARGS ?=
EXTRAS ?= lab,video,test
# `make demo NB=03`: notebooks/03_*.ipynb as a Voila app in lecture style (NB may also be a path)
NB ?= 00
DEMO_NOTEBOOK = $(firstword $(wildcard notebooks/$(NB)_*.ipynb) $(wildcard notebooks/$(NB)) $(wildcard $(NB)))
DEMO_ARGS ?=

# Two more environments, each running the unit tests once (`make compat` runs both; .ci/run runs it
# beside `make test`): the oldest versions pyproject.toml allows (constraints/oldest.txt, on the
# oldest Python it allows) and Google Colab's runtime (constraints/colab.txt, Python 3.13), which
# then executes every notebook by building the site and the handouts (`make site handout
# SITE_PY=.venv-colab/bin/python`: any error in a cell fails it, as under --nbval-lax, since no cell
# is marked NBVAL_CHECK_OUTPUT; one notebook pass serves both).
# The interpreters come from pyenv (or PYTHON_oldest=/path/to/python3.10 ...).
PYTHON_oldest ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10) python3.10)
PYTHON_colab ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) python3.13)
# Left out there: a test that reads the lab and test extras' metadata (not installed there) and
# three timing/memory tests of the background worker that the main run covers (~80 s of CPU).
UNIT_TESTS = tests --ignore=tests/browser --ignore=tests/hub \
	--deselect tests/test_config.py::test_every_import_of_reachkit_is_declared \
	--deselect tests/test_explorer_model.py::test_the_220_s_case_is_refused_by_the_budget_and_computed_in_the_background \
	--deselect tests/test_explorer_model.py::test_a_long_run_is_cut_while_dragging_and_whole_on_release \
	--deselect tests/test_widgets.py::test_500_mixed_updates_keep_figures_and_memory_flat

.PHONY: lab test compat test-oldest test-colab site handout demo bench lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install -e '.[$(EXTRAS)]'
	touch $@

lab: $(STAMP)
	mkdir -p notebooks
	test -e notebooks/.gitkeep || touch notebooks/.gitkeep
	if [ -f $(START_NOTEBOOK) ]; then \
		$(PY) -m jupyter lab $(START_NOTEBOOK) $(LAB_ROOT_FLAG) $(LAB_ARGS); \
	else \
		$(PY) -m jupyter lab notebooks/ $(LAB_ROOT_FLAG) $(LAB_ARGS); \
	fi

# Every notebook in notebooks/ runs under nbval (lax: only cells marked
# with "# NBVAL_CHECK_OUTPUT" compare outputs) in this venv's own kernel.
# TEST_WORKERS pytest-xdist processes share the tests, a file at a time (each notebook in one kernel);
# conftest.py runs the browser and the hub suite in one worker. PYTEST_ARGS="-n 0": one process.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(PY) -m pytest tests $(NOTEBOOKS) --nbval-lax --nbval-current-env -p no:cacheprovider \
		-n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

compat: test-oldest test-colab

.venv-%/.installed: constraints/%.txt pyproject.toml
	test -x .venv-$*/bin/python || $(PYTHON_$*) -m venv .venv-$*
	.venv-$*/bin/python -m pip install --quiet -c constraints/$*.txt -e . pytest hypothesis pyyaml nbconvert ipykernel \
		"tomli; python_version < '3.11'"
	touch $@

test-oldest: .venv-oldest/.installed
	.venv-oldest/bin/python -m pytest $(UNIT_TESTS) -p no:cacheprovider -q $(PYTEST_ARGS)

test-colab: .venv-colab/.installed
	.venv-colab/bin/python -m pytest $(UNIT_TESTS) -p no:cacheprovider -q $(PYTEST_ARGS)
	$(MAKE) site handout SITE_PY=.venv-colab/bin/python

# The course website (_site/: an index and one page per notebook whose explorers replay offline)
# and printable handouts (_handouts/NN_*.pdf, Debian's Chromium); both execute every notebook once
# into _build/executed/<venv> and reuse it. `make handout HANDOUT_ARGS=--code` prints the code too.
HANDOUT_ARGS ?=
SITE_PY ?= $(PY)
site: $(STAMP)
	$(SITE_PY) tools/site.py site

handout: $(STAMP)
	$(SITE_PY) tools/site.py handout $(HANDOUT_ARGS)

# One notebook as an app (Voila): prose and explorers, no code, large type for a projector.
# The template lives in share/jupyter/voila/templates/reachkit-lecture (found through JUPYTER_PATH).
demo: $(STAMP)
	@test -n "$(DEMO_NOTEBOOK)" || { echo "no notebook matches NB=$(NB) (try NB=03)"; exit 2; }
	JUPYTER_PATH=$(CURDIR)/share/jupyter$${JUPYTER_PATH:+:$$JUPYTER_PATH} \
		$(PY) -m voila $(DEMO_NOTEBOOK) --template=reachkit-lecture --Voila.ip=127.0.0.1 $(DEMO_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/run.py

lint: $(STAMP)
	$(PY) -m ruff check $(wildcard reachkit tests benchmarks tools)

clean:
	rm -rf $(VENV) .venv-oldest .venv-colab _build _site _handouts .pytest_cache .ruff_cache build dist *.egg-info
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
