# The two commands of the README, and what they need. Both are idempotent: a second run
# skips every install that is already done.
#   make reproduce   the whole study on the default profile (offline, this machine)
#   make test        lint and the test suite, including the tiny end-to-end profile
#   make reproduce-paper  the committed canonical results: the paper profile (5 runs of everything)
#   make paper       the paper again from the committed results (no experiment)

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
# Exact versions and hashes of everything installed, generated from pyproject.toml by `make lock`.
LOCK := requirements.lock
CORES ?= all
# The study's own software (runtime/study2023) needs a Python 3.8: found under pyenv or on the PATH,
# or name it here (make PYTHON38=/path/to/python3.8 reproduce). Without one, those rules are left out.
PYTHON38 ?=
ifneq ($(PYTHON38),)
export AQBENCH_PYTHON38 := $(PYTHON38)
endif
SNAKEMAKE_ARGS ?=
TEX_PACKAGES := texlive-latex-recommended texlive-pictures texlive-science \
	texlive-fonts-recommended lmodern latexmk
export PATH := $(BIN):$(PATH)

.PHONY: reproduce reproduce-paper paper rebuild-paper test install lock system-deps tex lint lint-code clean

reproduce: install system-deps
	snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)
	$(call keep-reference,default)

# The committed canonical results: the paper profile (1 GB, 5 runs of every configuration;
# about 90 minutes on 2 cores), results/paper/.
reproduce-paper: install system-deps
	snakemake --cores $(CORES) --configfile workflow/config/paper.yaml $(SNAKEMAKE_ARGS)
	$(call keep-reference,paper)

# the reference aggregates kept in git beside the committed results (the maps are drawn from them)
define keep-reference
	gzip -n -c results/$(1)/reference/aggregates.csv > results/$(1)/reference/aggregates.csv.gz
endef

# The figures, tables and PDF again from the committed canonical results (no data, no
# experiment) by the workflow's own figure, report and paper rules: --allowed-rules leaves every
# other rule's outputs as the committed files. results/paper/paper.pdf.
paper: install system-deps
	@$(MAKE) --no-print-directory rebuild-paper

# make paper without the installs, in the folder PAPER_IN (a copy of the committed results: the tests')
PAPER_IN ?= $(CURDIR)
REBUILD := --snakefile $(CURDIR)/Snakefile --directory $(PAPER_IN) \
	--configfile $(CURDIR)/workflow/config/paper.yaml $(CURDIR)/workflow/config/rebuild.yaml
AGGREGATES := $(PAPER_IN)/results/paper/reference/aggregates.csv
rebuild-paper:
	@test -e $(AGGREGATES) || { gzip -dc $(AGGREGATES).gz > $(AGGREGATES).part && mv $(AGGREGATES).part $(AGGREGATES); }
	rules="report paper $$(snakemake $(REBUILD) --list-rules | grep '^figure_' | tr '\n' ' ')"; \
		snakemake --cores $(CORES) $(REBUILD) --allowed-rules $$rules --forcerun $$rules $(SNAKEMAKE_ARGS) \
		-- results/paper/paper.pdf

test: install system-deps lint-code
	pytest $(PYTEST_ARGS)

install: $(STAMP)

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "aqbench needs Python >= 3.11: run 'make PYTHON=python3.11 ...'" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(LOCK) pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# Regenerate the lock after changing pyproject.toml's dependencies (needs the package index).
lock: | $(VENV)/bin/python
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra test --generate-hashes --universal \
		--python-version 3.11 --quiet -o $(LOCK)

# System tools the workflow runs: TeX Live for the paper.
system-deps: tex

tex:
	@if command -v latexmk >/dev/null && kpsewhich siunitx.sty booktabs.sty >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing TeX Live (about 200 MB, once)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $(TEX_PACKAGES) >/dev/null; \
	else \
		echo "TeX Live is missing: run 'sudo apt-get install $(TEX_PACKAGES)'" \
			"(or install TeX Live with latexmk, siunitx and booktabs), then rerun make" >&2; \
		exit 1; \
	fi

# Fast checks of the code's shape (make test runs them first; `snakemake --lint` is a test).
lint-code: install
	ruff check src tests
	ruff format --check src tests
	snakefmt --check Snakefile workflow/rules

lint: lint-code
	snakemake --lint --configfile workflow/config/tiny.yaml

clean:
	rm -rf results .snakemake
