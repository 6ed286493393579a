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

.PHONY: lab test demo bench lint clean

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
# conftest.py keeps the browser suite and the hub suite whole. PYTEST_ARGS="-n 0": one process.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(PY) -m pytest tests $(NOTEBOOKS) --nbval-lax --nbval-current-env -p no:cacheprovider \
		-n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# One notebook as an app (Voila): prose and explorers, no code, large type for a projector.
# The template lives in share/jupyter/voila/templates/reachkit-lecture (found through JUPYTER_PATH).
demo: $(STAMP)
	@test -n "$(DEMO_NOTEBOOK)" || { echo "no notebook matches NB=$(NB) (try NB=03)"; exit 2; }
	JUPYTER_PATH=$(CURDIR)/share/jupyter$${JUPYTER_PATH:+:$$JUPYTER_PATH} \
		$(PY) -m voila $(DEMO_NOTEBOOK) --template=reachkit-lecture --Voila.ip=127.0.0.1 $(DEMO_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/run.py

lint: $(STAMP)
	$(PY) -m ruff check $(wildcard reachkit tests benchmarks)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist *.egg-info
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
